"""Dashboards: the organisation dashboard of BA-BENCH (a tenth of every case) as its
supervisor, Jambi's regional dashboard and the national dashboard as the superuser.

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
    "(exact figures, counted live), and the national dashboard by a national viewer (aggregate figures, kept in "
    "the cache for ATENSI_DASHBOARD_CACHE_SECONDS after the first, untimed, request). "
    "Every count is an aggregate in SQL (COUNT ... FILTER, GROUP BY): a constant number of queries whatever "
    "the number of cases, no summary tables."
)

SLOW_REPEAT = 20


def _check(title: str) -> Any:
    def check(response: Any) -> None:
        body = response.content.decode()
        if 'data-testid="dashboard-title"' not in body or html.escape(title) not in body:
            raise BenchError(f"the dashboard does not show {title}")

    return check


def test_organisation_dashboard(bench, client):
    client.force_login(bench.data.account("case_supervisor"))
    org = Organisation.objects.get(code="BA-BENCH")
    bench.measure(
        client,
        reverse("dashboard_organisation", args=[org.pk]),
        name="organisation dashboard: BA-BENCH, this month, as its supervisor",
        check=_check(org.name),
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


def test_regional_dashboard(bench, client):
    client.force_login(bench.data.account("superuser"))
    bench.measure(
        client,
        reverse("dashboard_region", args=["15"]),
        name="regional dashboard: Jambi by kab/kota, as a superuser",
        check=_check("Jambi"),
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


def test_national_dashboard(bench, client):
    client.force_login(bench.data.account("superuser"))
    bench.measure(
        client,
        reverse("dashboard_national"),
        name="national dashboard: by province, as a superuser",
        check=_check("Indonesia"),
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


def test_national_dashboard_as_a_national_viewer(bench, client):
    from stakeholders.roles import Role
    from stakeholders.tests.factories import OrganisationFactory, member

    directorate = OrganisationFactory(code="BENCH-NASIONAL", is_national=True)
    client.force_login(member(organisation=directorate, role=Role.VIEWER))
    bench.measure(
        client,
        reverse("dashboard_national"),
        name="national dashboard: as a national viewer (aggregate figures, kept in the cache)",
        check=_check("Indonesia"),
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )
