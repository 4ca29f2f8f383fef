"""The templates other apps registered for the case pages (cases.pages)."""

from __future__ import annotations

from django import template

from cases import pages, permissions
from cases.models import Case
from stakeholders.models import User

register = template.Library()


@register.simple_tag
def case_tabs() -> list[str]:
    return list(pages.TABS)


@register.simple_tag
def can_see_who_saw(user: User, case: Case) -> bool:
    return permissions.can_see_who_saw(user, case)


@register.simple_tag
def plan_item_links() -> list[str]:
    return [link.template for link in pages.PLAN_ITEM_LINKS]
