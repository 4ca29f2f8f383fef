"""A Dinas Sosial imports its LKSA list: a file with an error, then the corrected file."""

from __future__ import annotations

import csv

import pytest

from stakeholders.models import ImportBatch, ImportStatus, Organisation, OrganisationKind, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def write_csv(path, *, phone_of_second_row):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kode", "nama", "jenis", "kab/kota", "desa/kelurahan", "telepon"])
        writer.writerow(["LKSA-KASIH-IBU", "LKSA Kasih Ibu", "LKSA", "Kota Jambi", "Telanaipura", "0741 123456"])
        writer.writerow(["LKSA-HARAPAN", "LKSA Harapan", "LKSA", "Kota Jambi", "15.71.01.1001", phone_of_second_row])
    return str(path)


def test_dinas_admin_imports_a_list_with_an_error_then_the_corrected_list(page, tmp_path):
    dinas = OrganisationFactory(
        code="DINSOS-KOTA-JAMBI",
        name="Dinas Sosial Kota Jambi",
        kind=OrganisationKind.DINSOS_KABKOTA,
        home_region=Region.objects.get(code="1571"),
    )
    member(organisation=dinas, role=Role.ORG_ADMIN, username="admin.dinsos")
    login(page, "admin.dinsos", PASSWORD)

    page.goto(f"/organisations/{dinas.pk}/imports/new/?kind=organisations")
    page.set_input_files("input[name=file]", write_csv(tmp_path / "lksa.csv", phone_of_second_row="12-34"))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    page.wait_for_url(f"**/organisations/{dinas.pk}/imports/*/")
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    assert errors.count() == 1
    cells = errors.first.locator("td").all_inner_texts()
    assert cells[:2] == ["3", "telepon"]  # spreadsheet row 3: the header is row 1
    assert "12-34" in cells[2]
    assert page.get_by_test_id("import-confirm").count() == 0
    assert not Organisation.objects.filter(parent=dinas).exists()

    page.locator(f"a[href^='/organisations/{dinas.pk}/imports/new/']").first.click()
    page.set_input_files("input[name=file]", write_csv(tmp_path / "lksa-benar.csv", phone_of_second_row="0741 654321"))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    page.wait_for_url(f"**/organisations/{dinas.pk}/imports/*/")
    assert page.get_by_test_id("import-errors").count() == 0
    assert page.get_by_test_id("count-new").inner_text() == "2"
    page.get_by_test_id("import-confirm").click()
    summary = page.get_by_test_id("import-summary")
    summary.wait_for()
    assert "2" in summary.inner_text()
    assert page.get_by_test_id("import-confirm").count() == 0

    imported = Organisation.objects.filter(parent=dinas).order_by("code")
    assert [(o.code, o.village_id, o.phone) for o in imported] == [
        ("LKSA-HARAPAN", "1571011001", "0741654321"),
        ("LKSA-KASIH-IBU", "1571011004", "0741123456"),
    ]
    assert list(ImportBatch.objects.order_by("pk").values_list("status", flat=True)) == [
        ImportStatus.PREVIEW,
        ImportStatus.IMPORTED,
    ]
    assert page.csp_violations == []
