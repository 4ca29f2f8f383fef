"""Navigation for the base layout: each role sees what it can do, nothing it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import IntegerField, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from atensi.core.access import actor_for
from atensi.core.notifications import notifications_for
from cases.approvals import approvals_waiting_for
from cases.permissions import can_keep_subject_access_register, can_report, can_triage_reports
from cases.selectors import CASE_ROLES, report_queue_for
from referrals.selectors import inbox_waiting
from stakeholders.models import User
from stakeholders.permissions import (
    ORGANISATION_FIGURE_ROLES,
    can_see_workforce,
    can_view_organisation_reports,
    gives_regional_figures,
)
from stakeholders.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: Any
    url: str
    key: str
    # Items of the "network" group (registries shared between organisations) sit in one
    # dropdown, so the bar stays short enough for a laptop and a phone.
    group: str = ""
    count: int | None = None

    @property
    def badge(self) -> str:
        """The count as the badge shows it: exact up to NAV_COUNT_CAP, then "99+"."""
        if self.count is None:
            return ""
        return f"{NAV_COUNT_CAP}+" if self.count > NAV_COUNT_CAP else str(self.count)


# A badge counts no further than this: it runs on every page, and a Balai's inbox can
# hold tens of thousands of waiting referrals (the list itself gives the exact number).
NAV_COUNT_CAP = 99


class _Count(Subquery):
    """COUNT(*) of a queryset, up to one more than NAV_COUNT_CAP, as a scalar subquery."""

    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()

    def __init__(self, queryset: Any) -> None:
        super().__init__(queryset[: NAV_COUNT_CAP + 1])


def nav_counts(
    user: User,
    *,
    intake: bool,
    referrals: bool,
    approvals: bool = False,
    figures_of: frozenset[int] = frozenset(),
) -> dict[str, int]:
    """Every badge of the navigation in one query: it runs on every page. `figures_of`: the
    organisations to ask whether they give regional or national figures (`figures`)."""
    unread = notifications_for(user).filter(read_at__isnull=True).order_by().values("pk")
    counts: dict[str, Any] = {"unread": _Count(unread)}
    if approvals:
        # Pending requests through the approval_waiting index (status, requested_at).
        counts["approvals"] = _Count(approvals_waiting_for(user).order_by().values("pk"))
    if figures_of:
        counts["figures"] = gives_regional_figures(figures_of)
    if referrals:
        counts["referrals"] = _Count(inbox_waiting(user).order_by().values("pk"))
    if intake:
        counts["intake"] = _Count(report_queue_for(user).order_by().values("pk"))
    row = User.objects.filter(pk=user.pk).annotate(**counts).values(*counts).first() or {}
    return {"unread": 0, "intake": 0, "referrals": 0, "approvals": 0, "figures": 0, **row}


def navigation(request: HttpRequest) -> dict[str, Any]:
    # No user at all when a request fails before the authentication middleware ran.
    user: User | AnonymousUser | None = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if getattr(request, "second_factor_pending", False):
        return {"nav_items": [], "second_factor_pending": True}
    actor = actor_for(user)
    triage = can_triage_reports(user)
    case_worker = actor.is_superuser or bool(actor.org_ids(*CASE_ROLES))
    # Who decides requests (supervisors, and org admins when their organisation's only
    # supervisor asks) has a badge; case workers see the page for their own requests.
    approver = bool(actor.org_ids(Role.SUPERVISOR, Role.ORG_ADMIN))
    # Own organisations' figures are known from the roles; regional and national ones from
    # the organisations, asked in the badges' query.
    own_figures = actor.is_superuser or bool(actor.org_ids(*ORGANISATION_FIGURE_ROLES))
    # The home page counted the approvals already (Hari ini): the badge takes its number.
    known_approvals: int | None = getattr(request, "approvals_waiting", None)
    counts = nav_counts(
        user,
        intake=triage,
        referrals=case_worker,
        approvals=approver and known_approvals is None,
        figures_of=frozenset() if own_figures else actor.org_ids(),
    )
    if known_approvals is not None:
        counts["approvals"] = known_approvals
    items = [NavItem(_("Home"), reverse("home"), "home")]
    if own_figures or counts["figures"]:
        items.append(NavItem(_("Dashboard"), reverse("dashboard"), "dashboard"))
    if case_worker:
        items.append(NavItem(_("Cases"), reverse("cases:case_list"), "cases"))
        items.append(NavItem(_("Referrals"), reverse("referrals:inbox"), "referrals", count=counts["referrals"]))
    if approver or case_worker:
        count = counts["approvals"] if approver else None
        items.append(NavItem(_("Approvals"), reverse("cases:approval_queue"), "approvals", count=count))
    if triage:
        items.append(NavItem(_("Intake"), reverse("cases:report_queue"), "intake", count=counts["intake"]))
    if can_report(user):
        items.append(NavItem(_("Report a child"), reverse("cases:report_create"), "report"))
    if actor.org_ids(Role.COMMUNITY_REPORTER):
        items.append(NavItem(_("My reports"), reverse("cases:report_mine"), "my_reports"))
    # The map of open cases, for those who read an organisation's figures (no query: a
    # Dinas Sosial's other roles read their regions' map too, from its address).
    if actor.is_superuser or actor.org_ids(*ORGANISATION_FIGURE_ROLES):
        items.append(NavItem(_("Map"), reverse("figures_map"), "map"))
    network = "network"
    items += [
        NavItem(_("Directory"), reverse("stakeholders:organisation_list"), "directory", network),
        NavItem(_("Find services"), reverse("stakeholders:finder"), "finder", network),
    ]
    if can_see_workforce(user):
        items.append(NavItem(_("Workforce"), reverse("stakeholders:workforce_list"), "workforce", network))
    if actor.org_ids() or actor.is_superuser:
        items.append(NavItem(_("Agreements"), reverse("stakeholders:agreement_list"), "agreements", network))
    items.append(NavItem(_("Regions"), reverse("stakeholders:region_lookup"), "regions", network))
    if can_view_organisation_reports(user):
        items.append(NavItem(_("Monthly report"), reverse("monthly_report"), "monthly_report"))
    staff_orgs = sorted(actor.org_ids_with_perm("stakeholders.view_membership"))
    if staff_orgs:
        items.append(NavItem(_("Staff"), reverse("stakeholders:staff_list", args=[staff_orgs[0]]), "staff"))
    if actor.is_staff or actor.is_superuser:
        items.append(NavItem(_("Administration"), reverse("admin:index"), "admin"))
    items.append(NavItem(_("Notifications"), reverse("notifications"), "notifications", count=counts["unread"]))
    return {
        "nav_items": [i for i in items if not i.group],
        "nav_network": [i for i in items if i.group == "network"],
        # For the idle warning (static/js/session.js, stakeholders.sessions).
        "session_idle_seconds": settings.ATENSI_SESSION_IDLE_SECONDS,
        # The access log's link (the page itself checks a national admin's organisation).
        "nav_access_log": actor.is_superuser or bool(actor.org_ids(Role.SUPERVISOR, Role.NATIONAL_ADMIN)),
        # The register of subject access requests (cases.permissions: supervisors).
        "nav_subject_access": can_keep_subject_access_register(user),
        # The people directory's link, for national administrators (the page checks the mark).
        "nav_people": actor.is_superuser or bool(actor.org_ids(Role.NATIONAL_ADMIN)),
    }
