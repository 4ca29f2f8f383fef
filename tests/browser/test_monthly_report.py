"""The monthly report in a real browser: a supervisor picks a month, reads the figures,
prints the page (the navigation and the form left off the paper) and downloads the workbook."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from cases.models import Case
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_reads_prints_and_downloads_the_monthly_report(page):
    org = OrganisationFactory(code="BA-LAPOR", name='Balai Anak "Lapor" Jambi')
    rina = member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    member(organisation=org, role=Role.SUPERVISOR, username="budi")
    cases = [open_case(organisation=org, by=rina) for _ in range(3)]
    month = f"{timezone.localdate(cases[0].opened_at):%Y-%m}"  # Jambi is WIB, the portal's default zone
    Case.objects.filter(pk=cases[0].pk).update(opened_at=cases[0].opened_at.replace(year=2020))

    login(page, "budi", PASSWORD)
    page.get_by_test_id("nav").locator('[data-nav="monthly_report"]').click()
    page.fill("input[name=month]", month)
    page.get_by_test_id("report-show").click()
    expect(page.get_by_test_id("report-case-totals")).to_contain_text("2")
    expect(page.get_by_test_id("report-print")).to_be_visible()

    page.emulate_media(media="print")
    expect(page.get_by_test_id("nav")).to_be_hidden()
    expect(page.get_by_test_id("report-form")).to_be_hidden()
    expect(page.get_by_test_id("monthly-report")).to_be_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_test_id("report-xlsx").click()
    with open(info.value.path(), "rb") as made:
        book = load_workbook(io.BytesIO(made.read()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert ("Klaster", "Jumlah", 2, 0) in rows  # two opened this month, none closed
    assert page.csp_violations == []
