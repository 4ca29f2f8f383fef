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
from cases.models import Consent, TimelineEntry
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
from stakeholders.tests.factories import member

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
    assert TimelineEntry.objects.filter(case=case, kind="plan_item", data__status="done").exists()
