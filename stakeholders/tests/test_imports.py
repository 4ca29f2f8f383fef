"""Spreadsheet imports: every row checked, every error at its row and column, all or nothing."""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from atensi.core.errors import ApplicationError
from atensi.testing.second_factor import Client
from stakeholders import imports
from stakeholders.models import (
    ImportBatch,
    ImportStatus,
    Organisation,
    OrganisationKind,
    Region,
    WorkforceMember,
)
from stakeholders.roles import Role
from stakeholders.tests.factories import MembershipFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db

ORG_HEADER = ["kode", "nama", "jenis", "desa/kelurahan", "telepon", "email", "latitude", "longitude", "klaster"]
WORKFORCE_HEADER = ["nama", "nik", "jenis", "telepon", "wilayah", "sertifikat berlaku sampai", "aktif"]
GOOD_NIK = "1571014509900001"  # issued in 15.71.01, a woman born 5 September 1990


# --- Building files ---------------------------------------------------------------------


def csv_bytes(rows, *, delimiter=",", encoding="utf-8", bom=False):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def csv_file(rows, name="lksa.csv", **kwargs):
    return SimpleUploadedFile(name, csv_bytes(rows, **kwargs), content_type="text/csv")


def xlsx_bytes(rows, *, extra_sheet=False):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("Catatan").append(["ignored"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_file(rows, name="lksa.xlsx", **kwargs):
    return SimpleUploadedFile(name, xlsx_bytes(rows, **kwargs))


def lksa_rows(count, *, prefix="LKSA"):
    rows = [ORG_HEADER]
    for i in range(1, count + 1):
        rows.append(
            [
                f"{prefix}-{i:04d}",
                f"LKSA Harapan {i}",
                "LKSA",
                "15.71.01.1004",
                f"0741 55{i:04d}",
                f"lksa{i}@example.org",
                "",
                "",
                "anak",
            ]
        )
    return rows


# --- Fixtures -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english():
    # The messages are asserted in English, whatever the Indonesian catalogue says.
    with translation.override("en"):
        yield


@pytest.fixture
def client_for():
    def make(user):
        client = Client(headers={"accept-language": "en"})
        client.force_login(user)
        return client

    return make


@pytest.fixture
def dinas(db):
    return OrganisationFactory(
        code="DINSOS-KOTA-JAMBI",
        name="Dinas Sosial Kota Jambi",
        kind=OrganisationKind.DINSOS_KABKOTA,
        home_region=Region.objects.get(code="1571"),
    )


@pytest.fixture
def dinas_admin(dinas):
    return member(organisation=dinas, role=Role.ORG_ADMIN, username="admin.dinsos")


def new_url(org, kind="organisations"):
    return reverse("stakeholders:import_new", args=[org.pk]) + f"?kind={kind}"


def preview_url(batch):
    return reverse("stakeholders:import_preview", args=[batch.organisation_id, batch.pk])


def confirm_url(batch):
    return reverse("stakeholders:import_confirm", args=[batch.organisation_id, batch.pk])


def discard_url(batch):
    return reverse("stakeholders:import_discard", args=[batch.organisation_id, batch.pk])


def upload(client, org, file, kind="organisations"):
    return client.post(reverse("stakeholders:import_new", args=[org.pk]), {"kind": kind, "file": file})


def preview(org, by, file, kind="organisations"):
    return imports.import_preview(organisation=org, by=by, kind=kind, upload=file)


def error_cells(batch):
    return sorted((e["row"], e["column"]) for e in batch.errors)


# --- The scenario ---------------------------------------------------------------


def test_a_thousand_rows_with_bad_rows_show_exactly_their_errors_and_save_nothing(client_for, dinas, dinas_admin):
    rows = lksa_rows(1000)
    # Spreadsheet row numbers: the header is row 1, so data row i is row i + 1.
    rows[10][3] = "15.71.01.9999"  # row 11: unknown village code
    rows[200][4] = "12345"  # row 201: not a phone number
    rows[402][0] = rows[401][0]  # row 403: the code of row 402 again
    rows[603][1] = ""  # row 604: no name
    rows[804][6], rows[804][7] = "40.1", "10.5"  # row 805: somewhere in Europe
    before = Organisation.objects.count()
    client = client_for(dinas_admin)
    response = upload(client, dinas, csv_file(rows))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == preview_url(batch)
    assert error_cells(batch) == [
        (11, "desa/kelurahan"),
        (201, "telepon"),
        (403, "kode"),
        (604, "nama"),
        (805, "latitude"),
    ]
    messages = {e["row"]: e["message"] for e in batch.errors}
    assert "Unknown village code 15.71.01.9999" in messages[11]
    assert "Indonesian phone number" in messages[201]
    assert "already used in row 402" in messages[403]
    assert "required" in messages[604]
    assert "outside Indonesia" in messages[805]
    assert batch.result["error_rows"] == 5

    page = client.get(preview_url(batch)).content.decode()
    assert "Unknown village code 15.71.01.9999" in page
    assert 'data-testid="import-confirm"' not in page

    # Confirming anyway (a crafted POST) saves nothing.
    client.post(confirm_url(batch))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    assert Organisation.objects.count() == before


def test_the_corrected_thousand_rows_import_in_one_go(client_for, dinas, dinas_admin):
    client = client_for(dinas_admin)
    upload(client, dinas, csv_file(lksa_rows(1000)))
    batch = ImportBatch.objects.get()
    assert batch.errors == []
    assert batch.result["new"] == 1000
    response = client.post(confirm_url(batch))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.IMPORTED
    assert batch.finished_at is not None
    children = Organisation.objects.filter(parent=dinas)
    assert children.count() == 1000
    lksa = children.get(code="LKSA-0007")
    village = Region.objects.get(code="1571011004")
    assert lksa.kind == OrganisationKind.LKSA
    assert lksa.village_id == "1571011004"
    assert lksa.home_region_id == "1571"
    assert (lksa.latitude, lksa.longitude) == (village.latitude, village.longitude)  # pin on the village
    assert lksa.phone == "0741550007"
    assert list(lksa.clusters.values_list("code", flat=True)) == ["anak"]
    page = client.get(preview_url(batch)).content.decode()
    assert 'data-testid="import-summary"' in page
    assert "1000 new" in page


def test_reimporting_a_corrected_list_updates_instead_of_duplicating(dinas, dinas_admin):
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(3)))
    imports.organisation_import_confirm(batch=batch, by=dinas_admin)
    rows = lksa_rows(3)
    rows[2][4] = "0812 3456 7890"
    rows[3][8] = "anak, lanjut_usia"
    again = preview(dinas, dinas_admin, csv_file(rows, name="lksa-corrected.csv"))
    assert (again.result["new"], again.result["updated"], again.result["unchanged"]) == (0, 2, 1)
    imports.organisation_import_confirm(batch=again, by=dinas_admin)
    assert Organisation.objects.filter(parent=dinas).count() == 3
    assert Organisation.objects.get(code="LKSA-0002").phone == "081234567890"
    assert set(Organisation.objects.get(code="LKSA-0003").clusters.values_list("code", flat=True)) == {
        "anak",
        "lanjut_usia",
    }


def test_a_code_of_another_organisation_is_an_error_but_a_national_admin_may_update_it(
    dinas, dinas_admin, other_org, superuser
):
    OrganisationFactory(code="LKSA-0001", name="Someone else's", kind=OrganisationKind.LKSA, parent=other_org)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(2)))
    assert error_cells(batch) == [(2, "kode")]
    assert "already belongs to another organisation" in batch.errors[0]["message"]
    national = preview(dinas, superuser, csv_file(lksa_rows(2)))
    assert national.errors == []
    imports.organisation_import_confirm(batch=national, by=superuser)
    updated = Organisation.objects.get(code="LKSA-0001")
    assert updated.name == "LKSA Harapan 1"
    assert updated.parent == other_org  # an update never moves an organisation


def test_an_organisation_admin_imports_only_the_kinds_a_dinas_registers(dinas, dinas_admin):
    rows = lksa_rows(2)
    rows[1][2] = "Balai/Sentra (Kemensos UPT)"
    rows[2][2] = "lpks"
    batch = preview(dinas, dinas_admin, csv_file(rows))
    assert error_cells(batch) == [(2, "jenis")]
    assert "national administrator" in batch.errors[0]["message"]


def test_the_import_does_not_touch_its_own_organisation(dinas, dinas_admin):
    rows = lksa_rows(1)
    rows[1][0] = dinas.code
    batch = preview(dinas, dinas_admin, csv_file(rows))
    assert error_cells(batch) == [(2, "kode")]


# --- Regions by name --------------------------------------------------------------------


def test_villages_and_regencies_by_name(dinas, dinas_admin):
    rows = [
        ["kode", "nama", "jenis", "kab/kota", "desa/kelurahan"],
        ["LKSA-A", "A", "LKSA", "Kota Jambi", "telanaipura"],  # 2: found
        ["LKSA-B", "B", "LKSA", "Kota Jambi", "Lubuk Minturun"],  # 3: that one is in Padang
        ["LKSA-C", "C", "LKSA", "Kerinci", "Koto Baru"],  # 4: several in Kerinci
        ["LKSA-D", "D", "LKSA", "Solok", ""],  # 5: Kabupaten or Kota Solok?
        ["LKSA-E", "E", "LKSA", "Kota Padang", "1371111002"],  # 6: by code
        ["LKSA-F", "F", "LKSA", "Kota Jambi", "13.71.11.1002"],  # 7: a code outside the regency
        ["LKSA-G", "G", "LKSA", "", "157101"],  # 8: a district code
        ["LKSA-H", "H", "LKSA", "Atlantis", "Telanaipura"],  # 9: unknown regency, one error
    ]
    batch = preview(dinas, dinas_admin, csv_file(rows))
    messages = {(e["row"], e["column"]): e["message"] for e in batch.errors}
    assert sorted(messages) == [
        (3, "desa/kelurahan"),
        (4, "desa/kelurahan"),
        (5, "kab/kota"),
        (7, "desa/kelurahan"),
        (8, "desa/kelurahan"),
        (9, "kab/kota"),
    ]
    assert messages[(3, "desa/kelurahan")] == "Village “Lubuk Minturun” not found in Kota Jambi."
    assert messages[(4, "desa/kelurahan")].startswith("Ambiguous:")
    assert "give the village code" in messages[(4, "desa/kelurahan")]
    assert "Kabupaten Solok or Kota Solok" in messages[(5, "kab/kota")]
    assert "not in Kota Jambi" in messages[(7, "desa/kelurahan")]
    assert "district" in messages[(8, "desa/kelurahan")]
    by_code = {r["code"]: r for r in batch.rows}
    assert by_code["LKSA-A"]["village"] == "1571011004"
    assert by_code["LKSA-E"]["village"] == "1371111002"


def test_a_village_name_without_regency_is_looked_up_in_the_importers_area(dinas, dinas_admin):
    rows = [["kode", "nama", "jenis", "desa/kelurahan"], ["LKSA-A", "A", "LKSA", "Telanaipura"]]
    batch = preview(dinas, dinas_admin, csv_file(rows))
    assert batch.errors == []
    assert batch.rows[0]["village"] == "1571011004"
    assert batch.rows[0]["_village"] == "Telanaipura (15.71.01.1004)"


def test_region_lookups_are_set_based(dinas, dinas_admin, django_assert_max_num_queries):
    rows = lksa_rows(500)
    for i, row in enumerate(rows[1:]):
        row[3] = "Telanaipura" if i % 2 else "15.71.01.1004"
    with django_assert_max_num_queries(15):
        batch = preview(dinas, dinas_admin, csv_file(rows))
    assert batch.errors == []


# --- Cell values ------------------------------------------------------------------------


def test_values_as_people_write_them(dinas, dinas_admin):
    rows = [
        [
            "Kode*",
            "Nama Lembaga",
            "Jenis",
            "Kode Desa",
            "No. Telepon",
            "WA",
            "Kapasitas",
            "Terisi",
            "Akreditasi",
            "Akreditasi berlaku sampai",
            "Komponen",
            "Latitude",
            "Longitude",
        ],
        [
            " lksa-x ",
            "LKSA X",
            "Child welfare institution (LKSA)",
            "1571011004",
            "(0741) 123-456",
            "81234567890",
            "40",
            "32.0",
            "Terakreditasi B",
            "31/12/2027",
            "Terapi fisik, psikososial, dan mental spiritual; dukungan_keluarga",
            "-1,6068",
            "103,5817",
        ],
    ]
    batch = preview(dinas, dinas_admin, csv_file(rows))
    assert batch.errors == []
    # "Terisi" (occupancy) from an older template is read past without a word: the
    # occupancy is counted from open residential cases.
    assert not any("Terisi" in w for w in batch.result["warnings"])
    imports.organisation_import_confirm(batch=batch, by=dinas_admin)
    org = Organisation.objects.get(code="LKSA-X")
    assert org.phone == "0741123456"
    assert org.whatsapp == "081234567890"
    assert (org.capacity, org.occupancy) == (40, 0)
    assert org.accreditation == "B"
    assert org.accreditation_expires.isoformat() == "2027-12-31"
    assert set(org.components.values_list("code", flat=True)) == {"terapi", "dukungan_keluarga"}
    assert (org.latitude, org.longitude) == (-1.6068, 103.5817)


def test_bad_values_each_get_a_message_at_their_cell(dinas, dinas_admin):
    header = [
        "kode",
        "nama",
        "jenis",
        "email",
        "kapasitas",
        "akreditasi",
        "akreditasi berlaku sampai",
        "latitude",
        "longitude",
        "klaster",
    ]
    rows = [
        header,
        ["lksa a", "A", "LKSA", "", "", "", "", "", "", ""],  # 2: code with a space
        ["LKSA-B", "B", "panti", "", "", "", "", "", "", ""],  # 3: unknown kind
        ["LKSA-C", "C", "LKSA", "not-an-email", "", "", "", "", "", ""],  # 4
        ["LKSA-D", "D", "LKSA", "", "empat puluh", "", "", "", "", ""],  # 5
        ["LKSA-E", "E", "LKSA", "", "", "D", "", "", "", ""],  # 6
        ["LKSA-F", "F", "LKSA", "", "", "", "31/12/2027", "", "", ""],  # 7: expiry without accreditation
        ["LKSA-G", "G", "LKSA", "", "", "A", "2027-31-12", "", "", ""],  # 8: not a date
        ["LKSA-H", "H", "LKSA", "", "", "", "", "103.58", "-1.61", ""],  # 9: swapped
        ["LKSA-I", "I", "LKSA", "", "", "", "", "-1.61", "", ""],  # 10: half a pin
        ["LKSA-J", "J", "LKSA", "", "", "", "", "", "", "anak, orang tua"],  # 11: unknown cluster
    ]
    batch = preview(dinas, dinas_admin, csv_file(rows))
    messages = {e["row"]: (e["column"], e["message"]) for e in batch.errors}
    assert len(batch.errors) == 10
    assert messages[2][0] == "kode" and "capital letters" in messages[2][1]
    assert messages[3][0] == "jenis" and "Unknown kind “panti”" in messages[3][1]
    assert messages[4][0] == "email"
    assert messages[5][0] == "kapasitas"
    assert messages[6][0] == "akreditasi"
    assert messages[7][0] == "akreditasi berlaku sampai" and "needs an accreditation" in messages[7][1]
    assert messages[8][0] == "akreditasi berlaku sampai" and "DD/MM/YYYY" in messages[8][1]
    assert messages[9][0] == "latitude" and "swapped" in messages[9][1]
    assert messages[10][0] == "longitude"
    assert messages[11][0] == "klaster" and "“orang tua”" in messages[11][1]


# --- Files ------------------------------------------------------------------------------


def test_xlsx_with_date_cells_numbers_a_title_row_and_a_second_sheet(dinas, dinas_admin):
    import datetime

    rows = [
        ["DAFTAR LKSA KOTA JAMBI 2026"],
        [],
        ["kode", "nama", "jenis", "desa/kelurahan", "whatsapp", "akreditasi", "akreditasi berlaku sampai", "kapasitas"],
        ["LKSA-XL", "LKSA Excel", "LKSA", 1571011004, 81234567890, "A", datetime.datetime(2027, 12, 31), 40],
    ]
    batch = preview(dinas, dinas_admin, xlsx_file(rows, extra_sheet=True))
    assert batch.errors == []
    assert batch.rows[0]["_row"] == 4  # as Excel numbers it
    assert any("first sheet" in w for w in batch.result["warnings"])
    imports.organisation_import_confirm(batch=batch, by=dinas_admin)
    org = Organisation.objects.get(code="LKSA-XL")
    assert org.whatsapp == "081234567890"
    assert org.accreditation_expires == datetime.date(2027, 12, 31)
    assert org.capacity == 40


def test_semicolon_csv_from_indonesian_excel(dinas, dinas_admin):
    rows = [["kode", "nama", "jenis", "desa/kelurahan", "latitude", "longitude"]]
    rows.append(["LKSA-SC", "LKSA Titik Koma", "LKSA", "1571011004", "-1,6", "103,6"])
    batch = preview(dinas, dinas_admin, csv_file(rows, delimiter=";"))
    assert batch.errors == []
    assert batch.rows[0]["latitude"] == "-1.6"


def test_csv_with_a_byte_order_mark(dinas, dinas_admin):
    rows = [["kode", "nama", "jenis"], ["LKSA-BOM", "Panti Asuhan “Kasih”", "LKSA"]]
    batch = preview(dinas, dinas_admin, csv_file(rows, bom=True))
    assert batch.errors == []
    assert batch.rows[0]["name"] == "Panti Asuhan “Kasih”"


def test_a_csv_that_is_not_utf8_is_refused_with_how_to_save_it(client_for, dinas, dinas_admin):
    rows = [["kode", "nama", "jenis"], ["LKSA-1", "Panti Asuhan Café", "LKSA"]]
    response = upload(client_for(dinas_admin), dinas, csv_file(rows, encoding="cp1252"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "not UTF-8" in page
    assert "CSV UTF-8" in page
    assert "line 2" in page
    assert not ImportBatch.objects.exists()


def test_an_image_renamed_to_xlsx_is_refused(dinas, dinas_admin):
    png = SimpleUploadedFile("lksa.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    with pytest.raises(ApplicationError, match=r"not an Excel workbook.*PNG"):
        preview(dinas, dinas_admin, png)


def test_text_renamed_to_xlsx_is_refused(dinas, dinas_admin):
    text = SimpleUploadedFile("lksa.xlsx", csv_bytes(lksa_rows(2)))
    with pytest.raises(ApplicationError, match=r"not an Excel workbook.*text file"):
        preview(dinas, dinas_admin, text)


def test_an_xlsx_renamed_to_csv_is_refused(dinas, dinas_admin):
    with pytest.raises(ApplicationError, match=r"Excel workbook .*with a \.csv name"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.csv", xlsx_bytes(lksa_rows(2))))


def test_a_zip_that_is_not_a_workbook_and_a_damaged_workbook(dinas, dinas_admin):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ApplicationError, match="zip archive but not an Excel workbook"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.xlsx", out.getvalue()))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not really")
        archive.writestr("[Content_Types].xml", "<nope")
    with pytest.raises(ApplicationError, match="could not be read; it may be damaged"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.xlsx", broken.getvalue()))
    truncated = xlsx_bytes(lksa_rows(5))[:-200]
    with pytest.raises(ApplicationError, match="damaged"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.xlsx", truncated))


def test_other_file_types_are_refused(dinas, dinas_admin):
    with pytest.raises(ApplicationError, match=r"\.xls\) cannot be read"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100))
    with pytest.raises(ApplicationError, match=r"Upload a \.csv or \.xlsx file"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.pdf", b"%PDF-1.4"))


@override_settings(ATENSI_IMPORT_MAX_BYTES=1000)
def test_a_file_over_the_size_limit_is_refused(client_for, dinas, dinas_admin):
    response = upload(client_for(dinas_admin), dinas, csv_file(lksa_rows(50)))
    assert response.status_code == 200
    assert "larger than" in response.content.decode()
    assert not ImportBatch.objects.exists()


@override_settings(ATENSI_IMPORT_MAX_ROWS=10)
def test_a_file_over_the_row_limit_is_refused(dinas, dinas_admin):
    with pytest.raises(ApplicationError, match="more than 10 rows"):
        preview(dinas, dinas_admin, csv_file(lksa_rows(11)))
    assert preview(dinas, dinas_admin, csv_file(lksa_rows(10))).errors == []


def test_empty_files_and_files_without_rows(client_for, dinas, dinas_admin):
    response = upload(client_for(dinas_admin), dinas, SimpleUploadedFile("lksa.csv", b""))
    assert "empty" in response.content.decode()
    with pytest.raises(ApplicationError, match="empty"):
        preview(dinas, dinas_admin, SimpleUploadedFile("lksa.csv", b"\n\n ,, \n"))
    with pytest.raises(ApplicationError, match="no rows below them"):
        preview(dinas, dinas_admin, csv_file([ORG_HEADER]))
    assert not ImportBatch.objects.exists()


def test_wrong_columns_get_one_message_listing_the_missing_ones(client_for, dinas, dinas_admin):
    rows = [["No", "Lembaga", "Alamat", "Warna"], ["1", "LKSA A", "Jl. A", "biru"]]
    response = upload(client_for(dinas_admin), dinas, csv_file(rows))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Required columns are missing: “kode”, “nama”, “jenis”" in page
    assert not ImportBatch.objects.exists()


def test_a_workforce_list_uploaded_as_organisations_gets_a_hint(dinas, dinas_admin):
    rows = [WORKFORCE_HEADER, ["Siti Aminah", GOOD_NIK, "TKSK", "", "", "", ""]]
    with pytest.raises(ApplicationError, match="looks like a list of workforce"):
        preview(dinas, dinas_admin, csv_file(rows))


def test_unknown_columns_are_ignored_with_a_warning(dinas, dinas_admin):
    rows = [["No", "kode", "nama", "jenis", "warna"], ["1", "LKSA-W", "W", "LKSA", "biru"]]
    batch = preview(dinas, dinas_admin, csv_file(rows))
    assert batch.errors == []
    assert batch.result["warnings"] == ["The column “warna” is not used and was ignored."]


def test_the_same_column_twice_is_refused(dinas, dinas_admin):
    with pytest.raises(ApplicationError, match="“kode” and “code” mean the same thing"):
        preview(dinas, dinas_admin, csv_file([["kode", "nama", "jenis", "code"], ["A1", "A", "LKSA", "A2"]]))


@pytest.mark.parametrize("kind", ["organisations", "workforce"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_templates_download_and_import_as_they_are(client_for, dinas, dinas_admin, kind, fmt):
    client = client_for(dinas_admin)
    response = client.get(reverse("stakeholders:import_template", args=[kind, fmt]))
    assert response.status_code == 200
    assert f"atensi-import-{kind}.{fmt}" in response["Content-Disposition"]
    file = SimpleUploadedFile(f"template.{fmt}", response.content)
    batch = preview(dinas, dinas_admin, file, kind=kind)
    assert batch.errors == []
    assert batch.result["new"] == 1


# --- Confirm, discard, access -----------------------------------------------------------


def test_confirming_twice_imports_once(client_for, dinas, dinas_admin):
    client = client_for(dinas_admin)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(3)))
    client.post(confirm_url(batch))
    response = client.post(confirm_url(batch), follow=True)
    assert "already saved" in response.content.decode()
    assert Organisation.objects.filter(parent=dinas).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_the_same_moment_import_once(dinas, dinas_admin):
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(20)))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm():
        translation.activate("en")  # the fixture's override is per thread
        try:
            barrier.wait()
            imports.organisation_import_confirm(batch=ImportBatch.objects.get(pk=batch.pk), by=dinas_admin)
            outcomes.append("saved")
        except ApplicationError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["This import was already saved.", "saved"]
    assert Organisation.objects.filter(parent=dinas).count() == 20


def test_a_change_in_the_register_since_the_preview_saves_nothing(client_for, dinas, dinas_admin, other_org):
    client = client_for(dinas_admin)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(5)))
    assert batch.errors == []
    OrganisationFactory(code="LKSA-0004", kind=OrganisationKind.LKSA, parent=other_org)
    response = client.post(confirm_url(batch), follow=True)
    assert "changed since the preview" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    assert error_cells(batch) == [(5, "kode")]
    assert Organisation.objects.filter(parent=dinas).count() == 0
    assert 'data-testid="import-confirm"' not in client.get(preview_url(batch)).content.decode()


def test_discard_drops_the_rows(client_for, dinas, dinas_admin):
    client = client_for(dinas_admin)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(2)))
    response = client.post(discard_url(batch))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.rows) == (ImportStatus.DISCARDED, [])
    client.post(confirm_url(batch))
    assert not Organisation.objects.filter(parent=dinas).exists()


def test_state_changes_are_post_only(client_for, dinas, dinas_admin):
    client = client_for(dinas_admin)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(1)))
    assert client.get(confirm_url(batch)).status_code == 405
    assert client.get(discard_url(batch)).status_code == 405
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW


def test_outsiders_and_non_admins_get_404(client_for, dinas, dinas_admin, outsider):
    social_worker = member(organisation=dinas, role=Role.SOCIAL_WORKER, username="peksos.dinas")
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(2)))
    for user in (outsider, social_worker):
        client = client_for(user)
        assert client.get(new_url(dinas)).status_code == 404
        assert upload(client, dinas, csv_file(lksa_rows(2))).status_code == 404
        assert client.get(preview_url(batch)).status_code == 404
        assert client.post(confirm_url(batch)).status_code == 404
        assert client.post(discard_url(batch)).status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    assert ImportBatch.objects.count() == 1
    assert not Organisation.objects.filter(parent=dinas).exists()


def test_a_batch_is_seen_only_under_its_own_organisation(client_for, dinas, dinas_admin, org):
    # An admin of two organisations cannot open one's batch under the other's URL.
    member_of_both = member(organisation=org, role=Role.ORG_ADMIN, username="admin.dua")
    MembershipFactory(user=member_of_both, organisation=dinas, role=Role.ORG_ADMIN)
    batch = preview(dinas, dinas_admin, csv_file(lksa_rows(1)))
    url = reverse("stakeholders:import_preview", args=[org.pk, batch.pk])
    assert client_for(member_of_both).get(url).status_code == 404
    assert client_for(member_of_both).get(preview_url(batch)).status_code == 200


def test_the_upload_page_shows_the_form_the_guides_and_recent_imports(client_for, dinas, dinas_admin):
    preview(dinas, dinas_admin, csv_file(lksa_rows(1), name="daftar-lksa.csv"))
    response = client_for(dinas_admin).get(new_url(dinas, "workforce"))
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'value="workforce"[^>]*checked', page)
    assert re.search(r'<details class="mb-3" open data-testid="guide-workforce">', page)
    assert "daftar-lksa.csv" in page
    assert "sertifikat berlaku sampai" in page


def test_the_preview_page_has_a_bounded_number_of_queries(
    client_for, dinas, dinas_admin, django_assert_max_num_queries
):
    client = client_for(dinas_admin)
    rows = lksa_rows(1000)
    rows[5][4] = "123"
    batch = preview(dinas, dinas_admin, csv_file(rows))
    client.get(preview_url(batch))  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get(preview_url(batch))
    assert response.status_code == 200
    for _ in range(5):
        preview(dinas, dinas_admin, csv_file(lksa_rows(2)))
    with django_assert_max_num_queries(10):
        assert client.get(new_url(dinas)).status_code == 200


# --- Workforce --------------------------------------------------------------------------


def workforce_rows(*rows):
    return [WORKFORCE_HEADER, *rows]


def test_workforce_import_creates_and_then_updates(dinas, dinas_admin):
    rows = workforce_rows(
        ["Siti Aminah", GOOD_NIK, "TKSK", "0812 3456 7890", "15.71.01", "31/12/2027", "ya"],
        ["Budi Santoso", "1571010101850002", "Sakti Peksos", "", "Telanaipura (15.71.01.1004), 1571011001", "", ""],
        ["Budi Santoso", "1571010101850002", "pendamping_pkh", "", "Kota Jambi", "", "tidak"],
    )
    rows[2][4] = "1571011004, 1571011001"
    batch = preview(dinas, dinas_admin, csv_file(rows, name="tenaga.csv"), kind="workforce")
    assert batch.errors == []
    assert batch.rows[0]["_nik"] == "157101******0001"
    imports.workforce_import_confirm(batch=batch, by=dinas_admin)
    batch.refresh_from_db()
    assert batch.rows == []  # the NIKs are in the register now, not in a second copy
    siti = WorkforceMember.objects.get(nik=GOOD_NIK)
    assert (siti.organisation, siti.kind, siti.phone) == (dinas, "tksk", "081234567890")
    assert list(siti.regions.values_list("code", flat=True)) == ["157101"]
    assert siti.certificate_expires.isoformat() == "2027-12-31"
    assert WorkforceMember.objects.filter(nik="1571010101850002").count() == 2
    pkh = WorkforceMember.objects.get(nik="1571010101850002", kind="pendamping_pkh")
    assert not pkh.is_active
    assert list(pkh.regions.values_list("code", flat=True)) == ["1571"]

    rows[1][3] = "0813 1111 2222"
    again = preview(dinas, dinas_admin, csv_file(rows), kind="workforce")
    assert (again.result["new"], again.result["updated"], again.result["unchanged"]) == (0, 1, 2)
    imports.workforce_import_confirm(batch=again, by=dinas_admin)
    assert WorkforceMember.objects.count() == 3
    assert WorkforceMember.objects.get(nik=GOOD_NIK).phone == "081311112222"


def test_workforce_errors_say_which_part_is_wrong(dinas, dinas_admin, other_org):
    WorkforceMember.objects.create(kind="psm", name="Elsewhere", nik="1571010101850002", organisation=other_org)
    rows = workforce_rows(
        ["A", "1571013102900001", "PSM", "", "", "", ""],  # 2: 31 February
        ["B", "15710145099000", "PSM", "", "", "", ""],  # 3: 14 digits
        ["C", GOOD_NIK, "TKSK", "", "", "", ""],  # 4: fine
        ["D", GOOD_NIK, "tksk", "", "", "", ""],  # 5: the same person and role again
        ["E", "1571010101850002", "PSM", "", "", "", ""],  # 6: registered by another organisation
        ["F", "1571010101850003", "penyuluh", "", "", "", ""],  # 7: unknown kind
        ["G", "1571010101850004", "PSM", "", "Telanaipura", "", "mungkin"],  # 8: ambiguous region, bad yes/no
        ["", "1571010101850005", "PSM", "", "", "", ""],  # 9: no name
    )
    batch = preview(dinas, dinas_admin, csv_file(rows), kind="workforce")
    messages = {(e["row"], e["column"]): e["message"] for e in batch.errors}
    assert sorted(messages) == [
        (2, "nik"),
        (3, "nik"),
        (5, "nik"),
        (6, "nik"),
        (7, "jenis"),
        (8, "aktif"),
        (8, "wilayah"),
        (9, "nama"),
    ]
    assert "Digits 7 to 12" in messages[(2, "nik")] and "310290" in messages[(2, "nik")]
    assert "16 digits" in messages[(3, "nik")]
    assert "row 4" in messages[(5, "nik")]
    assert "another organisation" in messages[(6, "nik")]
    assert "matches 2 regions" in messages[(8, "wilayah")] and "15.71.01.1004" in messages[(8, "wilayah")]
    page_rows = {r["_row"]: r for r in batch.rows}
    assert "nik" in page_rows[3]
    assert WorkforceMember.objects.count() == 1


def test_workforce_preview_masks_niks(client_for, dinas, dinas_admin):
    rows = workforce_rows(["A", GOOD_NIK, "PSM", "", "", "", ""], ["B", "12345", "PSM", "", "", "", ""])
    batch = preview(dinas, dinas_admin, csv_file(rows), kind="workforce")
    page = client_for(dinas_admin).get(preview_url(batch)).content.decode()
    assert "157101******0001" in page
    assert GOOD_NIK not in page
    assert "•••••" in page
