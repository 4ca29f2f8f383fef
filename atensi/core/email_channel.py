"""E-mail as a reminder channel, and the plumbing every portal e-mail shares.

Registered with atensi.core.reminders as the "email" channel (importing this module registers
it; the app's ready() does). A reminder is e-mailed when the recipient is active, has an
address, has e-mail on and no daily digest; otherwise the channel does nothing (digest
readers get it in their digest, atensi.core.digest), nor once its notification was read in the
portal (an event's e-mail, atensi.core.reminders.email_event, comes a sweep after the bell; a
reminder's with `email_from` in the morning after it). The channel runs inside the delivery's
transaction, after the in-app notification was written: the notification is marked
e-mailed and the message sent last, so a failing send rolls the mark (and the delivery
record) back and the retried task sends it again; once recorded, never twice.

A send cannot join a database transaction: a worker killed after handing the message to
the mail server and before its commit sends it again when the delivery is retried. Each
reminder's e-mail therefore carries a Message-ID of its own (`reminder_message_id`), the
same on every attempt, so the reader's mail system files such a re-send as the message it
already holds.

Every text is rendered in the recipient's language; links are absolute (SITE_URL), the
sentence comes from the same renderers as the bell (codes, never a child's name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import Notification, Reminder
from .notification_kinds import kind_label
from .notifications import notification_text, safe_link
from .preferences import email_language, preference_for
from .reminders import channel

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


def send_email(
    *, to: str, subject: str, text: str, html: str, connection: Any = None, message_id: str | None = None
) -> None:
    headers = {**HEADERS, "Message-ID": message_id} if message_id else HEADERS
    message = EmailMultiAlternatives(subject, text, to=[to], headers=headers, connection=connection)
    message.attach_alternative(html, "text/html")
    message.send()


@channel("email")
def email_reminder(reminder: Reminder) -> bool:
    user = reminder.recipient
    if not can_email(user):
        return False
    preference = preference_for(user)
    if not preference.email_enabled or preference.digest:
        return False
    # The bell's copy, marked e-mailed first (undone if the send fails). None to mark: it
    # was read in the portal before the e-mail's time came (an event before the sweep, a
    # morning e-mail after the night's bell), or it was in a digest sent meanwhile (the
    # reader switched back to single e-mails) — nothing to add.
    event = reminder.notification
    shown = (
        Notification.objects.filter(pk=event.pk)
        if event is not None
        else Notification.objects.filter(recipient_id=user.pk, key=f"reminder:{reminder.key}")
    )
    if not shown.filter(read_at__isnull=True, emailed_at__isnull=True).update(emailed_at=timezone.now()):
        return False
    # The same sentence the bell shows, from the same codes.
    as_notification = Notification(kind=reminder.kind, data=reminder.data or {})
    link = safe_link(Notification(link=reminder.link)) or reverse("notifications")
    language = email_language(user)
    with translation.override(language):
        context = {
            "user": user,
            "kind": kind_label(reminder.kind),
            "text": notification_text(as_notification),
            "organisation": reminder.organisation.name if reminder.organisation_id else "",  # type: ignore[union-attr]
            "link": absolute_url(link),
        }
    subject, text, html = render_email(template="reminder", context=context, language=language)
    send_email(to=user.email, subject=subject, text=text, html=html, message_id=reminder_message_id(reminder))
    return True
