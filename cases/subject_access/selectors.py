"""Reads of the subject access register, scoped like everything else: a request is seen by
the supervisors of the organisation it was made to (and superusers); anyone else is
answered "not found"."""

from __future__ import annotations

from django.db.models import QuerySet

from atensi.core.access import actor_for, get_or_404
from stakeholders.models import User
from stakeholders.roles import Role

from ..models import Beneficiary, Case, SubjectAccessRequest
from .sections import Subject


def subject_access_requests_for(user: User) -> QuerySet[SubjectAccessRequest]:
    actor = actor_for(user)
    if actor.is_superuser:
        return SubjectAccessRequest.objects.all()
    return SubjectAccessRequest.objects.filter(organisation_id__in=actor.org_ids(Role.SUPERVISOR))


def subject_access_register(user: User) -> QuerySet[SubjectAccessRequest]:
    """The register's rows, with what its lines show (the page orders the open ones by
    deadline and pages the closed ones newest first)."""
    return subject_access_requests_for(user).select_related("organisation", "beneficiary", "recorded_by")


def subject_access_request_get(*, user: User, request_id: object) -> SubjectAccessRequest:
    return get_or_404(
        subject_access_requests_for(user).select_related(
            "organisation", "beneficiary", "recorded_by", "answered_by", "bundle"
        ),
        pk=request_id,
    )


def survivor_of(beneficiary: Beneficiary) -> Beneficiary:
    """The record a merged person lives on in (a merge may have been merged again)."""
    seen = {beneficiary.pk}
    while beneficiary.merged_into_id is not None and beneficiary.merged_into_id not in seen:
        seen.add(beneficiary.merged_into_id)
        beneficiary = Beneficiary.objects.get(pk=beneficiary.merged_into_id)
    return beneficiary


def _merged_into(person_id: int) -> list[int]:
    found = [person_id]
    frontier = [person_id]
    while frontier:
        frontier = [
            pk
            for pk in Beneficiary.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
            if pk not in found
        ]
        found.extend(frontier)
    return found


def subject_of(request: SubjectAccessRequest) -> Subject:
    """What the request is about: the person (followed through merges, before and after
    the request was made) and the organisation's cases of them."""
    person = survivor_of(request.beneficiary)
    person_ids = tuple(_merged_into(person.pk))
    case_ids = tuple(
        Case.objects.filter(beneficiary_id__in=person_ids, organisation_id=request.organisation_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Subject(organisation=request.organisation, person_ids=person_ids, case_ids=case_ids)
