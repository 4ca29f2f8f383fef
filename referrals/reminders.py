"""Reminder rules for referral deadlines, and how their notifications read.

A referral waiting for an answer (status sent):

- at half its response time (sent_at + (respond_by - sent_at) / 2) the receiver's answering
  staff hear that it is waiting (REFERRAL_ANSWER_SOON): its referral officers, else its
  supervisors, else its case workers — as referrals.notify.receiving_staff;
- at its deadline (respond_by) the receiving organisation's supervisors are told it was not
  answered in time, and so is the sender — as referrals.notify.sending_staff
  (REFERRAL_OVERDUE).

Referral deadlines are hours (an emergency has 24), so these go out at the moment itself,
not at 07:00; the text gives the deadline in the reader's organisation's zone (WIB, WITA,
WIT). An answered or cancelled referral has its open reminders cancelled by the rule.

Keys: ``referral:<pk>:half:<user>`` and ``referral:<pk>:overdue:<user>``.
Each run looks only at referrals waiting whose half-way point or deadline fell within the
last `CATCH_UP` (one range on `respond_by` for waiting referrals), whom it asks about in
one membership query for all of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef
from django.db.models.expressions import CombinedExpression
from django.urls import reverse
from django.utils.translation import gettext as _

from atensi.core.localtime import format_local, zone_for_regions, zone_named
from atensi.core.notifications import register
from atensi.core.reminder_helpers import CATCH_UP, cancel_unless, data_int
from atensi.core.reminders import Planned, plan, rule
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org

from .models import Referral, ReferralKind, ReferralStatus
from .notification_kinds import NotificationKind
from .notify import STAFF_ROLES, answering_ids, sender_ids

REMINDER_KINDS = (NotificationKind.REFERRAL_ANSWER_SOON, NotificationKind.REFERRAL_OVERDUE)


def _half_way() -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F("sent_at") + (F("respond_by") - F("sent_at")) / 2, output_field=DateTimeField())


def _link(referral_id: int) -> str:
    return reverse("referrals:detail", args=[referral_id])


def _planned(
    row: Mapping[str, Any],
    common: dict[str, Any],
    name: str,
    kind: str,
    users: list[int],
    org_id: int,
    due_at: datetime.datetime,
    **data: Any,
) -> list[Planned]:
    return [
        Planned(
            key=f"referral:{row['pk']}:{name}:{user_id}",
            kind=kind,
            recipient_id=user_id,
            due_at=due_at,
            organisation_id=org_id,
            link=_link(row["pk"]),
            data={**common, **data},
        )
        for user_id in users
    ]


@rule
def plan_referral_reminders(now: datetime.datetime) -> None:
    cancel_unless(
        key_prefix="referral:",
        kinds=REMINDER_KINDS,
        now=now,
        annotations={"referral_pk": data_int("referral")},
        data_keys=["referral"],
        valid=Exists(Referral.objects.filter(pk=OuterRef("referral_pk"), status=ReferralStatus.SENT)),
    )
    # Waiting referrals whose half-way point has come and whose deadline is at most
    # CATCH_UP ago: the half-way reminder (before the deadline) or the escalation (after
    # it). Someone in both organisations has one key: they hear it once.
    rows = list(
        Referral.objects.filter(status=ReferralStatus.SENT, respond_by__gt=now - CATCH_UP)
        .annotate(half_way=_half_way())
        .filter(half_way__lte=now)
        .values(
            "pk",
            "kind",
            "sent_at",
            "respond_by",
            "half_way",
            "sender_id",
            "receiver_id",
            "sent_by_id",
            "case__case_manager_id",
            "case__number",
            "sender__name",
            "receiver__name",
            "sender__home_region_id",
            "sender__village_id",
            "receiver__home_region_id",
            "receiver__village_id",
        )
    )
    org_ids = {r["sender_id"] for r in rows} | {r["receiver_id"] for r in rows}
    members = members_by_org(org_ids, STAFF_ROLES)
    planned: list[Planned] = []
    for row in rows:
        receiver_zone = zone_for_regions(row["receiver__home_region_id"], row["receiver__village_id"])
        common = {
            "referral": row["pk"],
            "referral_kind": row["kind"],
            "sender": row["sender__name"],
            "receiver": row["receiver__name"],
            "respond_by": row["respond_by"].isoformat(),
        }

        if row["respond_by"] > now:
            planned += _planned(
                row,
                common,
                "half",
                NotificationKind.REFERRAL_ANSWER_SOON,
                answering_ids(members, row["receiver_id"]),
                row["receiver_id"],
                row["half_way"],
                zone=receiver_zone.key,
            )
            continue
        # Past the deadline: the receiver's supervisors (its answering staff if it has
        # none), and the sender's side with the case number of their own case.
        supervisors = holders(members, row["receiver_id"], [Role.SUPERVISOR]) or answering_ids(
            members, row["receiver_id"]
        )
        planned += _planned(
            row,
            common,
            "overdue",
            NotificationKind.REFERRAL_OVERDUE,
            supervisors,
            row["receiver_id"],
            row["respond_by"],
            side="receiver",
            zone=receiver_zone.key,
        )
        sender_zone = zone_for_regions(row["sender__home_region_id"], row["sender__village_id"])
        planned += _planned(
            row,
            common,
            "overdue",
            NotificationKind.REFERRAL_OVERDUE,
            sender_ids(
                members,
                sender_id=row["sender_id"],
                sent_by_id=row["sent_by_id"],
                case_manager_id=row["case__case_manager_id"],
            ),
            row["sender_id"],
            row["respond_by"],
            side="sender",
            zone=sender_zone.key,
            case_number=row["case__number"],
        )
    plan(planned)


# --- How the notifications read ------------------------------------------------------------


def _kind_label(data: dict[str, Any]) -> str:
    code = data.get("referral_kind", "")
    return str(ReferralKind(code).label) if code in ReferralKind.values else code


def _due(data: dict[str, Any]) -> str:
    return format_local(datetime.datetime.fromisoformat(data["respond_by"]), zone_named(data.get("zone")))


@register(NotificationKind.REFERRAL_ANSWER_SOON)
def _answer_soon(data: dict[str, Any]) -> str:
    return _("%(kind)s from %(sender)s is waiting for your answer — answer by %(due)s.") % {
        "kind": _kind_label(data),
        "sender": data["sender"],
        "due": _due(data),
    }


@register(NotificationKind.REFERRAL_OVERDUE)
def _overdue(data: dict[str, Any]) -> str:
    if data.get("side") == "sender":
        return _("%(receiver)s has not answered the %(kind)s of case %(case)s, due by %(due)s.") % {
            "receiver": data["receiver"],
            "kind": _kind_label(data).lower(),
            "case": data["case_number"],
            "due": _due(data),
        }
    return _("%(kind)s from %(sender)s was not answered by its deadline, %(due)s.") % {
        "kind": _kind_label(data),
        "sender": data["sender"],
        "due": _due(data),
    }
