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
- Search every person's account (the people directory), reset a second factor or end the
  sessions of anyone: national administrators (superusers and the `national_admin` role of
  an organisation marked national); a person's org admins do the last two for their own
  organisation's people.
- Read figures (`figure_scope_for`): an organisation's own figures, its supervisors (exact:
  they may open every case counted), org admins and viewers (aggregate, atensi.core.disclosure);
  a region's, every member of a Dinas Sosial covering it; all of Indonesia's, every member
  of an organisation marked national, and superusers (exact).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, Q
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.disclosure import Disclosure

from .models import Organisation, OrganisationKind, RegionLevel, User
from .roles import Role

# Viewers read aggregate figures only; names and phones of field workers are not that.
WORKFORCE_ROLES = tuple(r for r in Role.values if r != Role.VIEWER)
# Who reads an organisation's own figures: its dashboard, map and monthly report (exactly
# for supervisors, as aggregates for the others: FigureScope.organisation_disclosure).
ORGANISATION_FIGURE_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN, Role.VIEWER)
REPORT_ROLES = ORGANISATION_FIGURE_ROLES


def can_administer_organisation(user: User, organisation: Organisation) -> bool:
    """May `user` edit this organisation's profile and staff? (No query: the actor is cached.)"""
    actor = actor_for(user)
    return actor.is_superuser or organisation.pk in actor.org_ids_with_perm("stakeholders.change_organisation")


def administer_organisation_refusal(user: User, organisation: Organisation) -> str | None:
    if can_administer_organisation(user, organisation):
        return None
    return _("Only an administrator of %(org)s can do this.") % {"org": organisation.name}


def is_national_admin(user: User) -> bool:
    """A superuser, or a national administrator of an organisation marked national."""
    actor = actor_for(user)
    if actor.is_superuser:
        return True
    held = actor.org_ids(Role.NATIONAL_ADMIN)
    return bool(held) and Organisation.objects.filter(pk__in=held, is_national=True, is_active=True).exists()


def can_search_access_log(user: User) -> bool:
    """Supervisors (their organisations' entries) and national administrators (all)."""
    return bool(actor_for(user).org_ids(Role.SUPERVISOR)) or is_national_admin(user)


def has_wider_access(person: User) -> bool:
    """Access beyond one organisation: Django admin (staff) or the national administrator's role."""
    return bool(
        person.is_staff
        or person.is_superuser
        or person.memberships.filter(is_active=True, role=Role.NATIONAL_ADMIN).exists()
    )


def wider_access_refusal(user: User, person: User) -> str | None:
    """Resetting a second factor or ending sessions hands an account to whoever holds its
    password next: an organisation's administrator may not do it to an account that reaches
    further than the organisation, nor a national administrator to a superuser."""
    if person.is_superuser and not user.is_superuser:
        return _("Only a superuser can do this for a superuser.")
    if has_wider_access(person) and not is_national_admin(user):
        return _("Only a national administrator can do this for an account with access beyond its organisation.")
    return None


def reset_second_factor_refusal(user: User, person: User) -> str | None:
    """A lost phone is reset by an administrator of one of the person's organisations, or
    by a national administrator; nobody resets their own (they would need no code at all)."""
    if user.pk == person.pk:
        return _("You cannot reset your own second factor. Ask your organisation's administrator.")
    if (wider := wider_access_refusal(user, person)) is not None:
        return wider
    if is_national_admin(user):
        return None
    theirs = set(person.memberships.filter(is_active=True).values_list("organisation_id", flat=True))
    if theirs & actor_for(user).org_ids(Role.ORG_ADMIN):
        return None
    return _("Only an administrator of the person's organisation, or a national administrator, can reset it.")


def can_search_people(user: User) -> bool:
    """The people directory (every account, whatever its organisation): national
    administrators, who reset second factors and end sessions anywhere."""
    return is_national_admin(user)


def end_sessions_refusal(user: User, person: User) -> str | None:
    """Signing a person out everywhere (a lost laptop, a shared computer left signed in): a
    national administrator, or an administrator of one of the person's organisations. For
    oneself there is "sign out of every other device", which keeps the current session."""
    if user.pk == person.pk:
        return _("To sign yourself out elsewhere, use “Sign out of every other device” in your menu.")
    if (wider := wider_access_refusal(user, person)) is not None:
        return wider
    if is_national_admin(user):
        return None
    theirs = set(person.memberships.filter(is_active=True).values_list("organisation_id", flat=True))
    if theirs & actor_for(user).org_ids(Role.ORG_ADMIN):
        return None
    return _("Only an administrator of the person's organisation, or a national administrator, can sign them out.")


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
    """The monthly report of an organisation: whoever reads its figures (its supervisors,
    org admins and viewers)."""
    actor = actor_for(user)
    if actor.is_superuser or actor.has_role(organisation.pk, *REPORT_ROLES):
        return None
    return _("Only the supervisors, administrators and viewers of %(org)s read its reports.") % {
        "org": organisation.name
    }


def can_view_organisation_reports(user: User) -> bool:
    """Is there an organisation whose monthly report `user` may read? (The menu.)"""
    actor = actor_for(user)
    return actor.is_superuser or bool(actor.org_ids(*REPORT_ROLES))


def set_reach_target_refusal(user: User) -> str | None:
    """An organisation's annual reach target is set nationally (superusers, in admin)."""
    if actor_for(user).is_superuser:
        return None
    return _("Only a national administrator sets reach targets.")


# --- Figures: whose, and how they are shown ----------------------------------------------

DINSOS_KINDS = (OrganisationKind.DINSOS_PROVINSI, OrganisationKind.DINSOS_KABKOTA)


@dataclass(frozen=True)
class FigureScope:
    """Whose figures a user may read. Regional and national figures are always shown as
    aggregates (`Disclosure.AGGREGATE`) but to superusers: they count other organisations'
    children, whom the reader may not see."""

    is_superuser: bool
    national: bool
    # Provinces (2-digit codes) and kab/kota (4-digit) covered by the user's Dinas Sosial.
    # A coverage of districts only gives no region: a kab/kota's figures would show more.
    region_codes: frozenset[str]
    organisation_ids: frozenset[int]  # organisations whose own figures the user reads
    exact_organisation_ids: frozenset[int]  # ... and of those, where they may see every case

    @property
    def sees_regions(self) -> bool:
        return self.national or bool(self.region_codes)

    @property
    def sees_any(self) -> bool:
        return self.sees_regions or bool(self.organisation_ids)

    def reads_organisation(self, organisation_id: int) -> bool:
        """May the user read this organisation's own figures (its organisation dashboard)?"""
        return self.is_superuser or organisation_id in self.organisation_ids

    def organisation_disclosure(self, organisation_id: int) -> Disclosure:
        if self.is_superuser or organisation_id in self.exact_organisation_ids:
            return Disclosure.EXACT
        return Disclosure.AGGREGATE

    @property
    def region_disclosure(self) -> Disclosure:
        return Disclosure.EXACT if self.is_superuser else Disclosure.AGGREGATE

    def covers_region(self, code: str) -> bool:
        """Does the user read the figures of this province or kab/kota (or anything in it)?"""
        return self.national or any(code[: len(c)] == c for c in self.region_codes)


def figure_scope_for(user: User) -> FigureScope:
    """Whose figures `user` reads (at most two queries; none for a superuser)."""
    actor = actor_for(user)
    if actor.is_superuser:
        return FigureScope(True, True, frozenset(), frozenset(), frozenset())
    member_of = actor.org_ids()
    organisations = Organisation.objects.filter(pk__in=member_of)
    national = organisations.filter(is_national=True).exists() if member_of else False
    region_codes: frozenset[str] = frozenset()
    if member_of and not national:
        region_codes = frozenset(
            organisations.filter(kind__in=DINSOS_KINDS)
            .filter(coverage__level__in=[RegionLevel.PROVINCE, RegionLevel.REGENCY])
            .values_list("coverage__code", flat=True)
        )
    return FigureScope(
        is_superuser=False,
        national=national,
        region_codes=region_codes,
        organisation_ids=actor.org_ids(*ORGANISATION_FIGURE_ROLES),
        exact_organisation_ids=actor.org_ids(Role.SUPERVISOR),
    )


def gives_regional_figures(organisation_ids: Iterable[int]) -> Exists:
    """Does one of these organisations give its members regional or national figures (the
    rule of `figure_scope_for`), as an expression: the navigation asks it inside its one query."""
    return Exists(
        Organisation.objects.filter(pk__in=list(organisation_ids)).filter(
            Q(is_national=True)
            | Q(kind__in=DINSOS_KINDS, coverage__level__in=[RegionLevel.PROVINCE, RegionLevel.REGENCY])
        )
    )
