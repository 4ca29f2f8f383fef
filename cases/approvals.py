"""The approvals queue: the plan and closure requests a user may decide, oldest first, and
the user's own requests with who may decide them and why.

`approvals_decidable_by(user)` is the scoping queryset of deciding: the requests of
organisations the user supervises, and those `cases.approvers.approvers_for` hands to
them (the org admins of an organisation whose only supervisor asked; the supervisors of
the Dinas Sosial covering an organisation without a supervisor) — the same rule as
cases.permissions.decide_approval_refusal, written as a query so a page and the
navigation badge cost one query each. A request outside it is a 404.

What a decider from outside the case's organisation (an org admin, a Dinas Sosial
supervisor) sees is only what the decision needs: the request (kind, case number, who
asked, waiting time, the case manager), the plan's services or the closure's reason and
summary. The child's name appears only to those who may read the case
(`cases_readable_by`); the case page stays theirs alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from atensi.core.access import actor_for, get_or_404
from atensi.core.keyset import time_page
from stakeholders.models import Membership, User
from stakeholders.roles import Role
from stakeholders.selectors import organisations_covered, social_services_among

from .approvers import Approvers, approvers_for_many
from .models import Approval, ApprovalKind, ApprovalStatus, PlanItem, PlanItemStatus
from .permissions import can_decide_approval
from .selectors import cases_readable_by, person_name

QUEUE_PAGE_SIZE = 25
MY_REQUESTS_SHOWN = 20
_CURSOR_SALT = "cases.approvals.queue"


def _holders_of(role: str, *, other_than_requester: bool) -> Exists:
    """Someone active holds `role` in the request's organisation (other than who asked)."""
    qs = Membership.objects.filter(
        organisation_id=OuterRef("organisation_id"), role=role, is_active=True, user__is_active=True
    )
    if other_than_requester:
        qs = qs.exclude(user_id=OuterRef("requested_by_id"))
    return Exists(qs)


def _requester_supervises() -> Exists:
    return Exists(
        Membership.objects.filter(
            organisation_id=OuterRef("organisation_id"),
            user_id=OuterRef("requested_by_id"),
            role=Role.SUPERVISOR,
            is_active=True,
            user__is_active=True,
        )
    )


def approvals_decidable_by(user: User) -> QuerySet[Approval]:
    """Requests (in any status) the user may decide while pending: the rule of
    cases.approvers, as a query."""
    actor = actor_for(user)
    if not actor.is_authenticated:
        return Approval.objects.none()
    supervised = actor.org_ids(Role.SUPERVISOR)
    administered = actor.org_ids(Role.ORG_ADMIN)
    # The request's copy of its case's organisation: read from approval_org_waiting.
    condition = Q(organisation_id__in=supervised)
    other_supervisor = _holders_of(Role.SUPERVISOR, other_than_requester=True)
    if administered:
        # The requester is the organisation's only supervisor: its administrators decide.
        condition |= Q(organisation_id__in=administered) & ~other_supervisor & _requester_supervises()
    # Only a supervisor of a Dinas Sosial decides for the organisations it covers; for
    # everyone else (most supervisors work at a Balai) the query leaves that part out.
    social_services = social_services_among(user, supervised)
    # The organisations they cover, listed first: asked row by row, coverage and the
    # checks after it ran for every pending request of the country.
    covered = organisations_covered(user, social_services) if social_services else frozenset()
    if covered:
        # Nobody of the organisation can decide: the covering Dinas Sosial's supervisors do.
        admins_decide = _requester_supervises() & _holders_of(Role.ORG_ADMIN, other_than_requester=True)
        condition |= Q(organisation_id__in_ids=sorted(covered)) & ~other_supervisor & ~admins_decide
    if not (supervised or administered):
        return Approval.objects.none()
    return Approval.objects.filter(condition).exclude(requested_by_id=user.pk)


def approvals_waiting_for(user: User) -> QuerySet[Approval]:
    """The requests waiting for the user's decision (the navigation counts these)."""
    return approvals_decidable_by(user).filter(status=ApprovalStatus.PENDING)


def approval_get_for_decider(*, user: User, approval_id: object) -> Approval:
    """A request the user may decide (or could have, before someone else did), or 404."""
    return get_or_404(
        approvals_decidable_by(user).select_related("case", "case__organisation", "requested_by", "decided_by"),
        pk=approval_id,
    )


@dataclass(frozen=True)
class QueueRow:
    approval: Approval
    case_number: str
    organisation: str
    # The child's name, only for someone who may read the case; else "".
    child_name: str
    can_open_case: bool
    case_manager: str
    requester: str
    waiting: datetime.timedelta
    plan_items: list[PlanItem]
    approvers: Approvers
    can_decide: bool

    @property
    def waiting_days(self) -> int:
        return self.waiting.days


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    is_first: bool


def _rows(user: User, approvals: list[Approval], *, decide: bool) -> list[QueueRow]:
    now = timezone.now()
    readable = set(cases_readable_by(user).filter(pk__in=[a.case_id for a in approvals]).values_list("pk", flat=True))
    approvers = approvers_for_many(approvals)
    rows = []
    for approval in approvals:
        case = approval.case
        can_read = case.pk in readable
        rows.append(
            QueueRow(
                approval=approval,
                case_number=case.number,
                organisation=case.organisation.name,
                child_name=case.beneficiary.full_name if can_read else "",
                can_open_case=can_read,
                case_manager=person_name(case.case_manager),
                requester=person_name(approval.requested_by),
                waiting=now - approval.requested_at,
                plan_items=list(getattr(case, "live_plan_items", [])),
                approvers=approvers[approval.pk],
                can_decide=decide and can_decide_approval(user, approval, approvers[approval.pk]),
            )
        )
    return rows


def _with_display(qs: QuerySet[Approval]) -> QuerySet[Approval]:
    items = (
        PlanItem.objects.exclude(status=PlanItemStatus.CANCELLED)
        .select_related("component", "provider")
        .order_by("component__position", "start_date", "pk")
    )
    return qs.select_related(
        "case", "case__organisation", "case__beneficiary", "case__case_manager", "requested_by"
    ).prefetch_related(Prefetch("case__plan_items", queryset=items, to_attr="live_plan_items"))


def approval_queue(*, user: User, kind: str = "", after: str | None = None, size: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """The requests waiting for the user's decision, oldest first, a keyset page at a time."""
    qs = approvals_waiting_for(user)
    if kind in ApprovalKind.values:
        qs = qs.filter(kind=kind)
    page = time_page(
        _with_display(qs), field="requested_at", descending=False, after=after, size=size, salt=_CURSOR_SALT
    )
    return QueuePage(rows=_rows(user, page.rows, decide=True), next_cursor=page.next_cursor, is_first=page.is_first)


def my_waiting_requests(user: User) -> list[QueueRow]:
    """The user's own requests still waiting, oldest first, with who may decide them and why."""
    qs = Approval.objects.filter(requested_by_id=getattr(user, "pk", None), status=ApprovalStatus.PENDING)
    approvals = list(_with_display(qs.order_by("requested_at", "pk"))[:MY_REQUESTS_SHOWN])
    return _rows(user, approvals, decide=False)
