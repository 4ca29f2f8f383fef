"""A social worker assesses a child, plans services, logs a home visit with a follow-up;
two pages saving the same assessment: the second is told, not silently overwritten."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import ServiceComponent
from cases.models import Assessment, Case, CaseNote, FollowUp, PlanItem, TimelineEntry
from cases.records import assessment_create
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def english(page, live_server):
    # The assertions read English text; the portal speaks Indonesian unless asked.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])


def test_worker_assesses_plans_and_logs_a_home_visit(page, org, other_org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    worker.first_name, worker.last_name = "Rina", "Peksos"
    worker.save()
    case = open_case(organisation=org, by=worker)
    Case.objects.filter(pk=case.pk).update(stage="perencanaan")
    today = timezone.localdate()
    terapi = ServiceComponent.objects.get(code="terapi")
    vokasional = ServiceComponent.objects.get(code="vokasional")

    login(page, "peksos.uji", PASSWORD)

    # An assessment, with needs under two components and the documents the child holds.
    page.goto(f"/cases/{case.pk}/assessments/")
    expect(page.get_by_test_id("assessment-empty")).to_be_visible()
    page.get_by_test_id("assessment-new").click()
    form = page.get_by_test_id("assessment-form")
    form.locator("textarea[name=problems]").fill("Putus sekolah, bekerja di pasar malam.")
    form.locator("textarea[name=need_terapi]").fill("Konseling untuk trauma.")
    form.locator("textarea[name=need_vokasional]").fill("Kursus menjahit.")
    form.locator("input[name=identity_documents][value=akta]").check()
    form.locator("input[name=identity_documents][value=kk]").check()
    form.locator("textarea[name=conclusion]").fill("Perlu dukungan keluarga dan kembali sekolah.")
    page.get_by_test_id("assessment-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/assessments/")
    latest = page.get_by_test_id("assessment").first
    expect(latest.get_by_test_id("assessment-problems")).to_be_visible()  # the latest is open
    expect(latest).to_contain_text("Konseling untuk trauma.")
    expect(latest).to_contain_text("Birth certificate (akta kelahiran)")

    # Two services: one by the own organisation, one by another (a referral will be needed).
    page.get_by_role("link", name="Plan", exact=True).click()
    page.get_by_test_id("plan-item-new").click()
    page.select_option("select[name=component]", str(terapi.pk))
    page.fill("input[name=service]", "Konseling psikososial mingguan")
    page.fill("input[name=target_date]", (today + datetime.timedelta(days=60)).isoformat())
    page.get_by_test_id("plan-item-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/plan/")
    page.get_by_test_id("plan-item-new").click()
    page.select_option("select[name=component]", str(vokasional.pk))
    page.fill("input[name=service]", "Kursus menjahit")
    page.fill("#provider-search", "Lain")
    page.select_option("select[name=provider]", str(other_org.pk))
    page.fill("input[name=target_date]", (today - datetime.timedelta(days=1)).isoformat())
    page.get_by_test_id("plan-item-save").click()
    # Bad input: the target is before the start; nothing saved, the form says why.
    expect(page.get_by_test_id("plan-item-form")).to_contain_text("cannot be before the start date")
    assert PlanItem.objects.count() == 1
    page.fill("input[name=target_date]", (today + datetime.timedelta(days=90)).isoformat())
    page.get_by_test_id("plan-item-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/plan/")
    expect(page.locator(".alert")).to_contain_text(["a referral to them will be needed"])
    expect(page.get_by_test_id("plan-item")).to_have_count(2)
    expect(page.get_by_test_id("plan-group")).to_have_count(2)
    expect(page.get_by_test_id("plan-item-send-referral")).to_have_count(1)

    # A home visit, with a follow-up for the next step; its fields show when ticked.
    page.get_by_role("link", name="Notes and follow-ups").click()
    page.get_by_test_id("note-new").click()
    expect(page.get_by_test_id("note-follow-up")).to_be_hidden()
    page.select_option("select[name=kind]", "home_visit")
    page.fill("input[name=participants]", "Anak, nenek")
    page.fill("textarea[name=narrative]", "Anak ada di rumah; nenek setuju anak kembali sekolah.")
    page.fill("textarea[name=next_step]", "Bertemu kepala sekolah.")
    page.check("input[name=add_follow_up]")
    expect(page.get_by_test_id("note-follow-up")).to_be_visible()
    page.select_option("select[name=follow_up_kind]", "home_visit")
    page.fill("input[name=follow_up_due_on]", (today + datetime.timedelta(days=7)).isoformat())
    page.get_by_test_id("note-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/notes/")
    expect(page.get_by_test_id("note")).to_have_count(1)
    expect(page.get_by_test_id("note").first).to_contain_text("nenek setuju")
    pending = page.get_by_test_id("follow-ups-pending")
    expect(pending.get_by_test_id("follow-up")).to_have_count(1)
    expect(pending).to_contain_text("Rina Peksos")
    assert FollowUp.objects.get().note == CaseNote.objects.get()
    kinds = set(TimelineEntry.objects.filter(case=case).values_list("kind", flat=True))
    assert {"assessment", "plan_item", "note", "follow_up"} <= kinds
    assert page.csp_violations == []


def test_two_pages_saving_the_same_assessment_the_second_gets_the_conflict(page, browser, live_server, org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    supervisor = member(organisation=org, role=Role.SUPERVISOR, username="penyelia.uji")
    supervisor.first_name, supervisor.last_name = "Sri", "Penyelia"
    supervisor.save()
    case = open_case(organisation=org, by=worker)
    assessment = assessment_create(
        case=case, by=worker, assessed_on=timezone.localdate(), problems="Teks awal", conclusion="Kesimpulan awal"
    )
    edit = f"/cases/{case.pk}/assessments/{assessment.pk}/edit/"

    login(page, "peksos.uji", PASSWORD)
    page.goto(edit)
    # The supervisor opens the same assessment in another browser.
    other_context = browser.new_context(base_url=live_server.url, locale="en-US")
    other = other_context.new_page()
    login(other, "penyelia.uji", PASSWORD)
    other.goto(edit)

    other.fill("textarea[name=problems]", "Teks penyelia")
    other.get_by_test_id("assessment-save").click()
    other.wait_for_url(f"**/cases/{case.pk}/assessments/")

    page.fill("textarea[name=problems]", "Teks pekerja")
    page.get_by_test_id("assessment-save").click()
    conflict = page.get_by_test_id("assessment-conflict")
    expect(conflict).to_contain_text("Someone else saved this assessment while you were editing (by Sri Penyelia at")
    expect(conflict).to_contain_text("Your changes were not saved; open it again to see theirs.")
    expect(page.locator("textarea[name=problems]")).to_have_value("Teks pekerja")
    assessment.refresh_from_db()
    assert (assessment.problems, assessment.version) == ("Teks penyelia", 2)

    # Opening it again shows the supervisor's text, and saving from there works.
    conflict.get_by_test_id("assessment-reopen").click()
    expect(page.locator("textarea[name=problems]")).to_have_value("Teks penyelia")
    page.fill("textarea[name=problems]", "Teks penyelia, ditambah pekerja")
    page.get_by_test_id("assessment-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/assessments/")
    assessment.refresh_from_db()
    assert (assessment.problems, assessment.version) == ("Teks penyelia, ditambah pekerja", 3)
    assert Assessment.objects.count() == 1
    other_context.close()
    assert page.csp_violations == []
