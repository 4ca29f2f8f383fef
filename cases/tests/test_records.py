"""Records of a case: assessments (with edit conflicts), the intervention plan, notes and
visits, follow-ups. Who may write, who may only read, who gets 404; bad input changes nothing."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog, ServiceComponent
from atensi.testing.second_factor import Client
from cases import records
from cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Assessment,
    Case,
    CaseNote,
    FollowUp,
    FollowUpStatus,
    PlanItem,
    PlanItemStatus,
    TimelineEntry,
)
from cases.tests.factories import open_case
from cases.tests.workflow_helpers import close
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
ONE_DAY = datetime.timedelta(days=1)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def en() -> Any:
    """en(user) -> a test client logged in as `user`, asking for English."""

    def make(user: Any) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


@pytest.fixture
def case(org: Any, owner: Any) -> Case:
    """An open case of `org` whose case manager is `owner`."""
    return open_case(organisation=org, by=owner)


def set_stage(case: Case, stage: str) -> Case:
    if stage == "closed":
        Case.objects.filter(pk=case.pk).update(stage=stage, closed_at=timezone.now(), closure_reason="goals_met")
    else:
        Case.objects.filter(pk=case.pk).update(stage=stage)
    case.refresh_from_db()
    return case


def component(code: str = "terapi") -> ServiceComponent:
    return ServiceComponent.objects.get(code=code)


def url(name: str, case: Case, *args: Any) -> str:
    return reverse(f"cases:{name}", args=[case.pk, *args])


def text(response: Any) -> str:
    return response.content.decode()


def token() -> str:
    return str(uuid.uuid4())


def assessment_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "assessed_on": TODAY().isoformat(),
        "problems": "Putus sekolah sejak kelas 4, bekerja di pasar.",
        "need_terapi": "Konseling mingguan.",
        "need_vokasional": "   ",
        "strengths": "Nenek peduli.",
        "risks": "",
        "family_situation": "Tinggal dengan nenek.",
        "education": "Putus sekolah.",
        "health": "Sehat.",
        "legal_situation": "",
        "diversion_stage": "",
        "court": "",
        "identity_documents": ["akta", "kk"],
        "conclusion": "Perlu pendampingan keluarga dan kembali ke sekolah.",
        "submission_token": token(),
    }
    data.update(overrides)
    return data


def assessment_of(case: Case, by: Any, **overrides: Any) -> Assessment:
    kwargs: dict[str, Any] = {
        "assessed_on": TODAY(),
        "problems": "Masalah awal",
        "conclusion": "Kesimpulan awal",
        "needs": {"terapi": "Konseling"},
    }
    kwargs.update(overrides)
    return records.assessment_create(case=case, by=by, **kwargs)


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "component": component().pk,
        "service": "Konseling psikososial mingguan",
        "provider": "",
        "responsible": "",
        "start_date": TODAY().isoformat(),
        "target_date": (TODAY() + 30 * ONE_DAY).isoformat(),
        "status": "planned",
        "outcome": "",
        "submission_token": token(),
    }
    data.update(overrides)
    return data


def plan_item_of(case: Case, by: Any, **overrides: Any) -> PlanItem:
    kwargs: dict[str, Any] = {
        "component": component(),
        "service": "Konseling",
        "start_date": TODAY(),
        "target_date": TODAY() + 30 * ONE_DAY,
        "responsible": by,
    }
    kwargs.update(overrides)
    return records.plan_item_create(case=case, by=by, **kwargs).item


def note_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "home_visit",
        "occurred_on": TODAY().isoformat(),
        "participants": "Anak, nenek",
        "narrative": "Kunjungan rumah: anak ada di rumah, nenek bercerita tentang sekolah.",
        "next_step": "Bertemu kepala sekolah.",
        "submission_token": token(),
    }
    data.update(overrides)
    return data


def follow_up_of(case: Case, by: Any, **overrides: Any) -> FollowUp:
    kwargs: dict[str, Any] = {"kind": "home_visit", "due_on": TODAY() + 7 * ONE_DAY, "assignee": by}
    kwargs.update(overrides)
    return records.follow_up_create(case=case, by=by, **kwargs)


# --- Assessments -----------------------------------------------------------------------------


def test_case_manager_writes_an_assessment(en, case, owner):
    response = en(owner).post(url("assessment_create", case), assessment_data(), follow=True)
    assert response.status_code == 200
    assert "The assessment was saved." in text(response)
    assessment = Assessment.objects.get(case=case)
    assert assessment.author == owner
    # One text per component; the empty one is dropped.
    assert assessment.needs == {"terapi": "Konseling mingguan."}
    assert assessment.identity_documents == ["akta", "kk"]
    assert assessment.version == 1
    entry = TimelineEntry.objects.get(case=case, kind="assessment")
    assert entry.object_id == assessment.pk
    assert entry.data == {"action": "created", "assessed_on": TODAY().isoformat()}


def test_the_form_has_one_need_per_active_component(en, case, owner):
    ServiceComponent.objects.filter(code="aksesibilitas").update(is_active=False)
    page = text(en(owner).get(url("assessment_create", case)))
    for code in ServiceComponent.objects.filter(is_active=True).values_list("code", flat=True):
        assert f'name="need_{code}"' in page
    assert 'name="need_aksesibilitas"' not in page


def test_a_supervisor_may_write_an_assessment_too(en, case, supervisor):
    response = en(supervisor).post(url("assessment_create", case), assessment_data())
    assert response.status_code == 302
    assert Assessment.objects.filter(case=case, author=supervisor).exists()


def test_assessments_are_listed_newest_first_with_the_latest_open(en, case, owner, colleague):
    older = assessment_of(case, owner, conclusion="Kesimpulan lama")
    newer = assessment_of(case, owner, conclusion="Kesimpulan baru")
    response = en(colleague).get(url("case_assessments", case))
    page = text(response)
    assert response.status_code == 200
    assert page.index("Kesimpulan baru") < page.index("Kesimpulan lama")
    assert f'id="assessment-{newer.pk}" class="accordion-collapse collapse show"' in page
    assert f'id="assessment-{older.pk}" class="accordion-collapse collapse"' in page
    # A colleague reads, but gets no buttons to change anything.
    assert 'data-testid="assessment-new"' not in page
    assert 'data-testid="assessment-edit"' not in page
    assert AccessLog.objects.filter(user=colleague, target_id=str(case.pk), action="view").exists()


def test_an_assessment_in_the_future_is_refused(en, case, owner):
    tomorrow = TODAY() + ONE_DAY
    response = en(owner).post(url("assessment_create", case), assessment_data(assessed_on=tomorrow.isoformat()))
    assert response.status_code == 200
    assert "The assessment date cannot be in the future" in text(response)
    assert not Assessment.objects.exists()
    assert not TimelineEntry.objects.filter(kind="assessment").exists()


def test_an_assessment_before_the_case_was_opened_is_refused(case, owner):
    with pytest.raises(ApplicationError, match="cannot be before the case was opened") as excinfo:
        assessment_of(case, owner, assessed_on=TODAY() - 10 * ONE_DAY)
    assert excinfo.value.field == "assessed_on"
    assert not Assessment.objects.exists()


def test_an_unknown_component_in_the_needs_is_refused(case, owner):
    with pytest.raises(ApplicationError, match="is not an ATENSI service component"):
        assessment_of(case, owner, needs={"sulap": "Trik"})
    assert not Assessment.objects.exists()


def test_an_assessment_needs_problems_and_a_conclusion(en, case, owner):
    response = en(owner).post(url("assessment_create", case), assessment_data(problems=" ", conclusion=""))
    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert not Assessment.objects.exists()


def test_no_assessment_on_a_closed_case(en, case, owner):
    set_stage(case, "closed")
    response = en(owner).post(url("assessment_create", case), assessment_data(), follow=True)
    assert "This case is closed. Reopen it to add or change an assessment." in text(response)
    assert not Assessment.objects.exists()


def test_editing_an_assessment_bumps_its_version(en, case, owner):
    assessment = assessment_of(case, owner)
    data = assessment_data(version=1, problems="Masalah diperbarui", need_terapi="", need_vokasional="Kursus")
    response = en(owner).post(url("assessment_edit", case, assessment.pk), data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.problems == "Masalah diperbarui"
    assert assessment.needs == {"vokasional": "Kursus"}
    assert assessment.version == 2
    assert TimelineEntry.objects.filter(case=case, kind="assessment", data__action="edited").count() == 1


def test_the_edit_form_carries_the_version_it_started_from(en, case, owner):
    assessment = assessment_of(case, owner)
    Assessment.objects.filter(pk=assessment.pk).update(version=7)
    page = text(en(owner).get(url("assessment_edit", case, assessment.pk)))
    assert 'name="version" value="7"' in page
    assert "Masalah awal" in page


def test_two_editors_from_the_same_version_the_second_is_refused(en, case, owner, supervisor):
    assessment = assessment_of(case, owner)
    supervisor.first_name, supervisor.last_name = "Sri", "Penyelia"
    supervisor.save()
    first = assessment_data(version=1, problems="Teks penyelia", conclusion="Kesimpulan penyelia")
    second = assessment_data(version=1, problems="Teks pekerja", conclusion="Kesimpulan pekerja")
    # Both opened the form at version 1; the supervisor saves first.
    assert en(supervisor).post(url("assessment_edit", case, assessment.pk), first).status_code == 302
    response = en(owner).post(url("assessment_edit", case, assessment.pk), second)
    page = text(response)
    assert response.status_code == 200
    saved_at = timezone.localtime(Assessment.objects.get(pk=assessment.pk).updated_at).strftime("%H:%M")
    assert (
        f"Someone else saved this assessment while you were editing (by Sri Penyelia at {saved_at}). "
        "Your changes were not saved; open it again to see theirs."
    ) in page
    assert "Teks pekerja" in page  # the refused text is still in the form to copy from
    assessment.refresh_from_db()
    assert assessment.problems == "Teks penyelia"
    assert assessment.conclusion == "Kesimpulan penyelia"
    assert assessment.version == 2
    assert TimelineEntry.objects.filter(kind="assessment", data__action="edited").count() == 1


def test_the_same_edit_sent_twice_is_not_a_conflict(case, owner):
    assessment = assessment_of(case, owner)
    values = {"assessed_on": TODAY(), "problems": "Baru", "conclusion": "Baru juga", "needs": {}}
    records.assessment_update(assessment=assessment, by=owner, version=1, **values)
    again = records.assessment_update(assessment=assessment, by=owner, version=1, **values)
    assert again.version == 2
    assert TimelineEntry.objects.filter(kind="assessment", data__action="edited").count() == 1


# --- The plan ----------------------------------------------------------------------------------


@pytest.fixture
def planning(case: Case) -> Case:
    return set_stage(case, "perencanaan")


def test_case_manager_adds_a_plan_item(en, planning, owner):
    response = en(owner).post(url("plan_item_create", planning), plan_data(responsible=owner.pk), follow=True)
    assert "The plan item was saved." in text(response)
    assert "a referral will be needed" not in text(response)
    item = PlanItem.objects.get(case=planning)
    assert item.provider is None
    assert item.responsible == owner
    assert item.created_by == owner
    entry = TimelineEntry.objects.get(case=planning, kind="plan_item")
    assert entry.data["action"] == "created"
    assert entry.data["component"] == "terapi"
    assert entry.data["service"] == "Konseling psikososial mingguan"
    assert entry.data["status"] == "planned"


def test_a_provider_elsewhere_is_stored_and_needs_a_referral(en, planning, owner, other_org):
    response = en(owner).post(
        url("plan_item_create", planning), plan_data(provider=other_org.pk, responsible=owner.pk), follow=True
    )
    page = text(response)
    assert "Balai Anak Lain provides this service: a referral to them will be needed." in page
    assert PlanItem.objects.get(case=planning).provider == other_org
    assert 'data-testid="plan-item-send-referral"' in page


def test_the_own_organisation_as_provider_is_stored_as_empty(planning, owner, org):
    item = plan_item_of(planning, owner, provider=org)
    assert item.provider is None


def test_an_inactive_provider_is_refused(en, planning, owner):
    closed = OrganisationFactory(code="LKSA-TUTUP", name="LKSA Tutup", is_active=False)
    response = en(owner).post(url("plan_item_create", planning), plan_data(provider=closed.pk, responsible=owner.pk))
    assert response.status_code == 200
    assert "That organisation is not active in the portal." in text(response)
    assert not PlanItem.objects.exists()
    with pytest.raises(ApplicationError, match="LKSA Tutup is not active in the portal") as excinfo:
        plan_item_of(planning, owner, provider=closed)
    assert excinfo.value.field == "provider"
    assert not PlanItem.objects.exists()


def test_a_target_before_the_start_is_refused(en, planning, owner):
    data = plan_data(responsible=owner.pk, target_date=(TODAY() - ONE_DAY).isoformat())
    response = en(owner).post(url("plan_item_create", planning), data)
    assert response.status_code == 200
    assert "The target date" in text(response)
    assert "cannot be before the start date" in text(response)
    assert not PlanItem.objects.exists()


def test_done_without_an_outcome_is_refused(en, planning, owner):
    item = plan_item_of(planning, owner)
    data = plan_data(responsible=owner.pk, status="done", outcome="  ")
    response = en(owner).post(url("plan_item_edit", planning, item.pk), data)
    assert response.status_code == 200
    assert "Write the outcome before marking the item as done." in text(response)
    item.refresh_from_db()
    assert item.status == PlanItemStatus.PLANNED
    data["outcome"] = "Anak hadir di 8 dari 8 sesi."
    assert en(owner).post(url("plan_item_edit", planning, item.pk), data).status_code == 302
    item.refresh_from_db()
    assert item.status == PlanItemStatus.DONE
    assert TimelineEntry.objects.filter(kind="plan_item", data__action="edited", data__status="done").exists()


def test_the_responsible_worker_must_work_in_the_organisation(en, planning, owner, outsider, other_org):
    response = en(owner).post(url("plan_item_create", planning), plan_data(responsible=outsider.pk))
    assert "Choose someone who works cases in your organisation." in text(response)
    with pytest.raises(ApplicationError, match="does not work cases at Balai Anak Uji") as excinfo:
        plan_item_of(planning, owner, responsible=member(organisation=other_org, role=Role.SOCIAL_WORKER))
    assert excinfo.value.field == "responsible"
    assert not PlanItem.objects.exists()


def test_an_org_admin_is_not_a_responsible_worker(planning, owner, org_admin):
    with pytest.raises(ApplicationError, match="does not work cases"):
        plan_item_of(planning, owner, responsible=org_admin)
    assert not PlanItem.objects.exists()


@pytest.mark.parametrize("stage", ["pendekatan_awal", "asesmen", "terminasi", "bimbingan_lanjut"])
def test_the_plan_is_changed_only_in_its_stages(en, case, owner, stage):
    item = plan_item_of(set_stage(case, "perencanaan"), owner)
    set_stage(case, stage)
    response = en(owner).post(url("plan_item_create", case), plan_data(responsible=owner.pk), follow=True)
    assert "The plan can be changed only in the planning, intervention or monitoring stage" in text(response)
    response = en(owner).post(url("plan_item_edit", case, item.pk), plan_data(service="Lain", responsible=owner.pk))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.service == "Konseling"
    assert PlanItem.objects.count() == 1


@pytest.mark.parametrize("stage", ["intervensi", "monitoring_evaluasi"])
def test_the_plan_may_be_adjusted_during_intervention_and_monitoring(case, owner, stage):
    set_stage(case, stage)
    item = plan_item_of(case, owner)
    saved = records.plan_item_update(
        item=item,
        by=owner,
        component=item.component,
        service=item.service,
        start_date=item.start_date,
        target_date=item.target_date,
        responsible=owner,
        status=PlanItemStatus.IN_PROGRESS,
    )
    assert saved.item.status == PlanItemStatus.IN_PROGRESS


def test_marking_an_item_done_records_when_and_undoing_it_forgets(case, owner):
    set_stage(case, "intervensi")
    item = plan_item_of(case, owner)

    def update(status: str, outcome: str = "") -> PlanItem:
        return records.plan_item_update(
            item=item,
            by=owner,
            component=item.component,
            service=item.service,
            start_date=item.start_date,
            target_date=item.target_date,
            responsible=owner,
            status=status,
            outcome=outcome,
        ).item

    assert item.done_at is None
    with time_machine.travel(datetime.datetime(2026, 11, 20, 3, 0, tzinfo=datetime.UTC), tick=False):
        update(PlanItemStatus.DONE, "Anak kembali sekolah.")
    item.refresh_from_db()
    assert item.done_at == datetime.datetime(2026, 11, 20, 3, 0, tzinfo=datetime.UTC)
    update(PlanItemStatus.DONE, "Anak kembali sekolah, rutin.")  # another edit keeps the day it was done
    item.refresh_from_db()
    assert item.done_at == datetime.datetime(2026, 11, 20, 3, 0, tzinfo=datetime.UTC)
    update(PlanItemStatus.IN_PROGRESS)
    item.refresh_from_db()
    assert item.done_at is None


def approve_plan(case: Case, supervisor: Any) -> Approval:
    return Approval.objects.create(
        case=case,
        kind=ApprovalKind.PLAN,
        status=ApprovalStatus.APPROVED,
        requested_by=case.case_manager,
        decided_by=supervisor,
        decided_at=timezone.now(),
    )


def test_a_change_after_approval_is_marked_not_yet_approved(en, planning, owner, supervisor):
    kept = plan_item_of(planning, owner, service="Disetujui")
    approve_plan(planning, supervisor)
    client = en(owner)
    response = client.post(url("plan_item_create", planning), plan_data(responsible=owner.pk), follow=True)
    page = text(response)
    assert "The plan was approved before; this change is not yet approved." in page
    added = PlanItem.objects.get(service="Konseling psikososial mingguan")
    assert 'data-testid="plan-unapproved"' in page
    assert page.count('data-testid="plan-item-unapproved"') == 1
    # Progress on an approved item (status, dates) does not need a new approval.
    data = plan_data(
        component=kept.component_id, service="Disetujui", responsible=owner.pk, status="in_progress", outcome=""
    )
    response = client.post(url("plan_item_edit", planning, kept.pk), data, follow=True)
    assert "this change is not yet approved" not in text(response)
    assert TimelineEntry.objects.get(object_id=added.pk, kind="plan_item").data["needs_approval"] is True
    assert TimelineEntry.objects.get(object_id=kept.pk, data__action="edited").data["needs_approval"] is False


def test_the_plan_page_groups_by_component_and_shows_the_approval(en, planning, owner, colleague, supervisor):
    plan_item_of(planning, owner, component=component("vokasional"), service="Kursus menjahit")
    plan_item_of(planning, owner, component=component("terapi"), service="Konseling A")
    plan_item_of(planning, owner, component=component("terapi"), service="Konseling B")
    Approval.objects.create(case=planning, kind=ApprovalKind.PLAN, requested_by=owner)
    response = en(colleague).get(url("case_plan", planning))
    page = text(response)
    assert response.status_code == 200
    assert page.count('data-testid="plan-group"') == 2
    assert page.index("Konseling A") < page.index("Konseling B") < page.index("Kursus menjahit")
    assert "Waiting for approval" in page
    assert 'data-testid="plan-item-new"' not in page  # a colleague only reads


# --- Notes, visits and follow-ups ------------------------------------------------------------------


def test_a_home_visit_with_a_follow_up(en, case, owner):
    due = TODAY() + 14 * ONE_DAY
    data = note_data(add_follow_up="on", follow_up_kind="home_visit", follow_up_due_on=due.isoformat())
    response = en(owner).post(url("note_create", case), data, follow=True)
    assert "The note was saved, with a follow-up due on" in text(response)
    note = CaseNote.objects.get(case=case)
    assert note.author == owner
    follow_up = FollowUp.objects.get(case=case)
    assert follow_up.note == note
    assert follow_up.assignee == owner  # the case manager, by default
    assert follow_up.due_on == due
    assert follow_up.description == "Bertemu kepala sekolah."
    kinds = set(TimelineEntry.objects.filter(case=case).values_list("kind", flat=True))
    assert {"note", "follow_up"} <= kinds
    assert TimelineEntry.objects.get(kind="note").data == {
        "note_kind": "home_visit",
        "occurred_on": TODAY().isoformat(),
    }
    assert TimelineEntry.objects.get(kind="follow_up").data["due_on"] == due.isoformat()


def test_a_note_in_the_future_is_refused(en, case, owner):
    data = note_data(occurred_on=(TODAY() + ONE_DAY).isoformat())
    response = en(owner).post(url("note_create", case), data)
    assert "The date of the note or visit cannot be in the future" in text(response)
    assert not CaseNote.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "at most 20000 characters (it has 1000000)"),
        ("id", "paling banyak 20000 karakter (sekarang 1000000 karakter)"),
    ],
)
def test_a_note_of_a_million_characters_is_refused_with_a_message(case, owner, language, message):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(owner)
    response = client.post(url("note_create", case), note_data(narrative="x" * 1_000_000))
    assert response.status_code == 200 and message in text(response)
    assert not CaseNote.objects.exists()


def test_a_follow_up_due_in_the_past_saves_neither_note_nor_follow_up(en, case, owner):
    data = note_data(add_follow_up="on", follow_up_kind="home_visit", follow_up_due_on=(TODAY() - ONE_DAY).isoformat())
    response = en(owner).post(url("note_create", case), data)
    assert "The follow-up cannot be due in the past" in text(response)
    assert not CaseNote.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_ticked_follow_up_needs_a_kind_and_a_date(en, case, owner):
    response = en(owner).post(url("note_create", case), note_data(add_follow_up="on"))
    assert "Choose what kind of follow-up it is." in text(response)
    assert "Choose when the follow-up is due." in text(response)
    assert not CaseNote.objects.exists()


def test_a_double_submitted_note_is_saved_once(en, case, owner):
    client = en(owner)
    data = note_data()
    assert client.post(url("note_create", case), data).status_code == 302
    response = client.post(url("note_create", case), data, follow=True)
    assert "This form was already saved. Nothing was saved twice." in text(response)
    assert CaseNote.objects.filter(case=case).count() == 1
    assert TimelineEntry.objects.filter(case=case, kind="note").count() == 1


def test_visits_go_on_in_aftercare_but_not_on_a_closed_case(en, case, owner):
    set_stage(case, "bimbingan_lanjut")
    assert en(owner).post(url("note_create", case), note_data()).status_code == 302
    set_stage(case, "closed")
    response = en(owner).post(url("note_create", case), note_data(), follow=True)
    assert "This case is closed. Reopen it to log a note, a visit or a follow-up." in text(response)
    assert CaseNote.objects.count() == 1


def test_follow_ups_pending_first_and_overdue_marked_by_the_jakarta_date(en, case, owner):
    # 18:30 UTC on 10 March is 01:30 on 11 March in Jakarta: a follow-up due on the 10th is overdue.
    with time_machine.travel(datetime.datetime(2025, 3, 10, 18, 30, tzinfo=datetime.UTC), tick=False):
        Case.objects.filter(pk=case.pk).update(opened_at=timezone.now() - 30 * ONE_DAY)
        overdue = FollowUp.objects.create(
            case=case, kind="home_visit", due_on=datetime.date(2025, 3, 10), assignee=owner, created_by=owner
        )
        upcoming = FollowUp.objects.create(
            case=case, kind="case_review", due_on=datetime.date(2025, 3, 11), assignee=owner, created_by=owner
        )
        FollowUp.objects.create(
            case=case,
            kind="plan_review",
            due_on=datetime.date(2025, 3, 1),
            assignee=owner,
            created_by=owner,
            status=FollowUpStatus.DONE,
            completed_at=timezone.now(),
        )
        response = en(owner).get(url("case_notes", case))
    page = text(response)
    pending = page.split('data-testid="follow-ups-pending"')[1].split("</ul>")[0]
    assert pending.count('data-testid="follow-up"') == 2
    assert pending.count('data-testid="follow-up-overdue"') == 1
    assert pending.index(f"/follow-ups/{overdue.pk}/") < pending.index(f"/follow-ups/{upcoming.pk}/")
    assert "Plan review" in page.split('data-testid="follow-ups-decided"')[1]


def test_case_manager_schedules_a_follow_up_for_a_colleague(en, case, owner, colleague):
    data = {
        "kind": "case_review",
        "due_on": TODAY().isoformat(),
        "assignee": colleague.pk,
        "description": "Tinjau kasus",
        "submission_token": token(),
    }
    assert en(owner).post(url("follow_up_create", case), data).status_code == 302
    follow_up = FollowUp.objects.get(case=case)
    assert (follow_up.assignee, follow_up.status, follow_up.note) == (colleague, FollowUpStatus.PENDING, None)
    assert TimelineEntry.objects.get(kind="follow_up").data["action"] == "created"


def test_a_follow_up_in_the_past_or_for_an_outsider_is_refused(en, case, owner, outsider):
    base = {"kind": "home_visit", "assignee": owner.pk, "description": "", "submission_token": token()}
    response = en(owner).post(url("follow_up_create", case), {**base, "due_on": (TODAY() - ONE_DAY).isoformat()})
    assert "The follow-up cannot be due in the past: choose today" in text(response)
    response = en(owner).post(
        url("follow_up_create", case), {**base, "due_on": TODAY().isoformat(), "assignee": outsider.pk}
    )
    assert "Choose someone who works cases in your organisation." in text(response)
    with pytest.raises(ApplicationError, match="does not work cases at Balai Anak Uji"):
        follow_up_of(case, owner, assignee=outsider)
    assert not FollowUp.objects.exists()


def test_marking_a_follow_up_done_applies_once(en, case, owner):
    follow_up = follow_up_of(case, owner)
    client = en(owner)
    response = client.post(url("follow_up_update", case, follow_up.pk), {"outcome": "done"}, follow=True)
    assert "The follow-up was marked as done." in text(response)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DONE
    first_completed = follow_up.completed_at
    assert first_completed is not None
    # The second click is told, and changes nothing.
    response = client.post(
        url("follow_up_update", case, follow_up.pk), {"outcome": "missed", "reason": "x"}, follow=True
    )
    assert "This follow-up was already marked as “Done”. Nothing was changed." in text(response)
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.completed_at, follow_up.missed_reason) == ("done", first_completed, "")
    assert TimelineEntry.objects.filter(kind="follow_up", data__action="done").count() == 1
    assert not TimelineEntry.objects.filter(kind="follow_up", data__action="missed").exists()


def test_missed_needs_a_reason(en, case, owner):
    follow_up = follow_up_of(case, owner)
    response = en(owner).post(
        url("follow_up_update", case, follow_up.pk), {"outcome": "missed", "reason": " "}, follow=True
    )
    assert "Say why the follow-up was missed." in text(response)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.PENDING
    response = en(owner).post(
        url("follow_up_update", case, follow_up.pk), {"outcome": "missed", "reason": "Keluarga pindah sementara"}
    )
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.missed_reason) == ("missed", "Keluarga pindah sementara")
    assert (
        TimelineEntry.objects.get(kind="follow_up", data__action="missed").data["reason"] == "Keluarga pindah sementara"
    )


def test_the_assignee_may_mark_their_own_follow_up(en, case, owner, colleague):
    mine = follow_up_of(case, owner, assignee=colleague)
    not_mine = follow_up_of(case, owner, assignee=owner)
    client = en(colleague)
    assert client.post(url("follow_up_update", case, mine.pk), {"outcome": "done"}).status_code == 302
    response = client.post(url("follow_up_update", case, not_mine.pk), {"outcome": "done"}, follow=True)
    assert "Only the case manager, a supervisor of Balai Anak Uji or the person it is assigned to" in text(response)
    mine.refresh_from_db()
    not_mine.refresh_from_db()
    assert (mine.status, not_mine.status) == ("done", "pending")


def test_a_note_sent_as_the_case_closes_is_refused(org, owner, supervisor):
    """Security review: a note written on a copy of the case loaded before it closed is refused."""
    case = open_case(organisation=org, by=owner)
    stale = Case.objects.get(pk=case.pk)  # the copy the view loaded
    close(case, owner, supervisor)  # another request closes the case meanwhile
    with pytest.raises(ApplicationError):
        records.note_create(case=stale, by=owner, kind="note", occurred_on=timezone.localdate(), narrative="x")
    assert not CaseNote.objects.filter(case=case).exists()


# --- Who may do what -----------------------------------------------------------------------------


def test_get_on_the_post_only_url_is_refused(en, case, owner):
    follow_up = follow_up_of(case, owner)
    assert en(owner).get(url("follow_up_update", case, follow_up.pk)).status_code == 405
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.PENDING


def test_outsider_gets_404_on_every_url(en, case, owner, outsider):
    set_stage(case, "perencanaan")
    assessment = assessment_of(case, owner)
    item = plan_item_of(case, owner)
    follow_up = follow_up_of(case, owner)
    client = en(outsider)
    for page in (url("case_assessments", case), url("case_plan", case), url("case_notes", case)):
        assert client.get(page).status_code == 404, page
    forms = [
        url("assessment_create", case),
        url("assessment_edit", case, assessment.pk),
        url("plan_item_create", case),
        url("plan_item_edit", case, item.pk),
        url("note_create", case),
        url("follow_up_create", case),
    ]
    for page in forms:
        assert client.get(page).status_code == 404, page
        assert client.post(page, {}).status_code == 404, page
    assert client.post(url("follow_up_update", case, follow_up.pk), {"outcome": "done"}).status_code == 404
    assert client.post(url("assessment_edit", case, assessment.pk), assessment_data(version=1)).status_code == 404
    assessment.refresh_from_db()
    follow_up.refresh_from_db()
    assert (assessment.version, follow_up.status) == (1, "pending")


def test_a_record_of_another_case_is_404(en, case, owner, org):
    other = open_case(organisation=org, by=owner)
    set_stage(other, "perencanaan")
    assessment = assessment_of(other, owner)
    item = plan_item_of(other, owner)
    follow_up = follow_up_of(other, owner)
    client = en(owner)
    assert client.get(url("assessment_edit", case, assessment.pk)).status_code == 404
    assert client.get(url("plan_item_edit", case, item.pk)).status_code == 404
    assert client.post(url("follow_up_update", case, follow_up.pk), {"outcome": "done"}).status_code == 404
    assert client.get(reverse("cases:case_notes", args=[999999])).status_code == 404


def test_a_colleague_reads_but_cannot_write(en, case, owner, colleague):
    set_stage(case, "perencanaan")
    assessment = assessment_of(case, owner)
    item = plan_item_of(case, owner)
    client = en(colleague)
    for page in ("case_assessments", "case_plan", "case_notes"):
        assert client.get(url(page, case)).status_code == 200
    refusal = "Only the case manager or a supervisor of Balai Anak Uji can change this case."
    attempts = [
        (url("assessment_create", case), assessment_data()),
        (url("assessment_edit", case, assessment.pk), assessment_data(version=1, problems="Ditimpa")),
        (url("plan_item_create", case), plan_data(responsible=colleague.pk)),
        (url("plan_item_edit", case, item.pk), plan_data(service="Ditimpa", responsible=colleague.pk)),
        (url("note_create", case), note_data()),
        (
            url("follow_up_create", case),
            {
                "kind": "home_visit",
                "due_on": TODAY().isoformat(),
                "assignee": colleague.pk,
                "submission_token": token(),
            },
        ),
    ]
    for target, data in attempts:
        response = client.post(target, data, follow=True)
        assert refusal in text(response), target
    assert Assessment.objects.count() == 1
    assessment.refresh_from_db()
    item.refresh_from_db()
    assert (assessment.problems, assessment.version) == ("Masalah awal", 1)
    assert item.service == "Konseling"
    assert PlanItem.objects.count() == 1
    assert not CaseNote.objects.exists()
    assert not FollowUp.objects.exists()
    with pytest.raises(ApplicationError, match="Only the case manager or a supervisor"):
        assessment_of(case, colleague)


def test_a_confidential_case_is_404_for_a_colleague(en, org, owner, colleague, supervisor):
    secret = open_case(organisation=org, by=owner, is_confidential=True)
    assert en(colleague).get(url("case_notes", secret)).status_code == 404
    assert en(supervisor).get(url("case_notes", secret)).status_code == 200


# --- Query counts -------------------------------------------------------------------------------------


def test_the_assessment_list_does_not_grow_with_assessments(en, case, owner, colleague, django_assert_max_num_queries):
    for n in range(25):
        assessment_of(case, owner, conclusion=f"Kesimpulan {n}")
    client = en(colleague)
    with django_assert_max_num_queries(8):
        response = client.get(url("case_assessments", case))
    assert text(response).count('data-testid="assessment"') == 25


def test_the_plan_page_does_not_grow_with_items(
    en, planning, owner, colleague, other_org, supervisor, django_assert_max_num_queries
):
    codes = list(ServiceComponent.objects.values_list("code", flat=True))
    for n in range(30):
        plan_item_of(
            planning,
            owner,
            component=component(codes[n % len(codes)]),
            service=f"Layanan {n}",
            provider=other_org if n % 3 == 0 else None,
            responsible=colleague if n % 2 else owner,
        )
    approve_plan(planning, supervisor)
    plan_item_of(planning, owner, service="Setelah persetujuan")
    # +2: the referrals carrying the other providers' items, and their receivers (prefetched).
    client = en(colleague)
    with django_assert_max_num_queries(11):
        response = client.get(url("case_plan", planning))
    assert text(response).count('data-testid="plan-item"') == 31


def test_the_notes_page_does_not_grow_with_notes(en, case, owner, colleague, django_assert_max_num_queries):
    for n in range(45):
        records.note_create(
            case=case,
            by=owner,
            kind="home_visit" if n % 2 else "phone",
            occurred_on=TODAY(),
            narrative=f"Catatan {n}",
            follow_up_kind="home_visit" if n % 3 == 0 else None,
            follow_up_due_on=TODAY() + ONE_DAY,
            follow_up_assignee=colleague if n % 2 else owner,
        )
    # Seen by a colleague who may mark the follow-ups assigned to them.
    client = en(colleague)
    with django_assert_max_num_queries(11):
        response = client.get(url("case_notes", case))
    page = text(response)
    assert page.count('data-testid="note"') == 20
    assert page.count('data-testid="follow-up"') == 15
    assert page.count('data-testid="follow-up-done"') == 7
    with django_assert_max_num_queries(11):
        response = client.get(url("case_notes", case), {"page": 3})
    assert text(response).count('data-testid="note"') == 5
