"""The case workflow services: stage moves and their requirements, approvals, closing,
reopening, case edits and assignment — each rule with its message, and the races."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from atensi.core.errors import ApplicationError
from cases import workflow
from cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Basis,
    Case,
    ClosureReason,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PlanItem,
    PlanItemStatus,
    RiskLevel,
    Stage,
    TimelineEntry,
    TimelineKind,
)
from cases.tests.factories import cluster, open_case
from cases.tests.workflow_helpers import (
    approved_plan,
    assess,
    close,
    give_consent,
    move,
    plan_item,
    race,
    stage_entries,
    to_planning,
    to_stage,
)
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org: Any, owner: Any) -> Case:
    return open_case(organisation=org, by=owner)


# --- Stages ------------------------------------------------------------------------------


def test_it_moves_one_stage_forward_and_writes_the_timeline(case, owner):
    give_consent(case, owner)
    before = case.stage_changed_at
    moved = move(case, owner, Stage.ASESMEN)
    case.refresh_from_db()
    assert moved.stage == case.stage == Stage.ASESMEN
    assert case.stage_changed_at > before
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.STAGE)
    assert entry.actor == owner
    assert entry.data == {"from_stage": "pendekatan_awal", "to_stage": "asesmen", "note": ""}


def test_it_refuses_a_skip_and_names_the_missing_stage(case, owner):
    give_consent(case, owner)
    with pytest.raises(ApplicationError) as excinfo:
        move(case, owner, Stage.PERENCANAAN)
    assert str(excinfo.value) == (
        "A case moves one stage at a time: move it to Assessment before Intervention planning."
    )
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    assert not TimelineEntry.objects.filter(case=case, kind=TimelineKind.STAGE).exists()


def test_assessment_needs_active_consent_to_processing(case, owner):
    message = "Record the guardian's consent before the assessment (UU PDP Pasal 25)."
    with pytest.raises(ApplicationError, match=r"^Record the guardian's consent") as excinfo:
        move(case, owner, Stage.ASESMEN)
    assert str(excinfo.value) == message
    give_consent(case, owner, allows_processing=False, allows_photos=True)
    withdrawn = give_consent(case, owner)
    withdrawn.withdrawn_on = timezone.localdate()
    withdrawn.save()
    with pytest.raises(ApplicationError) as excinfo:
        move(case, owner, Stage.ASESMEN)
    assert str(excinfo.value) == message
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    give_consent(case, owner)
    assert move(case, owner, Stage.ASESMEN).stage == Stage.ASESMEN


def test_planning_needs_an_assessment(case, owner):
    give_consent(case, owner)
    move(case, owner, Stage.ASESMEN)
    with pytest.raises(ApplicationError) as excinfo:
        move(case, owner, Stage.PERENCANAAN)
    assert str(excinfo.value) == "Record an assessment before planning the intervention."
    case.refresh_from_db()
    assert case.stage == Stage.ASESMEN
    assess(case, owner)
    assert move(case, owner, Stage.PERENCANAAN).stage == Stage.PERENCANAAN


def test_no_intervention_without_an_approved_plan(case, owner, supervisor):
    to_planning(case, owner)

    def refused() -> str:
        with pytest.raises(ApplicationError) as excinfo:
            move(case, owner, Stage.INTERVENSI)
        case.refresh_from_db()
        assert case.stage == Stage.PERENCANAAN
        return str(excinfo.value)

    assert refused().startswith("No intervention without an approved plan: the plan has no items yet")
    plan_item(case, owner, status=PlanItemStatus.CANCELLED)
    assert "cancelled items do not count" in refused()
    plan_item(case, owner)
    assert refused() == "No intervention without an approved plan: ask a supervisor to approve the plan first."
    approval = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    assert refused() == "No intervention without an approved plan: the plan is still waiting for a supervisor."
    workflow.approval_decide(approval=approval, by=supervisor, approve=False, comment="Tambah layanan keluarga.")
    assert refused() == "No intervention without an approved plan: ask a supervisor to approve the plan first."
    approved_plan(case, owner, supervisor)
    assert move(case, owner, Stage.INTERVENSI).stage == Stage.INTERVENSI


def test_closed_is_never_reached_by_a_plain_move(case, owner, supervisor):
    to_stage(case, owner, supervisor, Stage.BIMBINGAN_LANJUT)
    with pytest.raises(ApplicationError, match="only through an approved closure request"):
        move(case, supervisor, Stage.CLOSED)
    case.refresh_from_db()
    assert case.stage == Stage.BIMBINGAN_LANJUT
    assert case.closed_at is None
    assert workflow.stage_next(case) is None


def test_moving_back_needs_a_note_and_keeps_it_on_the_timeline(case, owner):
    to_planning(case, owner)
    with pytest.raises(ApplicationError) as excinfo:
        move(case, owner, Stage.PENDEKATAN_AWAL, note="   ")
    assert str(excinfo.value) == "Say why the case goes back to Intake and engagement."
    assert excinfo.value.field == "note"
    case.refresh_from_db()
    assert case.stage == Stage.PERENCANAAN
    move(case, owner, Stage.PENDEKATAN_AWAL, note="Keluarga pindah rumah, mulai lagi.")
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    last = TimelineEntry.objects.filter(case=case, kind=TimelineKind.STAGE).first()
    assert last is not None
    assert last.data["note"] == "Keluarga pindah rumah, mulai lagi."
    assert stage_entries(case)[-1] == ("perencanaan", "pendekatan_awal")


def test_unknown_and_current_stage_are_refused(case, owner):
    with pytest.raises(ApplicationError, match="Choose a stage from the list"):
        move(case, owner, "terbang")
    with pytest.raises(ApplicationError) as excinfo:
        move(case, owner, Stage.PENDEKATAN_AWAL)
    assert str(excinfo.value) == "The case is already at the stage Intake and engagement."


def test_a_move_decided_on_an_outdated_page_is_refused(case, owner):
    to_planning(case, owner)
    with pytest.raises(ApplicationError, match="Someone moved this case to Intervention planning meanwhile"):
        workflow.case_stage_move(
            case=case, by=owner, to_stage=Stage.PENDEKATAN_AWAL, note="x", expected_stage=Stage.ASESMEN
        )
    case.refresh_from_db()
    assert case.stage == Stage.PERENCANAAN


def test_colleague_cannot_move_the_stage_but_a_supervisor_can(case, owner, colleague, supervisor):
    give_consent(case, owner)
    with pytest.raises(ApplicationError) as excinfo:
        move(case, colleague, Stage.ASESMEN)
    assert str(excinfo.value) == "Only the case manager or a supervisor of Balai Anak Uji can change this case."
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    assert move(case, supervisor, Stage.ASESMEN).stage == Stage.ASESMEN


def test_a_second_click_on_the_same_move_applies_nothing(case, owner):
    give_consent(case, owner)
    move(case, owner, Stage.ASESMEN)
    with pytest.raises(ApplicationError, match="already at the stage Assessment"):
        workflow.case_stage_move(case=case, by=owner, to_stage=Stage.ASESMEN, expected_stage=Stage.PENDEKATAN_AWAL)
    assert stage_entries(case) == [("pendekatan_awal", "asesmen")]


@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_move_applies_once(org, owner):
    case = open_case(organisation=org, by=owner)
    give_consent(case, owner)

    def click() -> Case:
        mine = Case.objects.get(pk=case.pk)
        return workflow.case_stage_move(
            case=mine, by=owner, to_stage=Stage.ASESMEN, expected_stage=Stage.PENDEKATAN_AWAL
        )

    won, lost, errors = race([click, click])
    assert not errors
    assert len(won) == 1
    assert lost == ["The case is already at the stage Assessment."]
    assert stage_entries(case) == [("pendekatan_awal", "asesmen")]


# --- Aftercare ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 8, 31), 6, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 11, 15), 3, datetime.date(2027, 2, 15)),
        (datetime.date(2026, 12, 31), 13, datetime.date(2028, 1, 31)),
        (datetime.date(2026, 5, 30), 1, datetime.date(2026, 6, 30)),
    ],
)
def test_add_months_is_calendar_months_clamped_to_the_month_end(day, months, expected):
    assert workflow.add_months(day, months) == expected


def test_termination_schedules_aftercare_for_the_case_manager(org, owner, supervisor, settings):
    settings.ATENSI_AFTERCARE_MONTHS = (1, 3, 6)
    case = open_case(organisation=org, by=owner)
    to_stage(case, owner, supervisor, Stage.MONITORING_EVALUASI)
    # 31 August, Jakarta time (17:30 UTC is already 00:30 on 1 September there: not that).
    with time_machine.travel(datetime.datetime(2026, 8, 31, 10, 0, tzinfo=datetime.UTC), tick=False):
        move(case, supervisor, Stage.TERMINASI)
    aftercare = list(FollowUp.objects.filter(case=case, kind=FollowUpKind.AFTERCARE).order_by("due_on"))
    assert [f.due_on for f in aftercare] == [
        datetime.date(2026, 9, 30),
        datetime.date(2026, 11, 30),
        datetime.date(2027, 2, 28),
    ]
    assert {f.assignee for f in aftercare} == {owner}  # the case manager, not the supervisor who moved it
    assert {f.status for f in aftercare} == {FollowUpStatus.PENDING}
    assert {f.created_by for f in aftercare} == {supervisor}
    logged = TimelineEntry.objects.filter(case=case, kind=TimelineKind.FOLLOW_UP, data__action="created")
    assert sorted(e.data["due_on"] for e in logged) == ["2026-09-30", "2026-11-30", "2027-02-28"]


def test_aftercare_without_a_case_manager_goes_to_the_mover(org, owner, supervisor, settings):
    settings.ATENSI_AFTERCARE_MONTHS = (2,)
    case = open_case(organisation=org, by=owner)
    to_stage(case, owner, supervisor, Stage.MONITORING_EVALUASI)
    Case.objects.filter(pk=case.pk).update(case_manager=None)
    case.refresh_from_db()
    with time_machine.travel(datetime.datetime(2026, 3, 10, 3, 0, tzinfo=datetime.UTC), tick=False):
        move(case, supervisor, Stage.TERMINASI)
    follow_up = FollowUp.objects.get(case=case, kind=FollowUpKind.AFTERCARE)
    assert (follow_up.assignee, follow_up.due_on) == (supervisor, datetime.date(2026, 5, 10))


def test_going_back_before_termination_retires_aftercare_and_terminating_again_reschedules(
    org, owner, supervisor, settings
):
    settings.ATENSI_AFTERCARE_MONTHS = (1, 3)
    case = open_case(organisation=org, by=owner)
    to_stage(case, owner, supervisor, Stage.BIMBINGAN_LANJUT)
    first = set(FollowUp.objects.filter(case=case, kind=FollowUpKind.AFTERCARE).values_list("pk", flat=True))
    assert len(first) == 2
    # Back to aftercare's own predecessor: still terminated, the visits stay.
    move(case, owner, Stage.TERMINASI, note="Ringkasan terminasi belum lengkap.")
    assert FollowUp.objects.filter(pk__in=first, status=FollowUpStatus.PENDING).count() == 2
    # Back before termination: the child needs help again, the visits cannot happen as planned.
    move(case, owner, Stage.INTERVENSI, note="Anak kembali putus sekolah.")
    retired = FollowUp.objects.filter(pk__in=first)
    assert {f.status for f in retired} == {FollowUpStatus.MISSED}
    assert {f.missed_reason for f in retired} == {"The case went back to Intervention."}
    move(case, owner, Stage.MONITORING_EVALUASI)
    move(case, owner, Stage.TERMINASI)
    fresh = FollowUp.objects.filter(case=case, kind=FollowUpKind.AFTERCARE, status=FollowUpStatus.PENDING)
    assert fresh.count() == 2
    assert not fresh.filter(pk__in=first).exists()


# --- Approvals ---------------------------------------------------------------------------


def test_plan_request_needs_the_planning_stage_and_a_live_plan_item(case, owner):
    plan_item(case, owner)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    assert str(excinfo.value) == (
        "A plan is sent for approval during intervention planning (the case is at Intake and engagement)."
    )
    to_planning(case, owner)
    PlanItem.objects.filter(case=case).update(status=PlanItemStatus.CANCELLED)
    with pytest.raises(ApplicationError, match="Add at least one plan item before asking for approval"):
        workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    assert not Approval.objects.exists()
    plan_item(case, owner)
    approval = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner, note="Mohon ditinjau.")
    assert (approval.status, approval.requested_by, approval.request_note) == (
        ApprovalStatus.PENDING,
        owner,
        "Mohon ditinjau.",
    )
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.APPROVAL_REQUESTED)
    assert (entry.object_id, entry.data) == (approval.pk, {"approval_kind": "plan"})


def test_a_revised_plan_can_be_sent_during_the_intervention(case, owner, supervisor):
    to_stage(case, owner, supervisor, Stage.INTERVENSI)
    revised = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner, note="Rencana direvisi.")
    assert revised.status == ApprovalStatus.PENDING


def test_only_one_request_of_a_kind_waits_at_a_time(case, owner, supervisor):
    to_planning(case, owner)
    plan_item(case, owner)
    workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=supervisor)
    assert str(excinfo.value).startswith("A request for intervention plan is already waiting for a supervisor")
    assert Approval.objects.filter(case=case).count() == 1
    # Another kind may wait alongside.
    workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="moved_away", closure_summary="Pindah."
    )
    assert Approval.objects.filter(case=case, status=ApprovalStatus.PENDING).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_store_one(org, owner, supervisor):
    case = open_case(organisation=org, by=owner)

    def ask(user: Any) -> Callable[[], Approval]:
        return lambda: workflow.approval_request(
            case=Case.objects.get(pk=case.pk),
            kind=ApprovalKind.CLOSURE,
            by=user,
            closure_reason="moved_away",
            closure_summary="Keluarga pindah ke Medan.",
        )

    won, lost, errors = race([ask(owner), ask(supervisor)])
    assert not errors
    assert len(won) == 1
    assert len(lost) == 1
    assert lost[0].startswith("A request for case closure is already waiting for a supervisor")
    assert Approval.objects.filter(case=case).count() == 1


def test_closure_request_needs_a_reason_and_a_summary_from_any_open_stage(case, owner):
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_request(case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_summary="Meninggal dunia.")
    assert (str(excinfo.value), excinfo.value.field) == ("Choose why the case is closed.", "closure_reason")
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_request(case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died")
    assert str(excinfo.value) == "Write a closure summary: what was achieved and where the child is now."
    with pytest.raises(ApplicationError, match="Choose what to ask approval for"):
        workflow.approval_request(case=case, kind="holiday", by=owner)
    assert not Approval.objects.exists()
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died", closure_summary="Meninggal dunia."
    )
    assert approval.closure_reason == ClosureReason.DIED


def test_colleague_cannot_ask_for_approval(case, colleague):
    with pytest.raises(ApplicationError, match="Only the case manager or a supervisor"):
        workflow.approval_request(
            case=case, kind=ApprovalKind.CLOSURE, by=colleague, closure_reason="refused", closure_summary="x"
        )
    assert not Approval.objects.exists()


def test_only_another_supervisor_of_the_organisation_decides(case, owner, colleague, supervisor, outsider):
    to_planning(case, owner)
    plan_item(case, owner)
    approval = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=supervisor)
    for user in (owner, colleague, outsider):
        with pytest.raises(ApplicationError) as excinfo:
            workflow.approval_decide(approval=approval, by=user, approve=True)
        assert str(excinfo.value) == "Only a supervisor of Balai Anak Uji can approve or reject requests."
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_decide(approval=approval, by=supervisor, approve=True)
    assert str(excinfo.value) == "You asked for this approval yourself: ask another supervisor to decide it."
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    assert approval.decided_by is None
    second = member(organisation=case.organisation, role=Role.SUPERVISOR, username="supervisor2")
    workflow.approval_decide(approval=approval, by=second, approve=True)
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, second)


def test_rejection_needs_a_comment_and_is_on_the_timeline(case, owner, supervisor):
    to_planning(case, owner)
    plan_item(case, owner)
    approval = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_decide(approval=approval, by=supervisor, approve=False, comment="  ")
    assert str(excinfo.value) == "Say why you reject the request, so the case manager knows what to change."
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    workflow.approval_decide(approval=approval, by=supervisor, approve=False, comment="Tambahkan dukungan keluarga.")
    approval.refresh_from_db()
    assert (approval.status, approval.comment) == (ApprovalStatus.REJECTED, "Tambahkan dukungan keluarga.")
    assert approval.decided_at is not None
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.APPROVAL_DECIDED)
    assert entry.data == {"approval_kind": "plan", "status": "rejected", "comment": "Tambahkan dukungan keluarga."}
    # A rejected plan can be sent again.
    assert workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner).status == ApprovalStatus.PENDING


def test_a_decided_request_cannot_be_decided_again(case, owner, supervisor):
    to_planning(case, owner)
    approval = approved_plan(case, owner, supervisor)
    second = member(organisation=case.organisation, role=Role.SUPERVISOR)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_decide(approval=approval, by=second, approve=False, comment="Tidak")
    name = supervisor.get_full_name()
    assert str(excinfo.value) == f"This request was already decided by {name} (approved)."
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, supervisor)


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_at_once_make_one_decision(org, owner):
    case = open_case(organisation=org, by=owner)
    first = member(organisation=org, role=Role.SUPERVISOR, username="kepala.satu")
    second = member(organisation=org, role=Role.SUPERVISOR, username="kepala.dua")
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="moved_away", closure_summary="Pindah."
    )

    def decide(user: Any, approve: bool) -> Callable[[], Approval]:
        return lambda: workflow.approval_decide(
            approval=Approval.objects.get(pk=approval.pk), by=user, approve=approve, comment=f"oleh {user.username}"
        )

    won, lost, errors = race([decide(first, True), decide(second, False)])
    assert not errors
    assert len(won) == 1 and len(lost) == 1
    approval.refresh_from_db()
    winner = approval.decided_by
    assert winner in (first, second)
    assert lost[0].startswith(f"This request was already decided by {winner.get_full_name()}")
    assert TimelineEntry.objects.filter(case=case, kind=TimelineKind.APPROVAL_DECIDED).count() == 1
    case.refresh_from_db()
    assert (case.stage == Stage.CLOSED) == (approval.status == ApprovalStatus.APPROVED)


def test_withdrawing_is_for_the_requester_while_it_waits(case, owner, supervisor):
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="lost_contact", closure_summary="Hilang."
    )
    with pytest.raises(ApplicationError, match="who asked for it, can withdraw this request"):
        workflow.approval_withdraw(approval=approval, by=supervisor)
    workflow.approval_withdraw(approval=approval, by=owner)
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.WITHDRAWN
    assert TimelineEntry.objects.filter(
        case=case, kind=TimelineKind.APPROVAL_DECIDED, data__status="withdrawn"
    ).exists()
    with pytest.raises(ApplicationError) as excinfo:
        workflow.approval_decide(approval=approval, by=supervisor, approve=True)
    assert str(excinfo.value) == "This request was withdrawn; there is nothing left to decide."
    case.refresh_from_db()
    assert case.is_open


# --- Closing and reopening ------------------------------------------------------------------


def test_approving_a_closure_closes_the_case(org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    to_stage(case, owner, supervisor, Stage.BIMBINGAN_LANJUT)
    visit = FollowUp.objects.create(
        case=case, kind=FollowUpKind.HOME_VISIT, due_on=timezone.localdate(), assignee=owner, created_by=owner
    )
    close(case, owner, supervisor, ClosureReason.GOALS_MET)
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    assert case.closed_at is not None
    assert (case.closure_reason, case.closure_summary) == ("goals_met", "Anak kembali sekolah.")
    assert stage_entries(case)[-1] == ("bimbingan_lanjut", "closed")
    visit.refresh_from_db()
    assert (visit.status, visit.missed_reason) == (FollowUpStatus.MISSED, "The case was closed.")
    # Goals met: the aftercare visits still happen.
    aftercare = FollowUp.objects.filter(case=case, kind=FollowUpKind.AFTERCARE)
    assert aftercare.exists()
    assert {f.status for f in aftercare} == {FollowUpStatus.PENDING}
    with pytest.raises(ApplicationError, match="This case is closed; reopen it to change it"):
        move(case, owner, Stage.BIMBINGAN_LANJUT, note="salah klik")


def test_closure_from_an_early_stage_retires_aftercare_and_withdraws_a_waiting_plan(org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    to_planning(case, owner)
    plan_item(case, owner)
    plan = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    FollowUp.objects.create(
        case=case, kind=FollowUpKind.AFTERCARE, due_on=timezone.localdate(), assignee=owner, created_by=owner
    )
    close(case, owner, supervisor, ClosureReason.DIED)
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    assert not FollowUp.objects.filter(case=case, status=FollowUpStatus.PENDING).exists()
    plan.refresh_from_db()
    assert plan.status == ApprovalStatus.WITHDRAWN
    missed = TimelineEntry.objects.filter(case=case, kind=TimelineKind.FOLLOW_UP, data__action="missed")
    assert missed.count() == 1


def test_closing_and_reopening_a_residential_case_recount_occupancy(org, owner, supervisor):
    case = open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    org.refresh_from_db()
    assert org.occupancy == 1
    close(case, owner, supervisor, ClosureReason.TRANSFERRED)
    org.refresh_from_db()
    assert org.occupancy == 0
    workflow.case_reopen(case=case, by=supervisor, reason="Kembali ke balai.")
    org.refresh_from_db()
    assert org.occupancy == 1


def test_reopen_goes_back_to_assessment_and_clears_the_closure(case, owner, supervisor):
    close(case, owner, supervisor, ClosureReason.LOST_CONTACT)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.case_reopen(case=case, by=owner, reason=" ")
    assert (str(excinfo.value), excinfo.value.field) == ("Say why the case is reopened.", "reason")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    workflow.case_reopen(case=case, by=owner, reason="Keluarga ditemukan kembali.")
    case.refresh_from_db()
    assert case.stage == Stage.ASESMEN
    assert (case.closed_at, case.closure_reason, case.closure_summary) == (None, "", "")
    entry = TimelineEntry.objects.filter(case=case, kind=TimelineKind.STAGE).first()
    assert entry is not None
    assert entry.data["from_stage"] == "closed"
    assert entry.data["note"] == "Keluarga ditemukan kembali."
    assert entry.data["previous_closure_reason"] == "lost_contact"
    with pytest.raises(ApplicationError, match="only a closed case can be reopened"):
        workflow.case_reopen(case=case, by=owner, reason="lagi")


def test_colleague_cannot_reopen(case, owner, colleague, supervisor):
    close(case, owner, supervisor)
    with pytest.raises(ApplicationError, match="Only the case manager or a supervisor"):
        workflow.case_reopen(case=case, by=colleague, reason="Saya mau")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


def test_reopen_is_refused_when_the_child_has_another_open_case(case, owner, supervisor):
    close(case, owner, supervisor)
    newer = open_case(organisation=case.organisation, by=owner, beneficiary=case.beneficiary)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.case_reopen(case=case, by=owner, reason="Lanjut")
    assert str(excinfo.value) == f"The child has another open case here ({newer.number}); continue that one instead."
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


# --- Editing and assignment ----------------------------------------------------------------


def edit(case: Case, by: Any, **changes: Any) -> Case:
    return workflow.case_update(case=case, by=by, expected_updated_at=case.updated_at, **changes)


def test_case_manager_changes_the_facts(case, owner):
    edit(case, owner, risk_level=RiskLevel.HIGH, summary=" Anak bekerja di pasar malam. ", is_confidential=True)
    case.refresh_from_db()
    assert (case.risk_level, case.summary, case.is_confidential) == ("high", "Anak bekerja di pasar malam.", True)
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.UPDATED)
    assert sorted(entry.data["fields"]) == ["is_confidential", "risk_level", "summary"]


def test_nothing_changed_writes_nothing(case, owner):
    before = case.updated_at
    edit(case, owner, risk_level=case.risk_level, summary=case.summary)
    case.refresh_from_db()
    assert case.updated_at == before
    assert not TimelineEntry.objects.filter(case=case, kind=TimelineKind.UPDATED).exists()


def test_a_stale_form_is_refused_and_saves_nothing(case, owner, supervisor):
    opened_at = case.updated_at
    edit(Case.objects.get(pk=case.pk), supervisor, risk_level=RiskLevel.CRITICAL)
    with pytest.raises(ApplicationError) as excinfo:
        workflow.case_update(case=case, by=owner, expected_updated_at=opened_at, risk_level=RiskLevel.LOW)
    assert str(excinfo.value) == "Someone else changed this case since you opened the form; reload and try again."
    case.refresh_from_db()
    assert case.risk_level == RiskLevel.CRITICAL


def test_only_supervisors_assign(case, owner, colleague, supervisor):
    with pytest.raises(ApplicationError) as excinfo:
        edit(case, owner, case_manager=colleague, risk_level=RiskLevel.HIGH)
    assert str(excinfo.value) == "Only a supervisor of Balai Anak Uji can assign the case manager or the supervisor."
    assert excinfo.value.field == "case_manager"
    case.refresh_from_db()
    assert (case.case_manager, case.risk_level) == (owner, RiskLevel.MEDIUM)
    # Sending the current assignment back unchanged is not an assignment.
    edit(case, owner, case_manager=owner, supervisor=None, risk_level=RiskLevel.HIGH)
    case.refresh_from_db()
    edit(case, supervisor, case_manager=colleague, supervisor=supervisor)
    case.refresh_from_db()
    assert (case.case_manager, case.supervisor) == (colleague, supervisor)
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.ASSIGNED)
    assert entry.data == {"case_manager": colleague.get_full_name(), "supervisor": supervisor.get_full_name()}


def test_assignment_is_limited_to_eligible_people(case, supervisor, org_admin, outsider, colleague):
    with pytest.raises(ApplicationError) as excinfo:
        edit(case, supervisor, case_manager=org_admin)
    assert str(excinfo.value) == f"{org_admin.get_full_name()} is not a social worker or supervisor of Balai Anak Uji."
    with pytest.raises(ApplicationError, match="is not a social worker or supervisor of Balai Anak Uji"):
        edit(case, supervisor, case_manager=outsider)
    with pytest.raises(ApplicationError) as excinfo:
        edit(case, supervisor, supervisor=colleague)
    assert str(excinfo.value) == f"{colleague.get_full_name()} is not a supervisor of Balai Anak Uji."
    assert excinfo.value.field == "supervisor"
    case.refresh_from_db()
    assert case.supervisor is None
    assert not TimelineEntry.objects.filter(case=case, kind=TimelineKind.ASSIGNED).exists()


def test_colleague_and_outsider_cannot_edit(case, colleague, outsider):
    for user in (colleague, outsider):
        with pytest.raises(ApplicationError, match="Only the case manager or a supervisor"):
            edit(case, user, risk_level=RiskLevel.CRITICAL)
    case.refresh_from_db()
    assert case.risk_level == RiskLevel.MEDIUM


def test_a_closed_case_is_not_edited(case, owner, supervisor):
    close(case, owner, supervisor)
    case.refresh_from_db()
    with pytest.raises(ApplicationError, match="This case is closed; reopen it to change it"):
        edit(case, supervisor, risk_level=RiskLevel.LOW)


def test_basis_change_recounts_occupancy_and_cluster_changes(org, owner):
    case = open_case(organisation=org, by=owner)
    edit(case, owner, basis=Basis.RESIDENSIAL, cluster=cluster("penyandang_disabilitas"))
    org.refresh_from_db()
    case.refresh_from_db()
    assert org.occupancy == 1
    assert case.cluster.code == "penyandang_disabilitas"
    edit(case, owner, basis=Basis.KOMUNITAS)
    org.refresh_from_db()
    assert org.occupancy == 0


def test_bad_values_are_refused(case, owner):
    with pytest.raises(ApplicationError):
        edit(case, owner, risk_level="sangat")
    with pytest.raises(ApplicationError, match="cannot be changed here: number"):
        edit(case, owner, number="X/1")
    case.refresh_from_db()
    assert case.risk_level == RiskLevel.MEDIUM
