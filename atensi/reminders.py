"""Reminders: planned once, claimed by a sweep, delivered once per channel.

The reliability contract:
- State lives in Postgres (atensi.models.Reminder). Rules (`rule`) look at the data every
  sweep and `plan` the reminders they find due; the key of each names the event and the
  person, so planning again adds nothing.
- The sweep (`claim_due`) takes due rows with SELECT ... FOR UPDATE SKIP LOCKED, marks them
  claimed and, after its commit, queues one delivery task each. Two sweeps at once claim
  different rows. A delivery whose task never ran (the broker was down, the worker was
  killed) is claimed again once its claim is older than RECLAIM_AFTER.
- A delivery (`deliver`) locks its row and records each channel in ReminderDelivery, unique
  per (reminder, channel), in the same transaction as the effect: a retried or repeated
  task finds the row and sends nothing again.

Events shown in the bell the moment they happen (a referral arriving, answered,
withdrawn) are e-mailed through the same path (`email_event`): a reminder due at once,
tied to the notification, planned in the event's own transaction.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stakeholders.models import Membership

from .models import Notification, Reminder, ReminderDelivery
from .notifications import notify

log = logging.getLogger(__name__)

# A claim older than this is taken to have lost its task (the sweep runs every minute;
# a delivery takes well under a second, its retries are separate tasks that re-claim).
RECLAIM_AFTER = datetime.timedelta(minutes=5)
CLAIM_BATCH = 500

Rule = Callable[[datetime.datetime], None]
_RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    """Register a rule: called by every sweep with `now`, it plans the reminders it finds."""
    if function not in _RULES:
        _RULES.append(function)
    return function


def run_rules(now: datetime.datetime) -> None:
    for function in list(_RULES):
        # One broken rule must not stop the others (nor the deliveries after them).
        try:
            with transaction.atomic():
                function(now)
        except Exception:
            log.exception("reminder rule %s failed", getattr(function, "__name__", function))


@dataclass
class Planned:
    key: str
    kind: str
    recipient_id: int
    due_at: datetime.datetime
    organisation_id: int | None = None
    link: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    notification_id: int | None = None
    email_from: datetime.datetime | None = None


def plan(rows: Iterable[Planned]) -> None:
    """Write the reminders that are not there yet (by key); existing ones are left alone."""
    objects = [
        Reminder(
            key=row.key,
            kind=row.kind,
            recipient_id=row.recipient_id,
            organisation_id=row.organisation_id,
            due_at=row.due_at,
            link=row.link,
            data=row.data,
            notification_id=row.notification_id,
            email_from=row.email_from,
        )
        for row in rows
    ]
    if objects:
        Reminder.objects.bulk_create(objects, ignore_conflicts=True, batch_size=1000)


def email_event(*, key: str, recipient_ids: Iterable[int]) -> None:
    """E-mail an event its recipients already have in the bell (notify(..., key=key)).

    Planned in the event's transaction and due at once: the next sweep (within a minute)
    delivers it like any reminder, so it is neither lost (the row commits with the event)
    nor sent twice (one reminder per notification). Whether it leaves as an e-mail is the
    channel's call: not for someone with e-mail off, in the digest for digest readers."""
    now = timezone.now()
    rows = Notification.objects.filter(recipient_id__in=list(recipient_ids), key=key, emailed_at__isnull=True)
    plan(
        Planned(
            key=f"email:{pk}",
            kind=kind,
            recipient_id=recipient_id,
            organisation_id=organisation_id,
            due_at=now,
            link=link,
            data=data,
            notification_id=pk,
        )
        for pk, kind, recipient_id, organisation_id, link, data in rows.values_list(
            "pk", "kind", "recipient_id", "organisation_id", "link", "data"
        )
    )


def cancel(*, key_prefix: str, now: datetime.datetime | None = None) -> int:
    """The thing is settled: its reminders not yet delivered are dropped."""
    return Reminder.objects.filter(
        key__startswith=key_prefix, delivered_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=now or timezone.now())


def _open() -> Q:
    return Q(delivered_at__isnull=True, cancelled_at__isnull=True)


def claim_due(*, now: datetime.datetime | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Claim up to `limit` due reminders nobody holds; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(_open(), due_at__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RECLAIM_AFTER))
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).update(claimed_at=now)
    return ids


# Channels after the portal's own (e-mail, by the delivery module that adds it): each is
# called inside the delivery's transaction with the locked reminder and returns True when
# it delivered (False: nothing to do on this channel, e.g. the user switched e-mail off).
Channel = Callable[[Reminder], bool]
_CHANNELS: dict[str, Channel] = {}


def channel(name: str) -> Callable[[Channel], Channel]:
    def decorator(function: Channel) -> Channel:
        _CHANNELS[name] = function
        return function

    return decorator


def _works_there(user_id: int, organisation_id: int) -> bool:
    return Membership.objects.filter(
        user_id=user_id, organisation_id=organisation_id, is_active=True, organisation__is_active=True
    ).exists()


def deliver(reminder_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Deliver one reminder on every channel not yet done; True if anything was delivered.

    Idempotent: run twice (a re-delivered task, a retry), it finds the deliveries made
    and does nothing more. An exception rolls the channel's record back with it, so the
    retry tries that channel again."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("recipient", "notification")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.delivered_at is not None or reminder.cancelled_at is not None:
            return False
        if reminder.organisation_id is not None and not _works_there(reminder.recipient_id, reminder.organisation_id):
            # Planned while they worked there; they left (or the organisation closed)
            # before it came due. Its cases and referrals are not theirs to hear about.
            reminder.cancelled_at = now
            reminder.save(update_fields=["cancelled_at"])
            return False
        done = set(reminder.deliveries.values_list("channel", flat=True))
        delivered = False
        # An event's e-mail (`email_event`) is in the bell already.
        if ReminderDelivery.Channel.APP not in done and reminder.notification_id is None:
            notify(
                recipients=[reminder.recipient],
                kind=reminder.kind,
                link=reminder.link,
                organisation=reminder.organisation_id and reminder.organisation,
                key=f"reminder:{reminder.key}",
                **reminder.data,
            )
            ReminderDelivery.objects.create(reminder=reminder, channel=ReminderDelivery.Channel.APP, at=now)
            delivered = True
        # The e-mail's time has not come (the bell rings first): due again then.
        held_until = reminder.email_from if reminder.email_from and now < reminder.email_from else None
        for name, send in _CHANNELS.items():
            if name in done or (held_until and name == ReminderDelivery.Channel.EMAIL):
                continue
            with transaction.atomic():
                if send(reminder):
                    ReminderDelivery.objects.create(reminder=reminder, channel=name, at=now)
                    delivered = True
        reminder.attempts += 1
        if held_until is not None:
            # The sweep claims it then like any other; the bell's record keeps it from
            # ringing twice.
            reminder.due_at = held_until
            reminder.claimed_at = None
            reminder.save(update_fields=["due_at", "claimed_at", "attempts"])
            return delivered
        reminder.delivered_at = now
        reminder.save(update_fields=["delivered_at", "attempts"])
    return delivered
