"""Reminders by e-mail: once per reminder however often delivery runs, only to those who
want single e-mails and have an address, in their language, with an absolute link."""

from __future__ import annotations

import datetime
import smtplib
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone, translation

import atensi.core.email_channel
from atensi.core import reminders
from atensi.core.email_channel import EmailNotSent
from atensi.core.models import Notification, NotificationPreference, Reminder, ReminderDelivery
from atensi.core.reminders import Planned, claim_due, deliver, plan
from referrals.notification_kinds import NotificationKind

pytestmark = pytest.mark.django_db

# A kind whose sentence is in the Indonesian catalogue already (referrals).
DATA = {
    "referral_kind": "service",
    "sender": "Balai Uji",
    "receiver": "Dinas Sosial Uji",
    "urgency": "emergency",
    "respond_by": "2026-11-24T03:00:00+00:00",
}


def due_reminder(
    user: Any,
    *,
    link: str = "/referrals/7/",
    organisation: Any = None,
    key: str = "referral:7:half",
    email_from: datetime.datetime | None = None,
) -> int:
    plan(
        [
            Planned(
                key=f"{key}:{user.pk}",
                kind=NotificationKind.REFERRAL_RECEIVED,
                recipient_id=user.pk,
                due_at=timezone.now() - datetime.timedelta(minutes=1),
                organisation_id=organisation.pk if organisation else None,
                link=link,
                data=DATA,
                email_from=email_from,
            )
        ]
    )
    [reminder_id] = claim_due()
    return reminder_id


def sentence(language: str) -> str:
    with translation.override(language):
        return atensi.core.email_channel.notification_text(
            Notification(kind=NotificationKind.REFERRAL_RECEIVED, data=DATA)
        )


def test_a_reminder_is_emailed_once_however_often_delivery_runs(owner: Any) -> None:
    reminder_id = due_reminder(owner)
    assert deliver(reminder_id) is True
    assert deliver(reminder_id) is False
    Reminder.objects.filter(pk=reminder_id).update(delivered_at=None)  # as if the first commit was lost
    deliver(reminder_id)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert ReminderDelivery.objects.filter(reminder_id=reminder_id, channel="email").count() == 1
    # The bell's copy is marked e-mailed: a digest will not repeat it.
    assert Notification.objects.get(recipient=owner).emailed_at is not None


@pytest.mark.parametrize("case", ["email_off", "digest", "no_address", "inactive"])
def test_no_email_for_those_who_do_not_get_single_emails(owner: Any, case: str) -> None:
    if case == "email_off":
        NotificationPreference.objects.create(user=owner, email_enabled=False)
    elif case == "digest":
        NotificationPreference.objects.create(user=owner, digest=True)
    elif case == "no_address":
        owner.email = ""
        owner.save(update_fields=["email"])
    else:
        owner.is_active = False
        owner.save(update_fields=["is_active"])
    reminder_id = due_reminder(owner)
    assert deliver(reminder_id) is True  # the bell still gets it
    assert mail.outbox == []
    assert list(ReminderDelivery.objects.values_list("channel", flat=True)) == ["app"]
    assert Notification.objects.get(recipient=owner).emailed_at is None


def test_it_is_written_in_indonesian_by_default_and_english_for_an_english_reader(owner: Any, colleague: Any) -> None:
    colleague.preferred_language = "en"
    colleague.save(update_fields=["preferred_language"])
    assert sentence("id") != sentence("en")
    deliver(due_reminder(owner))
    deliver(due_reminder(colleague))
    by_reader = {message.to[0]: message for message in mail.outbox}
    indonesian, english = by_reader[owner.email], by_reader[colleague.email]
    assert sentence("id") in indonesian.body and sentence("en") not in indonesian.body
    assert "Rujukan masuk" in indonesian.subject  # the kind, from the catalogue
    assert sentence("en") in english.body and english.subject == "ATENSI Portal: Referral received"
    html, mimetype = english.alternatives[0]
    assert mimetype == "text/html" and sentence("en") in html and '<html lang="en">' in html


def test_the_links_are_absolute(owner: Any, org: Any, settings: Any) -> None:
    settings.SITE_URL = "https://atensi.example.id/"
    deliver(due_reminder(owner, organisation=org))
    [message] = mail.outbox
    assert "https://atensi.example.id/referrals/7/" in message.body
    assert "https://atensi.example.id/account/notifications/" in message.body
    assert 'href="https://atensi.example.id/referrals/7/"' in message.alternatives[0][0]
    assert org.name in message.body
    assert "\n" not in message.subject and message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_link_leaving_the_portal_is_replaced_by_the_notifications_page(owner: Any, settings: Any) -> None:
    settings.SITE_URL = "https://atensi.example.id"
    deliver(due_reminder(owner, link="//evil.example/x"))
    [message] = mail.outbox
    assert "evil.example" not in message.body
    assert "https://atensi.example.id/notifications/" in message.body


def test_a_failing_send_keeps_the_bell_and_the_retry_sends_once(owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reminder_id = due_reminder(owner)
    real_send = EmailMultiAlternatives.send

    def broken(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        raise ConnectionError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    with pytest.raises(EmailNotSent):
        deliver(reminder_id)
    assert list(ReminderDelivery.objects.values_list("channel", flat=True)) == ["app"]
    assert Notification.objects.get(recipient=owner).emailed_at is None
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert deliver(reminder_id) is True
    assert deliver(reminder_id) is False
    assert len(mail.outbox) == 1
    assert Notification.objects.get(recipient=owner).emailed_at is not None


def test_a_refused_address_holds_back_only_its_own_email(
    owner: Any, colleague: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail server refuses one recipient: the others of the batch are sent and
    recorded; the retry sends only the refused one."""
    ids = [due_reminder(owner), due_reminder(colleague)]
    real_send = EmailMultiAlternatives.send

    def refusing(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        if self.to == [owner.email]:
            raise smtplib.SMTPRecipientsRefused({owner.email: (550, b"mailbox unavailable")})
        return real_send(self)

    monkeypatch.setattr(EmailMultiAlternatives, "send", refusing)
    with pytest.raises(EmailNotSent):
        reminders.deliver_batch(ids)
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    assert list(Reminder.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True)) == [ids[0]]
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert reminders.deliver_batch(ids) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, colleague.email])
    assert ReminderDelivery.objects.filter(channel="email").count() == 2


def test_a_reminder_whose_email_cannot_be_made_holds_back_only_itself(
    owner: Any, colleague: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [due_reminder(owner), due_reminder(colleague)]
    made = atensi.core.email_channel._message

    def breaks_for_owner(reminder: Any, user: Any, organisation: str, connection: Any) -> Any:
        if user.pk == owner.pk:
            raise ValueError("Invalid address 'a@b, c@d'")
        return made(reminder, user, organisation, connection)

    monkeypatch.setattr(atensi.core.email_channel, "_message", breaks_for_owner)
    with pytest.raises(EmailNotSent):
        reminders.deliver_batch(ids)
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    monkeypatch.setattr(atensi.core.email_channel, "_message", made)
    assert reminders.deliver_batch(ids) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, colleague.email])


def test_a_notification_read_before_its_group_is_sent_is_not_emailed(
    owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminder_id = due_reminder(owner)
    lock = reminders.Sending.lock

    def read_first(self: reminders.Sending, ids: Any) -> Any:
        Notification.objects.filter(recipient=owner).update(read_at=timezone.now())  # the bell was opened
        return lock(self, ids)

    monkeypatch.setattr(reminders.Sending, "lock", read_first)
    assert deliver(reminder_id) is True  # the bell rang
    assert mail.outbox == []
    assert list(ReminderDelivery.objects.values_list("channel", flat=True)) == ["app"]
    assert Reminder.objects.get(pk=reminder_id).delivered_at is not None  # nothing left to send


def test_a_morning_email_rings_the_bell_now_and_is_sent_at_its_time(owner: Any) -> None:
    morning = timezone.now() + datetime.timedelta(hours=6)
    reminder_id = due_reminder(owner, email_from=morning)
    assert reminders.deliver_batch([reminder_id]) == 1
    held = Reminder.objects.get(pk=reminder_id)
    assert (held.due_at, held.claimed_at, held.delivered_at, held.attempts) == (morning, None, None, 1)
    assert mail.outbox == [] and Notification.objects.filter(recipient=owner).count() == 1
    assert claim_due() == []  # not before the morning
    assert claim_due(now=morning) == [reminder_id]
    assert reminders.deliver_batch([reminder_id], now=morning) == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert Notification.objects.filter(recipient=owner).count() == 1  # the bell rang once
    assert Reminder.objects.get(pk=reminder_id).delivered_at == morning


def test_emails_are_recorded_group_by_group_so_a_crash_resends_one_group_at_most(
    owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker dies after the server took the 13th e-mail: the first group of EMAIL_GROUP
    is recorded, the retry sends the rest, so at most one group is sent twice."""
    from atensi.core.email_channel import EMAIL_GROUP

    ids = [due_reminder(owner, key=f"referral:{i}:half") for i in range(EMAIL_GROUP + 5)]
    real_send = EmailMultiAlternatives.send

    def dies_at_13(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        sent = real_send(self)
        if len(mail.outbox) == EMAIL_GROUP + 3:
            raise SystemExit("worker killed")
        return sent

    monkeypatch.setattr(EmailMultiAlternatives, "send", dies_at_13)
    with pytest.raises(SystemExit):
        reminders.deliver_batch(ids)
    assert ReminderDelivery.objects.filter(channel="email").count() == EMAIL_GROUP
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert reminders.deliver_batch(ids) == 5
    message_ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(message_ids) == EMAIL_GROUP + 3 + 5  # the 3 in flight were sent again...
    assert len(set(message_ids)) == len(ids)  # ...as the same messages
    assert ReminderDelivery.objects.filter(channel="email").count() == len(ids)
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}


def test_a_send_that_dies_before_its_commit_is_resent_with_the_same_message_id(
    owner: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # The message reached the mail server, then the worker died before committing: the
    # retry sends again, as the same message, which the reader's mail system files once.
    settings.SITE_URL = "https://atensi.kemensos.go.id"
    reminder_id = due_reminder(owner)
    real_send = EmailMultiAlternatives.send

    def sent_then_died(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        real_send(self)
        raise SystemExit("worker killed after the send")

    monkeypatch.setattr(EmailMultiAlternatives, "send", sent_then_died)
    with pytest.raises(SystemExit):
        deliver(reminder_id)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert deliver(reminder_id) is True
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.message()["Message-ID"] == f"<reminder.{reminder_id}@atensi.kemensos.go.id>"


def test_each_reminder_has_its_own_message_id(owner: Any, colleague: Any) -> None:
    for user in (owner, colleague):
        assert deliver(due_reminder(user)) is True
    assert len({m.message()["Message-ID"] for m in mail.outbox}) == 2


def test_the_channel_is_registered() -> None:
    channel = reminders._CHANNELS["email"]
    assert channel.send is atensi.core.email_channel.send_reminder_emails
    assert channel.wants is atensi.core.email_channel.wants_email
