"""Who may do what with organisations, their staff, agreements and the workforce registry.

A rule is `<verb>_<thing>_refusal(user, obj) -> str | None` (None when the user may) or,
where the only answer a page needs is yes or no, `can_<verb>_<thing>(user, obj) -> bool`;
services enforce the refusal with `atensi.core.errors.require(...)`, so a button and the
service's refusal come from the same rule.

- Administer an organisation (its profile, staff, workforce entries, imports): its org
  admins (the `stakeholders.change_organisation` permission of their role), and superusers.
- Change an agreement: an administrator of one of its parties; a new or edited agreement
  keeps at least one party the user administers.
- Read the workforce registry: every working member of some organisation (names and phones
  of field workers are not aggregate figures, so viewers do not), and superusers.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from atensi.core.access import actor_for

from .models import Organisation, User
from .roles import Role

# Viewers read aggregate figures only; names and phones of field workers are not that.
WORKFORCE_ROLES = tuple(r for r in Role.values if r != Role.VIEWER)
# Who reads an organisation's monthly report (aggregate figures of its own work).
REPORT_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN)


def can_administer_organisation(user: User, organisation: Organisation) -> bool:
    """May `user` edit this organisation's profile and staff? (No query: the actor is cached.)"""
    actor = actor_for(user)
    return actor.is_superuser or organisation.pk in actor.org_ids_with_perm("stakeholders.change_organisation")


def administer_organisation_refusal(user: User, organisation: Organisation) -> str | None:
    if can_administer_organisation(user, organisation):
        return None
    return _("Only an administrator of %(org)s can do this.") % {"org": organisation.name}


def import_for_organisation_refusal(user: User, organisation: Organisation) -> str | None:
    """The administrator rule, worded for importing a list in the organisation's name."""
    if can_administer_organisation(user, organisation):
        return None
    return _("Only an administrator of %(org)s can import for it.") % {"org": organisation.name}


def change_agreement_refusal(user: User, parties: Iterable[Organisation]) -> str | None:
    """An agreement is changed by an administrator of one of its (present) parties."""
    if any(can_administer_organisation(user, party) for party in parties):
        return None
    return _("Only an administrator of one of the parties can change this agreement.")


def agreement_parties_refusal(user: User, parties: Iterable[Organisation]) -> str | None:
    """The parties an agreement is saved with include one the user administers."""
    if any(can_administer_organisation(user, party) for party in parties):
        return None
    return _("One of the parties must be an organisation you administer.")


def see_workforce_refusal(user: User) -> str | None:
    actor = actor_for(user)
    if actor.is_superuser or actor.org_ids(*WORKFORCE_ROLES):
        return None
    return _("The workforce registry is for the staff of organisations.")


def can_see_workforce(user: User) -> bool:
    return see_workforce_refusal(user) is None


def view_organisation_report_refusal(user: User, organisation: Organisation) -> str | None:
    """The monthly report of an organisation: its supervisors and org admins."""
    actor = actor_for(user)
    if actor.is_superuser or actor.has_role(organisation.pk, *REPORT_ROLES):
        return None
    return _("Only the supervisors and administrators of %(org)s read its reports.") % {"org": organisation.name}


def can_view_organisation_reports(user: User) -> bool:
    """Is there an organisation whose monthly report `user` may read? (The menu.)"""
    actor = actor_for(user)
    return actor.is_superuser or bool(actor.org_ids(*REPORT_ROLES))
