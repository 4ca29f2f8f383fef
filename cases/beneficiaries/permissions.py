"""Who may register, edit and merge beneficiaries."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.utils.translation import gettext as _

from atensi.access import actor_for
from atensi.errors import ApplicationError
from stakeholders.models import Organisation
from stakeholders.roles import Role

from ..models import OPEN_STAGES, Beneficiary, Case
from ..selectors import CASE_ROLES


def registering_organisations(user: Any) -> list[Organisation]:
    """Organisations where the user works cases, i.e. may register a person."""
    ids = actor_for(user).org_ids(*CASE_ROLES)
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")) if ids else []


def can_edit_beneficiary(user: Any, beneficiary: Beneficiary) -> bool:
    """Workers of the organisation that registered the person, or that owns one of their open cases."""
    orgs = actor_for(user).org_ids(*CASE_ROLES)
    if not orgs:
        return False
    if beneficiary.organisation_id in orgs:
        return True
    return Case.objects.filter(beneficiary=beneficiary, organisation_id__in=orgs, stage__in=OPEN_STAGES).exists()


def require_editor(*, user: Any, beneficiary: Beneficiary) -> None:
    if beneficiary.merged_into_id:
        raise ApplicationError(_("This record was merged into another one; make your changes there."))
    if not can_edit_beneficiary(user, beneficiary):
        raise ApplicationError(
            _(
                "Only the workers of the organisation that registered %(name)s, or of one that has an open case "
                "for them, can change this record."
            )
            % {"name": beneficiary.full_name}
        )


def related_org_ids(beneficiary_ids: Collection[int]) -> dict[int, set[int]]:
    """For each person: the organisation that registered them and those owning one of their cases."""
    related: dict[int, set[int]] = {pk: set() for pk in beneficiary_ids}
    for pk, org_id in Beneficiary.objects.filter(pk__in=list(beneficiary_ids)).values_list("pk", "organisation_id"):
        related[pk].add(org_id)
    rows = (
        Case.objects.filter(beneficiary_id__in=list(beneficiary_ids))
        .order_by()
        .values_list("beneficiary_id", "organisation_id")
    )
    for pk, org_id in rows.distinct():
        related[pk].add(org_id)
    return related


def merge_organisations(*, user: Any, first_id: int, second_id: int) -> set[int]:
    """Organisations where the user is a supervisor and that registered or own a case of both people."""
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    if not supervised:
        return set()
    related = related_org_ids([first_id, second_id])
    return set(supervised) & related.get(first_id, set()) & related.get(second_id, set())


def may_merge_anything(user: Any) -> bool:
    return bool(actor_for(user).org_ids(Role.SUPERVISOR))
