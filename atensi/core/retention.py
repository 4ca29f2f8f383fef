"""What the portal forgets, and when (daily, task atensi.notifications_cleanup).

- Read notifications created more than ATENSI_NOTIFICATION_RETENTION_DAYS ago; unread
  ones stay until read.
- Reminders delivered or cancelled longer ago than that, with their delivery records.
  The retention must outlast every reminder rule's look-back window: a rule finding a
  deleted key's event still due would plan it again.
- Form-submission tokens older than SUBMISSION_TOKEN_DAYS: a double click comes seconds
  apart, not days.
- Rate-limited attempts older than ratelimit.KEEP, longer than any limit's window.
- Access log entries older than ATENSI_ACCESS_LOG_RETENTION_DAYS (two years by default:
  long enough to answer "who saw this child" for any complaint the law allows).
- What the apps register (`sweep`), e.g. the spreadsheet import previews never
  confirmed nor discarded (stakeholders).

Deleted in batches of BATCH rows, each its own short transaction, so a large backlog
never holds locks for long nor builds one huge transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from .models import AccessLog, Notification, RateEvent, Reminder, SubmissionToken
from .ratelimit import KEEP

SUBMISSION_TOKEN_DAYS = 2
BATCH = 5000

# An app's own clean-up: called with `now` and the batch size, returns how many rows went.
Sweep = Callable[[datetime.datetime, int], int]
_SWEEPS: dict[str, Sweep] = {}


def sweep(name: str) -> Callable[[Sweep], Sweep]:
    """Register a clean-up run daily after the kernel's own; `name` keys its count."""

    def decorator(function: Sweep) -> Sweep:
        _SWEEPS[name] = function
        return function

    return decorator


def delete_in_batches(queryset: QuerySet[Any], *, batch: int) -> int:
    model: type[Model] = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:batch])
            if not ids:
                return deleted
            model._default_manager.filter(pk__in=ids).delete()
        deleted += len(ids)


def cleanup(*, now: datetime.datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    now = now or timezone.now()
    kept_since = now - datetime.timedelta(days=settings.ATENSI_NOTIFICATION_RETENTION_DAYS)
    temporary_since = now - datetime.timedelta(days=SUBMISSION_TOKEN_DAYS)
    counts = {
        "notifications": delete_in_batches(
            Notification.objects.filter(read_at__isnull=False, created_at__lt=kept_since), batch=batch
        ),
        "reminders": delete_in_batches(
            Reminder.objects.filter(Q(delivered_at__lt=kept_since) | Q(cancelled_at__lt=kept_since)), batch=batch
        ),
        "submission_tokens": delete_in_batches(SubmissionToken.objects.filter(at__lt=temporary_since), batch=batch),
        "rate_events": delete_in_batches(RateEvent.objects.filter(at__lt=now - KEEP), batch=batch),
        "access_log": delete_in_batches(
            AccessLog.objects.filter(at__lt=now - datetime.timedelta(days=settings.ATENSI_ACCESS_LOG_RETENTION_DAYS)),
            batch=batch,
        ),
    }
    for name, function in _SWEEPS.items():
        counts[name] = function(now, batch)
    return counts
