"""Who decides a plan or closure request (cases.approvers), the permission rule built on
it, the queue's query of the same rule, and the notifications: the approvers at once
(bell and e-mail, once), the requester when it is decided, the community reporter when a
case is opened from their report."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import Notification, Reminder
from atensi.core.notifications import notification_text
from atensi.core.reminders import claim_due, deliver
from cases import reminders, workflow
from cases.approvals import approvals_decidable_by, approvals_waiting_for
from cases.approvers import ApproverReason, approvers_for
from cases.models import Approval, ApprovalKind, ApprovalStatus, Case, ClosureReason
from cases.notification_kinds import NotificationKind
from cases.permissions import can_decide_approval, decide_approval_refusal
from cases.tests.factories import BeneficiaryFactory, open_case, report_for
from cases.tests.workflow_helpers import plan_item, to_planning
from stakeholders.models import Membership, Organisation, OrganisationKind
from stakeholders.roles import Role
from stakeholders.selectors import social_services_covering
from stakeholders.tests.factories import member, organisation

pytestmark = pytest.mark.django_db

CHILD = "Rahmawati Kinasih"


def _dinsos(code: str, name: str, kind: str, coverage: list[str]) -> Organisation:
    found = organisation(code=code, name=name, kind=kind)
    found.coverage.set(coverage)
    return found


@pytest.fixture
def place(org: Organisation) -> Organisation:
    """Balai Anak Uji in Telanaipura, Kota Jambi (1571), Provinsi Jambi (15)."""
    Organisation.objects.filter(pk=org.pk).update(home_region_id="1571", village_id="1571011004")
    org.refresh_from_db()
    return org


@pytest.fixture
def kota_dinsos(place: Organisation) -> Organisation:
    return _dinsos("DINSOS-KOTA", "Dinas Sosial Kota Jambi", OrganisationKind.DINSOS_KABKOTA, ["1571"])


@pytest.fixture
def kabid(kota_dinsos: Organisation) -> Any:
    return member(organisation=kota_dinsos, role=Role.SUPERVISOR, username="kabid.kota")


def _case(org: Organisation, owner: Any, **kwargs: Any) -> Case:
    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name=CHILD)
    case = open_case(organisation=org, by=owner, beneficiary=child, **kwargs)
    to_planning(case, owner)
    plan_item(case, owner)
    return case


def _ask(case: Case, by: Any, kind: str = ApprovalKind.PLAN) -> Approval:
    if kind == ApprovalKind.CLOSURE:
        return workflow.approval_request(
            case=case, kind=kind, by=by, closure_reason=ClosureReason.GOALS_MET, closure_summary="Kembali sekolah."
        )
    return workflow.approval_request(case=case, kind=kind, by=by)


def _deactivate(user: Any, org: Organisation) -> None:
    Membership.objects.filter(user=user, organisation=org).update(is_active=False)


# --- approvers_for ---------------------------------------------------------------------------


def test_the_case_supervisor_is_asked_first(place, owner, supervisor):
    member(organisation=place, role=Role.SUPERVISOR, username="second")
    approval = _ask(_case(place, owner, supervisor=supervisor), owner)
    found = approvers_for(approval)
    assert (list(found.users), found.reason) == ([supervisor], ApproverReason.CASE_SUPERVISOR)


def test_without_a_case_supervisor_the_other_supervisors_are_asked(place, owner, supervisor):
    second = member(organisation=place, role=Role.SUPERVISOR, username="second")
    approval = _ask(_case(place, supervisor, supervisor=supervisor), supervisor)
    found = approvers_for(approval)
    # The case's supervisor asked: the others decide.
    assert (list(found.users), found.reason) == ([second], ApproverReason.SUPERVISORS)
    approval = _ask(_case(place, owner), owner)
    assert set(approvers_for(approval).users) == {supervisor, second}


def test_a_case_supervisor_who_left_is_not_asked(place, owner, supervisor):
    second = member(organisation=place, role=Role.SUPERVISOR, username="second")
    case = _case(place, owner, supervisor=supervisor)
    _deactivate(supervisor, place)
    found = approvers_for(_ask(case, owner))
    assert (list(found.users), found.reason) == ([second], ApproverReason.SUPERVISORS)


def test_when_the_only_supervisor_asks_the_org_admins_decide(place, owner, supervisor, org_admin, kabid):
    approval = _ask(_case(place, supervisor, supervisor=supervisor), supervisor)
    found = approvers_for(approval)
    assert (list(found.users), found.reason) == ([org_admin], ApproverReason.ORG_ADMINS)


def test_without_any_supervisor_the_covering_dinas_sosial_supervisors_decide(
    place, owner, org_admin, kabid, kota_dinsos
):
    provincial = _dinsos("DINSOS-PROV", "Dinas Sosial Provinsi Jambi", OrganisationKind.DINSOS_PROVINSI, ["15"])
    kepala = member(organisation=provincial, role=Role.SUPERVISOR, username="kabid.prov")
    elsewhere = _dinsos("DINSOS-RIAU", "Dinas Sosial Riau", OrganisationKind.DINSOS_PROVINSI, ["14"])
    member(organisation=elsewhere, role=Role.SUPERVISOR, username="kabid.riau")
    lksa = _dinsos("LKSA-X", "LKSA covering Jambi", OrganisationKind.LKSA, ["15"])
    member(organisation=lksa, role=Role.SUPERVISOR, username="lksa.boss")
    assert set(social_services_covering(place)) == {provincial, kota_dinsos}
    found = approvers_for(_ask(_case(place, owner), owner))
    assert found.reason == ApproverReason.SOCIAL_SERVICE
    assert set(found.users) == {kabid, kepala}
    assert found.via == {kabid.pk: kota_dinsos.pk, kepala.pk: provincial.pk}


def test_nobody_is_named_when_no_one_can_decide(place, owner):
    found = approvers_for(_ask(_case(place, owner), owner))
    assert (list(found.users), found.reason) == ([], ApproverReason.NOBODY)
    assert "supervisor role" in found.reason_text


# --- Who may decide -------------------------------------------------------------------------


def test_any_supervisor_of_the_organisation_may_decide_but_never_the_requester(place, owner, supervisor, outsider):
    second = member(organisation=place, role=Role.SUPERVISOR, username="second")
    approval = _ask(_case(place, owner, supervisor=supervisor), owner)
    assert can_decide_approval(second, approval) and can_decide_approval(supervisor, approval)
    assert decide_approval_refusal(owner, approval) == (
        "Only a supervisor of Balai Anak Uji can approve or reject requests."
    )
    assert not can_decide_approval(outsider, approval)


def test_org_admins_decide_only_when_the_only_supervisor_asked(place, owner, supervisor, org_admin):
    mine = _ask(_case(place, supervisor), supervisor)
    theirs = _ask(_case(place, owner), owner)
    assert can_decide_approval(org_admin, mine)
    assert not can_decide_approval(org_admin, theirs)  # a supervisor is there to decide
    workflow.approval_decide(approval=mine, by=org_admin, approve=True)
    mine.refresh_from_db()
    assert (mine.status, mine.decided_by) == (ApprovalStatus.APPROVED, org_admin)
    with pytest.raises(ApplicationError, match="Only a supervisor of Balai Anak Uji"):
        workflow.approval_decide(approval=theirs, by=org_admin, approve=True)


def test_dinas_sosial_supervisors_decide_only_for_an_organisation_without_one(place, owner, kabid, other_org):
    approval = _ask(_case(place, owner), owner, kind=ApprovalKind.CLOSURE)
    assert can_decide_approval(kabid, approval)
    # A Balai elsewhere (not covered) is none of theirs.
    elsewhere_worker = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="far.worker")
    far = _ask(_case(other_org, elsewhere_worker), elsewhere_worker)
    assert not can_decide_approval(kabid, far)
    # Once the organisation has a supervisor, it is theirs again.
    boss = member(organisation=place, role=Role.SUPERVISOR, username="new.boss")
    assert not can_decide_approval(kabid, approval)
    _deactivate(boss, place)
    workflow.approval_decide(approval=approval, by=kabid, approve=True)
    approval.case.refresh_from_db()
    assert approval.case.stage == "closed"


def test_the_queue_query_agrees_with_the_permission_rule(place, owner, supervisor, org_admin, kabid, outsider):
    second_place = organisation(code="BA-DUA", name="Balai Dua", home_region_id="1571")
    lone_worker = member(organisation=second_place, role=Role.SOCIAL_WORKER, username="lone.worker")
    requests = [
        _ask(_case(place, owner, supervisor=supervisor), owner),
        _ask(_case(place, supervisor), supervisor),
        _ask(_case(second_place, lone_worker), lone_worker),
    ]
    for user in (owner, supervisor, org_admin, kabid, outsider, lone_worker):
        allowed = {a.pk for a in requests if can_decide_approval(user, Approval.objects.get(pk=a.pk))}
        assert set(approvals_decidable_by(user).values_list("pk", flat=True)) == allowed, user.username
    assert set(approvals_waiting_for(kabid).values_list("pk", flat=True)) == {requests[2].pk}
    assert set(approvals_waiting_for(org_admin).values_list("pk", flat=True)) == {requests[1].pk}


# --- Notifications ---------------------------------------------------------------------------


def _deliver_all() -> None:
    for reminder_id in claim_due(now=timezone.now()):
        deliver(reminder_id)


def test_a_request_reaches_its_approvers_at_once_in_the_bell_and_by_email_once(place, owner, supervisor, colleague):
    case = _case(place, owner, supervisor=supervisor)
    approval = _ask(case, owner)
    [told] = Notification.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED)
    assert told.recipient == supervisor and told.organisation == place
    assert told.link == reverse("cases:approval_queue") + f"#approval-{approval.pk}"
    owner_name = owner.get_full_name()
    assert notification_text(told) == (
        f"{owner_name} asks for approval of the intervention plan of case {case.number} (Balai Anak Uji)."
    )
    _deliver_all()
    _deliver_all()
    assert [m.to for m in mail.outbox] == [[supervisor.email]]
    message = mail.outbox[0]
    assert case.number in message.body
    for part in (message.subject, message.body, message.alternatives[0][0]):
        assert CHILD not in part and "Rahmawati" not in part


def test_the_request_notification_is_sent_once_however_often_it_is_announced(place, owner, supervisor):
    from cases.notify import notify_approval_requested

    approval = _ask(_case(place, owner, supervisor=supervisor), owner)
    notify_approval_requested(approval)
    notify_approval_requested(approval)
    assert Notification.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED).count() == 1
    assert Reminder.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED).count() == 1
    _deliver_all()
    notify_approval_requested(approval)  # a retry after the e-mail left
    _deliver_all()
    assert len(mail.outbox) == 1


def test_a_dinas_sosial_supervisor_hears_under_their_dinas_sosial(place, owner, kabid, kota_dinsos):
    _ask(_case(place, owner), owner)
    [told] = Notification.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED)
    assert (told.recipient, told.organisation) == (kabid, kota_dinsos)
    _deliver_all()  # the delivery check accepts them: they work for the Dinas Sosial
    assert [m.to for m in mail.outbox] == [[kabid.email]]
    assert CHILD not in mail.outbox[0].body


def test_the_requester_is_told_the_decision_at_once_without_the_comment(place, owner, supervisor):
    case = _case(place, owner, supervisor=supervisor)
    approval = _ask(case, owner)
    workflow.approval_decide(approval=approval, by=supervisor, approve=False, comment=f"{CHILD} butuh terapi.")
    [told] = Notification.objects.filter(kind=NotificationKind.APPROVAL_DECIDED)
    assert told.recipient == owner
    assert told.link == reverse("cases:case_plan", args=[case.pk])
    text = notification_text(told)
    assert text == (
        f"{supervisor.get_full_name()} did not approve the intervention plan of case {case.number}; "
        "read the comment on the case."
    )
    mail.outbox.clear()
    _deliver_all()
    [message] = [m for m in mail.outbox if m.to == [owner.email]]
    assert CHILD not in message.body and "butuh terapi" not in message.body
    approval = _ask(case, owner)
    workflow.approval_decide(approval=approval, by=supervisor, approve=True)
    assert "approved the intervention plan" in notification_text(
        Notification.objects.get(kind=NotificationKind.APPROVAL_DECIDED, key=f"approval:{approval.pk}:decided")
    )


def test_a_withdrawn_request_tells_nobody(place, owner, supervisor):
    approval = _ask(_case(place, owner, supervisor=supervisor), owner)
    workflow.approval_withdraw(approval=approval, by=owner)
    assert not Notification.objects.filter(kind=NotificationKind.APPROVAL_DECIDED).exists()


def test_the_reporter_is_told_in_the_bell_when_a_case_is_opened_from_their_report(place, owner, supervisor):
    reporter = member(organisation=place, role=Role.COMMUNITY_REPORTER, username="psm.uji")
    report = report_for(organisation=place, by=reporter, child_name=CHILD)
    child = BeneficiaryFactory.create(organisation=place, created_by=supervisor, full_name=CHILD)
    open_case(organisation=place, by=supervisor, beneficiary=child, report=report)
    [told] = Notification.objects.filter(recipient=reporter)
    assert told.kind == NotificationKind.REPORT_CASE_OPENED
    assert told.link == reverse("cases:report_detail", args=[report.public_id])
    text = notification_text(told)
    assert text.startswith("Balai Anak Uji opened a case from your report of ") and CHILD not in text
    assert not Reminder.objects.filter(recipient=reporter).exists()  # the bell only
    from cases.notify import notify_report_case_opened

    notify_report_case_opened(report=report, case=Case.objects.get(report=report))
    assert Notification.objects.filter(recipient=reporter).count() == 1


# --- The 2-day reminder is the escalation ------------------------------------------------------


def _sweep(moment: datetime.datetime) -> list[Reminder]:
    with time_machine.travel(moment, tick=False):
        before = set(Reminder.objects.values_list("pk", flat=True))
        reminders.plan_approval_reminders(timezone.now())
        return list(Reminder.objects.exclude(pk__in=before).filter(kind=NotificationKind.APPROVAL_WAITING))


def test_the_escalation_comes_after_two_days_not_with_the_request(place, owner, kabid, kota_dinsos):
    requested = datetime.datetime(2026, 11, 2, 3, 0, tzinfo=datetime.UTC)
    with time_machine.travel(requested, tick=False):
        approval = _ask(_case(place, owner), owner)
    assert _sweep(requested + datetime.timedelta(minutes=1)) == []
    [escalation] = _sweep(requested + datetime.timedelta(days=2, minutes=1))
    assert (escalation.recipient, escalation.organisation) == (kabid, kota_dinsos)
    assert escalation.data["case_organisation"] == place.pk
    # The next sweep keeps it (its organisation is the Dinas Sosial's, the case's is in the data).
    assert _sweep(requested + datetime.timedelta(days=2, minutes=2)) == []
    escalation.refresh_from_db()
    assert escalation.cancelled_at is None
    with time_machine.travel(requested + datetime.timedelta(days=2, minutes=3), tick=False):
        workflow.approval_decide(approval=approval, by=kabid, approve=True)
    _sweep(requested + datetime.timedelta(days=2, minutes=4))
    escalation.refresh_from_db()
    assert escalation.cancelled_at is not None
