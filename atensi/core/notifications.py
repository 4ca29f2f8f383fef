"""In-app notifications: writing them once per event and showing them in the reader's
language.

Apps register how each kind reads (`register`), from the codes and names stored in
`Notification.data`; the text is produced when shown, so a Dinas Sosial officer reading
in English and a social worker reading in Bahasa Indonesia see the same event in their
own language. E-mail delivery reads the same rows and renderers. Which kinds there are
is registered by the apps too (atensi.core.notification_kinds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Notification
from .notification_kinds import kind_label

Renderer = Callable[[dict[str, Any]], str]

_RENDERERS: dict[str, Renderer] = {}


def register(kind: str) -> Callable[[Renderer], Renderer]:
    def decorator(renderer: Renderer) -> Renderer:
        _RENDERERS[kind] = renderer
        return renderer

    return decorator


def notification_text(notification: Notification) -> str:
    renderer = _RENDERERS.get(notification.kind)
    if renderer is None:
        return kind_label(notification.kind)
    try:
        return renderer(notification.data or {})
    except (KeyError, TypeError, ValueError):
        # An old row missing a key still says what happened, never breaks the page.
        return kind_label(notification.kind)


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    link: str = "",
    organisation: Any = None,
    key: str = "",
    **data: Any,
) -> None:
    """Notify each recipient once; with a `key`, running the same event again (a retried
    task, a repeated call) adds nothing for whoever already has it."""
    now = timezone.now()
    rows = [
        Notification(
            recipient=user,
            organisation=organisation,
            kind=kind,
            data=data,
            link=link,
            key=key,
            created_at=now,
        )
        for user in {u.pk: u for u in recipients if u is not None}.values()
    ]
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))


def notifications_for(user: AbstractUser) -> QuerySet[Notification]:
    """A user's own notifications — nobody reads anyone else's."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def unread_count(user: AbstractUser) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def mark_read(*, user: AbstractUser, notification_ids: Iterable[int] | None = None) -> int:
    qs = notifications_for(user).filter(read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def safe_link(notification: Notification) -> str:
    """The notification's link if it stays inside the portal (a path), else ''."""
    link = notification.link or ""
    if link.startswith("/") and not link.startswith("//") and url_has_allowed_host_and_scheme(link, None):
        return link
    return ""
