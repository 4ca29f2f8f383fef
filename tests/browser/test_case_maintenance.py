"""The supervisor's upkeep of the case file: merging a child registered twice, handing
a case to another worker; a worker correcting a child's record."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Beneficiary, BeneficiaryMerge, Case, TimelineEntry
from cases.tests.factories import BeneficiaryFactory, open_case, village
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_merges_a_child_registered_twice(page, org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    member(organisation=org, role=Role.SUPERVISOR, username="penyelia.uji")
    place = village()
    kept = BeneficiaryFactory.create(
        organisation=org, created_by=worker, full_name="Rina Putri Lestari", village=place, regency_code="1571"
    )
    twin = BeneficiaryFactory.create(
        organisation=org, created_by=worker, full_name="Rina Putri Lestary", village=place, regency_code="1571"
    )
    case = open_case(organisation=org, by=worker, beneficiary=twin)

    login(page, "penyelia.uji", PASSWORD)
    page.goto(f"/cases/beneficiaries/{kept.pk}/")
    page.get_by_test_id("merge-candidate").first.click()
    expect(page.get_by_test_id("merge-record")).to_have_count(2)
    form = page.get_by_test_id("merge-form")
    form.locator(f"input[name=survivor][value='{kept.pk}']").check()
    form.locator("textarea[name=reason]").fill("Nama sama di KK, dicek saat kunjungan rumah.")
    page.get_by_test_id("merge-submit").click()
    page.wait_for_url(f"**/cases/beneficiaries/{kept.pk}/")

    twin.refresh_from_db()
    case.refresh_from_db()
    assert twin.merged_into == kept and case.beneficiary == kept
    assert BeneficiaryMerge.objects.get().merged_by.username == "penyelia.uji"
    # The merged record's address leads to the one kept.
    page.goto(f"/cases/beneficiaries/{twin.pk}/")
    page.wait_for_url(f"**/cases/beneficiaries/{kept.pk}/")
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_supervisor_hands_a_case_to_another_worker(page, org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    other = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.dua")
    member(organisation=org, role=Role.SUPERVISOR, username="penyelia.uji")
    case = open_case(organisation=org, by=worker)

    login(page, "penyelia.uji", PASSWORD)
    page.goto(f"/cases/{case.pk}/edit/")
    form = page.get_by_test_id("case-edit-form")
    form.locator("select[name=case_manager]").select_option(str(other.pk))
    form.locator("select[name=risk_level]").select_option("high")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.locator("[data-testid=timeline-entry][data-kind=assigned]")).to_have_count(1)

    case.refresh_from_db()
    assert case.case_manager == other and case.risk_level == "high"
    assert TimelineEntry.objects.filter(case=case, kind="assigned").count() == 1
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_worker_corrects_a_childs_record_and_a_bad_kk_is_refused(page, org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    child = BeneficiaryFactory.create(organisation=org, created_by=worker, village=village(), regency_code="1571")
    case = open_case(organisation=org, by=worker, beneficiary=child)

    login(page, "peksos.uji", PASSWORD)
    page.goto(f"/cases/beneficiaries/{child.pk}/edit/")
    form = page.get_by_test_id("beneficiary-form")
    form.locator("input[name=kk_number]").fill("12345")
    page.get_by_test_id("beneficiary-save").click()
    expect(page.get_by_test_id("beneficiary-form").locator(".invalid-feedback").first).to_be_visible()
    child.refresh_from_db()
    assert child.kk_number == ""

    form = page.get_by_test_id("beneficiary-form")
    form.locator("input[name=kk_number]").fill("1571012003150004")
    form.locator("input[name=alias]").fill("Ucok")
    page.get_by_test_id("beneficiary-save").click()
    page.wait_for_url(f"**/cases/beneficiaries/{child.pk}/")
    child = Beneficiary.objects.get(pk=child.pk)
    assert (child.alias, child.kk_number) == ("Ucok", "1571012003150004")
    assert Case.objects.get(pk=case.pk).beneficiary_id == child.pk
    assert page.csp_violations == []  # type: ignore[attr-defined]
