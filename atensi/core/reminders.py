"""Reminders: planned once, claimed by a sweep, delivered once per channel.

The reliability contract:
- State lives in Postgres (atensi.core.models.Reminder). Rules (`rule`) look at the data every
  sweep and `plan` the reminders they find due; the key of each names the event and the
  person, so planning again adds nothing.
- The sweep (`claim_due`) takes due rows with SELECT ... FOR UPDATE SKIP LOCKED, marks them
  claimed and, after its commit, queues their delivery in batches (DELIVERY_BATCH a task).
  Two sweeps at once claim different rows. A delivery whose task never ran (the broker was
  down, the worker was killed) is claimed again once its claim is older than RECLAIM_AFTER.
- A delivery (`deliver_batch`) locks its rows and records the bell in ReminderDelivery,
  unique per (reminder, channel), in the same transaction as the notifications: a retried
  or repeated task finds the rows and rings nothing again. E-mail, which cannot join a
  transaction, follows group by group, each group's record written around its sends
  (Sending): a crash sends again at most one group, as the same messages.

Events shown in the bell the moment they happen (a referral arriving, answered,
withdrawn) are e-mailed through the same path (`email_event`): a reminder due at once,
tied to the notification, planned in the event's own transaction.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .lookups import IdArray
from .models import Notification, Reminder, ReminderDelivery

log = logging.getLogger(__name__)

# A claim older than this is taken to have lost its task (the sweep runs every minute;
# a delivery takes well under a second, its retries are separate tasks that re-claim).
RECLAIM_AFTER = datetime.timedelta(minutes=5)
# Reminders claimed by one sweep, and delivered by one task: a batch's notifications and
# records are written set-wise, one transaction each (one task per reminder made 77 a second).
CLAIM_BATCH = 5000
DELIVERY_BATCH = 500

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


# A reminder's notification is keyed "reminder:<its key>", in a column as long as the key's.
_KEY_ROOM = Reminder._meta.get_field("key").max_length - len("reminder:")  # type: ignore[operator]


def plan(rows: Iterable[Planned]) -> None:
    """Write the reminders that are not there yet (by key); existing ones are left alone.
    A key too long for its notification's is a rule's mistake, refused here rather than
    failing the whole batch it would be delivered in."""
    rows = list(rows)
    if too_long := [row.key for row in rows if len(row.key) > _KEY_ROOM]:
        raise ValueError(f"reminder keys longer than {_KEY_ROOM} characters: {too_long[:3]}")
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
    """The thing is settled: its reminders not yet delivered are dropped. Their rows are
    locked in id order first, the order a delivery takes them in: the two never deadlock."""
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update()
            .filter(_open(), key__startswith=key_prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        return Reminder.objects.filter(pk__in_ids=IdArray(ids)).update(cancelled_at=now or timezone.now())


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
            Reminder.objects.filter(pk__in_ids=IdArray(ids)).update(claimed_at=now)
    return ids


@dataclass(frozen=True)
class Due:
    """A reminder of a batch as the delivery-time checks and channels see it (the rest of
    the row stays in the database: the bell is copied from it there)."""

    pk: int
    recipient_id: int
    organisation_id: int | None
    notification_id: int | None
    email_from: datetime.datetime | None


class Sending:
    """What a channel outside the database is given to send a batch with, group by group:
    each group `lock`ed and `record`ed inside one transaction of the channel's, around the
    sends. The rows stay locked while their e-mails go (a few milliseconds each): a second
    task given the same reminders (a retry, a reclaim) skips them, and a worker killed in
    the middle rolls the group's records back, so at most that group is sent again."""

    def __init__(self, channel: str, now: datetime.datetime, delivered: set[int]) -> None:
        self.channel, self.now, self.delivered = channel, now, delivered

    def lock(self, reminder_ids: Sequence[int]) -> list[Reminder]:
        """Of these, the reminders still open and not yet sent on the channel, locked for
        the caller's transaction (those another delivery holds are skipped: it sends them),
        with their recipient and organisation."""
        sent = ReminderDelivery.objects.filter(reminder_id=OuterRef("pk"), channel=self.channel)
        return list(
            Reminder.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(_open(), ~Exists(sent), pk__in_ids=IdArray(reminder_ids))
            .select_related("recipient", "organisation")
            .order_by("pk")
        )

    def record(self, sent: Sequence[int], passed: Sequence[int]) -> None:
        """In the caller's transaction: these were sent (the server took them), those had
        nothing to send; both are complete."""
        ReminderDelivery.objects.bulk_create(
            ReminderDelivery(reminder_id=pk, channel=self.channel, at=self.now) for pk in sent
        )
        _complete([*sent, *passed], self.now)
        self.delivered.update(sent)


@dataclass(frozen=True)
class OutsideChannel:
    """A channel outside the database (e-mail): it cannot join the bell's transaction, so
    it runs after that commit, in small groups of its own (Sending). One such channel at
    most: a reminder is complete when it has recorded (or passed on) the reminder."""

    name: str
    # Of these reminders (locked, not sent on this channel yet), the ids the channel will
    # send (the recipient wants them this way); asked inside the bell's transaction.
    wants: Callable[[Sequence[Due]], set[int]]
    # Send the reminders of these ids, group by group (Sending); raise when some could not
    # be sent (the task's retry sends only those).
    send: Callable[[Sequence[int], Sending], None]


_CHANNELS: dict[str, OutsideChannel] = {}


def outside_channel(channel: OutsideChannel) -> OutsideChannel:
    if _CHANNELS and channel.name not in _CHANNELS:
        raise ImproperlyConfigured("reminders: one channel outside the portal at most")
    _CHANNELS[channel.name] = channel
    return channel


# Delivery-time checks, registered by the apps: each is called with the locked reminders
# of a batch before anything is sent and returns the ids of those no longer the recipient's
# to hear about (e.g. they left the organisation it is for); those are cancelled.
DeliveryCheck = Callable[[Sequence[Due]], set[int]]
_DELIVERY_CHECKS: list[DeliveryCheck] = []


def delivery_check(function: DeliveryCheck) -> DeliveryCheck:
    if function not in _DELIVERY_CHECKS:
        _DELIVERY_CHECKS.append(function)
    return function


def deliver(reminder_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Deliver one reminder (deliver_batch); True if anything was delivered."""
    return deliver_batch([reminder_id], now=now) > 0


def deliver_batch(reminder_ids: Sequence[int], *, now: datetime.datetime | None = None) -> int:
    """Deliver a batch of reminders on every channel not yet done; returns how many had
    something delivered.

    The bell first, set-wise in one transaction with the rows locked: each reminder's
    notification copied from its row and its delivery record written together (unique per
    reminder and channel), the delivery-time checks for the whole batch in one query each.
    Idempotent: run twice (a re-delivered task, a retry), it finds the deliveries made and
    does nothing more.

    Then the e-mail, after that commit (a mail server cannot join a transaction): sent over
    one connection, group by group, each group's rows locked again and its records written
    in one transaction around its sends (Sending). A worker killed in the middle sends again
    at most the group in flight (the same Message-ID: the reader's mail system files them
    once); a send that fails leaves its reminders open for the retry, which sends only
    those; a reminder cancelled, or e-mailed by another task, in between is skipped."""
    now = now or timezone.now()
    outside = next(iter(_CHANNELS.values()), None)
    delivered: set[int] = set()
    with transaction.atomic():
        batch = [
            Due(*row)
            for row in Reminder.objects.select_for_update()
            .filter(_open(), pk__in_ids=IdArray(reminder_ids))
            .order_by("pk")  # locks taken in one order: two batches never deadlock
            .values_list("pk", "recipient_id", "organisation_id", "notification_id", "email_from")
        ]
        if not batch:
            return 0
        gone: set[int] = set()
        for check in _DELIVERY_CHECKS:
            gone |= check(batch)
        if gone:
            Reminder.objects.filter(pk__in_ids=IdArray(gone)).update(cancelled_at=now)
            batch = [due for due in batch if due.pk not in gone]
        done = set(
            ReminderDelivery.objects.filter(reminder_id__in_ids=IdArray(due.pk for due in batch)).values_list(
                "reminder_id", "channel"
            )
        )
        # An event's e-mail (`email_event`) is in the bell already.
        bell = [
            due.pk for due in batch if (due.pk, ReminderDelivery.Channel.APP) not in done and not due.notification_id
        ]
        _ring(bell, now)
        delivered.update(bell)
        unsent = [due for due in batch if outside is not None and (due.pk, outside.name) not in done]
        wanted = outside.wants(unsent) if outside is not None and unsent else set()
        # The e-mail's time has not come (the bell rings first): due again then; the sweep
        # claims it like any other, the bell's record keeps it from ringing twice.
        held = [due.pk for due in batch if due.pk in wanted and due.email_from is not None and now < due.email_from]
        if held:
            Reminder.objects.filter(pk__in_ids=IdArray(held)).update(
                due_at=F("email_from"), claimed_at=None, attempts=F("attempts") + 1
            )
        to_send = [due.pk for due in batch if due.pk in wanted and due.pk not in held]
        _complete([due.pk for due in batch if due.pk not in wanted], now)
    if outside is not None and to_send:
        outside.send(to_send, Sending(outside.name, now, delivered))
    return len(delivered)


def _ring(ids: Sequence[int], now: datetime.datetime) -> None:
    """The bell for these reminders: each one's notification, copied from its row in the
    database (its data never travels to the worker and back), and its delivery record.
    A notification already there (the same recipient and key) is left as it is."""
    if not ids:
        return
    notification, reminder, delivery = Notification._meta, Reminder._meta, ReminderDelivery._meta
    array = IdArray(ids).literal
    with connection.cursor() as cursor:
        # Table names from the models' own metadata, values as parameters.
        cursor.execute(
            f"INSERT INTO {notification.db_table} "  # noqa: S608 - table names from the models
            "(recipient_id, organisation_id, kind, data, link, key, created_at) "
            "SELECT recipient_id, organisation_id, kind, data, link, 'reminder:' || key, %s "
            f"FROM {reminder.db_table} WHERE id = ANY(%s::bigint[]) ORDER BY id "
            "ON CONFLICT DO NOTHING",
            [now, array],
        )
        cursor.execute(
            f"INSERT INTO {delivery.db_table} (reminder_id, channel, at) SELECT unnest(%s::bigint[]), %s, %s",
            [array, ReminderDelivery.Channel.APP, now],
        )


def _complete(ids: Sequence[int], now: datetime.datetime) -> None:
    """These reminders are delivered; `attempts` counts the deliveries that ran to the end."""
    if ids:
        Reminder.objects.filter(_open(), pk__in_ids=IdArray(ids)).update(delivered_at=now, attempts=F("attempts") + 1)
