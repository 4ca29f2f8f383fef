"""Reads for the records of a case: assessments, the intervention plan, notes and visits,
follow-ups, and the people who may be named on them.

The case itself is always fetched first with `cases.selectors.case_get_for_user` (the
scoping rule); everything here is then limited to that one case.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import BooleanField, Q, QuerySet, Value, When
from django.db.models import Case as CaseWhen  # Django's conditional expression
from django.utils import timezone

from atensi.core.models import ServiceComponent
from stakeholders.models import Organisation, User

from . import pages
from .models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Assessment,
    Case,
    CaseNote,
    FollowUp,
    FollowUpStatus,
    IdentityDocument,
    PlanItem,
    TimelineEntry,
    TimelineKind,
)
from .permissions import mark_follow_up_refusal
from .selectors import CASE_ROLES, members_with_roles


def case_workers(*, organisation: Organisation, include: User | int | None = None) -> QuerySet[User]:
    """People who work cases in `organisation`, for choosing a responsible worker or an
    assignee (`include`: the one already chosen on an edited record)."""
    return members_with_roles(organisation_ids=[organisation.pk], roles=CASE_ROLES, include=include)


def active_components(*, include_codes: Iterable[str] = ()) -> QuerySet[ServiceComponent]:
    """The ATENSI components to offer, in their order; `include_codes` keeps codes already used."""
    return ServiceComponent.objects.filter(Q(is_active=True) | Q(code__in=list(include_codes))).order_by(
        "position", "code"
    )


def provider_choices(*, exclude: Organisation, include: Organisation | int | None = None) -> QuerySet[Organisation]:
    """Active organisations that may provide a service (the owning one is "empty")."""
    condition = Q(is_active=True)
    if include is not None:
        condition |= Q(pk=getattr(include, "pk", include))
    return Organisation.objects.filter(condition).exclude(pk=exclude.pk).only("pk", "name").order_by("name")


# --- Assessments -------------------------------------------------------------------------


def assessments_of_case(*, case: Case) -> QuerySet[Assessment]:
    return Assessment.objects.filter(case=case).select_related("author").order_by("-assessed_on", "-pk")


@dataclass(frozen=True)
class AssessmentRow:
    """One assessment on the case's "Assessments" tab."""

    assessment: Assessment
    # (component name, what was found), in the order they were recorded
    needs: list[tuple[str, str]]
    # names of the identity documents the child holds
    documents: list[str]


def assessment_rows(*, case: Case) -> list[AssessmentRow]:
    assessments = list(assessments_of_case(case=case))
    used = {code for a in assessments for code in a.needs}
    components = {c.code: c.name for c in active_components(include_codes=used)}
    return [
        AssessmentRow(
            assessment=a,
            needs=[(components.get(code, code), text) for code, text in a.needs.items()],
            documents=[
                str(IdentityDocument(code).label) for code in a.identity_documents if code in IdentityDocument.values
            ],
        )
        for a in assessments
    ]


def assessment_get(*, case: Case, assessment_id: object) -> Assessment:
    from atensi.core.access import get_or_404

    return get_or_404(Assessment.objects.filter(case=case).select_related("author"), pk=assessment_id)


def assessment_last_saved(*, assessment: Assessment) -> tuple[str, datetime.datetime]:
    """Who saved the assessment last and when (for the edit-conflict message)."""
    entry = (
        TimelineEntry.objects.filter(case_id=assessment.case_id, kind=TimelineKind.ASSESSMENT, object_id=assessment.pk)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    actor = entry.actor if entry is not None and entry.actor is not None else assessment.author
    return (actor.get_full_name() or actor.username), assessment.updated_at


# --- The plan ----------------------------------------------------------------------------


@dataclass
class PlanGroup:
    component: ServiceComponent
    items: list[PlanItem] = field(default_factory=list)


@dataclass
class PlanView:
    groups: list[PlanGroup]
    approval: Approval | None
    # Items added or changed (component, service, provider) after the plan was approved.
    unapproved_item_ids: set[int]

    @property
    def is_approved(self) -> bool:
        return self.approval is not None and self.approval.status == ApprovalStatus.APPROVED

    @property
    def item_count(self) -> int:
        return sum(len(g.items) for g in self.groups)


def plan_items_of_case(*, case: Case) -> QuerySet[PlanItem]:
    # What the apps showing something beside a plan item need (cases.pages.plan_item_link).
    return (
        PlanItem.objects.filter(case=case)
        .select_related("component", "provider", "responsible")
        .prefetch_related(*pages.plan_item_prefetches(case))
        .order_by("component__position", "component__code", "start_date", "pk")
    )


def plan_item_get(*, case: Case, item_id: object) -> PlanItem:
    from atensi.core.access import get_or_404

    return get_or_404(PlanItem.objects.filter(case=case).select_related("component", "provider"), pk=item_id)


def plan_latest_approval(*, case: Case) -> Approval | None:
    return (
        Approval.objects.filter(case=case, kind=ApprovalKind.PLAN)
        .select_related("decided_by", "requested_by")
        .order_by("-requested_at", "-pk")
        .first()
    )


def plan_was_approved(*, case: Case) -> bool:
    """Has a supervisor ever approved this case's plan."""
    return Approval.objects.filter(case=case, kind=ApprovalKind.PLAN, status=ApprovalStatus.APPROVED).exists()


def plan_view(*, case: Case) -> PlanView:
    items = list(plan_items_of_case(case=case))
    groups = [PlanGroup(component=comp, items=list(rows)) for comp, rows in groupby(items, key=lambda i: i.component)]
    approval = plan_latest_approval(case=case)
    unapproved: set[int] = set()
    if approval is not None and approval.status == ApprovalStatus.APPROVED and approval.decided_at is not None:
        rows = TimelineEntry.objects.filter(
            case=case,
            kind=TimelineKind.PLAN_ITEM,
            at__gt=approval.decided_at,
            data__needs_approval=True,
        ).values_list("object_id", flat=True)
        unapproved = {pk for pk in rows if pk is not None}
    return PlanView(groups=groups, approval=approval, unapproved_item_ids=unapproved)


# --- Notes and follow-ups ------------------------------------------------------------------


def notes_of_case(*, case: Case) -> QuerySet[CaseNote]:
    return (
        CaseNote.objects.filter(case=case)
        .select_related("author")
        .prefetch_related("follow_ups")
        .order_by("-occurred_on", "-pk")
    )


def _with_overdue(qs: QuerySet[FollowUp], today: datetime.date | None) -> QuerySet[FollowUp]:
    today = today or timezone.localdate()  # the Asia/Jakarta date: "overdue" is a local-calendar idea
    overdue = CaseWhen(
        When(status=FollowUpStatus.PENDING, due_on__lt=today, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return qs.select_related("assignee", "note").annotate(is_overdue=overdue)


def follow_ups_pending(*, case: Case, today: datetime.date | None = None) -> QuerySet[FollowUp]:
    """The case's pending follow-ups, soonest due first, annotated `is_overdue`."""
    qs = FollowUp.objects.filter(case=case, status=FollowUpStatus.PENDING).order_by("due_on", "pk")
    return _with_overdue(qs, today)


@dataclass(frozen=True)
class PendingFollowUp:
    """A pending follow-up on the case's notes tab, and whether the user may mark it."""

    follow_up: FollowUp
    can_mark: bool


def pending_follow_up_rows(*, user: User, case: Case) -> list[PendingFollowUp]:
    rows = []
    for follow_up in follow_ups_pending(case=case):
        follow_up.case = case
        refusal = mark_follow_up_refusal(user=user, follow_up=follow_up, case=case, can_read=True)
        rows.append(PendingFollowUp(follow_up=follow_up, can_mark=refusal is None))
    return rows


def follow_ups_decided(*, case: Case) -> QuerySet[FollowUp]:
    """The case's done or missed follow-ups, the most recently due first."""
    qs = FollowUp.objects.filter(case=case).exclude(status=FollowUpStatus.PENDING).order_by("-due_on", "-pk")
    return _with_overdue(qs, None)


def follow_up_get(*, case: Case, follow_up_id: object) -> FollowUp:
    from atensi.core.access import get_or_404

    return get_or_404(FollowUp.objects.filter(case=case).select_related("assignee"), pk=follow_up_id)
