"""Who hears about a referral: the receiver's referral officers when it arrives, the
sender when it is answered — once each, and never anyone outside the two sides."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from atensi.core.errors import ApplicationError
from atensi.core.models import Notification, NotificationPreference, Reminder, ReminderDelivery
from atensi.core.notifications import mark_read, notification_text
from atensi.core.reminders import claim_due, deliver
from cases.tests.factories import open_case
from referrals.messages import referral_message_send
from referrals.notification_kinds import NotificationKind
from referrals.services import referral_accept, referral_cancel, referral_complete, referral_decline
from referrals.tests.test_services import consent_to_share, send
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(other_org):
    return member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer")


@pytest.fixture
def case(org, owner, other_org):
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    return case


def kinds(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_an_arrival_tells_the_receivers_referral_officers_only(case, owner, colleague, other_org, officer, outsider):
    # outsider is the other organisation's administrator: not a case worker, not told.
    social_worker = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    referral = send(case, owner, other_org, urgency="emergency")
    assert kinds(officer) == [NotificationKind.REFERRAL_RECEIVED]
    assert kinds(social_worker) == [] and kinds(outsider) == [] and kinds(colleague) == []
    n = Notification.objects.get(recipient=officer)
    assert n.link == reverse("referrals:detail", args=[referral.pk]) and n.organisation == other_org
    with translation.override("en"):
        text = notification_text(n)
    assert "Service referral from" in text and "emergency" in text
    # The child is never named in a notification.
    assert case.beneficiary.full_name not in text


def test_without_referral_officers_the_supervisors_hear(case, owner, other_org):
    boss = member(organisation=other_org, role=Role.SUPERVISOR)
    send(case, owner, other_org)
    assert kinds(boss) == [NotificationKind.REFERRAL_RECEIVED]


def test_the_sender_hears_each_answer(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Terapi selesai 6 sesi.")
    assert kinds(owner) == [NotificationKind.REFERRAL_ACCEPTED, NotificationKind.REFERRAL_COMPLETED]
    with translation.override("en"):
        texts = [notification_text(n) for n in Notification.objects.filter(recipient=owner)]
    assert all(case.number in t for t in texts)


def test_a_decline_says_why_and_a_cancel_tells_the_receiver(org, case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    with translation.override("en"):
        text = notification_text(Notification.objects.get(recipient=owner, kind=NotificationKind.REFERRAL_DECLINED))
    assert "no capacity" in text
    again = send(case, owner, other_org)
    referral_cancel(referral=again, by=owner, reason="Keluarga pindah.")
    assert kinds(officer).count(NotificationKind.REFERRAL_CANCELLED) == 1


def test_a_refused_answer_notifies_nobody(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    with pytest.raises(ApplicationError):
        referral_accept(referral=referral, by=officer)
    assert NotificationKind.REFERRAL_ACCEPTED not in kinds(owner)


def test_a_worker_who_left_is_not_told_the_supervisors_are(org, other_org, officer, supervisor):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    case = open_case(organisation=org, by=worker)
    consent_to_share(case, other_org, by=worker)
    referral = send(case, worker, other_org)
    worker.memberships.update(is_active=False)
    referral_decline(referral=referral, by=officer, reason="out_of_area")
    assert kinds(worker) == []
    assert kinds(supervisor) == [NotificationKind.REFERRAL_DECLINED]


def test_a_message_tells_the_other_side_only(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_message_send(referral=referral, by=owner, body="Apakah ada tempat minggu ini?")
    assert kinds(officer) == [NotificationKind.REFERRAL_MESSAGE, NotificationKind.REFERRAL_RECEIVED]
    assert NotificationKind.REFERRAL_MESSAGE not in kinds(owner)
    referral_message_send(referral=referral, by=officer, body="Ada, silakan datang Senin.")
    assert kinds(owner).count(NotificationKind.REFERRAL_MESSAGE) == 1
    with translation.override("en"):
        text = notification_text(Notification.objects.get(recipient=owner, kind=NotificationKind.REFERRAL_MESSAGE))
    assert case.number in text and other_org.name in text


# --- E-mail: arrivals, answers and withdrawals leave by e-mail once, through the sweep ---


def sweep_and_deliver():
    for reminder_id in claim_due():
        deliver(reminder_id)


def test_an_arrival_is_emailed_once_by_the_next_sweep_without_a_second_bell(case, owner, other_org, officer):
    referral = send(case, owner, other_org, urgency="emergency")
    n = Notification.objects.get(recipient=officer)
    # Planned with the event: in the same transaction, due at once, tied to the bell's row.
    reminder = Reminder.objects.get(recipient=officer)
    assert reminder.notification_id == n.pk and reminder.due_at <= timezone.now()
    assert mail.outbox == []  # nothing is sent inside the request
    sweep_and_deliver()
    sweep_and_deliver()  # a second beat finds nothing left
    assert [m.to for m in mail.outbox] == [[officer.email]]
    message = mail.outbox[0]
    assert reverse("referrals:detail", args=[referral.pk]) in message.body
    assert case.beneficiary.full_name not in message.body and case.beneficiary.full_name not in message.subject
    # One bell row still (the e-mail does not add another), now marked e-mailed.
    assert Notification.objects.filter(recipient=officer).count() == 1
    n.refresh_from_db()
    assert n.emailed_at is not None
    assert list(ReminderDelivery.objects.filter(reminder=reminder).values_list("channel", flat=True)) == ["email"]


def test_answers_and_a_withdrawal_are_emailed_to_the_other_side(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_accept(referral=referral, by=officer)
    referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    sweep_and_deliver()
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    with translation.override("id"):
        kinds_ = [
            str(NotificationKind(k).label) for k in ("referral_accepted", "referral_received", "referral_cancelled")
        ]
    assert [to for to, _subject in sent] == sorted([owner.email, officer.email, officer.email])
    assert all(any(k in subject for k in kinds_) for _to, subject in sent)


def test_read_before_the_sweep_or_a_digest_reader_gets_no_single_email(case, owner, other_org, officer):
    NotificationPreference.objects.create(user=owner, digest=True)
    referral = send(case, owner, other_org)
    mark_read(user=officer)  # opened in the portal within the minute
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    sweep_and_deliver()
    assert mail.outbox == []
    # The digest reader's answer waits for the digest: not marked e-mailed.
    assert Notification.objects.get(recipient=owner).emailed_at is None


def test_messages_are_not_emailed_one_by_one(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_message_send(referral=referral, by=officer, body="Ada, silakan datang Senin.")
    assert not Reminder.objects.filter(recipient=owner).exists()


def test_an_email_already_in_a_digest_is_not_sent_again(case, owner, other_org, officer):
    # The officer read digests, got this arrival in one, then switched back to single e-mails.
    send(case, owner, other_org)
    Notification.objects.filter(recipient=officer).update(emailed_at=timezone.now())
    sweep_and_deliver()
    assert mail.outbox == []


def test_the_arrival_gives_the_deadline_in_the_receivers_zone(case, owner, other_org, officer):
    type(other_org).objects.filter(pk=other_org.pk).update(home_region_id="9171")  # Kota Jayapura: WIT
    other_org.refresh_from_db()
    referral = send(case, owner, other_org, urgency="emergency")
    local = timezone.localtime(referral.respond_by, ZoneInfo("Asia/Jayapura"))
    with translation.override("en"):
        text = notification_text(Notification.objects.get(recipient=officer))
        assert text.endswith(f"answer by {date_format(local, 'DATETIME_FORMAT')} WIT")
