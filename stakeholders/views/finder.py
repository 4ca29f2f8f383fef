"""The nearest-service finder page: a GET form, so a search is a link worth sharing."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from atensi.core.errors import ApplicationError

from ..finder import nearest_organisations
from ..finder_forms import FinderForm
from ..http import AuthenticatedRequest
from ..models import OrganisationKind

RESULTS = 20


@require_GET
def finder(request: AuthenticatedRequest) -> HttpResponse:
    # A bare /finder/ shows the form with its defaults; any query string is a search.
    form = FinderForm(request.GET or None)
    rows = origin = None
    if form.is_bound and form.is_valid():
        search = form.selector_kwargs()
        try:
            results = nearest_organisations(**search, limit=RESULTS)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            origin = search["origin"]
            # One label lookup per row: get_kind_display() hashes every (lazy) choice label
            # on each call, a third of the page's time with 20 rows.
            labels = dict(OrganisationKind.choices)
            rows = [(org, labels.get(org.kind, org.kind)) for org in results]
    return render(
        request,
        "stakeholders/finder.html",
        {"form": form, "rows": rows, "origin": origin, "limit": RESULTS},
    )


urlpatterns = [
    path("finder/", finder, name="finder"),
]
