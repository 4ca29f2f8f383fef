"""The workforce registry: region semantics, filters, NIK masking, keyset pages, export."""

from __future__ import annotations

import csv
import datetime
import io
import itertools

import pytest
import time_machine
from django.template.defaultfilters import urlencode
from django.urls import reverse

from atensi.core.models import AccessLog
from stakeholders.models import Region, WorkforceKind, WorkforceMember
from stakeholders.tests.factories import UserFactory
from stakeholders.workforce import Cursor, WorkforceFilters, workforce_directory, workforce_filtered

pytestmark = pytest.mark.django_db

LIST = reverse("stakeholders:workforce_list")
EXPORT = reverse("stakeholders:workforce_export")
EXPORT_XLSX = reverse("stakeholders:workforce_export_xlsx")
TODAY = datetime.date(2026, 3, 2)
_seq = itertools.count(1)


def nik(n: int | None = None) -> str:
    """A valid NIK: issued in Telanaipura (157101), born 1 January 1990, sequence n."""
    return f"157101010190{(n if n is not None else next(_seq)):04d}"


def worker(organisation, name: str, *, regions=(), kind=WorkforceKind.TKSK, **fields) -> WorkforceMember:
    fields.setdefault("nik", nik())
    w = WorkforceMember.objects.create(organisation=organisation, name=name, kind=kind, **fields)
    w.regions.set(Region.objects.filter(code__in=regions))
    return w


def names(page_or_qs) -> list[str]:
    rows = [row.worker for row in page_or_qs.rows] if hasattr(page_or_qs, "rows") else page_or_qs
    return [w.name for w in rows]


def listed(response) -> list[str]:
    assert response.status_code == 200
    page = response.context["page"]
    return names(page) if page is not None else []


@pytest.fixture
def regional(org, other_org):
    """Workers spread over Jambi (15) and Sumatera Barat (13)."""
    return {
        "kecamatan": worker(org, "Ani Kecamatan", regions=["157101"]),  # Telanaipura district
        "village": worker(org, "Budi Kelurahan", regions=["1571011004"]),  # a kelurahan in it
        "city": worker(other_org, "Citra Kota", regions=["1571", "157101"]),  # Kota Jambi, twice over
        "province": worker(other_org, "Dedi Provinsi", regions=["15"], kind=WorkforceKind.PSM),
        "kerinci": worker(org, "Eka Kerinci", regions=["1501"]),  # another regency in Jambi
        "padang": worker(other_org, "Fajar Padang", regions=["1371"]),  # Kota Padang, Sumatera Barat
        "nowhere": worker(org, "Gita Tanpa Wilayah"),
    }


# --- Region semantics -------------------------------------------------------------------


def test_filtering_a_regency_finds_workers_inside_it_and_those_covering_it(owner, regional):
    region = Region.objects.get(code="1571")
    found = names(workforce_filtered(user=owner, filters=WorkforceFilters(region=region)))
    assert found == ["Ani Kecamatan", "Budi Kelurahan", "Citra Kota", "Dedi Provinsi"]


def test_filtering_a_province_finds_everything_inside(owner, regional):
    region = Region.objects.get(code="15")
    found = names(workforce_filtered(user=owner, filters=WorkforceFilters(region=region)))
    assert found == ["Ani Kecamatan", "Budi Kelurahan", "Citra Kota", "Dedi Provinsi", "Eka Kerinci"]


def test_filtering_a_district_finds_its_workers_and_those_of_the_regency_and_province(owner, regional):
    region = Region.objects.get(code="157101")
    found = names(workforce_filtered(user=owner, filters=WorkforceFilters(region=region)))
    assert found == ["Ani Kecamatan", "Budi Kelurahan", "Citra Kota", "Dedi Provinsi"]


def test_filtering_a_neighbouring_district_leaves_out_the_other_districts_workers(owner, regional):
    neighbour = Region.objects.filter(parent_id="1571").exclude(code="157101").first()
    found = names(workforce_filtered(user=owner, filters=WorkforceFilters(region=neighbour)))
    assert found == ["Citra Kota", "Dedi Provinsi"]


def test_region_filter_through_the_page_takes_dotted_codes(client_for, owner, regional):
    client = client_for(owner)
    assert listed(client.get(LIST, {"region": "15.71"})) == [
        "Ani Kecamatan",
        "Budi Kelurahan",
        "Citra Kota",
        "Dedi Provinsi",
    ]
    assert listed(client.get(LIST, {"region": "13"})) == ["Fajar Padang"]


def test_unknown_or_village_region_code_is_explained_not_a_500(client_for, owner, regional):
    client = client_for(owner)
    for bad in ("9999", "1571011004", "abc"):
        response = client.get(LIST, {"region": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert response.context["page"] is None
        assert "region" in response.context["form"].errors
        assert 'data-testid="workforce-invalid"' in response.content.decode()


# --- Other filters -----------------------------------------------------------------------


def test_kinds_filter_takes_several_kinds(client_for, owner, org):
    worker(org, "Psm Satu", kind=WorkforceKind.PSM)
    worker(org, "Tksk Satu", kind=WorkforceKind.TKSK)
    worker(org, "Pkh Satu", kind=WorkforceKind.PENDAMPING_PKH)
    client = client_for(owner)
    assert listed(client.get(LIST, {"kind": ["psm", "pendamping_pkh"]})) == ["Pkh Satu", "Psm Satu"]
    assert listed(client.get(LIST, {"kind": "tksk"})) == ["Tksk Satu"]
    assert listed(client.get(LIST)) == ["Pkh Satu", "Psm Satu", "Tksk Satu"]
    response = client.get(LIST, {"kind": "raja"})
    assert response.context["page"] is None and "kind" in response.context["form"].errors


def test_only_active_workers_unless_asked(client_for, owner, org):
    worker(org, "Aktif")
    worker(org, "Berhenti", is_active=False)
    client = client_for(owner)
    assert listed(client.get(LIST)) == ["Aktif"]
    assert listed(client.get(LIST, {"active": "inactive"})) == ["Berhenti"]
    assert listed(client.get(LIST, {"active": "all"})) == ["Aktif", "Berhenti"]


def test_organisation_and_name_filters(client_for, owner, org, other_org):
    worker(org, "Siti Rahma")
    worker(other_org, "Siti Nurhaliza")
    worker(other_org, "Rudi Hartono")
    client = client_for(owner)
    assert listed(client.get(LIST, {"organisation": other_org.pk})) == ["Rudi Hartono", "Siti Nurhaliza"]
    assert listed(client.get(LIST, {"q": "siti"})) == ["Siti Nurhaliza", "Siti Rahma"]
    assert listed(client.get(LIST, {"q": "siti", "organisation": org.pk})) == ["Siti Rahma"]


@time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_certificate_filter_and_badges(client_for, owner, org):
    peksos = WorkforceKind.PEKERJA_SOSIAL
    d = datetime.timedelta
    worker(org, "Lewat", kind=peksos, certificate_number="PS-1", certificate_expires=TODAY - d(1))
    worker(org, "Hari Ini", kind=peksos, certificate_number="PS-2", certificate_expires=TODAY)
    worker(
        org, "Enam Puluh", kind=peksos, certificate_number="PS-3", certificate_expires=TODAY + datetime.timedelta(60)
    )
    worker(
        org, "Masih Lama", kind=peksos, certificate_number="PS-4", certificate_expires=TODAY + datetime.timedelta(61)
    )
    worker(org, "Tanpa Sertifikat", kind=WorkforceKind.PSM)
    client = client_for(owner)
    assert listed(client.get(LIST, {"certificate": "expired"})) == ["Lewat"]
    assert listed(client.get(LIST, {"certificate": "expiring"})) == ["Enam Puluh", "Hari Ini"]
    response = client.get(LIST, {"kind": peksos})
    states = {row.worker.name: row.worker.certificate_state for row in response.context["page"].rows}
    assert states == {"Lewat": "expired", "Hari Ini": "expiring", "Enam Puluh": "expiring", "Masih Lama": ""}
    html = response.content.decode()
    assert html.count('data-testid="certificate-badge" data-state="expired"') == 1
    assert html.count('data-testid="certificate-badge" data-state="expiring"') == 2
    assert "PS-4" in html


# --- Who sees what -------------------------------------------------------------------------


def test_every_member_sees_the_registry_with_phone_links(client_for, owner, outsider, org):
    worker(org, "Ani", phone="0812 3456 7890")
    for user in (owner, outsider):
        response = client_for(user).get(LIST)
        assert listed(response) == ["Ani"]
        assert 'href="tel:081234567890"' in response.content.decode()


def test_user_without_a_role_gets_404_and_anonymous_goes_to_login(client, client_for, org):
    worker(org, "Ani")
    loner = UserFactory(username="loner")
    assert client_for(loner).get(LIST).status_code == 404
    assert client_for(loner).get(EXPORT).status_code == 404
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_is_get_only(client_for, owner):
    assert client_for(owner).post(LIST).status_code == 405
    assert client_for(owner).post(EXPORT).status_code == 405


def test_nik_is_full_only_for_admins_of_the_workers_organisation(
    client_for, owner, org_admin, outsider, superuser, org, other_org
):
    ours = worker(org, "Ani", nik=nik(1))
    theirs = worker(other_org, "Budi", nik=nik(2))

    def shown(user) -> dict[str, str]:
        response = client_for(user).get(LIST)
        return {row.worker.name: row.shown_nik for row in response.context["page"].rows}

    assert shown(owner) == {"Ani": ours.masked_nik, "Budi": theirs.masked_nik}
    assert shown(org_admin) == {"Ani": ours.nik, "Budi": theirs.masked_nik}
    assert shown(outsider) == {"Ani": ours.masked_nik, "Budi": theirs.nik}
    assert shown(superuser) == {"Ani": ours.nik, "Budi": theirs.nik}
    # The full NIK is not in the page at all for someone who may not see it.
    html = client_for(owner).get(LIST).content.decode()
    assert ours.nik not in html and theirs.nik not in html
    assert "157101******0001" in html


# --- Keyset pages --------------------------------------------------------------------------


def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(owner, org):
    # Equal names: the id breaks the tie, so no worker is skipped at a page edge.
    for i in range(7):
        worker(org, "Sama" if i % 2 else f"Nama {i}")
    everyone = names(WorkforceMember.objects.order_by("name", "id"))
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        page = workforce_directory(user=owner, filters=WorkforceFilters(), after=cursor, page_size=3)
        pages.append(page)
        seen += names(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == everyone
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    assert pages[0].prev_cursor is None and pages[-1].next_cursor is None
    back = workforce_directory(user=owner, filters=WorkforceFilters(), before=pages[2].prev_cursor, page_size=3)
    assert names(back) == names(pages[1]) and back.next_cursor and back.prev_cursor
    first = workforce_directory(user=owner, filters=WorkforceFilters(), before=pages[1].prev_cursor, page_size=3)
    assert names(first) == names(pages[0]) and first.prev_cursor is None


def test_a_malformed_cursor_starts_from_the_first_page(client_for, owner, org):
    worker(org, "Ani")
    for token in ("%%%", "bm90IGpzb24", Cursor("x", 1).encode()[:-2], "WyJ4IiwgInkiXQ"):
        response = client_for(owner).get(LIST, {"after": token})
        assert listed(response) == ["Ani"]


def test_the_page_links_carry_the_filter(client_for, owner, org):
    for i in range(55):
        worker(org, f"Pekerja {i:02d}", kind=WorkforceKind.PSM)
    worker(org, "Zulkifli", kind=WorkforceKind.TKSK)
    client = client_for(owner)
    first = client.get(LIST, {"kind": "psm"})
    assert len(listed(first)) == 50
    nxt = first.context["page"].next_cursor
    assert f"kind=psm&amp;after={urlencode(nxt)}" in first.content.decode()
    second = client.get(LIST, {"kind": "psm", "after": nxt})
    assert listed(second) == [f"Pekerja {i}" for i in range(50, 55)]
    assert second.context["page"].next_cursor is None


def test_list_query_count(client_for, owner, org, other_org, django_assert_max_num_queries):
    regions = ["15", "1571", "157101", "1371"]
    for i in range(60):
        worker(org if i % 2 else other_org, f"Pekerja {i:02d}", regions=regions[: i % 4 + 1])
    client = client_for(owner)
    # Session, user, roles, the page, its regions, the organisation choices, and the
    # region picker's own few; none of them per row.
    with django_assert_max_num_queries(10):
        response = client.get(LIST, {"region": "1571", "kind": "tksk", "q": "pekerja"})
    assert len(listed(response)) == 50


# --- Export ------------------------------------------------------------------------------


def exported(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.streaming  # streamed in chunks at any size (atensi.core.exports)
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_masks_nik_except_for_the_exporters_own_organisation_and_logs_each_row(
    client_for, org_admin, org, other_org
):
    ours = worker(org, "Ani", nik=nik(1), regions=["1571", "157101"], phone="+62 812 3456 7890")
    theirs = worker(other_org, "Budi", nik=nik(2))
    worker(org, "Berhenti", is_active=False)
    rows = exported(client_for(org_admin).get(EXPORT))
    assert [r["name"] for r in rows] == ["Ani", "Budi"]
    assert rows[0]["nik"] == ours.nik
    assert rows[1]["nik"] == theirs.masked_nik
    assert rows[0]["regions_served"] == "Kota Jambi; Telanaipura"
    assert rows[0]["organisation"] == org.name
    assert rows[0]["phone"] == "+62 812 3456 7890"  # a phone number is not a formula
    logged = AccessLog.objects.filter(user=org_admin, action="export", target_type="stakeholders.workforcemember")
    assert sorted(logged.values_list("target_id", flat=True)) == sorted([str(ours.pk), str(theirs.pk)])


def test_export_follows_the_filter_and_masks_for_a_social_worker(client_for, owner, org, other_org):
    ours = worker(org, "Ani", kind=WorkforceKind.PSM)
    worker(other_org, "Budi", kind=WorkforceKind.TKSK)
    rows = exported(client_for(owner).get(EXPORT, {"kind": "psm"}))
    assert [(r["name"], r["nik"]) for r in rows] == [("Ani", ours.masked_nik)]
    assert AccessLog.objects.filter(user=owner, action="export").count() == 1


def test_export_neutralises_spreadsheet_formulas(client_for, owner, org):
    worker(org, '=HYPERLINK("http://x")')
    rows = exported(client_for(owner).get(EXPORT))
    assert rows[0]["name"].startswith("'=")


def test_the_excel_export_has_the_same_rows_masked_and_logged(client_for, client, org_admin, org, other_org):
    import openpyxl

    from atensi.core.spreadsheets import XLSX_CONTENT_TYPE

    ours = worker(org, "Ani", nik=nik(1), kind=WorkforceKind.PSM)
    theirs = worker(other_org, "Budi", nik=nik(2), kind=WorkforceKind.PSM)
    worker(org, "=Formula", kind=WorkforceKind.TKSK)
    response = client_for(org_admin).get(EXPORT_XLSX, {"kind": "psm"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    assert ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    names = [row[0] for row in rows[1:]]
    assert names == ["Ani", "Budi"]  # the filter followed
    csv_rows = exported(client_for(org_admin).get(EXPORT, {"kind": "psm"}))
    assert [list(r.values()) for r in csv_rows] == [["" if v is None else str(v) for v in row] for row in rows[1:]]
    assert ours.nik in rows[1] and theirs.masked_nik in rows[2] and theirs.nik not in rows[2]
    logged = AccessLog.objects.filter(user=org_admin, action="export", target_type="stakeholders.workforcemember")
    assert logged.count() == 2 * 2  # the workbook's two rows, then the CSV's
    # Formulas stay text; a bad filter changes nothing; no role, no export; anonymous to login.
    formula = openpyxl.load_workbook(
        io.BytesIO(client_for(org_admin).get(EXPORT_XLSX, {"kind": "tksk"}).content), read_only=True
    ).worksheets[0]
    assert list(formula.iter_rows(values_only=True))[1][0] == "'=Formula"
    before = AccessLog.objects.count()
    response = client_for(org_admin).get(EXPORT_XLSX, {"region": "9999"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(LIST) and AccessLog.objects.count() == before
    assert client_for(UserFactory()).get(EXPORT_XLSX).status_code == 404
    assert "/accounts/login/" in client.get(EXPORT_XLSX)["Location"]


def test_export_with_a_bad_filter_redirects_with_a_message(client_for, owner, org):
    worker(org, "Ani")
    response = client_for(owner).get(EXPORT, {"region": "9999"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(LIST)
    assert AccessLog.objects.filter(action="export").count() == 0


def test_a_large_export_streams_every_worker_in_name_order(client_for, owner, org, monkeypatch):
    from atensi.core import exports

    monkeypatch.setattr(exports, "CHUNK", 2)
    for name in ("Citra", "Ani", "Budi", "Dedi", "Eka"):
        worker(org, name)
    rows = exported(client_for(owner).get(EXPORT))
    assert [r["name"] for r in rows] == ["Ani", "Budi", "Citra", "Dedi", "Eka"]
    assert AccessLog.objects.filter(user=owner, action="export").count() == 5


def test_viewers_of_aggregates_do_not_see_the_workforce(client_for, org):
    from stakeholders.roles import Role
    from stakeholders.tests.factories import member

    viewer_only = member(organisation=org, role=Role.VIEWER)
    assert client_for(viewer_only).get(reverse("stakeholders:workforce_list")).status_code == 404
