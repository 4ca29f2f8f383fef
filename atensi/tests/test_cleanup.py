"""Retention: old read notifications, settled reminders and temporary rows go; everything
still needed stays."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.utils import timezone

from atensi.core.models import AccessLog, Notification, Reminder, ReminderDelivery, SubmissionToken
from atensi.core.retention import cleanup
from atensi.core.tasks import notifications_cleanup
from cases.notification_kinds import NotificationKind
from stakeholders.models import ImportBatch, ImportKind, ImportStatus

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def notification(user: Any, *, created_days_ago: float, read: bool) -> Notification:
    created = days_ago(created_days_ago)
    return Notification.objects.create(
        recipient=user, kind=NotificationKind.FOLLOW_UP_DUE, created_at=created, read_at=created if read else None
    )


def reminder(user: Any, key: str, *, due_days_ago: float, state: str) -> Reminder:
    due = days_ago(due_days_ago)
    row = Reminder.objects.create(
        key=key,
        kind=NotificationKind.FOLLOW_UP_DUE,
        recipient=user,
        due_at=due,
        delivered_at=due if state == "delivered" else None,
        cancelled_at=due if state == "cancelled" else None,
    )
    if state == "delivered":
        ReminderDelivery.objects.create(reminder=row, channel="app", at=due)
    return row


def test_old_read_notifications_go_unread_and_recent_ones_stay(owner: Any, settings: Any) -> None:
    settings.ATENSI_NOTIFICATION_RETENTION_DAYS = 180
    old_read = notification(owner, created_days_ago=181, read=True)
    old_unread = notification(owner, created_days_ago=400, read=False)
    recent_read = notification(owner, created_days_ago=179, read=True)
    assert cleanup()["notifications"] == 1
    assert set(Notification.objects.values_list("pk", flat=True)) == {old_unread.pk, recent_read.pk}
    assert not Notification.objects.filter(pk=old_read.pk).exists()


def test_settled_reminders_go_after_the_retention_open_ones_stay(owner: Any, settings: Any) -> None:
    settings.ATENSI_NOTIFICATION_RETENTION_DAYS = 30
    delivered = reminder(owner, "old-delivered", due_days_ago=31, state="delivered")
    reminder(owner, "old-cancelled", due_days_ago=31, state="cancelled")
    still_open = reminder(owner, "old-open", due_days_ago=90, state="open")
    recent = reminder(owner, "recent-delivered", due_days_ago=29, state="delivered")
    assert cleanup()["reminders"] == 2
    assert set(Reminder.objects.values_list("key", flat=True)) == {still_open.key, recent.key}
    assert not ReminderDelivery.objects.filter(reminder_id=delivered.pk).exists()
    assert ReminderDelivery.objects.filter(reminder=recent).exists()


def test_submission_tokens_and_unconfirmed_import_previews_go_after_two_days(owner: Any, org: Any) -> None:
    old_token = SubmissionToken.objects.create(token=uuid.uuid4(), user=owner)
    new_token = SubmissionToken.objects.create(token=uuid.uuid4(), user=owner)
    SubmissionToken.objects.filter(pk=old_token.pk).update(at=days_ago(2.1))

    def batch(status: str, age: float) -> ImportBatch:
        row = ImportBatch.objects.create(
            kind=ImportKind.WORKFORCE, organisation=org, uploaded_by=owner, filename="x.xlsx", status=status
        )
        ImportBatch.objects.filter(pk=row.pk).update(created_at=days_ago(age))
        return row

    old_preview = batch(ImportStatus.PREVIEW, 3)
    new_preview = batch(ImportStatus.PREVIEW, 1)
    imported = batch(ImportStatus.IMPORTED, 30)
    discarded = batch(ImportStatus.DISCARDED, 30)
    result = cleanup()
    assert result["submission_tokens"] == 1 and result["import_previews"] == 1
    assert list(SubmissionToken.objects.values_list("pk", flat=True)) == [new_token.pk]
    assert set(ImportBatch.objects.values_list("pk", flat=True)) == {new_preview.pk, imported.pk, discarded.pk}
    assert not ImportBatch.objects.filter(pk=old_preview.pk).exists()


def test_it_deletes_in_batches_until_nothing_is_left(owner: Any) -> None:
    for _ in range(7):
        notification(owner, created_days_ago=365, read=True)
    assert cleanup(batch=3)["notifications"] == 7
    assert not Notification.objects.exists()
    assert cleanup(batch=3) == {
        "notifications": 0,
        "reminders": 0,
        "submission_tokens": 0,
        "rate_events": 0,
        "access_log": 0,
        "import_previews": 0,
        "exports": 0,
    }


def test_the_task_runs_the_cleanup(owner: Any) -> None:
    notification(owner, created_days_ago=365, read=True)
    assert notifications_cleanup.apply().get()["notifications"] == 1
    assert not Notification.objects.exists()


def test_the_retention_is_a_setting_of_half_a_year_by_default(settings: Any) -> None:
    assert settings.ATENSI_NOTIFICATION_RETENTION_DAYS == 180


def test_the_access_log_is_kept_two_years(owner: Any, settings: Any) -> None:
    assert settings.ATENSI_ACCESS_LOG_RETENTION_DAYS == 730
    old = AccessLog.objects.create(user=owner, action="view", target_type="cases.case", target_id="1")
    recent = AccessLog.objects.create(user=owner, action="view", target_type="cases.case", target_id="2")
    AccessLog.objects.filter(pk=old.pk).update(at=days_ago(731))
    AccessLog.objects.filter(pk=recent.pk).update(at=days_ago(729))
    assert cleanup()["access_log"] == 1
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]
