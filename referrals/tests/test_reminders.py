"""Referral deadlines: the receiver's answering staff are reminded at half the response
time; at the deadline the receiver's supervisors are escalated to and the sender is told;
an answered or cancelled referral is reminded of no more. Once each, and nobody else."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from atensi.core.localtime import WIB, WIT, WITA
from atensi.core.models import Notification, Reminder
from atensi.core.notifications import notification_text
from atensi.core.reminders import claim_due, deliver
from cases.tests.factories import open_case
from referrals import notify
from referrals.models import Referral
from referrals.notification_kinds import NotificationKind
from referrals.reminders import plan_referral_reminders
from referrals.services import referral_accept, referral_cancel, referral_decline
from referrals.tests.test_services import consent_to_share, send
from stakeholders.models import Membership, Organisation
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SENT = datetime.datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 WIB, 09:00 WITA, 10:00 WIT
HOUR = datetime.timedelta(hours=1)


def sweep(moment: datetime.datetime) -> list[Notification]:
    with time_machine.travel(moment, tick=False):
        now = timezone.now()
        with transaction.atomic():
            plan_referral_reminders(now)
        before = set(Notification.objects.values_list("pk", flat=True))
        for reminder_id in claim_due(now=now):
            deliver(reminder_id, now=now)
        return list(Notification.objects.exclude(pk__in=before).order_by("pk"))


def reminded(notifications: list[Notification]) -> set[tuple[str, str]]:
    return {(n.recipient.username, n.kind) for n in notifications}


@pytest.fixture
def sides(org: Organisation, owner: Any, other_org: Organisation) -> dict[str, Any]:
    """The sender (Jambi, WIB) and the receiver in Makassar (WITA), with their people."""
    Organisation.objects.filter(pk=org.pk).update(home_region_id="1571")
    Organisation.objects.filter(pk=other_org.pk).update(home_region_id="7371")
    people = {
        "officer": member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer"),
        "chief": member(organisation=other_org, role=Role.SUPERVISOR, username="chief"),
        "receiver_worker": member(organisation=other_org, role=Role.SOCIAL_WORKER, username="rworker"),
        "sender_chief": member(organisation=org, role=Role.SUPERVISOR, username="schief"),
    }
    with time_machine.travel(SENT - HOUR, tick=False):
        case = open_case(organisation=org, by=owner)
        consent_to_share(case, other_org, by=owner)
    return {"case": case, **people}


@pytest.fixture
def referral(sides: dict[str, Any], owner: Any, other_org: Organisation) -> Referral:
    with time_machine.travel(SENT, tick=False):
        return send(sides["case"], owner, other_org, urgency="emergency")  # 24 hours to answer


def test_half_way_the_receivers_referral_officers_are_reminded(referral: Referral, sides: dict[str, Any]) -> None:
    assert referral.respond_by == SENT + 24 * HOUR
    assert sweep(SENT + 12 * HOUR - datetime.timedelta(minutes=1)) == []
    [told] = sweep(SENT + 12 * HOUR)
    assert told.recipient == sides["officer"] and told.kind == NotificationKind.REFERRAL_ANSWER_SOON
    assert told.organisation_id == referral.receiver_id
    assert told.link == reverse("referrals:detail", args=[referral.pk])
    # The deadline in the receiver's own time: 09:00 WITA on the 24th.
    assert notification_text(told) == (
        "Service referral from Balai Anak Uji is waiting for your answer — answer by Nov. 24, 2026, 9 a.m. WITA."
    )
    assert sides["case"].beneficiary.full_name not in notification_text(told)
    assert sweep(SENT + 13 * HOUR) == []


def test_at_the_deadline_the_receivers_supervisors_and_the_sender_hear(
    referral: Referral, sides: dict[str, Any], owner: Any, colleague: Any, outsider: Any
) -> None:
    sweep(SENT + 12 * HOUR)
    assert sweep(SENT + 24 * HOUR - datetime.timedelta(seconds=1)) == []
    told = sweep(SENT + 24 * HOUR)
    assert reminded(told) == {
        ("chief", NotificationKind.REFERRAL_OVERDUE),
        ("owner", NotificationKind.REFERRAL_OVERDUE),
    }
    by_user = {n.recipient.username: n for n in told}
    assert by_user["chief"].organisation_id == referral.receiver_id
    assert by_user["owner"].organisation_id == referral.sender_id
    assert notification_text(by_user["chief"]) == (
        "Service referral from Balai Anak Uji was not answered by its deadline, Nov. 24, 2026, 9 a.m. WITA."
    )
    # The sender reads its own case number and the deadline in its own time.
    assert notification_text(by_user["owner"]) == (
        f"Balai Anak Lain has not answered the service referral of case {referral.case.number}, "
        "due by Nov. 24, 2026, 8 a.m. WIB."
    )
    # The receiver never sees the sender's case number.
    assert referral.case.number not in notification_text(by_user["chief"])
    assert sweep(SENT + 30 * HOUR) == [] and sweep(SENT + 47 * HOUR) == []
    assert not Notification.objects.filter(
        recipient__in=[colleague, outsider, sides["receiver_worker"], sides["sender_chief"]]
    ).exists()


def test_the_recipients_are_those_of_the_referral_notifications(referral: Referral, sides: dict[str, Any]) -> None:
    sweep(SENT + 12 * HOUR)
    half = set(
        Notification.objects.filter(kind=NotificationKind.REFERRAL_ANSWER_SOON).values_list("recipient", flat=True)
    )
    assert half == {u.pk for u in notify.receiving_staff(referral)}
    sweep(SENT + 24 * HOUR)
    sender_side = set(
        Notification.objects.filter(kind=NotificationKind.REFERRAL_OVERDUE, data__side="sender").values_list(
            "recipient", flat=True
        )
    )
    assert sender_side == {u.pk for u in notify.sending_staff(referral)}


def test_without_referral_officers_or_workers_on_the_sender_side_the_next_in_line_hear(
    referral: Referral, sides: dict[str, Any], owner: Any
) -> None:
    Membership.objects.filter(user__in=[sides["officer"], owner]).update(is_active=False)
    told = sweep(SENT + 12 * HOUR)
    assert reminded(told) == {("chief", NotificationKind.REFERRAL_ANSWER_SOON)}
    told = sweep(SENT + 24 * HOUR)
    assert reminded(told) == {
        ("chief", NotificationKind.REFERRAL_OVERDUE),
        ("schief", NotificationKind.REFERRAL_OVERDUE),
    }


@pytest.mark.parametrize("answer", ["accept", "decline", "cancel"])
def test_an_answered_or_cancelled_referral_is_reminded_of_no_more(
    answer: str, referral: Referral, sides: dict[str, Any], owner: Any
) -> None:
    # Planned ahead (a sweep that ran just before half-way claims nothing), then settled.
    with time_machine.travel(SENT + 12 * HOUR, tick=False):
        with transaction.atomic():
            plan_referral_reminders(timezone.now())
    assert Reminder.objects.filter(kind=NotificationKind.REFERRAL_ANSWER_SOON).count() == 1
    with time_machine.travel(SENT + 12 * HOUR + datetime.timedelta(seconds=5), tick=False):
        if answer == "accept":
            referral_accept(referral=referral, by=sides["officer"])
        elif answer == "decline":
            referral_decline(referral=referral, by=sides["officer"], reason="no_capacity")
        else:
            referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    before = Notification.objects.count()
    assert sweep(SENT + 12 * HOUR + datetime.timedelta(seconds=10)) == []
    assert sweep(SENT + 24 * HOUR) == []
    # (The arrival's and the answer's e-mails are reminders too, tied to their notifications.)
    assert Reminder.objects.get(notification__isnull=True).cancelled_at is not None
    assert Notification.objects.count() == before


@pytest.mark.parametrize(
    ("region", "label"), [("1571", "8 a.m. WIB"), ("7371", "9 a.m. WITA"), ("9171", "10 a.m. WIT")]
)
def test_the_deadline_reads_in_the_receivers_zone(
    region: str, label: str, referral: Referral, sides: dict[str, Any]
) -> None:
    Organisation.objects.filter(pk=referral.receiver_id).update(home_region_id=region)
    [told] = sweep(SENT + 12 * HOUR)
    assert notification_text(told).endswith(f"answer by Nov. 24, 2026, {label}.")
    assert told.data["zone"] == {"1571": WIB, "7371": WITA, "9171": WIT}[region].key


def test_a_deadline_missed_during_an_outage_is_still_escalated_but_not_days_later(
    referral: Referral, sides: dict[str, Any]
) -> None:
    # The sweep did not run for a day and a half: no half-way reminder any more, the escalation.
    told = sweep(SENT + 36 * HOUR)
    assert {n.kind for n in told} == {NotificationKind.REFERRAL_OVERDUE}
    with time_machine.travel(SENT, tick=False):
        case = open_case(organisation=referral.sender, by=referral.sent_by)
        consent_to_share(case, referral.receiver, by=referral.sent_by)
        late = send(case, referral.sent_by, referral.receiver)
    Referral.objects.filter(pk=late.pk).update(respond_by=SENT + HOUR)
    assert sweep(SENT + 100 * HOUR) == []  # three days after its deadline: left to the inbox


def test_the_rule_costs_a_few_queries_however_many_referrals(
    sides: dict[str, Any], owner: Any, org: Organisation, django_assert_max_num_queries: Any
) -> None:
    receivers = []
    for n in range(6):
        receiver = OrganisationFactory(code=f"LKS-{n}", home_region_id="9171")
        member(organisation=receiver, role=Role.REFERRAL_OFFICER)
        member(organisation=receiver, role=Role.SUPERVISOR)
        receivers.append(receiver)
    with time_machine.travel(SENT, tick=False):
        for receiver in receivers:
            case = open_case(organisation=org, by=owner)
            consent_to_share(case, receiver, by=owner)
            send(case, owner, receiver, urgency="emergency")
    for moment in (SENT + 12 * HOUR, SENT + 24 * HOUR):
        with time_machine.travel(moment, tick=False), django_assert_max_num_queries(6):
            plan_referral_reminders(timezone.now())
    assert Reminder.objects.filter(notification__isnull=True).count() == 6 + 6 * 2
