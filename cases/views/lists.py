"""Case views: the case list ("my cases" / all cases of the organisation) and its CSV/XLSX export
(through the portal's export policy, atensi.core.exports)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from atensi.core import exports
from atensi.core.access import actor_for
from stakeholders.http import AuthenticatedRequest

from .. import lists
from ..exports import CASES
from ..list_forms import case_list_filters
from ..permissions import can_list_cases
from ..selectors import CASE_ROLES


def _require_case_worker(request: AuthenticatedRequest) -> None:
    # Whoever works no cases anywhere has no case list: not found, as for any scoped page.
    if not can_list_cases(request.user):
        raise Http404


def _query(request: AuthenticatedRequest) -> str:
    params = request.GET.copy()
    params.pop("cursor", None)
    return params.urlencode()


@require_GET
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_case_worker(request)
    form, filters, warnings = case_list_filters(request.GET, user=request.user)
    matching = lists.cases_matching(user=request.user, filters=filters)
    page = lists.case_page(matching, sort=filters.sort, cursor=request.GET.get("cursor"), size=lists.PAGE_SIZE)
    # htmx swaps the results region out of the same page (hx-select): one URL per view, so
    # links, the back button and a browser without JavaScript all see the same thing.
    return render(
        request,
        "cases/case_list.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "total": matching.count(),
            "warnings": warnings,
            "query": _query(request),
            "many_orgs": len(actor_for(request.user).org_ids(*CASE_ROLES)) != 1,
        },
    )


@require_GET
def case_export_csv(request: AuthenticatedRequest) -> StreamingHttpResponse:
    return exports.csv_response(request, user=request.user, source=CASES)


@require_GET
def case_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return exports.xlsx_response(request, user=request.user, source=CASES)


urlpatterns: list[URLPattern] = [
    path("cases/", case_list, name="case_list"),
    path("cases/export.csv", case_export_csv, name="case_export_csv"),
    path("cases/export.xlsx", case_export_xlsx, name="case_export_xlsx"),
]
