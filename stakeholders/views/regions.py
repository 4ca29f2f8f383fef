"""Regions: the picker's htmx fragments and the region lookup page ("Wilayah").

Regions are reference data, the same for every signed-in user, so nothing here is
scoped; the fragments are small and may be cached by the browser for a while.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from .. import selectors
from ..http import AuthenticatedRequest
from ..models import Region
from ..region_forms import RegionChildrenForm, RegionLookupForm, RegionSearchForm

SEARCH_LIMIT = 15
# Five minutes: long enough to make going back and forth through the drill-down free,
# short enough that a reload of the regions shows up the same working session.
FRAGMENT_MAX_AGE = 300


def _bad_request(form: RegionSearchForm | RegionChildrenForm) -> HttpResponse:
    # The picker shows this text in its status line (htmx does not swap a 400).
    message = " ".join(str(error) for errors in form.errors.values() for error in errors)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _fragment(template: str, context: dict[str, Any]) -> HttpResponse:
    # Rendered without the request: a fragment needs no navigation or CSRF token, and
    # the context processors would cost queries on every keystroke.
    response = HttpResponse(render_to_string(template, context))
    patch_cache_control(response, private=True, max_age=FRAGMENT_MAX_AGE)
    return response


@require_GET
def region_search(request: AuthenticatedRequest) -> HttpResponse:
    """The options of the picker's listbox for what was typed."""
    form = RegionSearchForm(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    query = form.cleaned_data["q"]
    results = selectors.region_search(
        query=query,
        within=form.cleaned_data["within"] or None,
        levels=form.cleaned_data["levels"],
        limit=SEARCH_LIMIT,
    )
    options = []
    for region in results:
        label = selectors.region_label(region)
        options.append({"region": region, "label": label, "context": label.removeprefix(region.name).lstrip(", ")})
    searched = bool(query) and (
        selectors.region_code_from_query(query) is not None or len(query) >= selectors.REGION_SEARCH_MIN_LENGTH
    )
    return _fragment("stakeholders/regions/_search_results.html", {"options": options, "searched": searched})


@require_GET
def region_children(request: AuthenticatedRequest) -> HttpResponse:
    """The <option>s of the next drill-down select: the regions directly under `parent`."""
    form = RegionChildrenForm(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    code = form.cleaned_data["parent"]
    if not code:
        options = [{"region": r, "label": r.name} for r in selectors.region_children(parent_code=None)]
    else:
        parent = selectors.region_get(code=code)
        # An unknown (but well-formed) parent has no children: an empty select, not an error.
        children = selectors.region_children(parent_code=code) if parent is not None else []
        prefix = selectors.region_label(parent) if parent is not None else ""
        options = [{"region": child, "label": f"{child.name}, {prefix}"} for child in children]
    return _fragment("stakeholders/regions/_children.html", {"options": options})


@require_GET
def region_lookup(request: AuthenticatedRequest) -> HttpResponse:
    """Look a region up by name or code: its full path, code, postal code and position."""
    form = RegionLookupForm(request.GET or None)
    region = None
    children: list[Region] = []
    if form.is_bound and form.is_valid():
        region = form.cleaned_data["region"]
        if region is not None:
            children = list(selectors.region_children(parent_code=region.code))
    path_up: list[Region] = []
    current = region
    while current is not None:
        path_up.append(current)
        current = current.parent
    return render(
        request,
        "stakeholders/region_lookup.html",
        {
            "form": form,
            "region": region,
            "label": selectors.region_label(region) if region is not None else "",
            "path": list(reversed(path_up)),
            "children": children,
        },
    )


urlpatterns = [
    path("regions/", region_lookup, name="region_lookup"),
    path("regions/search/", region_search, name="region_search"),
    path("regions/children/", region_children, name="region_children"),
]
