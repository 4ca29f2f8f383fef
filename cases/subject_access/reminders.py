"""The subject access deadline reaches the people who answer for it (UU PDP Pasal 32:
3 x 24 hours, so these come at the hour, not at the next morning):

- a request recorded: the organisation's other supervisors, in the bell and by e-mail,
  at once (`notify_recorded`, in the recording's transaction);
- ``subject-access:<pk>:due:<user>`` SUBJECT_ACCESS_DUE to the organisation's
  supervisors, ATENSI_SUBJECT_ACCESS_WARN_HOURS before the deadline;
- ``subject-access:<pk>:overdue:<user>`` SUBJECT_ACCESS_OVERDUE to its supervisors and
  org admins, at the deadline.

A request closed meanwhile has its open reminders cancelled by the same rule. The
notifications carry the request's number and deadline, never the person's name.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.notifications import notify, register
from atensi.core.reminder_helpers import CATCH_UP, cancel_unless, data_int
from atensi.core.reminders import Planned, email_event, plan, rule
from stakeholders.models import User
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org

from ..models import SubjectAccessRequest, SubjectAccessStatus
from ..notification_kinds import NotificationKind

KINDS = (NotificationKind.SUBJECT_ACCESS_DUE, NotificationKind.SUBJECT_ACCESS_OVERDUE)


def _link(request_id: int) -> str:
    return reverse("cases:subject_access_detail", args=[request_id])


def _data(request: SubjectAccessRequest) -> dict[str, Any]:
    return {"request": request.pk, "due": request.due_at.isoformat()}


def notify_recorded(request: SubjectAccessRequest) -> None:
    """Tell the organisation's other supervisors at once: the deadline is three days."""
    members = members_by_org({request.organisation_id}, [Role.SUPERVISOR])
    recipients = [
        pk for pk in holders(members, request.organisation_id, [Role.SUPERVISOR]) if pk != request.recorded_by_id
    ]
    if not recipients:
        return
    key = f"subject-access:{request.pk}:recorded"
    notify(
        recipients=User.objects.filter(pk__in=recipients),
        kind=NotificationKind.SUBJECT_ACCESS_RECORDED,
        link=_link(request.pk),
        organisation=request.organisation,
        key=key,
        **_data(request),
    )
    email_event(key=key, recipient_ids=recipients)


def _warn() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.ATENSI_SUBJECT_ACCESS_WARN_HOURS)


@rule
def plan_subject_access_reminders(now: datetime.datetime) -> None:
    cancel_unless(
        key_prefix="subject-access:",
        kinds=KINDS,
        now=now,
        annotations={"request_pk": data_int("request")},
        data_keys=["request"],
        valid=Exists(SubjectAccessRequest.objects.filter(pk=OuterRef("request_pk"), status=SubjectAccessStatus.OPEN)),
    )
    open_requests = SubjectAccessRequest.objects.filter(status=SubjectAccessStatus.OPEN)
    # Narrow bands on the deadline (a partial index of open requests): the warning while
    # the deadline is less than the warning time away, the escalation once it has passed.
    soon = list(open_requests.filter(due_at__gt=now, due_at__lte=now + _warn()))
    late = list(open_requests.filter(due_at__gt=now - CATCH_UP, due_at__lte=now))
    roles = {NotificationKind.SUBJECT_ACCESS_DUE: [Role.SUPERVISOR]}
    roles[NotificationKind.SUBJECT_ACCESS_OVERDUE] = [Role.SUPERVISOR, Role.ORG_ADMIN]
    members = members_by_org({r.organisation_id for r in [*soon, *late]}, [Role.SUPERVISOR, Role.ORG_ADMIN])
    planned = []
    for kind, event, requests in (
        (NotificationKind.SUBJECT_ACCESS_DUE, "due", soon),
        (NotificationKind.SUBJECT_ACCESS_OVERDUE, "overdue", late),
    ):
        for request in requests:
            due_at = request.due_at - _warn() if event == "due" else request.due_at
            # Org admins answer for the organisation but do not open requests: no link.
            supervisors = set(holders(members, request.organisation_id, [Role.SUPERVISOR]))
            for user_id in holders(members, request.organisation_id, roles[kind]):
                planned.append(
                    Planned(
                        key=f"subject-access:{request.pk}:{event}:{user_id}",
                        kind=kind,
                        recipient_id=user_id,
                        due_at=max(due_at, request.received_at),
                        organisation_id=request.organisation_id,
                        link=_link(request.pk) if user_id in supervisors else "",
                        data=_data(request),
                    )
                )
    plan(planned)


def _due(data: dict[str, Any]) -> str:
    return timezone.localtime(datetime.datetime.fromisoformat(data["due"])).strftime("%d-%m-%Y %H:%M")


@register(NotificationKind.SUBJECT_ACCESS_RECORDED)
def _recorded_text(data: dict[str, Any]) -> str:
    return _("A request for personal data (no. %(number)s) was recorded; it must be answered by %(due)s.") % {
        "number": data["request"],
        "due": _due(data),
    }


@register(NotificationKind.SUBJECT_ACCESS_DUE)
def _due_text(data: dict[str, Any]) -> str:
    return _("Request for personal data no. %(number)s must be answered by %(due)s.") % {
        "number": data["request"],
        "due": _due(data),
    }


@register(NotificationKind.SUBJECT_ACCESS_OVERDUE)
def _overdue_text(data: dict[str, Any]) -> str:
    return _(
        "Request for personal data no. %(number)s was due on %(due)s and is still open: the law gives 3 x 24 hours."
    ) % {"number": data["request"], "due": _due(data)}
