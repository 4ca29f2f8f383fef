"""Reads for a case's "Referrals" tab: the case's referrals the user sees, and the plan
items that still wait for a referral. The case is fetched first with
cases.selectors.case_get_for_user; referrals always through referrals_visible_to."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Case, PlanItem, PlanItemStatus
from stakeholders.models import User

from .models import ACTIVE_STATUSES, Referral
from .selectors import referrals_visible_to


def referrals_of_case(*, user: User, case: Case) -> QuerySet[Referral]:
    """The case's referrals the user may see, newest first, with what the tab shows."""
    return (
        referrals_visible_to(user)
        .filter(case=case)
        .select_related("sender", "receiver", "sent_by", "plan_item")
        .prefetch_related("components")
        .order_by("-sent_at", "-pk")
    )


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
