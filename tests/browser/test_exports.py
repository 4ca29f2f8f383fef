"""A background export in a real browser: asked for from the case list, its progress shown
on "my exports" while it is made, then downloaded."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from atensi.core import exports
from atensi.core.models import ExportJob
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_background_export_shows_progress_and_then_downloads(page, settings):
    org = OrganisationFactory(code="BA-EKSPOR", name='Balai Anak "Ekspor" Jambi')
    rina = member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    budi = member(organisation=org, role=Role.SUPERVISOR, username="budi")
    cases = [open_case(organisation=org, by=rina, case_manager=rina) for _ in range(4)]
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 2

    login(page, "budi", PASSWORD)
    page.goto("/cases/?sort=oldest")
    page.get_by_test_id("case-export-xlsx").click()
    # More rows than are made at once: the export is made in the background.
    page.wait_for_url("**/exports/")
    line = page.get_by_test_id("export")
    expect(line).to_have_attribute("data-status", "queued")
    expect(line.get_by_test_id("export-progress")).to_be_visible()

    # The worker writes its progress; the line polls it without reloading the page.
    job = ExportJob.objects.get(user=budi)
    ExportJob.objects.filter(pk=job.pk).update(rows_total=4, rows_done=2)
    expect(line.get_by_test_id("export-progress")).to_have_attribute("value", "50")
    expect(line).to_contain_text("(50%)")

    assert exports.run_export(job.pk) == "done"
    download_button = page.get_by_test_id("export-download")
    expect(download_button).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("export")).to_have_attribute("data-status", "done")
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename.startswith("cases-") and download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as made:
        sheet = load_workbook(io.BytesIO(made.read()), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [c.number for c in cases]
    assert page.csp_violations == []
