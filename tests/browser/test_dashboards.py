"""The dashboards in a real browser, on the demo data: the national viewer reads Indonesia's
figures and downloads a table (and still opens no case), Dinas Sosial reads Jambi, and a
supervisor follows a number to the cases behind it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from cases.models import Case

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(devices: Devices) -> Devices:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    devices.language = "en"
    return devices


def test_the_national_viewer_reads_indonesia_downloads_a_table_and_opens_no_case(demo: Devices, tmp_path: Path) -> None:
    page = demo("viewer.nasional")
    page.goto("/")
    page.locator('[data-nav="dashboard"]').first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/national/$"))
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Indonesia")
    expect(page.get_by_test_id("aggregate-notice")).to_be_visible()
    jambi = page.get_by_test_id("table-regions").locator('tr[data-row="15"] td').first
    expect(jambi).to_have_text(re.compile(r"^(<5|[0-9]+)$"))
    assert int(jambi.inner_text()) % 5 == 0  # the demo's Jambi has well over four open cases
    assert page.get_by_test_id("figure-link").count() == 0
    with page.expect_download() as download:
        page.get_by_test_id("download-stage-csv").click()
    path = tmp_path / "stage.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Stage", "Open cases"]
    assert all(r[1] == "<5" or int(r[1]) % 5 == 0 for r in rows[1:])
    # Figures, never a child: any case is "not found".
    case = Case.objects.filter(organisation__code="BA-ALYATAMA").first()
    assert case is not None
    response = page.goto(f"/cases/{case.pk}/")
    assert response is not None and response.status == 404


def test_dinas_sosial_reads_the_regional_dashboard_of_jambi(demo: Devices) -> None:
    page = demo("dinsos.jambi")
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/region/15/$"))
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Jambi")
    regions = page.get_by_test_id("table-regions")
    expect(regions.locator('tr[data-row="1571"] th')).to_have_text(re.compile("Kota Jambi", re.IGNORECASE))
    expect(regions.locator('tr[data-row="1505"]')).to_be_visible()
    page.get_by_label("Period").select_option(index=1)  # last month
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=[0-9]{4}-[0-9]{2}"))
    expect(page.get_by_test_id("chart-monthly")).to_be_attached()
    assert demo.csp_violations == []


def test_a_supervisor_follows_a_number_to_the_cases_behind_it(demo: Devices) -> None:
    page = demo("supervisor.alyatama")
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/organisation/[0-9]+/$"))
    stage = page.get_by_test_id("table-stage").locator('tr[data-row="pendekatan_awal"] a')
    shown = int(stage.inner_text())
    assert shown > 0
    stage.click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*stage=pendekatan_awal"))
    expected: Any = Case.objects.filter(organisation__code="BA-ALYATAMA", stage="pendekatan_awal").count()
    assert shown == expected
