"""The map of open cases per kab/kota (/map/): its JSON and its page, as a national viewer
(aggregates over every case), the superuser and the supervisor of BA-BENCH.

The national viewer is a viewer of an organisation marked national, made here inside the
test's transaction. The data set's children live in the villages of Jambi and West
Sumatra, so the counts fall into their kab/kota.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member
from tests.bench.harness import BenchError

pytestmark = pytest.mark.django_db

BENCH_SECTION = "The map of open cases"
BENCH_NEEDS = ("cases",)
BENCH_DESCRIPTION = (
    "GETs of /map/data.json (the counts of open cases per kab/kota, one GROUP BY over the cases of the "
    "reader's figure scope joined to their children, then the kab/kota and the LKSA/Balai to draw) and of "
    "the /map/ page (the same plus the filter form and the table). *national viewer*: a viewer of an "
    "organisation marked national, who reads every case as aggregates; *superuser*: the same cases, exact; "
    "*supervisor*: the supervisor of BA-BENCH, a tenth of the cases, exact. The filtered rows add an AMPK "
    "category (EXISTS on the child's categories) or a whole year (open at some time in it, in each "
    "organisation's time zone). The counts are kept in the cache for ATENSI_MAP_CACHE_SECONDS (300, as in "
    "production), so after its first request a row times a cache hit and the kab/kota, services and page; "
    "the *counted* rows empty the (bench's own) cache before every request, so each request counts the cases: "
    "what the first reader of a scope and filters waits for every five minutes."
)


def _check(response: Any) -> None:
    if not response.json()["regencies"]:
        raise BenchError("the map shows no kab/kota")


@pytest.fixture
def national_client(client: Any) -> Any:
    client.force_login(member(organisation=OrganisationFactory(is_national=True), role=Role.VIEWER))
    return client


def test_map_data_national_viewer(bench, national_client):
    bench.measure(national_client, reverse("figures_map_data"), name="map data: national viewer", check=_check)


def test_map_data_national_viewer_counted(bench, national_client):
    bench.measure(
        national_client,
        reverse("figures_map_data"),
        name="map data: national viewer, counted (cache emptied)",
        check=_check,
        before=cache.clear,
        repeat=min(bench.repeat, 20),
        warmup=2,
    )


def test_map_data_supervisor_counted(bench, client):
    client.force_login(bench.data.account("case_supervisor"))
    bench.measure(
        client,
        reverse("figures_map_data"),
        name="map data: supervisor of BA-BENCH, counted (cache emptied)",
        check=_check,
        before=cache.clear,
        repeat=min(bench.repeat, 20),
        warmup=2,
    )


def test_map_data_national_viewer_category(bench, national_client):
    bench.measure(
        national_client,
        reverse("figures_map_data"),
        name="map data: national viewer, one AMPK category",
        data={"category": "penelantaran"},
    )


def test_map_data_national_viewer_year(bench, national_client):
    bench.measure(
        national_client,
        reverse("figures_map_data"),
        name="map data: national viewer, a whole year",
        data={"period": "2026"},
    )


def test_map_page_national_viewer(bench, national_client):
    bench.measure(national_client, reverse("figures_map"), name="map page: national viewer")


def test_map_data_superuser(bench, client):
    client.force_login(bench.data.account("superuser"))
    bench.measure(client, reverse("figures_map_data"), name="map data: superuser", check=_check)


def test_map_data_supervisor(bench, client):
    client.force_login(bench.data.account("case_supervisor"))
    bench.measure(client, reverse("figures_map_data"), name="map data: supervisor of BA-BENCH", check=_check)
