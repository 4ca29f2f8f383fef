"""The case list's rows as HTML, written in Python.

Fifty rows of ten cells through Django's template engine cost about a third of a social
worker's "my cases" page (every variable resolved, escaped and localised one by one). The
markup is the one the template wrote, tested equal (cases/tests/test_list_rows.py); what a
row may show is decided before, in `lists.CaseRow` (already masked).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable

from django.urls import reverse
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from atensi.core.widgets import format_html

from .lists import CaseRow

_EMPTY = mark_safe("")
_DASH = "—"


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _number_cell(row: CaseRow, url: str, many_orgs: bool) -> SafeString:
    number = format_html('<a href="{}">{}</a>', url, row.number) if url else format_html("{}", row.number)
    organisation = (
        format_html('<br><small class="text-body-secondary">{}</small>', row.organisation) if many_orgs else _EMPTY
    )
    return format_html('<td class="text-nowrap">{}{}</td>', number, organisation)


def _risk(row: CaseRow) -> SafeString:
    tone = {"critical": "danger", "high": "warning"}.get(row.risk_code)
    return (
        format_html('<span class="badge text-bg-{}">{}</span>', tone, row.risk) if tone else format_html("{}", row.risk)
    )


def _age(row: CaseRow, estimated: str) -> SafeString:
    if row.age is None:
        return format_html("{}", _DASH)
    if row.age_estimated:
        return format_html('<span title="{}">±{}</span>', estimated, formats.localize(row.age))
    return format_html("{}", formats.localize(row.age))


def _next_due(row: CaseRow, overdue: str) -> SafeString:
    if not row.next_due:
        return format_html("{}", _DASH)
    badge = (
        format_html(' <span class="badge text-bg-danger" data-testid="overdue-badge">{}</span>', overdue)
        if row.overdue
        else _EMPTY
    )
    return format_html("{}{}", _date(row.next_due), badge)


def case_rows_html(
    rows: Iterable[CaseRow], *, handover: bool, supervised: Collection[int], many_orgs: bool
) -> SafeString:
    """The <tr> of each row: a masked row says only its number and stage; a shown row links
    to the case. `handover`: a first cell with a checkbox for the rows of `supervised`
    organisations."""
    confidential_case = _("Confidential case")
    hidden = _("Only the case manager and the supervisors see this case.")
    confidential, estimated, overdue = _("confidential"), _("estimated"), _("overdue")
    detail = reverse("cases:case_detail", args=[0])
    parts = []
    for row in rows:
        select = _EMPTY
        if handover:
            box = _EMPTY
            if row.organisation_id in supervised:
                box = format_html(
                    '<input type="checkbox" class="form-check-input" name="cases" value="{}" form="reassign-form"'
                    ' aria-label="{}" data-testid="case-select">',
                    row.pk,
                    _("Select case %(number)s") % {"number": row.number},
                )
            select = format_html("<td>{}</td>", box)
        if row.masked:
            cells = format_html(
                '{}<td colspan="2" data-testid="case-child"><span class="badge text-bg-secondary">{}</span></td>'
                '<td>{}</td><td colspan="5" class="text-body-secondary small">{}</td>',
                _number_cell(row, "", many_orgs),
                confidential_case,
                row.stage,
                hidden,
            )
        else:
            child = format_html(
                "{}{}{}",
                row.child,
                format_html(' <span class="text-body-secondary">({})</span>', row.alias) if row.alias else _EMPTY,
                format_html(' <span class="badge text-bg-danger">{}</span>', confidential)
                if row.confidential
                else _EMPTY,
            )
            cells = format_html(
                '{}<td data-testid="case-child">{}</td><td class="text-end">{}</td><td>{}</td><td>{}</td>'
                '<td>{}</td><td>{}</td><td class="text-nowrap">{}</td><td class="text-nowrap">{}</td>',
                _number_cell(row, detail.replace("/0/", f"/{row.pk}/", 1), many_orgs),
                child,
                _age(row, estimated),
                row.stage,
                _risk(row),
                row.case_manager or _DASH,
                row.regency or _DASH,
                _next_due(row, overdue),
                _date(row.opened) if row.opened else "",
            )
        parts.append(
            format_html(
                '<tr data-testid="case-row" data-number="{}"{}>{}{}</tr>',
                row.number,
                mark_safe(" data-masked") if row.masked else _EMPTY,
                select,
                cells,
            )
        )
    return mark_safe("\n".join(parts))  # noqa: S308 - every part built by format_html
