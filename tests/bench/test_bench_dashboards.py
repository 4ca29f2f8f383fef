"""Dashboards: the organisation dashboard of BA-BENCH (a tenth of every case) as its
supervisor, Jambi's regional dashboard and the national dashboard as the superuser and
as a national viewer, each as read (figures counted ahead, atensi.dashboards.compose
.cached_figures) and counted live.

Every figure is an aggregate computed by PostgreSQL (cases/figures.py): one scan of the
area's cases for the stage, basis, risk, period and reach counts, a grouped query each for
cluster, AMPK category, caseload, approvals, regions and aftercare, and the referral figures.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.urls import reverse

from stakeholders.models import Organisation
from tests.bench.harness import BenchError

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Dashboards: organisation, region, Indonesia"
BENCH_NEEDS = ("cases",)
BENCH_DESCRIPTION = (
    "GETs of the dashboards for the current month: the organisation dashboard of BA-BENCH (a tenth of the "
    "data set's cases) by its supervisor (exact figures, every count a link to the case list); the regional "
    "dashboard of Jambi (province 15, by kab/kota) and the national dashboard (by province) by a superuser "
    "(exact figures) and by a national viewer (aggregate figures). "
    '"Read" rows are what readers get: figures too slow to count live (over ATENSI_DASHBOARD_LIVE_MS, 150 ms) '
    "are kept in the cache for ATENSI_DASHBOARD_CACHE_SECONDS and counted ahead by beat every ten minutes "
    "(the first, untimed, request counts them, as beat would); the page says when they were counted and "
    'offers exact readers a recount. "Counted live" rows are the cost of that count (the cache off): what '
    "beat's warming and a recount pay. "
    "Every count is an aggregate in SQL (COUNT ... FILTER, GROUP BY): a constant number of queries whatever "
    "the number of cases, no summary tables."
)

SLOW_REPEAT = 20
LIVE_REPEAT = 5


def _check(title: str, *, kept: bool) -> Any:
    def check(response: Any) -> None:
        body = response.content.decode()
        if 'data-testid="dashboard-title"' not in body or html.escape(title) not in body:
            raise BenchError(f"the dashboard does not show {title}")
        exact = 'data-testid="aggregate-notice"' not in body
        if exact and kept != ('data-testid="dashboard-kept"' in body):
            raise BenchError(f"the dashboard of {title} was {'not ' if kept else ''}read from the kept figures")

    return check


def _measure(bench: Any, client: Any, settings: Any, url: str, *, name: str, title: str, live: bool) -> None:
    if live:
        settings.ATENSI_DASHBOARD_CACHE_SECONDS = 0
    else:
        client.get(url)  # counted once, untimed, as beat counts them ahead
    bench.measure(
        client,
        url,
        name=f"{name} ({'counted live' if live else 'read'})",
        check=_check(title, kept=not live),
        repeat=min(bench.repeat, LIVE_REPEAT if live else SLOW_REPEAT),
        warmup=1,
    )


@pytest.mark.parametrize("live", [False, True], ids=["read", "live"])
def test_organisation_dashboard(bench, client, settings, live):
    client.force_login(bench.data.account("case_supervisor"))
    org = Organisation.objects.get(code="BA-BENCH")
    url = reverse("dashboard_organisation", args=[org.pk])
    name = "organisation dashboard: BA-BENCH, this month, as its supervisor"
    _measure(bench, client, settings, url, name=name, title=org.name, live=live)


@pytest.mark.parametrize("live", [False, True], ids=["read", "live"])
def test_regional_dashboard(bench, client, settings, live):
    client.force_login(bench.data.account("superuser"))
    url = reverse("dashboard_region", args=["15"])
    name = "regional dashboard: Jambi by kab/kota, as a superuser"
    _measure(bench, client, settings, url, name=name, title="Jambi", live=live)


@pytest.mark.parametrize("live", [False, True], ids=["read", "live"])
def test_national_dashboard(bench, client, settings, live):
    client.force_login(bench.data.account("superuser"))
    url = reverse("dashboard_national")
    _measure(
        bench,
        client,
        settings,
        url,
        name="national dashboard: by province, as a superuser",
        title="Indonesia",
        live=live,
    )


def test_national_dashboard_as_a_national_viewer(bench, client, settings):
    from stakeholders.roles import Role
    from stakeholders.tests.factories import OrganisationFactory, member

    directorate = OrganisationFactory(code="BENCH-NASIONAL", is_national=True)
    client.force_login(member(organisation=directorate, role=Role.VIEWER))
    url = reverse("dashboard_national")
    _measure(
        bench, client, settings, url, name="national dashboard: as a national viewer", title="Indonesia", live=False
    )
