"""The organisation directory: filters, keyset pages, detail page, profile edit and export."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from atensi.core.models import Cluster, ServiceComponent
from atensi.core.spreadsheets import spreadsheet_safe
from stakeholders import directory
from stakeholders.models import Agreement, Organisation, OrganisationKind, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

LIST = "/organisations/"
TELANAIPURA = "1571011004"  # a kelurahan of Kota Jambi
LUBUK_MINTURUN = "1371111002"  # a kelurahan of Kota Padang


def detail_url(org):
    return reverse("stakeholders:organisation_detail", args=[org.pk])


def edit_url(org):
    return reverse("stakeholders:organisation_edit", args=[org.pk])


def listed(response) -> list[str]:
    """Organisation codes in the order the results table shows them."""
    return re.findall(r'<tr data-code="([^"]+)"', response.content.decode())


@pytest.fixture
def client_for(client_for):
    """The shared client_for, reading the pages in English (the tests assert English msgids)."""

    def make(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def viewer(org):
    return member(organisation=org, role=Role.SOCIAL_WORKER, username="pembaca")


@pytest.fixture
def jambi_orgs(db):
    """A small directory across two provinces, with every filter dimension varied."""
    anak = Cluster.objects.get(code="anak")
    lansia = Cluster.objects.get(code="lanjut_usia")
    terapi = ServiceComponent.objects.get(code="terapi")
    vokasional = ServiceComponent.objects.get(code="vokasional")
    orgs = {
        "LKSA-JAMBI": OrganisationFactory(
            code="LKSA-JAMBI",
            name="LKSA Kasih Jambi",
            kind=OrganisationKind.LKSA,
            home_region_id="1571",
            capacity=40,
            occupancy=32,
            accreditation="B",
        ),
        "LKSA-PENUH": OrganisationFactory(
            code="LKSA-PENUH",
            name="LKSA Penuh Muaro Jambi",
            kind=OrganisationKind.LKSA,
            home_region_id="1505",
            capacity=30,
            occupancy=30,
            accreditation="A",
        ),
        "LKSA-PADANG": OrganisationFactory(
            code="LKSA-PADANG", name="LKSA Padang Sejahtera", kind=OrganisationKind.LKSA, home_region_id="1371"
        ),
        "DINSOS-JAMBI": OrganisationFactory(
            code="DINSOS-JAMBI",
            name="Dinas Sosial Provinsi Jambi",
            kind=OrganisationKind.DINSOS_PROVINSI,
            home_region_id="15",
        ),
        "BALAI-RIAU": OrganisationFactory(
            code="BALAI-RIAU",
            name="Balai Anak Rumbai",
            kind=OrganisationKind.BALAI,
            home_region_id="1471",
            capacity=100,
            occupancy=71,
        ),
        "TUTUP": OrganisationFactory(
            code="TUTUP", name="LKSA Tutup Jambi", kind=OrganisationKind.LKSA, home_region_id="1571", is_active=False
        ),
    }
    orgs["LKSA-JAMBI"].clusters.set([anak])
    orgs["LKSA-JAMBI"].components.set([terapi])
    orgs["LKSA-PENUH"].clusters.set([anak, lansia])
    orgs["BALAI-RIAU"].clusters.set([anak])
    orgs["BALAI-RIAU"].components.set([vokasional, terapi])
    orgs["DINSOS-JAMBI"].clusters.set([lansia])
    # Balai Rumbai serves Jambi although it is based in Riau.
    orgs["BALAI-RIAU"].coverage.set([Region.objects.get(code="15")])
    return orgs


# --- Filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["BALAI-RIAU", "DINSOS-JAMBI", "LKSA-JAMBI", "LKSA-PADANG", "LKSA-PENUH"]),
        ({"kind": ["lksa"]}, ["LKSA-JAMBI", "LKSA-PADANG", "LKSA-PENUH"]),
        ({"kind": ["lksa", "balai"]}, ["BALAI-RIAU", "LKSA-JAMBI", "LKSA-PADANG", "LKSA-PENUH"]),
        ({"province": "15"}, ["DINSOS-JAMBI", "LKSA-JAMBI", "LKSA-PENUH"]),
        ({"province": "15", "serves": "on"}, ["BALAI-RIAU", "DINSOS-JAMBI", "LKSA-JAMBI", "LKSA-PENUH"]),
        ({"province": "15", "kabkota": "1571"}, ["LKSA-JAMBI"]),
        # A province-wide coverage reaches every kab/kota in it.
        ({"province": "15", "kabkota": "1571", "serves": "on"}, ["BALAI-RIAU", "LKSA-JAMBI"]),
        ({"kabkota": "1505"}, ["LKSA-PENUH"]),
        ({"cluster": "lanjut_usia"}, ["DINSOS-JAMBI", "LKSA-PENUH"]),
        ({"component": "terapi"}, ["BALAI-RIAU", "LKSA-JAMBI"]),
        ({"accreditation": "A"}, ["LKSA-PENUH"]),
        ({"accreditation": "none"}, ["BALAI-RIAU", "DINSOS-JAMBI", "LKSA-PADANG"]),
        ({"free": "on"}, ["BALAI-RIAU", "LKSA-JAMBI"]),
        ({"kind": ["lksa"], "province": "15", "free": "on"}, ["LKSA-JAMBI"]),
    ],
)
def test_each_filter_narrows_the_directory(client_for, viewer, jambi_orgs, params, expected):
    response = client_for(viewer).get(LIST, params)
    assert response.status_code == 200
    assert [c for c in listed(response) if c in jambi_orgs] == expected


def test_serving_counts_coverage_of_a_district_inside_the_area(client_for, viewer, jambi_orgs):
    OrganisationFactory(code="PUSKESMAS", name="Puskesmas Padang", kind=OrganisationKind.HEALTH, home_region_id="1371")
    Organisation.objects.get(code="PUSKESMAS").coverage.set([Region.objects.get(code="157101")])
    client = client_for(viewer)
    assert "PUSKESMAS" in listed(client.get(LIST, {"kabkota": "1571", "serves": "on"}))
    assert "PUSKESMAS" in listed(client.get(LIST, {"province": "15", "serves": "on"}))
    assert "PUSKESMAS" not in listed(client.get(LIST, {"kabkota": "1505", "serves": "on"}))
    assert "PUSKESMAS" not in listed(client.get(LIST, {"kabkota": "1571"}))


def test_inactive_organisations_are_not_listed(client_for, viewer, jambi_orgs):
    assert "TUTUP" not in listed(client_for(viewer).get(LIST, {"q": "tutup"}))


def test_name_search_is_case_insensitive_and_matches_code_prefixes(client_for, viewer, jambi_orgs):
    client = client_for(viewer)
    assert listed(client.get(LIST, {"q": "kasih"})) == ["LKSA-JAMBI"]
    assert listed(client.get(LIST, {"q": "  PADANG "})) == ["LKSA-PADANG"]
    assert listed(client.get(LIST, {"q": "dinsos-ja"})) == ["DINSOS-JAMBI"]
    # Wildcards typed by the reader are literal characters.
    assert listed(client.get(LIST, {"q": "%"})) == []


def test_name_search_can_use_the_trigram_and_code_indexes(jambi_orgs):
    qs = Organisation.objects.filter(directory.name_search("kasih")).order_by()
    with connection.cursor() as cursor:
        # A handful of rows is cheaper to scan; ask what the plan is when it is not.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "organisation_name_trgm" in plan
    assert "code" in plan and "_like" in plan


def test_free_places_are_annotated(jambi_orgs):
    rows = {o.code: o for o in directory.organisation_directory(filters=directory.DirectoryFilters())}
    assert rows["LKSA-JAMBI"].free_place_count == 8
    assert rows["LKSA-PENUH"].free_place_count == 0
    assert rows["LKSA-PADANG"].free_place_count is None


@pytest.mark.parametrize(
    "params",
    [
        {"kind": ["lksa", "bogus"]},
        {"province": "99"},
        {"province": "x' OR 1=1"},
        {"kabkota": "9999"},
        {"cluster": "nope"},
        {"component": "nope"},
        {"accreditation": "Z"},
        {"q": "x" * 500},
    ],
)
def test_unknown_filter_values_are_ignored_with_a_message(client_for, viewer, jambi_orgs, params):
    response = client_for(viewer).get(LIST, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert "alert-warning" in body and "ignored" in body
    assert len(listed(response)) >= 1


def test_unknown_kind_keeps_the_known_kinds(client_for, viewer, jambi_orgs):
    response = client_for(viewer).get(LIST, {"kind": ["lksa", "bogus"]})
    assert "LKSA-PADANG" in listed(response)
    assert "BALAI-RIAU" not in listed(response)


def test_a_kabkota_of_another_province_is_dropped_quietly(client_for, viewer, jambi_orgs):
    # The reader switched from Jambi to Sumatera Barat; Kota Jambi came along in the form.
    response = client_for(viewer).get(LIST, {"province": "13", "kabkota": "1571"})
    assert listed(response) == ["LKSA-PADANG"]
    assert "alert-warning" not in response.content.decode()


def test_the_kabkota_choices_follow_the_province(client_for, viewer, db):
    body = client_for(viewer).get(LIST, {"province": "15"}).content.decode()
    assert "Kota Jambi" in body
    assert "Kota Padang" not in body


def test_htmx_request_returns_the_results_region(client_for, viewer, jambi_orgs):
    response = client_for(viewer).get(LIST, {"kind": "lksa"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="directory-results"' in response.content.decode()
    assert 'id="kabkota-field"' in response.content.decode()


def test_post_is_refused(client_for, viewer):
    assert client_for(viewer).post(LIST).status_code == 405


def test_anonymous_users_are_sent_to_log_in(client, jambi_orgs):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Keyset pages -------------------------------------------------------------------


def test_keyset_pages_cover_every_organisation_once_in_order(client_for, viewer):
    # Equal names force the id tie-breaker across a page boundary.
    for i in range(30):
        OrganisationFactory(code=f"DIR-{i:03d}", name=f"Lembaga {i // 3:02d}")
    client = client_for(viewer)
    seen: list[str] = []
    params: dict[str, str] = {"q": "lembaga"}
    pages = 0
    while True:
        response = client.get(LIST, params)
        rows = listed(response)
        assert len(rows) <= directory.PAGE_SIZE
        seen.extend(rows)
        pages += 1
        match = re.search(r'data-testid="next-page" href="\?([^"]+)"', response.content.decode())
        if not match:
            break
        params = {k: v[0] for k, v in parse_qs(html.unescape(match.group(1))).items()}
    assert pages == 2
    assert len(seen) == 30
    assert len(set(seen)) == 30
    expected = list(
        Organisation.objects.filter(code__startswith="DIR-").order_by("name", "pk").values_list("code", flat=True)
    )
    assert seen == expected


def test_a_row_added_before_the_cursor_does_not_shift_the_next_page(viewer):
    for i in range(30):
        OrganisationFactory(code=f"DIR-{i:03d}", name=f"Lembaga {i:02d}")
    qs = directory.organisation_directory(filters=directory.DirectoryFilters(q="lembaga"))
    first = directory.directory_page(qs, cursor=None)
    OrganisationFactory(code="DIR-NEW", name="Lembaga 00 baru")  # sorts onto page one
    second = directory.directory_page(qs, cursor=first.next_cursor)
    assert [o.code for o in second.organisations] == [f"DIR-{i:03d}" for i in range(25, 30)]
    assert second.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "", "a:b:c", "W10:1t0Zk:abc", "%00"])
def test_a_bad_cursor_shows_the_first_page(client_for, viewer, jambi_orgs, cursor):
    response = client_for(viewer).get(LIST, {"cursor": cursor})
    assert response.status_code == 200
    assert listed(response)[0] == "BALAI-RIAU"


def test_a_forged_cursor_shape_is_the_first_page():
    from django.core import signing

    for value in (["x"], "text", ["a", "1"], ["a", True], {"a": 1}):
        forged = signing.dumps(value, salt="stakeholders.directory.cursor", compress=True)
        assert directory.decode_cursor(forged) is None


def test_directory_list_queries_do_not_grow_with_rows(client_for, viewer, django_assert_max_num_queries):
    clusters = list(Cluster.objects.all()[:3])
    components = list(ServiceComponent.objects.all()[:3])
    for i in range(30):
        org = OrganisationFactory(code=f"Q-{i:03d}", name=f"Organisasi {i:02d}", home_region_id="1571", capacity=10)
        org.clusters.set(clusters)
        org.components.set(components)
    client = client_for(viewer)
    client.get(LIST)  # warm the session
    # Session, user, actor; provinces, regencies, clusters, components for the form;
    # the page, its clusters and components; the count.
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"province": "15", "kabkota": "1571", "cluster": clusters[0].code})
    assert len(listed(response)) == 25


# --- Detail page --------------------------------------------------------------------


def test_detail_shows_the_profile_staff_without_emails_and_the_pin(client_for, viewer, org_admin, org, settings):
    settings.ATENSI_MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    village = Region.objects.get(code=TELANAIPURA)
    org.village = village
    org.home_region_id = "1571"
    org.latitude, org.longitude = village.latitude, village.longitude
    org.phone, org.whatsapp, org.email = "0741 123456", "0812-3456-7890", "kantor@example.test"
    org.accreditation, org.accreditation_expires = "B", datetime.date(2020, 1, 1)
    org.registration_number = "REG/123"
    org.save()
    org.coverage.set([Region.objects.get(code="1571")])
    org.clusters.set([Cluster.objects.get(code="anak")])
    response = client_for(viewer).get(detail_url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Telanaipura" in body and "Kota Jambi" in body and "Jambi" in body
    assert 'href="tel:0741123456"' in body
    assert 'href="https://wa.me/6281234567890"' in body
    assert "mailto:kantor@example.test" in body
    assert "REG/123" in body
    assert "expired" in body
    assert 'data-testid="osm-link"' in body and f"mlat={village.latitude:.6f}" in body
    assert "leaflet/leaflet.js" in body
    assert 'data-tile-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in body
    # Staff: names and roles, never their email addresses.
    assert org_admin.get_full_name() in body
    assert "Organisation administrator" in body
    assert org_admin.email not in body
    assert viewer.email not in body
    # Not an admin here: no edit button.
    assert edit_url(org) not in body


def test_without_a_tile_server_the_csp_allows_no_other_images(client_for, viewer, org):
    # ATENSI_MAP_TILE_URL is empty by default: the maps draw on a plain background.
    response = client_for(viewer).get(detail_url(org))
    assert "img-src 'self' data:;" in response["Content-Security-Policy"] + ";"


def test_detail_without_coordinates_has_no_map(client_for, viewer, org):
    body = client_for(viewer).get(detail_url(org)).content.decode()
    assert "data-organisation-map" not in body
    assert "leaflet.js" not in body


def test_org_admin_sees_edit_and_staff_links(client_for, org_admin, org):
    body = client_for(org_admin).get(detail_url(org)).content.decode()
    assert edit_url(org) in body
    assert reverse("stakeholders:staff_list", args=[org.pk]) in body


def _agreement(*parties, number="PKS/01", document=True):
    agreement = Agreement.objects.create(
        number=number,
        title="Rujukan anak",
        signed_on=datetime.date(2025, 1, 1),
        valid_from=datetime.date(2025, 1, 1),
        valid_until=datetime.date(2099, 12, 31),
    )
    agreement.parties.set(parties)
    if document:
        agreement.document.save("pks.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return agreement


def test_agreement_document_link_only_for_parties(client_for, org, other_org, viewer, outsider):
    third = OrganisationFactory(code="PIHAK-3", name="Pihak Ketiga")
    agreement = _agreement(org, third)
    link = reverse("stakeholders:agreement_document", args=[agreement.pk])
    # A party sees the link; the other party is listed.
    body = client_for(viewer).get(detail_url(org)).content.decode()
    assert "PKS/01" in body and link in body and "Pihak Ketiga" in body
    assert "Active" in body
    # Not a party: sees that the agreement exists, not the link.
    body = client_for(outsider).get(detail_url(org)).content.decode()
    assert "PKS/01" in body and link not in body


def test_detail_query_count_is_bounded(client_for, viewer, org, other_org, django_assert_max_num_queries):
    for i in range(5):
        member(organisation=org, role=Role.SOCIAL_WORKER, username=f"staf{i}")
        _agreement(org, other_org, number=f"PKS/{i}", document=False)
    org.clusters.set(Cluster.objects.all())
    org.components.set(ServiceComponent.objects.all())
    org.coverage.set(Region.objects.filter(code__in=["15", "1571", "1505"]))
    client = client_for(viewer)
    client.get(detail_url(org))
    # Session, user, actor; the organisation, clusters, components, coverage; staff;
    # agreements and their parties.
    with django_assert_max_num_queries(11):
        response = client.get(detail_url(org))
    assert response.status_code == 200


def test_inactive_organisation_is_404_for_outsiders_but_not_its_members(client_for, org, viewer, outsider, superuser):
    Organisation.objects.filter(pk=org.pk).update(is_active=False)
    assert client_for(outsider).get(detail_url(org)).status_code == 404
    assert client_for(viewer).get(detail_url(org)).status_code == 200
    assert client_for(superuser).get(detail_url(org)).status_code == 200


def test_unknown_organisation_is_404(client_for, viewer):
    assert client_for(viewer).get("/organisations/999999/").status_code == 404


def test_detail_refuses_post(client_for, viewer, org):
    assert client_for(viewer).post(detail_url(org)).status_code == 405


# --- Profile edit -------------------------------------------------------------------


def profile_data(org, **overrides):
    data = {
        "name": org.name,
        "address": org.address,
        "village": org.village_id or "",
        "latitude": "" if org.latitude is None else str(org.latitude),
        "longitude": "" if org.longitude is None else str(org.longitude),
        "phone": org.phone,
        "whatsapp": org.whatsapp,
        "email": org.email,
        "clusters": [c.pk for c in org.clusters.all()],
        "components": [c.pk for c in org.components.all()],
        "capacity": "" if org.capacity is None else str(org.capacity),
        "registration_number": org.registration_number,
        "notes": org.notes,
        "updated_at": org.updated_at.isoformat(),
    }
    data.update(overrides)
    return data


def test_org_admin_edits_the_profile(client_for, org_admin, org):
    client = client_for(org_admin)
    assert client.get(edit_url(org)).status_code == 200
    anak = Cluster.objects.get(code="anak")
    terapi = ServiceComponent.objects.get(code="terapi")
    response = client.post(
        edit_url(org),
        profile_data(
            org,
            name="Balai Anak Uji Baru",
            address="Jl. Sudirman 1",
            phone="0741 765432",
            clusters=[anak.pk],
            components=[terapi.pk],
            capacity="50",
            occupancy="20",  # not a field any more: counted from open residential cases
            latitude="-1.6",
            longitude="103.6",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(org)
    org.refresh_from_db()
    assert org.name == "Balai Anak Uji Baru"
    assert org.address == "Jl. Sudirman 1"
    assert org.phone == "0741 765432"
    assert (org.capacity, org.occupancy) == (50, 0)
    assert (org.latitude, org.longitude) == (-1.6, 103.6)
    assert list(org.clusters.all()) == [anak]
    assert list(org.components.all()) == [terapi]
    follow = client.get(response["Location"])
    assert "Balai Anak Uji Baru" in follow.content.decode()


def test_outsider_and_colleague_get_404_on_edit(client_for, outsider, colleague, org):
    before = org.name
    for user in (outsider, colleague):
        client = client_for(user)
        assert client.get(edit_url(org)).status_code == 404
        assert client.post(edit_url(org), profile_data(org, name="Diambil alih")).status_code == 404
    org.refresh_from_db()
    assert org.name == before


def test_org_admin_cannot_edit_another_organisation(client_for, org_admin, other_org):
    assert client_for(org_admin).get(edit_url(other_org)).status_code == 404


def test_coordinates_outside_indonesia_are_refused_with_a_message(client_for, org_admin, org):
    # Swapped latitude and longitude: the usual typo.
    response = client_for(org_admin).post(
        edit_url(org), profile_data(org, name="Berubah", latitude="103.6", longitude="-1.6")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This point is outside Indonesia" in body
    org.refresh_from_db()
    assert org.name == "Balai Anak Uji"
    assert org.latitude is None


def test_half_a_pin_is_refused(client_for, org_admin, org):
    response = client_for(org_admin).post(edit_url(org), profile_data(org, latitude="-1.6", longitude=""))
    assert response.status_code == 200
    assert "Give both latitude and longitude" in response.content.decode()
    org.refresh_from_db()
    assert org.latitude is None


def test_a_bad_phone_number_is_refused(client_for, org_admin, org):
    response = client_for(org_admin).post(edit_url(org), profile_data(org, phone="12345", name="Berubah"))
    assert response.status_code == 200
    assert "Indonesian phone number" in response.content.decode()
    org.refresh_from_db()
    assert org.phone == "" and org.name == "Balai Anak Uji"


def test_an_unknown_village_is_refused(client_for, org_admin, org):
    response = client_for(org_admin).post(edit_url(org), profile_data(org, village="9999999999"))
    assert response.status_code == 200
    assert "9999999999" in response.content.decode()
    org.refresh_from_db()
    assert org.village_id is None


def test_a_stale_form_is_refused(client_for, org_admin, org):
    client = client_for(org_admin)
    loaded = profile_data(org, name="Perubahan saya")
    # A colleague saves first.
    from stakeholders import services

    services.organisation_update(organisation=org, by=org_admin, address="Jl. Kolega 2")
    response = client.post(edit_url(org), loaded)
    assert response.status_code == 200
    assert "Someone else saved changes" in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Balai Anak Uji"
    assert org.address == "Jl. Kolega 2"


def test_a_missing_timestamp_is_refused(client_for, org_admin, org):
    data = profile_data(org, name="Berubah")
    del data["updated_at"]
    response = client_for(org_admin).post(edit_url(org), data)
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.name == "Balai Anak Uji"


def test_a_village_places_the_pin_when_coordinates_are_blank(client_for, org_admin, org):
    village = Region.objects.get(code=TELANAIPURA)
    response = client_for(org_admin).post(
        edit_url(org), profile_data(org, village="15.71.01.1004", latitude="", longitude="")
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.village_id == TELANAIPURA
    assert (org.latitude, org.longitude) == (village.latitude, village.longitude)
    assert org.home_region_id == "1571"


def test_a_village_outside_the_home_region_is_shown_at_the_field(client_for, org_admin, org):
    Organisation.objects.filter(pk=org.pk).update(home_region_id="1571")
    org.refresh_from_db()
    response = client_for(org_admin).post(edit_url(org), profile_data(org, village=LUBUK_MINTURUN))
    assert response.status_code == 200
    assert "is not in Kota Jambi" in response.content.decode()
    org.refresh_from_db()
    assert org.village_id is None


def test_saving_nothing_changes_nothing(client_for, org_admin, org):
    before = org.updated_at
    response = client_for(org_admin).post(edit_url(org), profile_data(org))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.updated_at == before


def test_edit_refuses_other_methods(client_for, org_admin, org):
    assert client_for(org_admin).put(edit_url(org)).status_code == 405


# --- Export -------------------------------------------------------------------------


def test_csv_export_has_the_filtered_rows_a_bom_and_escaped_formulas(client_for, viewer, jambi_orgs):
    village = Region.objects.get(code=TELANAIPURA)
    org = jambi_orgs["LKSA-JAMBI"]
    Organisation.objects.filter(pk=org.pk).update(
        address='=HYPERLINK("http://evil")',
        registration_number="@SUM(1)",
        phone="+62 741 123456",
        village=village,
        latitude=-1.6,
        longitude=103.6,
        accreditation_expires=datetime.date(2028, 12, 31),
    )
    response = client_for(viewer).get(
        reverse("stakeholders:organisation_export_csv"), {"kind": "lksa", "province": "15"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert len(rows[0]) == 19
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"LKSA-JAMBI", "LKSA-PENUH"}
    row = body["LKSA-JAMBI"]
    assert row[1] == "LKSA Kasih Jambi"
    assert row[3] == "Jambi" and row[4] == "Kota Jambi"
    assert row[5] == "15.71.01.1004"
    assert row[6] == '\'=HYPERLINK("http://evil")'
    assert row[7] == "-1.6" and row[8] == "103.6"  # numbers are not escaped
    assert row[9] == "'+62 741 123456"
    assert row[12] == Cluster.objects.get(code="anak").name
    assert row[14:18] == ["40", "32", "B", "2028-12-31"]
    assert row[18] == "'@SUM(1)"


def test_xlsx_export_has_the_filtered_rows_and_escaped_formulas(client_for, viewer, jambi_orgs):
    Organisation.objects.filter(code="LKSA-JAMBI").update(notes="x", address="-1+1", name="=1+1 LKSA")
    response = client_for(viewer).get(reverse("stakeholders:organisation_export_xlsx"), {"kind": "lksa"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 19
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {"LKSA-JAMBI", "LKSA-PADANG", "LKSA-PENUH"}
    assert by_code["LKSA-JAMBI"][1] == "'=1+1 LKSA"
    assert by_code["LKSA-JAMBI"][6] == "'-1+1"
    assert by_code["LKSA-JAMBI"][14] == 40  # numbers stay numbers
    assert by_code["LKSA-PENUH"][16] == "A"


def test_export_ignores_bad_filters_and_inactive_organisations(client_for, viewer, jambi_orgs):
    response = client_for(viewer).get(reverse("stakeholders:organisation_export_csv"), {"province": "nope"})
    content = b"".join(response.streaming_content).decode("utf-8")
    codes = {r[0] for r in csv.reader(io.StringIO(content.lstrip("\ufeff")))}
    assert "LKSA-PADANG" in codes and "TUTUP" not in codes


def test_exports_refuse_post(client_for, viewer):
    client = client_for(viewer)
    assert client.post(reverse("stakeholders:organisation_export_csv")).status_code == 405
    assert client.post(reverse("stakeholders:organisation_export_xlsx")).status_code == 405


def test_spreadsheet_safe_leaves_numbers_and_plain_text_alone():
    assert spreadsheet_safe(-1.5) == -1.5
    assert spreadsheet_safe("Balai") == "Balai"
    for risky in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert spreadsheet_safe(risky) == "'" + risky


def test_the_tile_server_origin_feeds_the_csp():
    from django.core.exceptions import ImproperlyConfigured

    from atensi.settings.base import tile_origin

    assert tile_origin("") is None  # no tiles, nothing more allowed
    assert tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    assert tile_origin("https://{s}.tiles.example.id/{z}/{x}/{y}.png") == "https://*.tiles.example.id"
    for bad in ("tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tiles.example.id/map.png", "javascript:alert(1)"):
        with pytest.raises(ImproperlyConfigured):
            tile_origin(bad)


def test_admins_find_import_and_agreement_actions_on_their_page(client_for, org, org_admin, colleague):
    url = reverse("stakeholders:organisation_detail", args=[org.pk])
    import_url = reverse("stakeholders:import_new", args=[org.pk])
    agreement_url = reverse("stakeholders:agreement_create", args=[org.pk])
    admin_html = client_for(org_admin).get(url).content.decode()
    assert import_url in admin_html and agreement_url in admin_html
    colleague_html = client_for(colleague).get(url).content.decode()
    assert import_url not in colleague_html and agreement_url not in colleague_html
