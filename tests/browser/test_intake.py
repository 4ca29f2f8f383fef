"""A PSM reports children from a phone; the covering organisation's supervisor triages them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import RecipientVia, Report, ReportRecipient, ReportStatus
from stakeholders.models import Region, WorkforceMember
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def report_a_child(page, *, child_name: str, urgency: str, narrative: str) -> None:
    page.goto("/reports/new/")
    form = page.get_by_test_id("report-form")
    # Made for a phone: nothing wider than the screen, checkboxes big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    choice = form.locator(".form-check", has=page.locator("input[name=ampk_categories]")).first
    assert choice.bounding_box()["height"] >= 40
    box = page.locator("#id_village")
    box.press_sequentially("Telanaipura", delay=20)
    page.locator("#id_village_listbox [data-code='1571011004']").click()
    expect(page.get_by_test_id("region-picker-code")).to_have_text("15.71.01.1004")
    if child_name:
        page.fill("#id_child_name", child_name)
    form.locator("input[name=ampk_categories]").first.check()
    form.locator(f"input[name=urgency][value={urgency}]").check()
    page.fill("#id_narrative", narrative)
    # A PSM reports as themselves: their details are filled in and folded away.
    expect(page.get_by_test_id("reporter-fields")).to_contain_text("Yusuf Hidayat")
    page.get_by_test_id("report-submit").click()
    page.wait_for_url("**/reports/*-*/")
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "new")
    expect(page.get_by_test_id("report-outcome")).to_contain_text("Balai Anak Uji")


def test_psm_reports_on_a_phone_and_the_supervisor_triages(page, org, other_org):
    org.coverage.add(Region.objects.get(code="1571"))  # Balai Anak Uji serves Kota Jambi
    other_org.home_region = Region.objects.get(code="15")
    other_org.save()
    dinsos = OrganisationFactory(code="DINSOS-UJI", name="Dinas Sosial Uji")
    psm = member(organisation=dinsos, role=Role.COMMUNITY_REPORTER, username="psm.uji")
    WorkforceMember.objects.create(
        kind="psm", name="Yusuf Hidayat", nik="1571011208790002", phone="081234567890", organisation=dinsos, user=psm
    )
    member(organisation=org, role=Role.SUPERVISOR, username="supervisor.uji")

    page.set_viewport_size(PHONE)
    login(page, "psm.uji", PASSWORD)
    report_a_child(page, child_name="", urgency="normal", narrative="Anak tanpa nama tidur di pasar Angso Duo.")
    report_a_child(page, child_name="Dodi", urgency="emergency", narrative="Dodi dipukul ayahnya tadi malam.")
    page.goto("/reports/mine/")
    expect(page.get_by_test_id("report-row")).to_have_count(2)
    expect(page.get_by_test_id("report-row").first).to_contain_text("Dodi")  # newest first
    unnamed, dodi = Report.objects.order_by("created_at")
    assert unnamed.child_name == "" and unnamed.reporter_name == "Yusuf Hidayat"
    assert dodi.recipients.get().organisation == org
    assert page.csp_violations == []

    page.context.clear_cookies()
    login(page, "supervisor.uji", PASSWORD)
    page.goto("/intake/")
    expect(page.get_by_test_id("queue-count")).to_have_text("2")
    rows = page.get_by_test_id("queue-row")
    expect(rows.first).to_contain_text("Dodi")  # the emergency comes first
    expect(rows.first.get_by_test_id("report-urgency")).to_have_attribute("data-urgency", "emergency")
    expect(rows.first).to_contain_text("Kota Jambi")

    # Dismiss the nameless one: a reason is required.
    rows.nth(1).get_by_test_id("queue-open").click()
    page.wait_for_url(f"**/reports/{unnamed.public_id}/")
    page.get_by_test_id("triage-dismiss").locator("summary").click()
    page.get_by_test_id("dismiss-submit").click()
    page.wait_for_url(f"**/reports/{unnamed.public_id}/")
    expect(page.locator(".alert-danger")).to_be_visible()
    unnamed.refresh_from_db()
    assert unnamed.status == ReportStatus.NEW
    page.get_by_test_id("triage-dismiss").locator("summary").click()
    page.fill("#id_reason", "Sama dengan laporan Dodi.")
    page.get_by_test_id("dismiss-submit").click()
    page.wait_for_url("**/intake/")
    expect(page.get_by_test_id("queue-count")).to_have_text("1")
    unnamed.refresh_from_db()
    assert (unnamed.status, unnamed.dismissal_reason) == (ReportStatus.DISMISSED, "Sama dengan laporan Dodi.")

    # Pass Dodi's report on to the other organisation, with a note.
    page.get_by_test_id("queue-open").first.click()
    page.wait_for_url(f"**/reports/{dodi.public_id}/")
    page.get_by_test_id("triage-pass").locator("summary").click()
    page.select_option("#id_organisation", "BA-LAIN")
    page.fill("#id_note", "Keluarga pindah ke wilayah mereka.")
    page.get_by_test_id("pass-submit").click()
    page.wait_for_url("**/intake/")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    passed = ReportRecipient.objects.get(report=dodi, organisation=other_org)
    assert (passed.via, passed.note) == (RecipientVia.PASSED, "Keluarga pindah ke wilayah mereka.")
    assert ReportRecipient.objects.get(report=dodi, organisation=org).passed_on_at is not None
    assert page.csp_violations == []

    # The PSM sees the outcome of each report, and nothing more.
    page.context.clear_cookies()
    login(page, "psm.uji", PASSWORD)
    page.goto(f"/reports/{unnamed.public_id}/")
    expect(page.get_by_test_id("dismissal-reason")).to_have_text("Sama dengan laporan Dodi.")
    page.goto(f"/reports/{dodi.public_id}/")
    expect(page.get_by_test_id("report-outcome")).to_contain_text("Balai Anak Lain")
    expect(page.get_by_test_id("triage-actions")).to_have_count(0)
    assert page.goto("/intake/").status == 403
