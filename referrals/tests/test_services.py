"""Sending and answering referrals: the rules, the consent gate, the transfer, and the
race where twenty people answer the same referral at once."""

from __future__ import annotations

import threading
from typing import Any

import pghistory.models
import pytest
from django.db import connection
from django.utils import timezone, translation

from atensi.core.errors import ApplicationError
from atensi.core.models import ServiceComponent
from cases import documents as docs
from cases.models import Approval, ApprovalKind, Case, Consent, FollowUp, FollowUpKind, TimelineEntry
from cases.tests.factories import open_case
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.services import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
    referral_send,
)
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver_officer(other_org):
    return member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer")


def consent_to_share(case, *organisations, by):
    consent = Consent.objects.create(
        case=case, given_by_name="Ibu Sari", relation="mother", given_on=timezone.localdate(), recorded_by=by
    )
    consent.share_with.set(organisations)
    return consent


def send(case, by, receiver, **kwargs):
    kwargs.setdefault("kind", ReferralKind.SERVICE)
    kwargs.setdefault("reason", "Butuh terapi psikososial.")
    if kwargs["kind"] == ReferralKind.SERVICE:
        kwargs.setdefault("components", [ServiceComponent.objects.get(code="terapi")])
    return referral_send(case=case, by=by, receiver=receiver, **kwargs)


@pytest.fixture
def case(org, owner, other_org):
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    return case


def test_it_sends_with_a_deadline_by_urgency(case, owner, other_org):
    referral = send(case, owner, other_org, urgency="emergency")
    assert referral.status == ReferralStatus.SENT and referral.sharing_basis == "consent"
    assert (referral.respond_by - referral.sent_at).total_seconds() == 24 * 3600
    assert TimelineEntry.objects.filter(case=case, kind="referral", data__action="sent").exists()


def test_it_refuses_without_consent_to_share(org, owner, other_org):
    case = open_case(organisation=org, by=owner)
    with pytest.raises(ApplicationError, match="no consent to share"):
        send(case, owner, other_org)
    assert not Referral.objects.exists()


@pytest.mark.parametrize("problem", ["self", "inactive", "no_reason", "no_services", "twice"])
def test_bad_referrals_are_refused(problem, case, owner, org, other_org):
    receiver = other_org
    kwargs: dict[str, Any] = {}
    if problem == "self":
        receiver = org
    elif problem == "inactive":
        other_org.is_active = False
        other_org.save()
    elif problem == "no_reason":
        kwargs["reason"] = "  "
    elif problem == "no_services":
        kwargs["components"] = []
    elif problem == "twice":
        send(case, owner, other_org)
    with pytest.raises(ApplicationError):
        send(case, owner, receiver, **kwargs)
    assert Referral.objects.count() == (1 if problem == "twice" else 0)


def test_decline_needs_a_reason_and_complete_needs_an_outcome(case, owner, other_org, receiver_officer):
    referral = send(case, owner, other_org)
    with pytest.raises(ApplicationError, match="reason"):
        referral_decline(referral=referral, by=receiver_officer, reason="")
    with pytest.raises(ApplicationError, match="Explain"):
        referral_decline(referral=referral, by=receiver_officer, reason="other", note="")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    referral_accept(referral=referral, by=receiver_officer)
    with pytest.raises(ApplicationError, match="outcome"):
        referral_complete(referral=referral, by=receiver_officer, outcome=" ")
    referral = referral_complete(referral=referral, by=receiver_officer, outcome="Sesi konseling selesai.")
    assert referral.status == ReferralStatus.COMPLETED


def test_a_cancelled_referral_cannot_be_answered(case, owner, other_org, receiver_officer):
    referral = send(case, owner, other_org)
    referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    with pytest.raises(ApplicationError, match="already answered"):
        referral_accept(referral=referral, by=receiver_officer)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED and referral.answered_by is None


def test_only_the_receiver_answers(case, owner, colleague, other_org):
    referral = send(case, owner, other_org)
    with pytest.raises(ApplicationError, match="Only the referral officers and supervisors"):
        referral_accept(referral=referral, by=colleague)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_an_accepted_transfer_moves_the_case(case, owner, other_org, receiver_officer):
    manager = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="newmanager")
    referral = send(case, owner, other_org, kind=ReferralKind.TRANSFER)
    with pytest.raises(ApplicationError, match="Choose who will manage"):
        referral_accept(referral=referral, by=receiver_officer)
    referral_accept(referral=referral, by=receiver_officer, case_manager=manager)
    case.refresh_from_db()
    assert case.organisation == other_org and case.case_manager == manager
    assert TimelineEntry.objects.filter(case=case, kind="assigned", data__organisation=other_org.name).exists()


def test_a_transfer_moves_the_cases_follow_ups_and_approvals_with_it(case, owner, other_org, receiver_officer):
    """Follow-ups and approvals carry a copy of their case's organisation (the supervisors'
    indexes lead with it): the database writes it, whatever the code sends, and a transfer
    moves it, a stale copy of the row saved afterwards included. Follow-ups carry the
    case's supervisor the same way."""
    chief = member(organisation=case.organisation, role=Role.SUPERVISOR, username="chief")
    Case.objects.filter(pk=case.pk).update(supervisor=chief)
    case.refresh_from_db()
    follow_up = FollowUp.objects.create(
        case=case, kind=FollowUpKind.HOME_VISIT, due_on=timezone.localdate(), assignee=owner, created_by=owner
    )
    approval = Approval.objects.create(case=case, kind=ApprovalKind.PLAN, requested_by=owner)
    # The INSERT returns what the trigger wrote.
    assert follow_up.organisation_id == approval.organisation_id == case.organisation_id
    assert follow_up.supervisor_id == chief.pk
    # Wrong values are refused.
    FollowUp.objects.filter(pk=follow_up.pk).update(organisation=other_org, supervisor=owner)
    wrong = FollowUp.objects.get(pk=follow_up.pk)
    assert (wrong.organisation_id, wrong.supervisor_id) == (case.organisation_id, chief.pk)
    stale = FollowUp.objects.get(pk=follow_up.pk)

    manager = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="newmanager")
    referral_accept(
        referral=send(case, owner, other_org, kind=ReferralKind.TRANSFER), by=receiver_officer, case_manager=manager
    )
    follow_up.refresh_from_db()
    approval.refresh_from_db()
    assert follow_up.organisation_id == approval.organisation_id == other_org.pk
    assert follow_up.supervisor_id is None  # the receiver has not named one yet
    stale.description = "Saved from a page opened before the transfer."
    stale.save()
    stale.refresh_from_db()
    assert (stale.organisation_id, stale.supervisor_id) == (other_org.pk, None)

    # The copy is not history: the move wrote no audit event of the rows (the stale save
    # wrote one, of its description).
    def updates(obj: Any) -> list[Any]:
        return list(pghistory.models.Events.objects.tracks(obj).filter(pgh_label="update"))  # type: ignore[no-untyped-call]

    assert updates(approval) == []
    assert [event.pgh_diff for event in updates(follow_up)] == [{"description": ["", stale.description]}]


def test_a_transfer_is_accepted_when_the_receiver_numbered_a_case_of_its_own_alike(
    case, owner, other_org, receiver_officer
):
    # The receiver's first case of the year has the sender's first case's year and sequence;
    # the moved case keeps its number (it is on letters and court papers) beside it.
    manager = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="newmanager")
    own = open_case(organisation=other_org, by=manager)
    assert (own.year, own.sequence) == (case.year, case.sequence)
    referral = send(case, owner, other_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=referral, by=receiver_officer, case_manager=manager)
    case.refresh_from_db()
    assert case.organisation == other_org and case.number != own.number


# --- Security review: who may answer and cancel, what a transfer does to the case's other
# referrals, answers refused on a closed case or without consent. The receiver is the referral
# page's (`receiver_org`, `officer`, `manager` from conftest.py).


@pytest.fixture
def referred_case(org, owner, receiver_org):
    """An open case of `org` with consent to share with `receiver_org` (LKSA Kasih Terima)."""
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, receiver_org, by=owner)
    return case


def test_accepting_needs_the_consent_still_in_force(referred_case, owner, receiver_org, officer):
    referral = send(referred_case, owner, receiver_org)
    docs.consent_withdraw(
        consent=Consent.objects.get(case=referred_case),
        by=owner,
        withdrawn_on=timezone.localdate(),
        reason="Ibu menarik.",
    )
    with pytest.raises(ApplicationError, match="was withdrawn"):
        referral_accept(referral=referral, by=officer)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_closed_case_cannot_be_taken_over(referred_case, owner, receiver_org, officer, manager):
    transfer = send(referred_case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    Case.objects.filter(pk=referred_case.pk).update(
        stage="closed", closed_at=timezone.now(), closure_reason="goals_met"
    )
    with pytest.raises(ApplicationError, match="closed meanwhile"):
        referral_accept(referral=transfer, by=officer, case_manager=manager)
    referred_case.refresh_from_db()
    transfer.refresh_from_db()
    assert referred_case.organisation_id != receiver_org.pk and transfer.status == ReferralStatus.SENT


def test_a_transfer_ends_the_old_owners_other_referrals(referred_case, owner, receiver_org, officer, manager):
    third = OrganisationFactory(code="LKSA-KETIGA", name="LKSA Ketiga")
    third_officer = member(organisation=third, role=Role.REFERRAL_OFFICER, username="officer3")
    Consent.objects.get(case=referred_case).share_with.add(third)
    service = send(referred_case, owner, third)
    referral_accept(referral=service, by=third_officer)
    transfer = send(referred_case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    service.refresh_from_db()
    assert service.status == ReferralStatus.CANCELLED and "transferred to LKSA Kasih Terima" in service.cancel_reason
    # The old receiver can no longer act on, or read the new owner's file through, it.
    with pytest.raises(ApplicationError):
        referral_complete(referral=service, by=third_officer, outcome="Selesai.")


def test_only_officers_and_supervisors_answer_where_there_are_some(
    referred_case, owner, receiver_org, officer, manager
):
    referral = send(referred_case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    with pytest.raises(ApplicationError, match="referral officers and supervisors"):
        referral_accept(referral=referral, by=manager, case_manager=manager)
    # With a supervisor there, the officer cannot choose the case manager of a transfer.
    member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    with pytest.raises(ApplicationError, match="A supervisor of LKSA Kasih Terima accepts a transfer"):
        referral_accept(referral=referral, by=officer, case_manager=manager)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_small_lksa_with_one_social_worker_can_answer(org, owner):
    from cases.tests.factories import open_case

    lksa = OrganisationFactory(code="LKSA-KECIL", name="LKSA Kecil")
    pengasuh = member(organisation=lksa, role=Role.SOCIAL_WORKER, username="satu")
    case = open_case(organisation=org, by=owner)
    Consent.objects.create(
        case=case, given_by_name="Ibu", relation="mother", given_on=timezone.localdate(), recorded_by=owner
    ).share_with.add(lksa)
    transfer = send(case, owner, lksa, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=pengasuh, case_manager=pengasuh)
    case.refresh_from_db()
    assert case.organisation == lksa


def test_a_colleague_who_may_not_work_on_the_case_cannot_cancel(referred_case, owner, receiver_org, officer):
    intake = member(organisation=referred_case.organisation, role=Role.INTAKE_OFFICER, username="intake")
    referral = send(referred_case, owner, receiver_org)
    with pytest.raises(ApplicationError, match="Only the worker who sent this referral"):
        referral_cancel(referral=referral, by=intake, reason="Saya batalkan.")
    referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_answers_exactly_one_wins(org, owner, other_org):
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    officers = [member(organisation=other_org, role=Role.REFERRAL_OFFICER) for _ in range(14)]
    senders = [member(organisation=org, role=Role.SUPERVISOR) for _ in range(6)]
    referral = send(case, owner, other_org)
    barrier = threading.Barrier(20)
    won: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def attempt(action: str, user) -> None:
        try:
            mine = Referral.objects.select_related("receiver", "sender", "case").get(pk=referral.pk)
            barrier.wait()
            with translation.override("en"):
                if action == "accept":
                    referral_accept(referral=mine, by=user)
                elif action == "decline":
                    referral_decline(referral=mine, by=user, reason="no_capacity")
                else:
                    referral_cancel(referral=mine, by=user, reason="Tidak jadi.")
            won.append(action)
        except ApplicationError as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    plan = [("accept", u) for u in officers[:7]] + [("decline", u) for u in officers[7:]]
    plan += [("cancel", u) for u in senders]
    threads = [threading.Thread(target=attempt, args=step) for step in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(won) == 1 and len(refused) == 19
    assert all("already answered" in message for message in refused)
    referral.refresh_from_db()
    assert referral.status == {"accept": "accepted", "decline": "declined", "cancel": "cancelled"}[won[0]]
    updates = pghistory.models.Events.objects.tracks(referral).filter(pgh_label="update")
    assert updates.count() == 1
    assert TimelineEntry.objects.filter(case=case, kind="referral").exclude(data__action="sent").count() == 1


def test_deadlines_are_edited_in_admin(case, owner, other_org, superuser, client_for):
    from django.urls import reverse

    from referrals.models import ResponseDeadline

    row, _ = ResponseDeadline.objects.update_or_create(urgency="normal", defaults={"hours": 168})
    response = client_for(superuser).post(
        reverse("admin:referrals_responsedeadline_change", args=[row.pk]), {"urgency": "normal", "hours": 48}
    )
    assert response.status_code == 302
    referral = send(case, owner, other_org, urgency="normal")
    assert (referral.respond_by - referral.sent_at).total_seconds() == 48 * 3600


def test_a_plan_item_follows_its_referral(case, owner, other_org, receiver_officer):
    from cases.models import PlanItem, PlanItemStatus

    item = PlanItem.objects.create(
        case=case,
        component=ServiceComponent.objects.get(code="terapi"),
        service="Konseling trauma",
        start_date=timezone.localdate(),
        target_date=timezone.localdate(),
        created_by=owner,
    )
    declined = send(case, owner, other_org, plan_item=item)
    item.refresh_from_db()
    assert item.provider == other_org and item.status == PlanItemStatus.PLANNED
    referral_decline(referral=declined, by=receiver_officer, reason="no_capacity")
    item.refresh_from_db()
    assert item.status == PlanItemStatus.PLANNED
    referral = send(case, owner, other_org, plan_item=item, resent_from=declined)
    with pytest.raises(ApplicationError, match="already carried"):
        send(case, owner, other_org, plan_item=item)
    referral_accept(referral=referral, by=receiver_officer)
    item.refresh_from_db()
    assert item.status == PlanItemStatus.IN_PROGRESS
    referral_complete(referral=referral, by=receiver_officer, outcome="Enam sesi konseling selesai.")
    item.refresh_from_db()
    assert item.status == PlanItemStatus.DONE and item.outcome == "Enam sesi konseling selesai."
    referral.refresh_from_db()
    assert item.done_at == referral.completed_at  # the monthly report counts it in that month
    assert TimelineEntry.objects.filter(case=case, kind="plan_item", data__status="done").exists()
