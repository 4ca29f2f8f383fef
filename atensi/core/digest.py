"""The daily digest: one e-mail a day listing what a person has not read yet, for those
who chose it instead of an e-mail per reminder (NotificationPreference.digest).

Every hour (beat, task atensi.notifications_digest) `send_due_digests` finds the people
whose digest hour has come in their organisation's local time and who have not had
today's digest, and sends each one. Once per person per local day: the preference row is
locked and `last_digest_on` set in the same transaction as the send, so a second run (a
repeated beat, a redelivered task) finds the day done; a failed send rolls it back and
the next hourly run tries again. A digest lists the unread notifications not yet
e-mailed (reminders e-mailed singly before the switch are not repeated) and marks them
e-mailed; a day with nothing unread sends nothing.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from .email_channel import absolute_url, can_email, render_email, send_email, stable_message_id
from .localtime import DEFAULT_ZONE, ZONES, format_local, local_moment, user_zones
from .models import Notification, NotificationPreference
from .notifications import notification_text
from .preferences import email_language

log = logging.getLogger(__name__)

# More than this many unread notifications are summed up with a link to the list.
DIGEST_MAX_ITEMS = 50
# A first digest (or one after a long pause) reaches back at most this far.
FIRST_DIGEST_LOOKBACK = datetime.timedelta(days=1)
MAX_LOOKBACK = datetime.timedelta(days=7)


@dataclass(frozen=True)
class DueDigest:
    user_id: int
    day: datetime.date  # the person's local day the digest is for
    zone: ZoneInfo


def digests_due(now: datetime.datetime) -> list[DueDigest]:
    """The people whose digest hour has come today (their local time) and who have not had
    today's digest yet."""
    # A superset in SQL (the hour has come and the day is new in some zone), then exact
    # per person once their zone is known.
    in_some_zone = Q()
    for zone in ZONES:
        local = now.astimezone(zone)
        in_some_zone |= Q(digest_hour__lte=local.hour) & (
            Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=local.date())
        )
    rows = list(
        NotificationPreference.objects.filter(in_some_zone, digest=True, email_enabled=True, user__is_active=True)
        .exclude(user__email="")
        .order_by("user_id")
        .values_list("user_id", "digest_hour", "last_digest_on")
    )
    zones = user_zones([user_id for user_id, _hour, _last in rows])
    due = []
    for user_id, hour, last in rows:
        zone = zones.get(user_id, DEFAULT_ZONE)
        local = now.astimezone(zone)
        if local.hour >= hour and (last is None or last < local.date()):
            due.append(DueDigest(user_id=user_id, day=local.date(), zone=zone))
    return due


def _since(last_digest_on: datetime.date | None, now: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """Where the list starts: the day of the last digest (what it sent is marked e-mailed),
    at most MAX_LOOKBACK ago; a first digest looks back a day."""
    if last_digest_on is None:
        return now - FIRST_DIGEST_LOOKBACK
    return max(local_moment(last_digest_on, 0, zone), now - MAX_LOOKBACK)


def send_digest(*, due: DueDigest, now: datetime.datetime, connection: Any = None) -> bool:
    """Send the person's digest for `due.day` unless it was sent; True if an e-mail left."""
    with transaction.atomic():
        preference = (
            NotificationPreference.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=due.user_id)
            .first()
        )
        if preference is None or not (preference.digest and preference.email_enabled):
            return False
        user = preference.user
        if not can_email(user) or (preference.last_digest_on is not None and preference.last_digest_on >= due.day):
            return False
        pending = Notification.objects.filter(
            recipient_id=user.pk,
            read_at__isnull=True,
            emailed_at__isnull=True,
            created_at__gte=_since(preference.last_digest_on, now, due.zone),
            created_at__lte=now,
        )
        items = list(pending.select_related("organisation").order_by("-created_at", "-pk")[:DIGEST_MAX_ITEMS])
        preference.last_digest_on = due.day
        preference.save(update_fields=["last_digest_on"])
        if not items:
            return False
        total = pending.count() if len(items) == DIGEST_MAX_ITEMS else len(items)
        language = email_language(user)
        with translation.override(language):
            lines = [
                {
                    "text": notification_text(n),
                    "organisation": n.organisation.name if n.organisation else "",
                    "at": format_local(n.created_at, due.zone),
                    "link": absolute_url(reverse("notification_open", args=[n.pk])),
                }
                for n in items
            ]
        context = {"user": user, "items": lines, "total": total, "more": total - len(lines)}
        subject, text, html = render_email(template="digest", context=context, language=language)
        pending.update(emailed_at=now)
        # One digest per person and local day: a re-send after a crash keeps its Message-ID.
        message_id = stable_message_id(f"digest.{user.pk}.{due.day.isoformat()}")
        send_email(to=user.email, subject=subject, text=text, html=html, connection=connection, message_id=message_id)
    return True


def send_due_digests(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Every hour: send the digests whose hour has come. One person's failure (a refused
    address, the mail server hiccuping) leaves their day open for the next run."""
    now = now or timezone.now()
    due = digests_due(now)
    sent = failed = 0
    connection = get_connection()
    try:
        for item in due:
            try:
                if send_digest(due=item, now=now, connection=connection):
                    sent += 1
            except SoftTimeLimitExceeded:
                log.warning("digest: out of time, %d left to the next run", len(due) - sent - failed)
                raise
            except Exception:
                log.exception("digest for user %s failed; the next run tries again", item.user_id)
                failed += 1
                connection.close()  # a broken SMTP session is reopened by the next send
    finally:
        connection.close()
    return {"due": len(due), "sent": sent, "failed": failed}
