"""Reads for a case's "Referrals" tab: the case's referrals the user sees, and the plan
items that still wait for a referral. The case is fetched first with
cases.selectors.case_get_for_user; referrals always through referrals_visible_to."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Case, PlanItem, PlanItemStatus
from stakeholders.models import User

from .models import ACTIVE_STATUSES, Referral, ReferralStatus
from .selectors import referrals_visible_to

# Statuses a referral may be re-sent from (to another organisation).
RESENDABLE = (ReferralStatus.DECLINED, ReferralStatus.CANCELLED)


def referrals_of_case(*, user: User, case: Case) -> QuerySet[Referral]:
    """The case's referrals the user may see, newest first, with what the tab shows."""
    return (
        referrals_visible_to(user)
        .filter(case=case)
        .select_related("sender", "receiver", "sent_by", "plan_item")
        .prefetch_related("components")
        .order_by("-sent_at", "-pk")
    )


@dataclass(frozen=True)
class CaseReferralRow:
    """One line of the tab: the referral, and what the page decides about it."""

    referral: Referral
    overdue: bool
    # The case's own organisation may send it again elsewhere (the user may refer the case).
    resendable: bool


def case_referral_rows(*, user: User, case: Case, may_refer: bool, now: datetime.datetime) -> list[CaseReferralRow]:
    """The rows of the case's "Referrals" tab; `may_refer`: the user may refer this case."""
    return [
        CaseReferralRow(
            referral=referral,
            overdue=referral.is_overdue(now),
            resendable=may_refer and referral.sender_id == case.organisation_id and referral.status in RESENDABLE,
        )
        for referral in referrals_of_case(user=user, case=case)
    ]


def plan_items_awaiting_referral(*, case: Case) -> QuerySet[PlanItem]:
    """Planned or running items another organisation provides that no live referral carries."""
    live = Referral.objects.filter(plan_item_id=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    return (
        PlanItem.objects.filter(
            case=case,
            provider__isnull=False,
            status__in=[PlanItemStatus.PLANNED, PlanItemStatus.IN_PROGRESS],
        )
        .exclude(provider_id=case.organisation_id)
        .exclude(Exists(live))
        .select_related("component", "provider")
        .order_by("start_date", "pk")
    )
