"""The nearest-service finder: ranking by great-circle distance, its filters, and its page."""

from __future__ import annotations

import datetime
import math

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from atensi.core.errors import ApplicationError
from atensi.core.models import Cluster, ServiceComponent
from stakeholders.finder import nearest_organisations, organisations_by_distance, origin_coordinates
from stakeholders.models import Organisation, OrganisationKind, Region, RegionLevel
from stakeholders.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

TELANAIPURA = "1571011004"  # a kelurahan of Kota Jambi
MEAN_EARTH_RADIUS_KM = 6371.0088
FINDER = "/finder/"
ENGLISH = {"accept-language": "en"}  # for tests that read the page's words


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def point_from(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` away from (lat, lon) on `bearing` degrees (great circle)."""
    d = km / MEAN_EARTH_RADIUS_KM
    b, p1, l1 = math.radians(bearing), math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


@pytest.fixture
def telanaipura() -> Region:
    return Region.objects.select_related("parent__parent").get(code=TELANAIPURA)


@pytest.fixture
def place(telanaipura):
    """place(code, km, bearing=0, **fields): an organisation `km` from Telanaipura's pin."""

    def make(code: str, km: float, bearing: float = 0, **fields) -> Organisation:
        lat, lon = point_from(telanaipura.latitude, telanaipura.longitude, km, bearing)
        fields.setdefault("kind", OrganisationKind.LKSA)
        fields.setdefault("home_region_id", "1571")
        name = fields.pop("name", f"Org {code}")
        return OrganisationFactory(code=code, name=name, latitude=lat, longitude=lon, **fields)

    return make


def codes(orgs) -> list[str]:
    return [o.code for o in orgs]


# --- the selector -------------------------------------------------------------------------


def test_it_orders_by_great_circle_distance_and_gives_kilometres(telanaipura, place):
    # Created out of order, in every direction, from next door to across Sumatra.
    far = place("FAR", 480, 135)
    near = place("NEAR", 1.2, 270)
    mid = place("MID", 35, 10)
    next_door = place("NEXT", 0.3, 200)
    farther = place("FARTHER", 120, 45)

    found = nearest_organisations(origin=telanaipura)

    assert codes(found) == ["NEXT", "NEAR", "MID", "FARTHER", "FAR"]
    for org in (far, near, mid, next_door, farther):
        got = next(o for o in found if o.pk == org.pk)
        expected = haversine_km(telanaipura.latitude, telanaipura.longitude, org.latitude, org.longitude)
        assert got.distance_km == pytest.approx(expected, rel=0.01)
    assert [o.distance_km for o in found] == sorted(o.distance_km for o in found)


def test_ties_on_the_same_pin_break_by_name(telanaipura, place):
    place("B-SAME", 5, 90, name="Bunga")
    place("A-SAME", 5, 90, name="Anggrek")
    assert codes(nearest_organisations(origin=telanaipura)) == ["A-SAME", "B-SAME"]


def test_it_leaves_out_inactive_organisations_and_those_without_a_pin(telanaipura, place):
    place("ACTIVE", 10)
    place("CLOSED", 1, is_active=False)
    OrganisationFactory(code="NOPIN", kind=OrganisationKind.LKSA)
    assert codes(nearest_organisations(origin=telanaipura)) == ["ACTIVE"]


def test_kinds_filter(telanaipura, place):
    place("LKSA-1", 3, kind=OrganisationKind.LKSA)
    place("BALAI-1", 2, kind=OrganisationKind.BALAI)
    place("DINSOS-1", 1, kind=OrganisationKind.DINSOS_KABKOTA)
    assert codes(nearest_organisations(origin=telanaipura, kinds=[OrganisationKind.LKSA])) == ["LKSA-1"]
    assert codes(nearest_organisations(origin=telanaipura, kinds=[OrganisationKind.LKSA, OrganisationKind.BALAI])) == [
        "BALAI-1",
        "LKSA-1",
    ]
    assert codes(nearest_organisations(origin=telanaipura, kinds=[])) == ["DINSOS-1", "BALAI-1", "LKSA-1"]


def test_cluster_filter_by_item_or_code(telanaipura, place):
    children = Cluster.objects.get(code="anak")
    elderly = Cluster.objects.get(code="lanjut_usia")
    both = place("BOTH", 4)
    both.clusters.set([children, elderly])
    place("KIDS", 2).clusters.set([children])
    place("NONE", 1)
    assert codes(nearest_organisations(origin=telanaipura, cluster=children)) == ["KIDS", "BOTH"]
    assert codes(nearest_organisations(origin=telanaipura, cluster="lanjut_usia")) == ["BOTH"]


def test_component_filter(telanaipura, place):
    therapy = ServiceComponent.objects.get(code="terapi")
    care = ServiceComponent.objects.get(code="perawatan_sosial")
    place("THERAPY", 6).components.set([therapy, care])
    place("CARE", 3).components.set([care])
    assert codes(nearest_organisations(origin=telanaipura, component=therapy)) == ["THERAPY"]
    assert codes(nearest_organisations(origin=telanaipura, component="perawatan_sosial")) == ["CARE", "THERAPY"]


def test_accreditation_filters_count_only_current_accreditation(telanaipura, place):
    later = datetime.date.today() + datetime.timedelta(days=365)
    lapsed = datetime.date.today() - datetime.timedelta(days=1)
    place("GRADE-A", 5, accreditation="A", accreditation_expires=later)
    place("GRADE-B", 4, accreditation="B")  # no expiry recorded: current
    place("GRADE-C", 3, accreditation="C", accreditation_expires=later)
    place("LAPSED-A", 2, accreditation="A", accreditation_expires=lapsed)
    place("UNGRADED", 1)
    assert codes(nearest_organisations(origin=telanaipura, accreditation="A")) == ["GRADE-A"]
    assert codes(nearest_organisations(origin=telanaipura, accreditation="B")) == ["GRADE-B", "GRADE-A"]
    assert codes(nearest_organisations(origin=telanaipura, accredited_only=True)) == [
        "GRADE-C",
        "GRADE-B",
        "GRADE-A",
    ]
    assert len(nearest_organisations(origin=telanaipura)) == 5


def test_free_places_filter(telanaipura, place):
    place("ROOM", 9, capacity=30, occupancy=29)
    place("FULL", 2, capacity=30, occupancy=30)
    place("OVERFULL", 3, capacity=10, occupancy=12)
    place("NOT-RESIDENTIAL", 1, capacity=None)
    found = nearest_organisations(origin=telanaipura, with_free_places=True)
    assert codes(found) == ["ROOM"]
    assert found[0].free_places == 1


def test_max_km_is_a_great_circle_not_a_box(telanaipura, place):
    place("IN", 49, 0)
    place("EDGE-OUT", 51, 180)
    # Inside earth_box's cube (40 km north and east) but 56 km away: must be left out.
    place("CORNER", 56.5, 45)
    assert codes(nearest_organisations(origin=telanaipura, max_km=50)) == ["IN"]
    assert codes(nearest_organisations(origin=telanaipura, max_km=60)) == ["IN", "EDGE-OUT", "CORNER"]


def test_limit(telanaipura, place):
    for i in range(6):
        place(f"N{i}", 10 + i)
    assert codes(nearest_organisations(origin=telanaipura, limit=3)) == ["N0", "N1", "N2"]
    with pytest.raises(ValueError):
        nearest_organisations(origin=telanaipura, limit=0)
    with pytest.raises(ValueError):
        nearest_organisations(origin=telanaipura, limit=201)
    with pytest.raises(ValueError):
        nearest_organisations(origin=telanaipura, max_km=0)


def test_filters_combine(telanaipura, place):
    care = ServiceComponent.objects.get(code="perawatan_sosial")
    place("MATCH", 30, accreditation="B", capacity=10, occupancy=2).components.set([care])
    place("FULL", 5, accreditation="B", capacity=10, occupancy=10).components.set([care])
    place("NO-CARE", 6, accreditation="B", capacity=10, occupancy=2)
    place("BALAI", 7, kind=OrganisationKind.BALAI, accreditation="B", capacity=10).components.set([care])
    place("TOO-FAR", 90, accreditation="A", capacity=10).components.set([care])
    found = nearest_organisations(
        origin=telanaipura,
        kinds=[OrganisationKind.LKSA],
        component=care,
        accreditation="B",
        with_free_places=True,
        max_km=50,
    )
    assert codes(found) == ["MATCH"]


def test_one_query_with_home_regions(telanaipura, place, django_assert_num_queries):
    for i in range(10):
        place(f"Q{i}", i + 1)
    with django_assert_num_queries(1):
        found = nearest_organisations(origin=telanaipura)
        names = [(o.home_region.name, o.free_places, o.distance_km) for o in found]
    assert len(names) == 10
    assert names[0][0] == "Kota Jambi"


def test_any_region_with_coordinates_is_an_origin(telanaipura, place):
    place("X", 10)
    district = Region.objects.get(code="157101")
    regency = Region.objects.get(code="1571")
    assert codes(nearest_organisations(origin=district)) == ["X"]
    assert codes(nearest_organisations(origin=regency)) == ["X"]
    assert codes(nearest_organisations(origin=(telanaipura.latitude, telanaipura.longitude))) == ["X"]


def test_a_village_without_a_pin_borrows_its_districts(telanaipura):
    district = Region.objects.get(code="157101")
    unplaced = Region.objects.create(code="1571019999", level=RegionLevel.VILLAGE, name="Tanpa Titik", parent=district)
    assert origin_coordinates(unplaced) == (district.latitude, district.longitude)


def test_an_origin_with_no_pin_anywhere_is_explained():
    province = Region.objects.create(code="99", level=RegionLevel.PROVINCE, name="Tanpa Peta")
    with pytest.raises(ApplicationError, match="Tanpa Peta"):
        nearest_organisations(origin=province)
    with pytest.raises(ApplicationError):
        nearest_organisations(origin=(48.85, 2.35))  # Paris is not in Indonesia


def test_the_queryset_is_there_for_forms(telanaipura, place):
    place("ONE", 1)
    place("TWO", 2)
    qs = organisations_by_distance(origin=telanaipura)
    assert qs.count() == 2
    assert codes(qs) == ["ONE", "TWO"]


def fill_demo_lksa() -> None:
    """Occupancy is counted from open residential cases and the demo has few: fill the two
    Kota Jambi LKSA the way their children's cases would (Kasih Bunda 32 of 40, Harapan
    Mulia full)."""
    Organisation.objects.filter(code="LKSA-KASIHBUNDA").update(occupancy=32)
    Organisation.objects.filter(code="LKSA-HARAPANMULIA").update(occupancy=30)


def test_demo_lksa_near_a_kota_jambi_village_come_back_by_distance(telanaipura):
    call_command("load_demo", verbosity=0)
    fill_demo_lksa()
    found = nearest_organisations(origin=telanaipura, kinds=[OrganisationKind.LKSA])
    assert codes(found) == ["LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA", "LKSA-NURULIMAN", "LKSA-TUNASBANGSA"]
    assert found[0].distance_km == pytest.approx(0, abs=0.05)  # Kasih Bunda is in Telanaipura
    for org in found:
        expected = haversine_km(telanaipura.latitude, telanaipura.longitude, org.latitude, org.longitude)
        assert org.distance_km == pytest.approx(expected, rel=0.01, abs=0.01)

    free = nearest_organisations(origin=telanaipura, kinds=[OrganisationKind.LKSA], with_free_places=True)
    assert codes(free) == ["LKSA-KASIHBUNDA", "LKSA-NURULIMAN", "LKSA-TUNASBANGSA"]  # Harapan Mulia is full

    accredited_b = nearest_organisations(origin=telanaipura, kinds=[OrganisationKind.LKSA], accreditation="B")
    assert codes(accredited_b) == ["LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA"]


# --- the page -----------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    fill_demo_lksa()


def rows(response) -> list[str]:
    """The organisation codes of the results table, in order."""
    import re

    return re.findall(r'<tr data-code="([^"]+)"', response.content.decode())


def test_the_empty_form_has_sensible_defaults(client_for, owner):
    response = client_for(owner).get(FINDER)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="village"' in body
    for kind in ("lksa", "balai", "lpks"):
        assert f'value="{kind}"' in body
    form = response.context["form"]
    assert set(form["kinds"].value()) == {"lksa", "balai", "lpks"}
    assert response.context["rows"] is None
    assert "finder-results" not in body


def test_search_lists_the_nearest_lksa_first(client_for, owner, demo):
    response = client_for(owner).get(FINDER, {"village": TELANAIPURA, "kinds": ["lksa"]}, headers=ENGLISH)
    assert response.status_code == 200
    assert rows(response) == ["LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA", "LKSA-NURULIMAN", "LKSA-TUNASBANGSA"]
    body = response.content.decode()
    assert "Nearest to Telanaipura, Telanaipura, Kota Jambi" in body
    assert "8 / 40" in body  # Kasih Bunda: 40 places, 32 taken
    assert "0741 123456" in body


def test_only_free_places_drops_the_full_lksa(client_for, owner, demo):
    response = client_for(owner).get(FINDER, {"village": TELANAIPURA, "kinds": ["lksa"], "free_places": "on"})
    assert rows(response) == ["LKSA-KASIHBUNDA", "LKSA-NURULIMAN", "LKSA-TUNASBANGSA"]


def test_dotted_codes_and_districts_are_accepted(client_for, owner, demo):
    client = client_for(owner)
    assert rows(client.get(FINDER, {"village": "15.71.01.1004", "kinds": ["lksa"]}))[0] == "LKSA-KASIHBUNDA"
    assert rows(client.get(FINDER, {"village": "157101", "kinds": ["lksa"]}))  # Telanaipura district


def test_page_filters_reach_the_selector(client_for, owner, demo):
    client = client_for(owner)
    # Nurul Iman serves persons with disabilities and offers accessibility support.
    disability = {"village": TELANAIPURA, "cluster": "penyandang_disabilitas", "kinds": ["lksa"]}
    assert rows(client.get(FINDER, disability)) == ["LKSA-NURULIMAN"]
    assert rows(client.get(FINDER, {"village": TELANAIPURA, "component": "terapi", "kinds": ["lksa"]})) == [
        "LKSA-HARAPANMULIA"
    ]
    assert rows(client.get(FINDER, {"village": TELANAIPURA, "accreditation": "A"})) == ["LKSA-HARAPANMULIA"]
    assert rows(client.get(FINDER, {"village": TELANAIPURA, "accreditation": "current", "kinds": ["lksa"]})) == [
        "LKSA-KASIHBUNDA",
        "LKSA-HARAPANMULIA",
        "LKSA-NURULIMAN",
    ]
    within = rows(client.get(FINDER, {"village": TELANAIPURA, "kinds": ["lksa"], "max_km": "15"}))
    assert within[:2] == ["LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA"]
    assert "LKSA-TUNASBANGSA" not in within
    # No kind ticked: every kind, Dinas Sosial and the Balai included.
    everything = rows(client.get(FINDER, {"village": TELANAIPURA}))
    assert {"BA-ALYATAMA", "DINSOS-JAMBI", "LKSA-KASIHBUNDA"} <= set(everything)


def test_distances_are_formatted_for_the_language(client_for, owner, place):
    place("LKSA-JAUH", 12.2, 90, name="LKSA Jauh")  # 12.21 km on earthdistance's sphere
    client = client_for(owner)
    params = {"village": TELANAIPURA, "kinds": ["lksa"]}
    indonesian = client.get(FINDER, params, headers={"accept-language": "id"}).content.decode()
    assert ">12,2</td>" in indonesian
    client.cookies["django_language"] = "en"
    english = client.get(FINDER, params).content.decode()
    assert ">12.2</td>" in english


def test_names_link_to_the_organisation_page_when_there_is_one(client_for, owner, demo):
    response = client_for(owner).get(FINDER, {"village": TELANAIPURA, "kinds": ["lksa"]})
    kasih = Organisation.objects.get(code="LKSA-KASIHBUNDA")
    try:
        url = reverse("stakeholders:organisation_detail", args=[kasih.pk])
    except NoReverseMatch:
        assert "LKSA Kasih Bunda Kota Jambi" in response.content.decode()
    else:
        assert f'href="{url}"' in response.content.decode()


def test_an_empty_result_says_what_to_try(client_for, owner, demo):
    search = {"village": TELANAIPURA, "kinds": ["bapas"], "max_km": "5"}
    response = client_for(owner).get(FINDER, search, headers=ENGLISH)
    assert response.status_code == 200
    assert rows(response) == []
    body = response.content.decode()
    assert 'data-testid="finder-empty"' in body
    # It suggests loosening what this search set, and nothing it did not.
    assert "look farther than 5 km" in body
    assert "tick more kinds" in body
    assert "include organisations that are full" not in body
    assert "accept any accreditation" not in body


def test_an_empty_map_is_said_plainly(client_for, owner):
    response = client_for(owner).get(FINDER, {"village": TELANAIPURA}, headers=ENGLISH)
    assert rows(response) == []
    assert "No active organisation has a position on the map yet." in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"village": "9999999999"}, "village"),  # no such village
        ({"village": "15"}, "village"),  # a province is too coarse
        ({"village": "abc'; drop table"}, "village"),
        ({"village": ""}, "village"),
        ({"village": TELANAIPURA, "max_km": "lima"}, "max_km"),
        ({"village": TELANAIPURA, "max_km": "0"}, "max_km"),
        ({"village": TELANAIPURA, "max_km": "99999"}, "max_km"),
        ({"village": TELANAIPURA, "kinds": ["castle"]}, "kinds"),
        ({"village": TELANAIPURA, "cluster": "dragons"}, "cluster"),
        ({"village": TELANAIPURA, "component": "magic"}, "component"),
        ({"village": TELANAIPURA, "accreditation": "Z"}, "accreditation"),
    ],
)
def test_bad_input_is_a_form_error_never_a_500(client_for, owner, params, field):
    response = client_for(owner).get(FINDER, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["rows"] is None
    assert "is-invalid" in response.content.decode()


def test_a_village_without_a_pin_anywhere_is_a_form_error(client_for, owner):
    province = Region.objects.create(code="99", level=RegionLevel.PROVINCE, name="Tanpa Peta")
    regency = Region.objects.create(code="9901", level=RegionLevel.REGENCY, name="Tanpa Peta", parent=province)
    Region.objects.create(code="990101", level=RegionLevel.DISTRICT, name="Kecamatan Tanpa Peta", parent=regency)
    response = client_for(owner).get(FINDER, {"village": "990101"}, headers=ENGLISH)
    assert response.status_code == 200
    assert "no position on the map" in str(response.context["form"].errors["village"])


def test_post_is_refused(client_for, owner):
    assert client_for(owner).post(FINDER, {"village": TELANAIPURA}).status_code == 405


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(FINDER, {"village": TELANAIPURA})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_finder_is_in_the_navigation(client_for, owner):
    body = client_for(owner).get(reverse("home")).content.decode()
    assert 'data-nav="finder"' in body


def test_results_page_query_count_does_not_grow_with_results(client_for, owner, place, django_assert_max_num_queries):
    children = Cluster.objects.get(code="anak")
    care = ServiceComponent.objects.get(code="perawatan_sosial")
    for i in range(25):
        org = place(f"LKSA-{i:02d}", i + 1, (i * 37) % 360, capacity=10, occupancy=i % 5)
        org.clusters.set([children])
        org.components.set([care])
    client = client_for(owner)
    # Every filter at once: each one that names a reference item costs its own lookup.
    search = {"village": TELANAIPURA, "kinds": ["lksa"], "cluster": "anak", "component": "perawatan_sosial"}
    client.get(FINDER, search)  # the session and caches settle

    with CaptureQueriesContext(connection) as one:
        assert len(rows(client.get(FINDER, {**search, "max_km": "2"}))) == 1
    with django_assert_max_num_queries(12):
        response = client.get(FINDER, search)
    assert len(rows(response)) == 20
    with CaptureQueriesContext(connection) as twenty:
        client.get(FINDER, search)
    assert len(twenty.captured_queries) == len(one.captured_queries)
