"""Reads of cases, beneficiaries and community reports, scoped to what the user may see.

One scoping function per model family, used by every list, detail, export, admin
queryset and task:

- `cases_visible_to(user)`: cases the user may know exist. Everyone who works cases in
  the owning organisation sees the case; a confidential case shows who the child is only
  to its case manager and the organisation's supervisors (annotation `identity_visible`).
- `beneficiaries_visible_to(user)`: people whose identity the user may see.
- `reports_visible_to(user)`: a reporter's own reports, and the intake queue of the
  organisations the report was routed to.

Anything outside the scope is a 404 (atensi.core.access.get_or_404).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models import Case as CaseWhen  # Django's conditional expression, not our Case model

from atensi.core.access import actor_for, get_or_404
from atensi.core.models import Cluster
from stakeholders.models import Membership, Organisation, User
from stakeholders.roles import Role

from .models import Beneficiary, Case, FamilyMember, Report, ReportRecipient

# Roles that work with cases of their organisation.
CASE_ROLES: tuple[str, ...] = (Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.INTAKE_OFFICER, Role.REFERRAL_OFFICER)
# Roles that triage the intake queue of community reports.
INTAKE_ROLES: tuple[str, ...] = (Role.INTAKE_OFFICER, Role.SUPERVISOR)
# Roles that may record a community report: every role except aggregate viewers.
REPORTING_ROLES: tuple[str, ...] = (
    Role.COMMUNITY_REPORTER,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.INTAKE_OFFICER,
    Role.REFERRAL_OFFICER,
)
# Roles that may be made case manager.
CASE_MANAGER_ROLES: tuple[str, ...] = (Role.SOCIAL_WORKER, Role.SUPERVISOR)


def stage_deadlines() -> dict[str, int]:
    """Days a case may stay in a stage before it is late (ATENSI_STAGE_DEADLINE_DAYS)."""
    return {str(k): int(v) for k, v in settings.ATENSI_STAGE_DEADLINE_DAYS.items()}


def escalate_days() -> int:
    """Days a follow-up may be overdue before it goes to the supervisors (ATENSI_FOLLOW_UP_ESCALATE_DAYS)."""
    return int(settings.ATENSI_FOLLOW_UP_ESCALATE_DAYS)


def stage_deadline_limits(now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Per stage with a deadline: a case that entered it at or before this moment is late."""
    return {stage: now - datetime.timedelta(days=days) for stage, days in stage_deadlines().items()}


def past_stage_deadline(now: datetime.datetime) -> Q:
    """Cases that stayed longer in their stage than its deadline (the stage reminders' rule)."""
    condition = Q(pk__in=[])
    for stage, limit in stage_deadline_limits(now).items():
        condition |= Q(stage=stage, stage_changed_at__lte=limit)
    return condition


def person_name(person: User | None) -> str:
    """How a person is named on pages and in messages (full name, else the username)."""
    return display_name(person.first_name, person.last_name, person.username) if person is not None else ""


def display_name(first_name: str, last_name: str, username: str) -> str:
    """person_name of a person read as values (User.get_full_name's words, else the username)."""
    return f"{first_name} {last_name}".strip() or username


def holds_role(*, organisation_id: int, user: User, roles: Iterable[str]) -> bool:
    """Does `user` (an active account) hold one of `roles` in the organisation now?"""
    return Membership.objects.filter(
        organisation_id=organisation_id, user=user, role__in=list(roles), is_active=True, user__is_active=True
    ).exists()


def members_with_roles(
    *, organisation_ids: Iterable[int], roles: Iterable[str], include: User | int | None = None
) -> QuerySet[User]:
    """People holding one of `roles` in one of the organisations, by name, for choosing a
    case manager, a supervisor or a responsible worker. `include`: a user listed anyway
    (the one already chosen on an edited record)."""
    memberships = Membership.objects.filter(
        user_id=OuterRef("pk"), organisation_id__in=list(organisation_ids), role__in=list(roles), is_active=True
    )
    condition = Q(Exists(memberships), is_active=True)
    if include is not None:
        condition |= Q(pk=getattr(include, "pk", include))
    return (
        User.objects.filter(condition)
        .only("pk", "username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


def organisations_read_whole(user: User) -> frozenset[int]:
    """Organisations whose every case the user may read, confidential ones included: those
    they supervise (the first rule of cases_visible_to, which asks this)."""
    return frozenset(actor_for(user).org_ids(Role.SUPERVISOR))


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases the user may know exist, each annotated with `identity_visible`."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Case.objects.annotate(identity_visible=Value(True, output_field=BooleanField()))
    orgs = actor.org_ids(*CASE_ROLES)
    if not orgs:
        return Case.objects.none().annotate(identity_visible=Value(False, output_field=BooleanField()))
    supervised = organisations_read_whole(user)
    # A child in a confidential case of this organisation is hidden in its other cases
    # here too (an older, ordinary case would otherwise show who the child is).
    hidden_sibling = Exists(
        Case.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"), organisation_id=OuterRef("organisation_id"), is_confidential=True
        ).exclude(case_manager_id=actor.user_id)
    )
    identity = CaseWhen(
        When(organisation_id__in=sorted(supervised) or [0], then=Value(True)),
        When(hidden_sibling, then=Value(False)),
        When(is_confidential=False, then=Value(True)),
        When(case_manager_id=actor.user_id, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return Case.objects.filter(organisation_id__in=orgs).annotate(identity_visible=identity)


def cases_readable_by(user: User) -> QuerySet[Case]:
    """Cases whose page (the child's data) the user may open."""
    return cases_visible_to(user).filter(identity_visible=True)  # type: ignore[misc]  # an annotation


def case_get_for_user(*, user: User, case_id: object) -> Case:
    """One case with the child's identity, or 404 (confidential cases included)."""
    return get_or_404(
        cases_readable_by(user).select_related(
            "organisation", "beneficiary", "beneficiary__village", "case_manager", "supervisor", "cluster"
        ),
        pk=case_id,
    )


def beneficiaries_visible_to(user: User) -> QuerySet[Beneficiary]:
    """People the user may see by name: those of a readable case, or registered by the
    user's organisation and not (yet) in any case. Merged records are left out."""
    actor = actor_for(user)
    qs = Beneficiary.objects.filter(merged_into__isnull=True)
    if actor.is_superuser:
        return qs
    orgs = actor.org_ids(*CASE_ROLES)
    if not orgs:
        return qs.none()
    readable = cases_readable_by(user).filter(beneficiary_id=OuterRef("pk"))
    without_case = ~Exists(Case.objects.filter(beneficiary_id=OuterRef("pk")))
    # A child in a confidential case the user may not open stays hidden, even when an
    # older, ordinary case of theirs would otherwise show them.
    masked = cases_visible_to(user).filter(identity_visible=False, beneficiary_id=OuterRef("pk"))  # type: ignore[misc]
    return qs.filter(Exists(readable) | (Q(organisation_id__in=orgs) & without_case)).exclude(Exists(masked))


def beneficiary_get_for_user(*, user: User, beneficiary_id: object) -> Beneficiary:
    return get_or_404(
        beneficiaries_visible_to(user).select_related("organisation", "village", "cluster"), pk=beneficiary_id
    )


def merged_record_get(*, beneficiary_id: int) -> Beneficiary | None:
    """A record that was merged into another, unscoped: a merged record shows nothing of
    its own, only the way to its survivor, which the caller checks with beneficiaries_visible_to."""
    return Beneficiary.objects.filter(pk=beneficiary_id, merged_into__isnull=False).first()


def family_member_get(*, beneficiary: Beneficiary, member_id: object) -> FamilyMember:
    """A family member of a beneficiary the caller already may see; anything else is a 404."""
    return get_or_404(FamilyMember.objects.filter(beneficiary=beneficiary), pk=member_id)


def default_cluster_id() -> int | None:
    """The children's cluster (anak), preselected when registering, while it is active."""
    return Cluster.objects.filter(code="anak", is_active=True).values_list("pk", flat=True).first()


def report_waiting_at(*, report: Report, organisation_ids: Iterable[int]) -> set[int]:
    """Which of these organisations still hold the report in their intake queue (not passed on)."""
    return set(
        ReportRecipient.objects.filter(
            report=report, organisation_id__in=list(organisation_ids), passed_on_at__isnull=True
        ).values_list("organisation_id", flat=True)
    )


def registering_organisations(user: User) -> list[Organisation]:
    """Organisations where the user works cases, i.e. may register a person."""
    ids = actor_for(user).org_ids(*CASE_ROLES)
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")) if ids else []


def reports_visible_to(user: User) -> QuerySet[Report]:
    """A reporter's own reports, and the reports routed to an organisation whose intake the user triages."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Report.objects.all()
    condition = Q(recorded_by_id=actor.user_id)
    intake_orgs = actor.org_ids(*INTAKE_ROLES)
    if intake_orgs:
        condition |= Q(
            Exists(ReportRecipient.objects.filter(report_id=OuterRef("pk"), organisation_id__in=intake_orgs))
        )
    return Report.objects.filter(condition)


def report_queue_for(user: User) -> QuerySet[Report]:
    """Reports waiting for triage in the user's organisations' intake queues."""
    actor = actor_for(user)
    intake_orgs = actor.org_ids(*INTAKE_ROLES)
    if not intake_orgs:
        return Report.objects.none()
    waiting_here = ReportRecipient.objects.filter(
        report_id=OuterRef("pk"), organisation_id__in=intake_orgs, passed_on_at__isnull=True
    )
    return Report.objects.filter(Exists(waiting_here), status="new")
