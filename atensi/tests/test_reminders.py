"""The reminder machinery: planned once per key, claimed by one sweep, delivered once per
channel however often the delivery runs."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from atensi.core import reminders
from atensi.core.models import Notification, NotificationPreference, Reminder, ReminderDelivery
from atensi.core.reminders import Planned, cancel, claim_due, deliver, plan
from cases.notification_kinds import NotificationKind

pytestmark = pytest.mark.django_db

DATA = {"case_number": "BA-UJI/2026/0001", "due_on": "2026-11-23", "follow_up_kind": "home_visit"}


def planned(user: Any, key: str = "follow-up:1:due", minutes_ago: int = 1) -> Planned:
    return Planned(
        key=f"{key}:{user.pk}",
        kind=NotificationKind.FOLLOW_UP_DUE,
        recipient_id=user.pk,
        due_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        link="/cases/1/",
        data=DATA,
    )


def test_planning_the_same_event_again_adds_nothing(owner: Any) -> None:
    plan([planned(owner)])
    plan([planned(owner), planned(owner)])
    assert Reminder.objects.count() == 1


def test_only_due_open_reminders_are_claimed_once(owner: Any) -> None:
    plan([planned(owner, "a"), planned(owner, "b", minutes_ago=-60), planned(owner, "c")])
    cancel(key_prefix="c:")
    first = claim_due()
    assert len(first) == 1 and Reminder.objects.get(pk=first[0]).key.startswith("a:")
    assert claim_due() == []  # claimed and not yet stale


def test_a_claim_whose_task_vanished_is_taken_again(owner: Any) -> None:
    plan([planned(owner)])
    [reminder_id] = claim_due()
    later = timezone.now() + reminders.RECLAIM_AFTER + datetime.timedelta(seconds=1)
    assert claim_due(now=later) == [reminder_id]


def test_delivery_happens_once_however_often_it_runs(owner: Any) -> None:
    plan([planned(owner)])
    [reminder_id] = claim_due()
    assert deliver(reminder_id) is True
    assert deliver(reminder_id) is False
    Reminder.objects.filter(pk=reminder_id).update(delivered_at=None)  # as if the first commit was lost
    deliver(reminder_id)
    assert Notification.objects.filter(recipient=owner).count() == 1
    assert ReminderDelivery.objects.filter(reminder_id=reminder_id, channel="app").count() == 1


def test_a_failing_email_leaves_the_bell_delivered_and_the_retry_sends_only_the_email(
    owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan([planned(owner)])
    [reminder_id] = claim_due()
    sends: list[list[int]] = []

    def broken(batch: Any, sending: reminders.Sending) -> None:
        raise ConnectionError("smtp down")

    def working(batch: Any, sending: reminders.Sending) -> None:
        with transaction.atomic():
            locked = [reminder.pk for reminder in sending.lock(batch)]
            sends.append(locked)
            sending.record(locked, [])

    email = reminders.OutsideChannel(name="email", wants=lambda batch: {r.pk for r in batch}, send=broken)
    monkeypatch.setitem(reminders._CHANNELS, "email", email)
    with pytest.raises(ConnectionError):
        deliver(reminder_id)
    # The bell rang and is recorded; the reminder stays open for the retry.
    assert list(ReminderDelivery.objects.values_list("channel", flat=True)) == ["app"]
    assert Notification.objects.count() == 1
    assert Reminder.objects.get(pk=reminder_id).delivered_at is None
    monkeypatch.setitem(reminders._CHANNELS, "email", reminders.OutsideChannel("email", email.wants, working))
    assert deliver(reminder_id) is True
    assert sends == [[reminder_id]]
    assert set(ReminderDelivery.objects.values_list("channel", flat=True)) == {"app", "email"}
    assert Notification.objects.count() == 1
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.delivered_at is not None and reminder.attempts == 1
    assert deliver(reminder_id) is False and sends == [[reminder_id]]


def test_a_batch_is_delivered_set_wise_in_the_same_queries_however_large(owner: Any, colleague: Any, org: Any) -> None:
    from django.test.utils import CaptureQueriesContext

    def batch(prefix: str, size: int) -> list[int]:
        rows = [planned(person, f"{prefix}:{i}") for i in range(size) for person in (owner, colleague)]
        for row in rows:
            row.organisation_id = org.pk
        plan(rows)
        return claim_due()

    # The bell alone here (e-mail is recorded group by group: atensi/tests/test_email_channel.py).
    for person in (owner, colleague):
        NotificationPreference.objects.create(user=person, email_enabled=False)
    small, large = batch("small", 1), batch("large", 40)
    with CaptureQueriesContext(connection) as one:
        assert reminders.deliver_batch(small) == 2
    with CaptureQueriesContext(connection) as many:
        assert reminders.deliver_batch(large) == 80
    assert len(many) == len(one)
    assert ReminderDelivery.objects.filter(channel="app").count() == 82
    assert Notification.objects.filter(recipient=owner).count() == 41
    assert not Reminder.objects.filter(delivered_at__isnull=True).exists()
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}


def test_a_key_too_long_for_its_notification_is_refused_when_planned(owner: Any) -> None:
    with pytest.raises(ValueError, match="longer than 191"):
        plan([planned(owner, key="x" * 200)])
    assert not Reminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_group_is_sent_by_whoever_locks_it_first_and_never_once_cancelled_or_sent(owner: Any) -> None:
    """Sending.lock: of the given reminders, those still open, not yet sent on the channel,
    and not held by another delivery (a retry or a reclaimed task running at once)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    plan([planned(owner, f"lock:{i}") for i in range(4)])
    held, cancelled, sent, free = claim_due()
    Reminder.objects.filter(pk=cancelled).update(cancelled_at=timezone.now())
    ReminderDelivery.objects.create(reminder_id=sent, channel="email")
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:  # another delivery holds this one
            cursor.execute("SELECT id FROM atensi_reminder WHERE id = %s FOR UPDATE", [held])
        sending = reminders.Sending("email", timezone.now(), set())
        with transaction.atomic():
            assert [reminder.pk for reminder in sending.lock([held, cancelled, sent, free])] == [free]
    finally:
        other.rollback()
        other.close()


def test_a_cancelled_reminder_is_not_delivered(owner: Any) -> None:
    plan([planned(owner)])
    [reminder_id] = claim_due()
    cancel(key_prefix="follow-up:1:")
    assert deliver(reminder_id) is False
    assert not Notification.objects.exists()


@pytest.mark.parametrize("how", ["left", "organisation_closed"])
def test_someone_who_left_the_organisation_before_it_came_due_is_not_reminded(owner: Any, org: Any, how: str) -> None:
    row = planned(owner)
    row.organisation_id = org.pk
    plan([row])
    [reminder_id] = claim_due()
    if how == "left":
        owner.memberships.filter(organisation=org).update(is_active=False)
    else:
        type(org).objects.filter(pk=org.pk).update(is_active=False)
    assert deliver(reminder_id) is False
    assert not Notification.objects.exists() and not ReminderDelivery.objects.exists()
    # Settled for good: not claimed again.
    assert Reminder.objects.get(pk=reminder_id).cancelled_at is not None
    assert claim_due(now=timezone.now() + reminders.RECLAIM_AFTER * 2) == []


def test_a_reminder_for_the_organisation_they_work_for_is_delivered(owner: Any, org: Any) -> None:
    row = planned(owner)
    row.organisation_id = org.pk
    plan([row])
    [reminder_id] = claim_due()
    assert deliver(reminder_id) is True
    assert Notification.objects.get(recipient=owner).organisation_id == org.pk


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_claim_different_rows(owner: Any) -> None:
    plan([planned(owner, f"r{i}") for i in range(40)])
    results: list[list[int]] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(claim_due(limit=15))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [pk for batch in results for pk in batch]
    assert len(claimed) == len(set(claimed)) == 40


def test_the_sweep_is_scheduled_every_minute(db: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="atensi.reminders_sweep")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "minutes"


def test_a_broken_rule_does_not_stop_the_others(owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(now: datetime.datetime) -> None:
        raise RuntimeError("bug")

    def fine(now: datetime.datetime) -> None:
        plan([planned(owner)])

    monkeypatch.setattr(reminders, "_RULES", [broken, fine])
    reminders.run_rules(timezone.now())
    assert Reminder.objects.count() == 1


def test_the_digest_and_cleanup_are_scheduled(db: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    digest = PeriodicTask.objects.get(task="atensi.notifications_digest")
    cleanup = PeriodicTask.objects.get(task="atensi.notifications_cleanup")
    assert digest.enabled and (digest.crontab.minute, digest.crontab.hour) == ("0", "*")
    assert cleanup.enabled and (cleanup.crontab.minute, cleanup.crontab.hour) == ("30", "2")
    assert str(digest.crontab.timezone) == "Asia/Jakarta"
