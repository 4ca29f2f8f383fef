"""Organisation profiles: regions, pins, coverage and who may change what."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from atensi.core.errors import ApplicationError
from atensi.core.models import Cluster
from stakeholders import services
from stakeholders.models import Organisation, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English, whatever the Indonesian catalogue says.
    with translation.override("en"):
        yield


TELANAIPURA = "1571011004"  # kelurahan in Kota Jambi
LUBUK_MINTURUN = "1371111002"  # kelurahan in Kota Padang


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def test_a_village_places_the_pin_and_the_home_region():
    org = services.organisation_create(code="LKSA-UJI", name="LKSA Uji", kind="lksa", village=region(TELANAIPURA))
    village = region(TELANAIPURA)
    assert (org.latitude, org.longitude) == (village.latitude, village.longitude)
    assert org.home_region_id == "1571"


def test_an_explicit_pin_is_kept():
    org = services.organisation_create(
        code="LKSA-UJI", name="LKSA Uji", kind="lksa", village=region(TELANAIPURA), latitude=-1.6, longitude=103.6
    )
    assert (org.latitude, org.longitude) == (-1.6, 103.6)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(103.6, -1.6), (-1.6, 160.0), (20.0, 103.6), (-1.6, None)],
    ids=["swapped", "pacific", "north", "half"],
)
def test_a_pin_outside_indonesia_is_refused_and_nothing_saved(lat, lon):
    with pytest.raises(ApplicationError) as exc:
        services.organisation_create(code="LKSA-UJI", name="LKSA Uji", kind="lksa", latitude=lat, longitude=lon)
    assert exc.value.field in ("latitude", "longitude", None)
    assert not Organisation.objects.filter(code="LKSA-UJI").exists()


@pytest.mark.parametrize(("lat", "lon"), [(40.0, 100.0), (-1.6, None)])
def test_the_database_refuses_a_bad_pin_even_without_the_service(lat, lon):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(code="X-1", name="X", kind="lksa", latitude=lat, longitude=lon)


def test_the_village_must_be_a_village_inside_the_home_region():
    with pytest.raises(ApplicationError, match="village") as exc:
        services.organisation_create(code="A-1", name="A", kind="lksa", village=region("157101"))
    assert exc.value.field == "village"
    with pytest.raises(ApplicationError) as exc:
        services.organisation_create(
            code="A-1", name="A", kind="lksa", village=region(LUBUK_MINTURUN), home_region=region("1571")
        )
    assert exc.value.field == "village" and "Lubuk Minturun" in str(exc.value)


def test_coverage_is_provinces_regencies_or_districts():
    org = services.organisation_create(
        code="BA-UJI2", name="Balai", kind="balai", coverage=[region("15"), region("1371"), region("157101")]
    )
    assert set(org.coverage.values_list("code", flat=True)) == {"15", "1371", "157101"}
    with pytest.raises(ApplicationError) as exc:
        services.organisation_create(code="BA-UJI3", name="Balai", kind="balai", coverage=[region(TELANAIPURA)])
    assert exc.value.field == "coverage"


def test_duplicate_code_is_a_clear_error():
    services.organisation_create(code="lksa-uji", name="LKSA Uji", kind="lksa")
    with pytest.raises(ApplicationError, match="LKSA-UJI") as exc:
        services.organisation_create(code="LKSA-UJI", name="Lain", kind="lksa")
    assert exc.value.field == "code"


def test_org_admin_edits_the_profile_but_not_national_fields(org, org_admin):
    anak = Cluster.objects.get(code="anak")
    services.organisation_update(
        organisation=org, by=org_admin, phone="0741-123456", clusters=[anak], village=region(TELANAIPURA)
    )
    org.refresh_from_db()
    assert org.phone == "0741-123456" and list(org.clusters.all()) == [anak]
    assert org.latitude == region(TELANAIPURA).latitude
    with pytest.raises(ApplicationError, match="national administrator"):
        services.organisation_update(organisation=org, by=org_admin, accreditation="A")
    org.refresh_from_db()
    assert org.accreditation == ""


def test_a_new_village_moves_the_pin_unless_the_pin_is_given(org, org_admin):
    services.organisation_update(organisation=org, by=org_admin, village=region(TELANAIPURA))
    services.organisation_update(organisation=org, by=org_admin, village=region("1571091001"))
    org.refresh_from_db()
    assert org.latitude == region("1571091001").latitude
    services.organisation_update(
        organisation=org, by=org_admin, village=region(TELANAIPURA), latitude=-1.61, longitude=103.61
    )
    org.refresh_from_db()
    assert (org.latitude, org.longitude) == (-1.61, 103.61)


def test_outsider_cannot_update(org, outsider):
    with pytest.raises(ApplicationError):
        services.organisation_update(organisation=org, by=outsider, phone="0812345678")
    org.refresh_from_db()
    assert org.phone == ""


def test_bad_phone_and_email_are_refused_at_the_field(org, org_admin):
    for field, value in (("phone", "12-ab"), ("whatsapp", "+1 555 0100"), ("email", "not-an-email")):
        with pytest.raises(ApplicationError) as exc:
            services.organisation_update(organisation=org, by=org_admin, **{field: value})
        assert exc.value.field == field
    org.refresh_from_db()
    assert (org.phone, org.whatsapp, org.email) == ("", "", "")


def test_demo_organisations_have_their_regions_and_pins():
    call_command("load_demo")
    kasih = Organisation.objects.get(code="LKSA-KASIHBUNDA")
    assert kasih.village_id == TELANAIPURA and kasih.home_region_id == "1571"
    assert (kasih.latitude, kasih.longitude) == (region(TELANAIPURA).latitude, region(TELANAIPURA).longitude)
    # 40 places, one taken by the demo's residential case (occupancy is counted from open cases).
    assert kasih.free_places == 39 and kasih.accreditation == "B"
    lubuk = Organisation.objects.get(code="LPKS-LUBUKMINTURUN")
    assert lubuk.village_id == LUBUK_MINTURUN and lubuk.home_region_id == "1371"
    alyatama = Organisation.objects.get(code="BA-ALYATAMA")
    assert set(alyatama.coverage.values_list("code", flat=True)) == {"15", "16", "17", "19"}
    # Real organisations without a known address sit on their region's centre.
    assert (alyatama.latitude, alyatama.longitude) == (region("1571").latitude, region("1571").longitude)
    for org in Organisation.objects.exclude(code="KEMENSOS-REHSOS"):
        assert org.home_region_id and org.has_coordinates, org.code


class TestAdmin:
    def test_region_autocomplete_finds_by_name_and_code(self, client_for, superuser):
        client = client_for(superuser)
        url = reverse("admin:autocomplete")
        params = {"app_label": "stakeholders", "model_name": "organisation", "field_name": "village"}
        found = client.get(url, {**params, "term": "Telanaipura"}).json()["results"]
        assert {r["id"] for r in found} == {TELANAIPURA}  # villages only, not the kecamatan
        found = client.get(url, {**params, "term": "13.71.11"}).json()["results"]
        assert LUBUK_MINTURUN in {r["id"] for r in found}

    def test_village_outside_home_region_is_a_form_error_not_a_500(self, client_for, superuser, org):
        response = client_for(superuser).post(
            reverse("admin:stakeholders_organisation_change", args=[org.pk]),
            {
                "name": org.name,
                "kind": org.kind,
                "is_active": "on",
                "home_region": "1571",
                "village": LUBUK_MINTURUN,
            },
        )
        assert response.status_code == 200
        assert "Lubuk Minturun" in response.content.decode()
        org.refresh_from_db()
        assert org.village_id is None

    def test_superuser_sets_coverage_and_services(self, client_for, superuser, org):
        anak = Cluster.objects.get(code="anak")
        response = client_for(superuser).post(
            reverse("admin:stakeholders_organisation_change", args=[org.pk]),
            {
                "name": org.name,
                "kind": org.kind,
                "is_active": "on",
                "home_region": "1571",
                "village": TELANAIPURA,
                "coverage": ["15", "1371"],
                "clusters": [anak.pk],
                "occupancy": 3,  # read-only: counted from open residential cases
                "capacity": 10,
                "accreditation": "A",
                "accreditation_expires": "2028-01-31",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        org.refresh_from_db()
        assert set(org.coverage.values_list("code", flat=True)) == {"15", "1371"}
        assert org.free_places == 10 and org.occupancy == 0 and org.accreditation == "A"


def test_organisations_covering_a_village_by_province_regency_or_district():
    from stakeholders.selectors import organisations_covering

    call_command("load_demo")
    services.organisation_create(
        code="TKSK-TELANAI", name="Unit Telanaipura", kind="other", coverage=[region("157101")]
    )
    services.organisation_create(code="OLD", name="Closed", kind="lksa", coverage=[region("1571")], is_active=False)
    codes = set(organisations_covering(region=region(TELANAIPURA)).values_list("code", flat=True))
    assert codes == {
        "BA-ALYATAMA",  # province 15
        "DINSOS-JAMBI",
        "PKH-JAMBI",
        "LKSA-KASIHBUNDA",  # Kota Jambi
        "LKSA-HARAPANMULIA",
        "TKSK-TELANAI",  # kecamatan Telanaipura
    }
    lksa = organisations_covering(region=region(TELANAIPURA), kinds=["lksa"])
    assert {o.code for o in lksa} == {"LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA"}
    padang = set(organisations_covering(region=region(LUBUK_MINTURUN)).values_list("code", flat=True))
    assert padang == {"BA-RUMBAI", "DINSOS-PADANG", "LPKS-LUBUKMINTURUN"}
