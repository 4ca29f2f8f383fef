"""The map of open cases per kab/kota (/map/), its data for Leaflet, its table as CSV and
one kab/kota's figures. Everyone whose figure scope is empty gets 404 on all of them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from atensi.core.errors import ApplicationError
from atensi.core.spreadsheets import csv_text
from cases.map_figures import MapFilters
from stakeholders.finder import nearest_organisations
from stakeholders.http import AuthenticatedRequest
from stakeholders.map_places import MAP_ORGANISATION_KINDS, regency_get
from stakeholders.models import OrganisationKind, Region
from stakeholders.permissions import FigureScope, figure_scope_for

from .figures import MapData, RegencyFigures, map_data, regency_figures
from .forms import SORTS, MapFilterForm, map_filters

NEAREST = 5  # services listed for a kab/kota


def _scope(request: AuthenticatedRequest) -> FigureScope:
    scope = figure_scope_for(request.user)
    if not scope.sees_any:
        raise Http404
    return scope


def _filter_query(form: MapFilterForm, **extra: str) -> str:
    data = getattr(form, "cleaned_data", {})
    params = {name: data.get(name) or "" for name in ("category", "cluster", "period")}
    params.update(extra)
    return urlencode({k: v for k, v in params.items() if v})


def _readable_regency(scope: FigureScope, code: str) -> Region | None:
    """A kab/kota the reader may ask about: one of the regions they read, or anywhere their
    own organisations' children may live. None for anything else."""
    region = regency_get(code)
    if region is None or not (scope.covers_region(region.code) or scope.organisation_ids):
        return None
    return region


def _regency_figures(scope: FigureScope, form: MapFilterForm, filters: MapFilters, region: Region) -> RegencyFigures:
    return regency_figures(
        scope=scope,
        filters=filters,
        region=region,
        clusters={c.pk: c.name for c in form.clusters.values()},
        categories={c.pk: c.name for c in form.categories.values()},
    )


def _nearest(region: Region) -> list[Any]:
    # The finder places a kab/kota at its own coordinates, else its province's; with
    # neither there is nothing to measure from, and the panel says no service is placed.
    try:
        return nearest_organisations(origin=region, kinds=MAP_ORGANISATION_KINDS, limit=NEAREST)
    except ApplicationError:
        return []


@require_GET
def figures_map(request: AuthenticatedRequest) -> HttpResponse:
    scope = _scope(request)
    form, filters, sort, warnings = map_filters(request.GET)
    data = map_data(scope=scope, filters=filters, sort=sort)
    region_context: dict[str, Any] = {}
    if code := request.GET.get("region", ""):
        region = _readable_regency(scope, code)
        if region is not None:
            region_context = {"figures": _regency_figures(scope, form, filters, region), "nearest": _nearest(region)}
        else:
            warnings.append(_("That kab/kota is not among the regions whose figures you read."))
    query = _filter_query(form)
    return render(
        request,
        "atensi/figures_map.html",
        {
            "form": form,
            "warnings": warnings,
            "data": data,
            "sort": sort,
            "sorts": [(key, label, "?" + _filter_query(form, sort=key)) for key, label in SORTS.items()],
            "query": query,
            "data_url": reverse("figures_map_data") + ("?" + query if query else ""),
            # The script appends the kab/kota's code.
            "region_url": reverse("figures_map_region") + "?" + (query + "&" if query else "") + "code=",
            "csv_url": reverse("figures_map_csv") + ("?" + _filter_query(form, sort=sort)),
            "page_query": _filter_query(form, sort=sort),
            "cache_minutes": (settings.ATENSI_MAP_CACHE_SECONDS + 59) // 60,
            "tile_url": settings.ATENSI_MAP_TILE_URL,
            "attribution": settings.ATENSI_MAP_ATTRIBUTION,
            **region_context,
        },
    )


def _free_label(capacity: int | None, free: int | None) -> str:
    if capacity is None:
        return _("No residential places recorded")
    return _("%(free)s free of %(capacity)s places") % {"free": free, "capacity": capacity}


def _json(data: MapData, warnings: list[str]) -> dict[str, Any]:
    kinds = dict(OrganisationKind.choices)
    # One reverse() for thousands of services: their addresses differ only by the id.
    detail = reverse("stakeholders:organisation_detail", args=[987654321])
    return {
        "exact": data.exact,
        "total": str(data.total),
        "counted_at": data.counted_at.isoformat(),
        "warnings": warnings,
        "regencies": [
            {
                "code": row.code,
                "name": row.name,
                "province": row.province,
                "lat": row.latitude,
                "lng": row.longitude,
                "approximate": row.approximate,
                "count": row.count.value,
                "label": _("%(name)s: %(count)s open cases") % {"name": row.name, "count": row.count},
                "radius": row.radius,
            }
            for row in data.rows
            if row.latitude is not None and row.longitude is not None
        ],
        "organisations": [
            {
                "name": org.name,
                "kind": str(kinds.get(org.kind, org.kind)),
                "lat": org.latitude,
                "lng": org.longitude,
                "capacity": org.capacity,
                "free_places": org.free_places,
                "places": _free_label(org.capacity, org.free_places),
                "url": detail.replace("987654321", str(org.pk)),
            }
            for org in data.organisations
        ],
    }


@never_cache  # figures of the reader's scope: never kept by a shared cache or the browser
@require_GET
def figures_map_data(request: AuthenticatedRequest) -> JsonResponse:
    scope = _scope(request)
    _form, filters, sort, warnings = map_filters(request.GET)
    return JsonResponse(_json(map_data(scope=scope, filters=filters, sort=sort), warnings))


@never_cache
@require_GET
def figures_map_csv(request: AuthenticatedRequest) -> HttpResponse:
    scope = _scope(request)
    _form, filters, sort, _warnings = map_filters(request.GET)
    data = map_data(scope=scope, filters=filters, sort=sort)
    rows: list[list[Any]] = [[row.code, row.name, row.province, row.count.for_export()] for row in data.rows]
    rows.append(["", _("Total"), "", data.total.for_export()])
    text = csv_text([_("Kab/kota code"), _("Kab/kota"), _("Province"), _("Open cases")], rows)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="peta-kasus-terbuka.csv"'
    return response


@never_cache
@require_GET
def figures_map_region(request: AuthenticatedRequest) -> HttpResponse:
    """One kab/kota's figures and its nearest services (the panel beside the map)."""
    scope = _scope(request)
    region = _readable_regency(scope, request.GET.get("code", ""))
    if region is None:
        raise Http404
    form, filters, _sort, warnings = map_filters(request.GET)
    return render(
        request,
        "atensi/_figures_map_region.html",
        {"figures": _regency_figures(scope, form, filters, region), "nearest": _nearest(region), "warnings": warnings},
    )


urlpatterns: list[URLPattern] = [
    path("map/", figures_map, name="figures_map"),
    path("map/data.json", figures_map_data, name="figures_map_data"),
    path("map/export.csv", figures_map_csv, name="figures_map_csv"),
    path("map/region/", figures_map_region, name="figures_map_region"),
]
