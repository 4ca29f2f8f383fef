"""On the demo data: `supervisor.alyatama` opens the access log from the user menu and
narrows it to what happened to one case; `admin` (a superuser, so a national
administrator) downloads the breach workbook of `peksos.alyatama` for the last week."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_access_log_and_the_breach_workbook(devices: Devices) -> None:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    case = Case.objects.get(organisation__code="BA-ALYATAMA", beneficiary__full_name="Muhammad Rizky Pratama")
    worker = devices("peksos.alyatama")
    worker.goto(f"/cases/{case.pk}/")  # a view of the case, logged

    boss = devices("supervisor.alyatama")
    boss.goto("/")
    boss.get_by_test_id("user-menu").click()
    boss.get_by_test_id("access-log-link").click()
    boss.wait_for_url("**/access-log/")
    boss.fill("input[name=username]", "peksos.alyatama")
    boss.fill("input[name=record_id]", str(case.pk))
    with boss.expect_navigation():
        boss.get_by_test_id("access-log-filter").locator("button[type=submit]").click()
    rows = boss.get_by_test_id("access-log-row")
    expect(rows.first).to_contain_text("peksos.alyatama")
    expect(rows.first).to_contain_text(f"cases.case #{case.pk}")

    admin = devices("admin")
    admin.goto("/reports/breach/")
    today = timezone.localdate()
    admin.fill("input[name=username]", "peksos.alyatama")
    admin.fill("input[name=start]", (today - datetime.timedelta(days=7)).isoformat())
    admin.fill("input[name=end]", today.isoformat())
    with admin.expect_download() as download:
        admin.get_by_test_id("breach-form").locator("button[type=submit]").click()
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    names = [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert "Muhammad Rizky Pratama" in names
    assert devices.csp_violations == []
