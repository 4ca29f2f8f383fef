"""The workforce registry: a directory of field workers for every organisation, and its CSV export
(through the portal's export policy, atensi.core.exports)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from atensi.core import exports

from .. import workforce
from ..exports import WORKFORCE
from ..http import AuthenticatedRequest
from ..permissions import can_see_workforce
from ..workforce_forms import WorkforceFilterForm


def _filter_form(request: AuthenticatedRequest) -> WorkforceFilterForm:
    if not can_see_workforce(request.user):
        raise Http404
    return WorkforceFilterForm(request.GET)


def _query_without_cursor(request: AuthenticatedRequest) -> str:
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    return params.urlencode()


@require_GET
def workforce_list(request: AuthenticatedRequest) -> HttpResponse:
    form = _filter_form(request)
    page = None
    if form.is_valid():
        page = workforce.workforce_directory(
            user=request.user,
            filters=form.filters(),
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    return render(
        request,
        "stakeholders/workforce_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_cursor(request),
            "expiring_days": workforce.CERTIFICATE_EXPIRING_DAYS,
        },
    )


def _export(request: AuthenticatedRequest, respond: Callable[..., HttpResponseBase]) -> HttpResponseBase:
    form = _filter_form(request)
    if not form.is_valid():
        messages.error(request, _("Correct the filter before exporting."))
        return redirect(f"{reverse('stakeholders:workforce_list')}?{_query_without_cursor(request)}")
    return respond(request, user=request.user, source=WORKFORCE)


@require_GET
def workforce_export(request: AuthenticatedRequest) -> HttpResponseBase:
    return _export(request, exports.csv_response)


@require_GET
def workforce_export_xlsx(request: AuthenticatedRequest) -> HttpResponseBase:
    """The same rows as an Excel workbook: at once up to ATENSI_EXPORT_XLSX_MAX_ROWS, else
    made in the background (atensi.core.exports)."""
    return _export(request, exports.xlsx_response)


urlpatterns = [
    path("workforce/", workforce_list, name="workforce_list"),
    path("workforce/export.csv", workforce_export, name="workforce_export"),
    path("workforce/export.xlsx", workforce_export_xlsx, name="workforce_export_xlsx"),
]
