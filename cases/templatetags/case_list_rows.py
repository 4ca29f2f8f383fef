"""`{% case_rows page.rows handover supervised many_orgs %}`: the case list's rows, written in
Python (cases.list_rows)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString

from cases.list_rows import case_rows_html
from cases.lists import CaseRow

register = template.Library()


@register.simple_tag
def case_rows(rows: Iterable[CaseRow], handover: Any, supervised: Collection[int], many_orgs: bool) -> SafeString:
    return case_rows_html(rows, handover=bool(handover), supervised=supervised or (), many_orgs=bool(many_orgs))
