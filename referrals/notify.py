"""Who hears about a referral, and how each notification reads.

The receiving organisation's referral officers hear when one arrives (its supervisors,
then any case worker, when it has no referral officer); the sender — the worker who sent
it and the case manager — hears when it is answered. Each event notifies a person once
(`key`), so a retried call never doubles a notification. Arrivals, answers and
withdrawals are also e-mailed (atensi.core.reminders.email_event: within a minute, once, as
each person chose); messages reach e-mail only through the daily digest, so a busy
thread does not flood anyone's inbox.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from atensi.core.localtime import format_local, organisation_timezone, zone_named
from atensi.core.notifications import notify, register
from atensi.core.reminders import email_event
from cases.models import Urgency
from cases.selectors import CASE_ROLES, holds_role
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org

from .models import DeclineReason, Referral, ReferralKind
from .notification_kinds import NotificationKind

User = get_user_model()
Members = dict[int, dict[str, list[int]]]

# Who is told first, in order: the first group with anyone in it gets the notification.
RECEIVER_ROLE_GROUPS: tuple[tuple[str, ...], ...] = ((Role.REFERRAL_OFFICER,), (Role.SUPERVISOR,), CASE_ROLES)
# Every role the two rules below read (one membership query covers them).
STAFF_ROLES: tuple[str, ...] = tuple({*CASE_ROLES, Role.REFERRAL_OFFICER, Role.SUPERVISOR})


def answering_ids(members: Members, receiver_id: int) -> list[int]:
    """Who answers for the receiver: its referral officers, else its supervisors, else its
    case workers (`members` from stakeholders.selectors.members_by_org)."""
    for roles in RECEIVER_ROLE_GROUPS:
        people = holders(members, receiver_id, roles)
        if people:
            return people
    return []


def sender_ids(members: Members, *, sender_id: int, sent_by_id: int | None, case_manager_id: int | None) -> list[int]:
    """Who hears for the sender: the worker who sent it and the case manager while they
    still work cases there, else the sender's supervisors."""
    workers = set(holders(members, sender_id, CASE_ROLES))
    people = sorted({u for u in (sent_by_id, case_manager_id) if u is not None and u in workers})
    return people or holders(members, sender_id, [Role.SUPERVISOR])


def receiving_staff(referral: Referral) -> QuerySet[Any]:
    members = members_by_org([referral.receiver_id], STAFF_ROLES)
    return User.objects.filter(pk__in=answering_ids(members, referral.receiver_id)).order_by("pk")


def sending_staff(referral: Referral) -> list[Any]:
    members = members_by_org([referral.sender_id], STAFF_ROLES)
    ids = sender_ids(
        members,
        sender_id=referral.sender_id,
        sent_by_id=referral.sent_by_id,
        case_manager_id=referral.case.case_manager_id,
    )
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def _receiver_side(referral: Referral) -> list[Any]:
    """The receiver's answering staff and whoever accepted it, while still there."""
    people = list(receiving_staff(referral))
    answered = referral.answered_by
    if answered is not None and holds_role(organisation_id=referral.receiver_id, user=answered, roles=CASE_ROLES):
        people.append(answered)
    return people


def _link(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def _common(referral: Referral) -> dict[str, Any]:
    return {
        "referral_kind": referral.kind,
        "sender": referral.sender.name,
        "receiver": referral.receiver.name,
    }


def _announce(*, recipients: Any, key: str, **kwargs: Any) -> None:
    """In the bell now, by e-mail within a minute."""
    people = [u for u in recipients if u is not None]
    notify(recipients=people, key=key, **kwargs)
    email_event(key=key, recipient_ids=[u.pk for u in people])


def notify_sent(referral: Referral) -> None:
    _announce(
        recipients=receiving_staff(referral),
        kind=NotificationKind.REFERRAL_RECEIVED,
        link=_link(referral),
        organisation=referral.receiver,
        key=f"referral:{referral.pk}:sent",
        urgency=referral.urgency,
        respond_by=referral.respond_by.isoformat(),
        zone=organisation_timezone(referral.receiver).key,
        **_common(referral),
    )


_ANSWER_KINDS = {
    "accepted": NotificationKind.REFERRAL_ACCEPTED,
    "declined": NotificationKind.REFERRAL_DECLINED,
    "completed": NotificationKind.REFERRAL_COMPLETED,
}


def notify_answered(referral: Referral, *, action: str) -> None:
    """Tell the sender that the receiver accepted, declined or completed the referral."""
    _announce(
        recipients=sending_staff(referral),
        kind=_ANSWER_KINDS[action],
        link=_link(referral),
        organisation=referral.sender,
        key=f"referral:{referral.pk}:{action}",
        case_number=referral.case.number,
        decline_reason=referral.decline_reason,
        **_common(referral),
    )


def notify_cancelled(referral: Referral) -> None:
    """Tell the receiver that the sender withdrew the referral."""
    _announce(
        recipients=_receiver_side(referral),
        kind=NotificationKind.REFERRAL_CANCELLED,
        link=_link(referral),
        organisation=referral.receiver,
        key=f"referral:{referral.pk}:cancelled",
        **_common(referral),
    )


def notify_message(referral: Referral, *, message: Any) -> None:
    """Tell the other side that a message was written on the referral."""
    from_sender = message.organisation_id == referral.sender_id
    if from_sender:
        recipients = _receiver_side(referral)
        organisation = referral.receiver
    else:
        recipients = sending_staff(referral)
        organisation = referral.sender
    notify(
        recipients=[u for u in recipients if u.pk != message.author_id],
        kind=NotificationKind.REFERRAL_MESSAGE,
        link=_link(referral),
        organisation=organisation,
        key=f"referral-message:{message.pk}",
        author_organisation=message.organisation.name,
        case_number=referral.case.number if not from_sender else "",
        **_common(referral),
    )


# --- How each notification reads ---------------------------------------------------------


def _kind_label(data: dict[str, Any]) -> str:
    code = data.get("referral_kind", "")
    return str(ReferralKind(code).label) if code in ReferralKind.values else code


def _when(iso: str, zone: str | None) -> str:
    """A deadline in the receiver's zone with its label (rows written before the zone was
    stored read in WIB, the server's zone, as they always did)."""
    return format_local(datetime.datetime.fromisoformat(iso), zone_named(zone))


@register(NotificationKind.REFERRAL_RECEIVED)
def _received(data: dict[str, Any]) -> str:
    urgency = data.get("urgency", "")
    return _("%(kind)s from %(sender)s, urgency %(urgency)s — answer by %(due)s") % {
        "kind": _kind_label(data),
        "sender": data["sender"],
        "urgency": str(Urgency(urgency).label).lower() if urgency in Urgency.values else urgency,
        "due": _when(data["respond_by"], data.get("zone")),
    }


@register(NotificationKind.REFERRAL_ACCEPTED)
def _accepted(data: dict[str, Any]) -> str:
    return _("%(receiver)s accepted the %(kind)s of case %(case)s.") % {
        "receiver": data["receiver"],
        "kind": _kind_label(data).lower(),
        "case": data["case_number"],
    }


@register(NotificationKind.REFERRAL_DECLINED)
def _declined(data: dict[str, Any]) -> str:
    reason = data.get("decline_reason", "")
    return _(
        "%(receiver)s declined the %(kind)s of case %(case)s (%(reason)s). You can send it to another organisation."
    ) % {
        "receiver": data["receiver"],
        "kind": _kind_label(data).lower(),
        "case": data["case_number"],
        "reason": str(DeclineReason(reason).label).lower() if reason in DeclineReason.values else reason,
    }


@register(NotificationKind.REFERRAL_COMPLETED)
def _completed(data: dict[str, Any]) -> str:
    return _("%(receiver)s completed the %(kind)s of case %(case)s and reported the outcome.") % {
        "receiver": data["receiver"],
        "kind": _kind_label(data).lower(),
        "case": data["case_number"],
    }


@register(NotificationKind.REFERRAL_CANCELLED)
def _cancelled(data: dict[str, Any]) -> str:
    return _("%(sender)s cancelled the %(kind)s they sent you.") % {
        "sender": data["sender"],
        "kind": _kind_label(data).lower(),
    }


@register(NotificationKind.REFERRAL_MESSAGE)
def _message(data: dict[str, Any]) -> str:
    if data.get("case_number"):
        return _("New message from %(org)s on the %(kind)s of case %(case)s.") % {
            "org": data["author_organisation"],
            "kind": _kind_label(data).lower(),
            "case": data["case_number"],
        }
    return _("New message from %(org)s on the %(kind)s they sent you.") % {
        "org": data["author_organisation"],
        "kind": _kind_label(data).lower(),
    }
