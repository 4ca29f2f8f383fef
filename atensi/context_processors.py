"""Navigation for the base layout: each role sees what it can do, nothing it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from stakeholders.workforce import may_see_workforce

from .access import actor_for


@dataclass(frozen=True)
class NavItem:
    label: Any
    url: str
    key: str


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    actor = actor_for(user)
    if not actor.is_authenticated:
        return {"nav_items": []}
    items = [
        NavItem(_("Home"), reverse("home"), "home"),
        NavItem(_("Directory"), reverse("stakeholders:organisation_list"), "directory"),
        NavItem(_("Find services"), reverse("stakeholders:finder"), "finder"),
    ]
    if may_see_workforce(user):
        items.append(NavItem(_("Workforce"), reverse("stakeholders:workforce_list"), "workforce"))
    if actor.org_ids() or actor.is_superuser:
        items.append(NavItem(_("Agreements"), reverse("stakeholders:agreement_list"), "agreements"))
    items.append(NavItem(_("Regions"), reverse("stakeholders:region_lookup"), "regions"))
    staff_orgs = sorted(actor.org_ids_with_perm("stakeholders.view_membership"))
    if staff_orgs:
        items.append(NavItem(_("Staff"), reverse("stakeholders:staff_list", args=[staff_orgs[0]]), "staff"))
    if actor.is_staff or actor.is_superuser:
        items.append(NavItem(_("Administration"), reverse("admin:index"), "admin"))
    return {"nav_items": items}
