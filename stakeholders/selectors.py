"""Reads of organisations and memberships, scoped to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from atensi.access import actor_for, get_or_404

from .models import Agreement, Membership, Organisation, User


def organisations_administered_by(user: Any) -> QuerySet[Organisation]:
    """Organisations whose profile and staff the user may manage."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=actor.org_ids_with_perm("stakeholders.change_organisation"))


def can_administer(user: Any, organisation: Organisation) -> bool:
    """May `user` edit this organisation's profile and staff? (No query: the actor is cached.)"""
    actor = actor_for(user)
    return actor.is_superuser or organisation.pk in actor.org_ids_with_perm("stakeholders.change_organisation")


def organisations_with_staff_visible_to(user: Any) -> QuerySet[Organisation]:
    """Organisations whose staff list the user may read (supervisors and org admins)."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=actor.org_ids_with_perm("stakeholders.view_membership"))


def organisations_of(user: Any) -> QuerySet[Organisation]:
    """The organisations the user acts for (any role)."""
    actor = actor_for(user)
    return Organisation.objects.filter(pk__in=actor.org_ids())


def memberships_visible_to(user: Any) -> QuerySet[Membership]:
    """The one scoping queryset for memberships: admin, staff pages and exports use it."""
    actor = actor_for(user)
    qs = Membership.objects.select_related("user", "organisation")
    if actor.is_superuser:
        return qs
    return qs.filter(organisation_id__in=actor.org_ids_with_perm("stakeholders.view_membership"))


def users_visible_to(user: Any) -> QuerySet[User]:
    """Users the requester may see in admin: themselves and staff of organisations they manage."""
    actor = actor_for(user)
    if actor.is_superuser:
        return User.objects.all()
    orgs = actor.org_ids_with_perm("stakeholders.view_membership")
    from django.db.models import Q

    return User.objects.filter(Q(pk=actor.user_id) | Q(memberships__organisation_id__in=orgs)).distinct()


def organisation_staff_get(*, user: Any, organisation_id: Any) -> Organisation:
    """An organisation whose staff `user` may see, or 404."""
    return get_or_404(organisations_with_staff_visible_to(user), pk=organisation_id)


def organisation_staff_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-is_active", "user__first_name", "user__username", "role")
    )


def memberships_of_user(user: Any) -> QuerySet[Membership]:
    """The user's own active roles, for their home page and navigation."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return (
        Membership.objects.filter(user_id=user.pk, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )


def organisation_agreements(*, organisation: Organisation) -> QuerySet[Agreement]:
    """The agreements an organisation is party to, with all parties, newest expiry first."""
    return organisation.agreements.prefetch_related("parties").order_by("-valid_until", "pk")


def agreements_with_documents_for(user: Any) -> QuerySet[Agreement]:
    """Agreements whose document `user` may open: those of organisations they act for.

    An agreement's text is between its parties; everyone else sees only that it exists.
    """
    actor = actor_for(user)
    if actor.is_superuser:
        return Agreement.objects.all()
    return Agreement.objects.filter(parties__in=actor.org_ids()).distinct()
