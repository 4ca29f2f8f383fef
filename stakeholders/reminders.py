"""Reminder rule for agreements (MoU/PKS) about to expire, and how it reads.

The administrators (Role.ORG_ADMIN) of each active party hear about an agreement 60, 30
and 7 days before its `valid_until`, at 07:00 their organisation's local time (WIB, WITA,
WIT). A renewed agreement (a new `valid_until`) is reminded afresh and its old reminders
not yet sent are cancelled; so are those of a party that left the agreement.

Key: ``agreement:<pk>:<valid_until>:<days before>:<user>`` — a person who administers two
parties hears it once. Each run looks only at agreements expiring 60, 30 or 7 days after
today (or CATCH_UP earlier), on the `agreement_valid_until` index.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import ngettext

from atensi.core.localtime import local_date, local_dates_span, local_moment, zone_for_regions
from atensi.core.notifications import register
from atensi.core.reminder_helpers import CATCH_UP, MORNING_HOUR, cancel_unless, data_date, data_int
from atensi.core.reminders import Planned, plan, rule

from .models import Agreement
from .notification_kinds import NotificationKind
from .roles import Role
from .selectors import holders, members_by_org

# Days before expiry on which the parties' administrators are reminded.
DAYS_BEFORE: tuple[int, ...] = (60, 30, 7)

_Parties = Agreement.parties.through


@rule
def plan_agreement_reminders(now: datetime.datetime) -> None:
    cancel_unless(
        key_prefix="agreement:",
        kinds=[NotificationKind.AGREEMENT_EXPIRING],
        now=now,
        annotations={"agreement_pk": data_int("agreement"), "until": data_date("valid_until")},
        data_keys=["agreement", "valid_until"],
        valid=Exists(
            _Parties.objects.filter(
                agreement_id=OuterRef("agreement_pk"),
                agreement__valid_until=OuterRef("until"),
                organisation_id=OuterRef("organisation_id"),
            )
        ),
    )
    first, last = local_dates_span(now)
    band = Q()
    for days in DAYS_BEFORE:
        ahead = datetime.timedelta(days=days)
        band |= Q(valid_until__gte=first - CATCH_UP + ahead, valid_until__lte=last + ahead)
    agreements = {a["pk"]: a for a in Agreement.objects.filter(band).values("pk", "number", "title", "valid_until")}
    if not agreements:
        return
    parties = list(
        _Parties.objects.filter(agreement_id__in=list(agreements), organisation__is_active=True)
        .order_by("agreement_id", "organisation_id")
        .values("agreement_id", "organisation_id", "organisation__home_region_id", "organisation__village_id")
    )
    members = members_by_org({p["organisation_id"] for p in parties}, [Role.ORG_ADMIN])
    planned = []
    for party in parties:
        agreement = agreements[party["agreement_id"]]
        org_id = party["organisation_id"]
        tz = zone_for_regions(party["organisation__home_region_id"], party["organisation__village_id"])
        today = local_date(now, tz)
        until = agreement["valid_until"]
        for days in DAYS_BEFORE:
            day = until - datetime.timedelta(days=days)
            if not day <= today <= min(day + CATCH_UP, until):
                continue
            for user_id in holders(members, org_id, [Role.ORG_ADMIN]):
                planned.append(
                    Planned(
                        key=f"agreement:{agreement['pk']}:{until.isoformat()}:{days}:{user_id}",
                        kind=NotificationKind.AGREEMENT_EXPIRING,
                        recipient_id=user_id,
                        due_at=local_moment(day, MORNING_HOUR, tz),
                        organisation_id=org_id,
                        link=reverse("stakeholders:agreement_edit", args=[agreement["pk"]]),
                        data={
                            "agreement": agreement["pk"],
                            "number": agreement["number"],
                            "title": agreement["title"],
                            "valid_until": until.isoformat(),
                            "days": days,
                        },
                    )
                )
    plan(planned)


@register(NotificationKind.AGREEMENT_EXPIRING)
def _agreement_expiring(data: dict[str, Any]) -> str:
    days = int(data["days"])
    return ngettext(
        "Agreement %(number)s (%(title)s) expires on %(date)s, in %(days)s day.",
        "Agreement %(number)s (%(title)s) expires on %(date)s, in %(days)s days.",
        days,
    ) % {
        "number": data["number"],
        "title": data["title"],
        "date": date_format(datetime.date.fromisoformat(data["valid_until"]), "DATE_FORMAT"),
        "days": days,
    }
