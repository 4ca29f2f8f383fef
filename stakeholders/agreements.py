"""Reads of agreements (MoU/PKS): who may see and edit them, and their status by the dates.

An agreement is between its parties: members of a party see it and open its document,
administrators of a party edit it. The status (upcoming, active, expiring, expired) is not
stored; the database derives it from the dates for the day asked about, so filters and
badges always agree with the calendar.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from django.db.models import BooleanField, Case, CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django_stubs_ext import WithAnnotations

from atensi.core.access import actor_for

from .models import AGREEMENT_EXPIRING_DAYS, Agreement, AgreementStatus, Organisation, User

_Parties = Agreement.parties.through


def _party_of(org_ids: Iterable[int]) -> Exists:
    return Exists(_Parties.objects.filter(agreement_id=OuterRef("pk"), organisation_id__in=org_ids))


def agreements_visible_to(user: User) -> QuerySet[Agreement]:
    """The one scoping queryset for agreements: those of organisations the user acts for."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Agreement.objects.all()
    org_ids = actor.org_ids()
    if not org_ids:
        return Agreement.objects.none()
    return Agreement.objects.filter(_party_of(list(org_ids)))


def agreements_editable_by(user: User) -> QuerySet[Agreement]:
    """Agreements with a party the user administers."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Agreement.objects.all()
    org_ids = actor.org_ids_with_perm("stakeholders.change_organisation")
    if not org_ids:
        return Agreement.objects.none()
    return Agreement.objects.filter(_party_of(list(org_ids)))


def status_q(status: str, today: datetime.date) -> Q:
    """The date condition for `status` on `today`; mirrors Agreement.status()."""
    soon = today + datetime.timedelta(days=AGREEMENT_EXPIRING_DAYS)
    if status == AgreementStatus.UPCOMING:
        return Q(valid_from__gt=today)
    if status == AgreementStatus.EXPIRED:
        return Q(valid_until__lt=today)
    if status == AgreementStatus.EXPIRING:
        return Q(valid_from__lte=today, valid_until__gte=today, valid_until__lte=soon)
    if status == AgreementStatus.ACTIVE:
        return Q(valid_from__lte=today, valid_until__gt=soon)
    raise ValueError(f"Unknown agreement status {status!r}")


def status_on(today: datetime.date) -> Case:
    """The status as the database computes it, for a badge."""
    return Case(
        *(
            When(status_q(s, today), then=Value(s.value))
            for s in (AgreementStatus.UPCOMING, AgreementStatus.EXPIRED, AgreementStatus.EXPIRING)
        ),
        default=Value(AgreementStatus.ACTIVE.value),
        output_field=CharField(),
    )


class AgreementListed(TypedDict):
    """What agreement_list annotates on each agreement."""

    status_now: str  # an AgreementStatus value, as of `today`
    can_edit: bool  # the user administers one of its parties


def agreement_list(
    *, user: User, status: str = "", today: datetime.date | None = None
) -> QuerySet[WithAnnotations[Agreement, AgreementListed]]:
    """The user's agreements, latest end date first, each with `status_now` and `can_edit`.

    `status` is one of AgreementStatus (empty: all).
    """
    today = today or timezone.localdate()
    qs = agreements_visible_to(user)
    if status:
        qs = qs.filter(status_q(status, today))
    actor = actor_for(user)
    admin_orgs = list(actor.org_ids_with_perm("stakeholders.change_organisation"))
    can_edit: Exists | Value
    if actor.is_superuser:
        can_edit = Value(True, output_field=BooleanField())
    elif admin_orgs:
        can_edit = _party_of(admin_orgs)
    else:
        can_edit = Value(False, output_field=BooleanField())
    return (
        qs.annotate(status_now=status_on(today), can_edit=can_edit)
        .prefetch_related(Prefetch("parties", queryset=Organisation.objects.only("pk", "name").order_by("name")))
        .order_by("-valid_until", "id")
    )


@dataclass(frozen=True)
class AgreementRow:
    """A line of the agreement list: the agreement and its status as of today."""

    agreement: WithAnnotations[Agreement, AgreementListed]
    status: AgreementStatus


def agreement_rows(agreements: Iterable[WithAnnotations[Agreement, AgreementListed]]) -> list[AgreementRow]:
    return [AgreementRow(agreement=a, status=AgreementStatus(a.status_now)) for a in agreements]
