"""Refused attempts leave a trace.

A request for a record that exists but is not the requester's to see gets the same 404 as
one that does not exist (atensi.core.access.get_or_404 raises `RefusedByScope`); this
middleware writes it to the access log as a denial (user, record, time, path, address):
one row per refused request, and nothing else.

- At most ATENSI_DENIALS_PER_MINUTE rows a user a minute: a scanner cannot flood the log
  (the rows already written say enough).
- ATENSI_DENIAL_BURST denials by one user within ATENSI_DENIAL_BURST_MINUTES is a burst:
  the national administrators and the user's own org admins are told in the bell, once per
  window (the notification's key) — a colleague trying ids, or a stolen account.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import RefusedByScope
from atensi.core.clientip import client_ip
from atensi.core.models import AccessLog
from atensi.core.notifications import notify, register

from .models import Membership, User
from .notification_kinds import NotificationKind
from .roles import Role


def national_admins() -> list[User]:
    """Superusers, and national administrators of active national organisations."""
    national = Membership.objects.filter(
        role=Role.NATIONAL_ADMIN, is_active=True, organisation__is_national=True, organisation__is_active=True
    ).values("user_id")
    return list(User.objects.filter(Q(is_superuser=True) | Q(pk__in=national), is_active=True))


def org_admins_of(user: User) -> list[User]:
    theirs = Membership.objects.filter(user=user, is_active=True).values("organisation_id")
    admins = Membership.objects.filter(organisation_id__in=theirs, role=Role.ORG_ADMIN, is_active=True).values(
        "user_id"
    )
    return list(User.objects.filter(pk__in=admins, is_active=True).exclude(pk=user.pk))


def record_denial(*, user: User, refused: RefusedByScope, request: HttpRequest) -> bool:
    """Write the denial (unless the user is past the per-minute cap); alert on a burst.
    True if a row was written."""
    now = timezone.now()
    mine = AccessLog.objects.filter(user=user, action=AccessLog.Action.DENIED)
    if mine.filter(at__gte=now - datetime.timedelta(minutes=1)).count() >= settings.ATENSI_DENIALS_PER_MINUTE:
        return False
    AccessLog.objects.create(
        user=user,
        action=AccessLog.Action.DENIED,
        target_type=refused.target_type,
        target_id=refused.target_id,
        # No label: the record's name is exactly what the requester may not know.
        target_label="",
        path=request.get_full_path()[:300],
        ip_address=client_ip(request),
    )
    window = datetime.timedelta(minutes=settings.ATENSI_DENIAL_BURST_MINUTES)
    if mine.filter(at__gte=now - window).count() == settings.ATENSI_DENIAL_BURST:
        _alert(user, now, window)
    return True


def _alert(user: User, now: datetime.datetime, window: datetime.timedelta) -> None:
    # One alert per user and window, however the requests interleave.
    slot = int(now.timestamp() // window.total_seconds())
    notify(
        recipients=[*national_admins(), *org_admins_of(user)],
        kind=NotificationKind.DENIED_ACCESS_BURST,
        key=f"denied-burst:{user.pk}:{slot}",
        username=user.username,
        count=settings.ATENSI_DENIAL_BURST,
        minutes=settings.ATENSI_DENIAL_BURST_MINUTES,
    )


@register(NotificationKind.DENIED_ACCESS_BURST)
def _burst_text(data: dict[str, Any]) -> str:
    return _(
        "%(username)s asked for %(count)s records that are not theirs to see within %(minutes)s minutes. "
        "Check with them whether the account is misused; the access log lists the requests."
    ) % {"username": data["username"], "count": data["count"], "minutes": data["minutes"]}


class DenialLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        user = getattr(request, "user", None)
        if isinstance(exception, RefusedByScope) and isinstance(user, User) and user.is_authenticated:
            record_denial(user=user, refused=exception, request=request)
