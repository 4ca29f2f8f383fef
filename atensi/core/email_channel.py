"""E-mail as a reminder channel, and the plumbing every portal e-mail shares.

Registered with atensi.core.reminders as its channel outside the portal (importing this
module registers it; the app's ready() does). A reminder is e-mailed when the recipient is
active, has an address, has e-mail on and no daily digest; otherwise the channel does
nothing (digest readers get it in their digest, atensi.core.digest), nor once its
notification was read in the portal (an event's e-mail, atensi.core.reminders.email_event,
comes a sweep after the bell; a reminder's with `email_from` in the morning after it).

The channel runs after the bell's commit, EMAIL_GROUP reminders at a time, each group in a
transaction of its own: its rows locked, its messages sent, then the bell's copies marked
e-mailed and the deliveries recorded. A send cannot join a database transaction: a worker
killed after handing messages to the mail server and before the group's commit sends that
group again when the delivery is retried. Each reminder's e-mail therefore carries a
Message-ID of its own (`reminder_message_id`), the same on every attempt, so the reader's
mail system files such a re-send as the message it already holds.

Every text is rendered in the recipient's language; links are absolute (SITE_URL), the
sentence comes from the same renderers as the bell (codes, never a child's name).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .lookups import IdArray
from .models import Notification, Reminder
from .notification_kinds import kind_label
from .notifications import notification_text, safe_link
from .preferences import email_language
from .prepared_mail import PreparedEmail
from .reminders import Due, OutsideChannel, Sending, outside_channel

log = logging.getLogger(__name__)

# Mail clients and autoresponders should treat these as machine-sent (RFC 3834).
HEADERS = {"Auto-Submitted": "auto-generated"}


def stable_message_id(local_part: str) -> str:
    """A Message-ID that names what the e-mail is for, the same on every attempt to send it."""
    domain = urlsplit(settings.SITE_URL).hostname or "atensi.invalid"
    return f"<{local_part}@{domain}>"


def reminder_message_id(reminder: Reminder) -> str:
    """The Message-ID of a reminder's e-mail: one per reminder."""
    return stable_message_id(f"reminder.{reminder.pk}")


def absolute_url(path: str) -> str:
    """A portal path as a link that works from a mail client."""
    site_url: str = settings.SITE_URL
    return site_url.rstrip("/") + path


def can_email(user: AbstractUser) -> bool:
    return bool(user.is_active and user.email)


def render_email(*, template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """Subject, text and HTML bodies of templates/emails/<template>_{subject,body}.{txt,html}."""
    with translation.override(language):
        full = {
            **context,
            "site_url": settings.SITE_URL.rstrip("/"),
            "preferences_url": absolute_url(reverse("notification_preferences")),
            "notifications_url": absolute_url(reverse("notifications")),
        }
        subject = render_to_string(f"emails/{template}_subject.txt", full)
        text = render_to_string(f"emails/{template}_body.txt", full)
        html = render_to_string(f"emails/{template}_body.html", full)
    # A header must be one line.
    return " ".join(subject.split()), text, html


def build_email(
    *, to: str, subject: str, text: str, html: str, connection: Any = None, message_id: str | None = None
) -> PreparedEmail:
    """A portal e-mail: text with its HTML alternative, machine-sent (HEADERS)."""
    headers = {**HEADERS, "Message-ID": message_id} if message_id else HEADERS
    message = PreparedEmail(subject, text, to=[to], headers=headers, connection=connection)
    message.attach_alternative(html, "text/html")
    return message


def send_email(
    *, to: str, subject: str, text: str, html: str, connection: Any = None, message_id: str | None = None
) -> None:
    build_email(to=to, subject=subject, text=text, html=html, connection=connection, message_id=message_id).send()


# E-mails recorded together once the mail server took them: a worker killed in the middle
# of a batch has sent at most this many that it did not record, and the retry sends them
# again (with the same Message-ID each: the reader's mail system files them once).
EMAIL_GROUP = 10


# The server refused this one message (its recipient, its sender, its data); the
# connection still serves the next.
_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class EmailNotSent(Exception):
    """Some reminders of a batch could not be e-mailed; the task's retry sends only those."""


def wants_email(batch: Sequence[Due]) -> set[int]:
    """The reminders whose recipient gets single e-mails: active, with an address, e-mail
    on and no daily digest (digest readers get it there, atensi.core.digest); no
    preference of their own means the defaults (e-mail on, no digest)."""
    defaults = Q(notification_preference__isnull=True)
    chosen = Q(notification_preference__email_enabled=True, notification_preference__digest=False)
    willing = set(
        get_user_model()
        ._default_manager.filter(defaults | chosen, pk__in_ids=IdArray({due.recipient_id for due in batch}))
        .filter(is_active=True)
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    return {due.pk for due in batch if due.recipient_id in willing}


def _bell_copies(reminders: Sequence[Reminder]) -> dict[int, int]:
    """Reminder id -> its notification in the bell, where that is neither read nor
    e-mailed yet. None to e-mail for the others: read in the portal before the e-mail's
    time came (an event before the sweep, a morning e-mail after the night's bell), or in
    a digest sent meanwhile (the reader switched back to single e-mails)."""
    by_event = {reminder.notification_id: reminder.pk for reminder in reminders if reminder.notification_id}
    by_key = {
        (reminder.recipient_id, f"reminder:{reminder.key}"): reminder.pk
        for reminder in reminders
        if not reminder.notification_id
    }
    if not reminders:
        return {}
    # Locked with the group: the reader marking one read waits for its e-mail, or it is not sent.
    found = (
        Notification.objects.select_for_update()
        .filter(
            Q(pk__in=list(by_event))
            | Q(recipient_id__in={user for user, _key in by_key}, key__in=[k for _u, k in by_key])
        )
        .filter(read_at__isnull=True, emailed_at__isnull=True)
    )
    copies: dict[int, int] = {}
    for pk, recipient_id, key in found.values_list("pk", "recipient_id", "key"):
        reminder_id = by_event.get(pk) or by_key.get((recipient_id, key))
        if reminder_id is not None:
            copies[reminder_id] = pk
    return copies


def _message(reminder: Reminder, user: Any, organisation: str, connection: Any) -> PreparedEmail:
    """The reminder's e-mail: the sentence the bell shows, from the same codes, in the reader's language."""
    as_notification = Notification(kind=reminder.kind, data=reminder.data or {})
    link = safe_link(Notification(link=reminder.link)) or reverse("notifications")
    language = email_language(user)
    with translation.override(language):
        context = {
            "user": user,
            "kind": kind_label(reminder.kind),
            "text": notification_text(as_notification),
            "organisation": organisation,
            "link": absolute_url(link),
        }
    subject, text, html = render_email(template="reminder", context=context, language=language)
    return build_email(
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        connection=connection,
        message_id=reminder_message_id(reminder),
    )


def send_reminder_emails(reminder_ids: Sequence[int], sending: Sending) -> None:
    """E-mail the reminders over one connection to the mail server, EMAIL_GROUP at a time,
    each group in one transaction: its reminders locked (Sending.lock: still open, not yet
    e-mailed, not held by another delivery) and their bell's copies with them (one read in
    the portal meanwhile is not e-mailed), the messages sent, then the copies marked
    e-mailed (a digest will not repeat them) and the reminders completed. A message that
    cannot be made or that the server refuses is left for the retry, the others go on; a
    connection that breaks stops the batch after recording what was sent."""
    failed = 0
    with get_connection() as connection:
        for start in range(0, len(reminder_ids), EMAIL_GROUP):
            broken: Exception | None = None
            with transaction.atomic():
                group = sending.lock(reminder_ids[start : start + EMAIL_GROUP])
                copies = _bell_copies(group)
                sent: list[int] = []
                for reminder in group:
                    if reminder.pk not in copies:
                        continue
                    try:
                        organisation = reminder.organisation.name if reminder.organisation else ""
                        _message(reminder, reminder.recipient, organisation, connection).send()
                    except _REFUSED:
                        failed += 1  # this message only: the others go on
                        continue
                    except OSError as error:  # smtplib's errors are OSErrors: the connection is gone
                        broken = error  # what is left waits for the retry
                        break
                    except Exception:  # one bad reminder (an address, a text) must not hold back the rest
                        log.exception("reminder %s: its e-mail could not be made or sent", reminder.pk)
                        failed += 1
                        continue
                    sent.append(reminder.pk)
                Notification.objects.filter(pk__in=[copies[pk] for pk in sent]).update(emailed_at=sending.now)
                sending.record(sent, [reminder.pk for reminder in group if reminder.pk not in copies])
            if broken is not None:
                raise EmailNotSent("the mail server went away") from broken
    if failed:
        raise EmailNotSent(f"{failed} e-mails not sent")


outside_channel(OutsideChannel(name="email", wants=wants_email, send=send_reminder_emails))
