"""The case list's export, registered with the portal's export policy (atensi.core.exports):
the same filtered, masked list as the page, read in the list's own sort order."""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext as _

from atensi.core.exports import ExportSource, Selection, register
from stakeholders.models import User

from . import lists
from .list_forms import case_list_filters
from .models import Case
from .permissions import list_cases_refusal

CASES = "cases"


def select_cases(user: User, params: QueryDict) -> Selection:
    _form, filters, _warnings = case_list_filters(params, user=user)
    sort = filters.sort if filters.sort in lists.SORT_KEYS else lists.Sort.NEWEST
    queryset = lists.ordered(lists.cases_matching(user=user, filters=filters), sort)
    # Clusters, people and villages are looked up per chunk by lists.export_rows.
    queryset = queryset.select_related("organisation", "beneficiary").annotate(next_due_on=lists.next_due())
    return Selection(queryset=queryset, keys=lists.SORT_KEYS[sort])


def case_rows(user: User, cases: list[Case]) -> list[list[object]]:
    return lists.export_rows(user=user, cases=cases)


register(
    ExportSource[User](
        name=CASES,
        title=lambda: _("Cases"),
        filename="cases",
        refusal=list_cases_refusal,
        select=select_cases,
        headers=lists.export_headers,
        rows=case_rows,
        log_label="number",
    )
)
