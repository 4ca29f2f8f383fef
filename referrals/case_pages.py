"""What referrals adds to the case pages (registered with cases.pages when the app loads):
the Referrals tab, the overview's "Referrals under way" panel, beside each plan item
another organisation provides, its referral or the link to send one, and the referrals
section of the printable case summary. The templates are templates/referrals/case_tab.html,
case_panel.html, plan_item_link.html and case_summary.html.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from cases import pages
from cases.models import Case
from stakeholders.http import AuthenticatedRequest

from .models import ACTIVE_STATUSES, Referral
from .selectors import referrals_visible_to


def live_referrals(request: AuthenticatedRequest, case: Case) -> dict[str, Any]:
    """The case's referrals under way that the user may see, the soonest deadline first."""
    return {
        "live_referrals": list(
            referrals_visible_to(request.user)
            .filter(case=case, status__in=ACTIVE_STATUSES)
            .select_related("receiver")
            .order_by("respond_by")
        )
    }


def plan_item_referrals(case: Case) -> Prefetch[Any]:
    # A service of another provider is carried by a referral (newest first) — one the
    # case's present organisation sent: after a transfer, the old owner's referrals are
    # not the new owner's to see.
    return Prefetch(
        "referrals", queryset=Referral.objects.filter(sender_id=case.organisation_id).select_related("receiver")
    )


def summary_referrals(request: AuthenticatedRequest, case: Case) -> dict[str, Any]:
    """Every referral of the case the user may see, oldest first, for the printable summary."""
    return {
        "referrals": list(
            referrals_visible_to(request.user)
            .filter(case=case)
            .select_related("sender", "receiver")
            .order_by("sent_at", "pk")
        )
    }


def register() -> None:
    pages.case_tab("referrals/case_tab.html")
    pages.case_panel("referrals/case_panel.html", live_referrals)
    pages.summary_section("referrals/case_summary.html", summary_referrals)
    pages.plan_item_link("referrals/plan_item_link.html", plan_item_referrals)
