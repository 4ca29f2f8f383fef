"""A social worker searches before registering a child, is shown a possible duplicate
registered elsewhere (without its name), confirms it is another child, registers the
child with a valid NIK and opens a case."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from cases.models import Beneficiary, Case
from cases.tests.factories import BeneficiaryFactory
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_social_worker_registers_a_child_after_a_possible_duplicate(page, org, other_org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    boss = member(organisation=org, role=Role.SUPERVISOR, username="bos")
    elsewhere = member(organisation=other_org)
    other = BeneficiaryFactory(
        organisation=other_org,
        created_by=elsewhere,
        full_name="Rachmat Hidayat",
        birth_date=datetime.date(2015, 3, 2),
        regency_code="1571",
    )

    login(page, "rina", PASSWORD)
    page.goto("/cases/beneficiaries/")
    page.fill("#id_full_name", "Rahmat Hidayat")
    page.fill("#id_birth_year", "2015")
    page.get_by_test_id("beneficiary-search-submit").click()

    matches = page.get_by_test_id("possible-match")
    expect(matches).to_have_count(1)
    expect(matches.first).to_contain_text("Balai Anak Lain")
    expect(matches.first).to_contain_text("2015")
    assert "Rachmat" not in page.get_by_test_id("search-results").inner_text()
    page.get_by_test_id("register-new").click()

    form = page.get_by_test_id("beneficiary-form")
    expect(page.locator("#id_full_name")).to_have_value("Rahmat Hidayat")
    form.locator("input[name=sex][value=M]").check()
    page.fill("#id_birth_date", "2015-05-17")
    page.fill("#id_nik", "1571 0117 0515 0001")
    box = page.locator("#id_village")
    box.press_sequentially("Telanaipura", delay=20)
    page.locator("#id_village_listbox").get_by_role("option").filter(has_text="Kota Jambi").first.click()
    expect(page.locator("#id_village_value")).to_have_value("1571011004")
    page.get_by_test_id("beneficiary-save").click()

    # The server runs the duplicate search again and asks about the match.
    candidates = page.get_by_test_id("duplicate-candidate")
    expect(candidates).to_have_count(1)
    expect(candidates.first).to_contain_text("Balai Anak Lain")
    assert Beneficiary.objects.count() == 1
    candidates.first.locator("input[name=not_same]").check()
    page.get_by_test_id("beneficiary-save").click()

    expect(page.get_by_test_id("beneficiary-name")).to_have_text("Rahmat Hidayat")
    expect(page.get_by_test_id("beneficiary-nik")).to_have_text("1571011705150001")
    child = Beneficiary.objects.get(nik="1571011705150001")
    assert list(child.distinct_from.all()) == [other]

    page.get_by_test_id("beneficiary-open-case").click()
    page.select_option("#id_risk_level", "high")
    page.fill("#id_summary", "Tidak sekolah, bekerja di pasar.")
    expect(page.locator("#id_supervisor")).to_have_value(str(boss.pk))
    page.get_by_test_id("case-open").click()
    page.wait_for_url(re.compile(r"/cases/\d+/"))

    case = Case.objects.get()
    assert (case.beneficiary, case.risk_level, case.supervisor) == (child, "high", boss)
    expect(page.get_by_text(case.number).first).to_be_visible()
    assert page.csp_violations == []
