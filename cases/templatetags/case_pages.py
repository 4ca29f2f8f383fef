"""The templates other apps registered for the case pages (cases.pages)."""

from __future__ import annotations

from django import template

from cases import pages

register = template.Library()


@register.simple_tag
def case_tabs() -> list[str]:
    return list(pages.TABS)


@register.simple_tag
def plan_item_links() -> list[str]:
    return [link.template for link in pages.PLAN_ITEM_LINKS]
