"""The dashboards: /dashboard/ (which ones the user may read), an organisation's, a
region's and Indonesia's, each with its tables as CSV and XLSX.

Who reads what is `stakeholders.permissions.figure_scope_for`; anything else is a 404, as
for records of another organisation.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from atensi.core.disclosure import Disclosure
from atensi.core.localtime import WIB
from atensi.core.spreadsheets import XLSX_CONTENT_TYPE, csv_text, xlsx_bytes
from cases.figures import DEFINITIONS
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import Region
from stakeholders.permissions import FigureScope, figure_scope_for
from stakeholders.selectors import organisation_figures_get, region_get

from . import periods
from .charts import bar_chart, line_chart
from .compose import (
    Dashboard,
    dashboard_choices,
    local_today,
    organisation_dashboard,
    organisation_zone,
    region_dashboard,
)
from .periods import Period

FORMATS = ("csv", "xlsx")
RECOUNT = "recount"


def _recounted(request: AuthenticatedRequest, dashboard: Dashboard) -> HttpResponse | None:
    """After a recount (`?recount=1`), the same page without the parameter, so a reload
    does not ask again."""
    if RECOUNT not in request.GET:
        return None
    return redirect(f"{request.path}?{urlencode(dashboard.period.query)}")


def _period(request: AuthenticatedRequest, *, today: Any, disclosure: Disclosure) -> Period:
    period, warning = periods.parse_period(request.GET, today=today, allow_range=disclosure is Disclosure.EXACT)
    if warning:
        messages.warning(request, warning)
    return period


@require_GET
def dashboard_entry(request: AuthenticatedRequest) -> HttpResponse:
    choices = dashboard_choices(figure_scope_for(request.user))
    if len(choices) == 1:
        return redirect(choices[0][1])
    return render(request, "dashboards/chooser.html", {"choices": choices})


def _render(
    request: AuthenticatedRequest, dashboard: Dashboard, *, download: str, args: list[Any], kind: str
) -> HttpResponse:
    query = urlencode(dashboard.period.query)
    panels = []
    for table in dashboard.tables:
        chart = bar_chart(table) if table.chart else ""
        urls = [f"{reverse(download, args=[*args, table.key, fmt])}?{query}" for fmt in FORMATS]
        panels.append((table, chart, *urls))
    monthly = None
    if dashboard.monthly is not None:
        urls = [f"{reverse(download, args=[*args, dashboard.monthly.key, fmt])}?{query}" for fmt in FORMATS]
        monthly = (dashboard.monthly, line_chart(dashboard.monthly), *urls)
    exact = dashboard.disclosure is Disclosure.EXACT
    context = {
        "dashboard": dashboard,
        "kind": kind,
        "panels": panels,
        "monthly": monthly,
        "exact": exact,
        "period_choices": periods.choices(dashboard.today),
        "allow_range": exact,
        "definitions": DEFINITIONS,
        "recount_url": f"{request.path}?{urlencode({**dashboard.period.query, RECOUNT: '1'})}",
    }
    return render(request, "dashboards/dashboard.html", context)


def _download(dashboard: Dashboard, *, table_key: str, fmt: str, name: str) -> HttpResponse:
    table = dashboard.table(table_key)
    if table is None or fmt not in FORMATS:
        raise Http404
    headers, rows = table.export()
    filename = f"{slugify(name)}-{table.key}-{slugify(dashboard.period.param or dashboard.period.label)}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(csv_text(headers, rows), content_type="text/csv; charset=utf-8")
    else:
        # Excel refuses these in a sheet's name ("By kab/kota").
        title = re.sub(r"[\[\]:*?/\\]", " ", table.title)
        content = xlsx_bytes(sheet_title=title, headers=headers, rows=rows)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _organisation(request: AuthenticatedRequest, organisation_id: int) -> tuple[Dashboard, str]:
    scope = figure_scope_for(request.user)
    organisation = organisation_figures_get(scope=scope, organisation_id=organisation_id)
    disclosure = scope.organisation_disclosure(organisation.pk)
    period = _period(request, today=local_today(organisation_zone(organisation)), disclosure=disclosure)
    dashboard = organisation_dashboard(
        organisation=organisation, disclosure=disclosure, period=period, recount=RECOUNT in request.GET
    )
    return dashboard, organisation.code


@require_GET
def dashboard_organisation(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    dashboard, _code = _organisation(request, organisation_id)
    if (response := _recounted(request, dashboard)) is not None:
        return response
    return _render(
        request,
        dashboard,
        download="dashboard_organisation_download",
        args=[organisation_id],
        kind="organisation",
    )


@require_GET
def dashboard_organisation_download(
    request: AuthenticatedRequest, organisation_id: int, table: str, fmt: str
) -> HttpResponse:
    dashboard, code = _organisation(request, organisation_id)
    return _download(dashboard, table_key=table, fmt=fmt, name=code)


def _covered_region(scope: FigureScope, code: str) -> Region:
    if len(code) not in (2, 4) or not code.isdigit() or not scope.covers_region(code):
        raise Http404
    region = region_get(code=code)
    if region is None:
        raise Http404
    return region


def _region(request: AuthenticatedRequest, code: str) -> Dashboard:
    scope = figure_scope_for(request.user)
    region = _covered_region(scope, code)
    period = _period(request, today=local_today(WIB), disclosure=scope.region_disclosure)
    return region_dashboard(
        region=region, disclosure=scope.region_disclosure, period=period, recount=RECOUNT in request.GET
    )


@require_GET
def dashboard_region(request: AuthenticatedRequest, code: str) -> HttpResponse:
    dashboard = _region(request, code)
    if (response := _recounted(request, dashboard)) is not None:
        return response
    return _render(request, dashboard, download="dashboard_region_download", args=[code], kind="region")


@require_GET
def dashboard_region_download(request: AuthenticatedRequest, code: str, table: str, fmt: str) -> HttpResponse:
    return _download(_region(request, code), table_key=table, fmt=fmt, name=code)


def _national(request: AuthenticatedRequest) -> Dashboard:
    scope = figure_scope_for(request.user)
    if not scope.national:
        raise Http404
    period = _period(request, today=local_today(WIB), disclosure=scope.region_disclosure)
    return region_dashboard(
        region=None, disclosure=scope.region_disclosure, period=period, recount=RECOUNT in request.GET
    )


@require_GET
def dashboard_national(request: AuthenticatedRequest) -> HttpResponse:
    dashboard = _national(request)
    if (response := _recounted(request, dashboard)) is not None:
        return response
    return _render(request, dashboard, download="dashboard_national_download", args=[], kind="national")


@require_GET
def dashboard_national_download(request: AuthenticatedRequest, table: str, fmt: str) -> HttpResponse:
    return _download(_national(request), table_key=table, fmt=fmt, name="indonesia")
