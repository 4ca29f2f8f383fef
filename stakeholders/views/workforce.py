"""The workforce registry: a directory of field workers for every organisation, and its CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from atensi.core.access import record_access_many

from .. import workforce
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


@require_GET
def workforce_export(request: AuthenticatedRequest) -> HttpResponse:
    form = _filter_form(request)
    back = f"{reverse('stakeholders:workforce_list')}?{_query_without_cursor(request)}"
    if not form.is_valid():
        messages.error(request, _("Correct the filter before exporting."))
        return redirect(back)
    qs = workforce.workforce_filtered(user=request.user, filters=form.filters())
    workers = list(qs[: workforce.EXPORT_MAX_ROWS + 1])
    if len(workers) > workforce.EXPORT_MAX_ROWS:
        messages.error(
            request,
            _("More than %(max)s workers match. Narrow the filter (a region, a kind) and export again.")
            % {"max": workforce.EXPORT_MAX_ROWS},
        )
        return redirect(back)
    body = workforce.workforce_csv(user=request.user, workers=workers)
    record_access_many(user=request.user, objects=workers, action="export", request=request)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="workforce-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("workforce/", workforce_list, name="workforce_list"),
    path("workforce/export.csv", workforce_export, name="workforce_export"),
]
