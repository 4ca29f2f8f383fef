"""The case workflow: stage moves, plan and closure approvals, closing and reopening, and
changes to a case's own facts (risk, basis, confidentiality, who manages and supervises it).

Every write locks the case row (`select_for_update`) before it looks at the stage, so two
clicks or two people cannot both apply the same transition; approval decisions are also a
conditional update on the pending row, so exactly one decision wins.

Rules:

- Stages go forward one at a time (`STAGE_ORDER`); a skip is refused naming the missing
  stage. Entering assessment needs active consent to process the child's data (UU PDP
  Pasal 25); planning needs an assessment; intervention needs a plan with at least one
  live item and an approved plan. A case is closed only by approving a closure request.
  Going back to an earlier open stage is allowed with a note saying why.
- Entering termination schedules aftercare follow-ups at `ATENSI_AFTERCARE_MONTHS`
  calendar months after the day of termination, assigned to the case manager. Going back
  before termination retires the pending ones (marked missed with the reason), and
  entering termination again schedules them afresh.
- Closing (approved closure): pending follow-ups that can no longer happen are marked
  missed with the reason "case closed", each with a timeline line. Aftercare visits are
  kept only when the goals were met — that is what aftercare is for; a child who moved,
  was transferred, passed to the adult cluster, refused, was lost or died is not visited.
  A plan request still waiting is withdrawn. Residential occupancy is recounted.
- Reopening goes back to assessment; the closure fields are cleared (the timeline and
  pghistory keep them).
"""

from __future__ import annotations

import calendar
import datetime
from typing import TypedDict, Unpack

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.errors import ApplicationError, require
from atensi.core.models import Cluster
from stakeholders.models import User
from stakeholders.roles import Role

from .models import (
    OPEN_STAGES,
    STAGE_ORDER,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Assessment,
    Basis,
    Beneficiary,
    Case,
    ClosureReason,
    Consent,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PlanItem,
    PlanItemStatus,
    Stage,
    TimelineKind,
)
from .notify import notify_approval_decided, notify_approval_requested
from .permissions import anonymised_message, can_supervise_case, change_case_refusal, decide_approval_refusal
from .selectors import CASE_MANAGER_ROLES, holds_role, members_with_roles, person_name
from .services import case_lock, full_clean_or_raise, is_case_manager_candidate, occupancy_recount, timeline_add

# Stages in which a plan may be (re)submitted for approval: the first plan while planning,
# a revised plan during the intervention or its monitoring.
PLAN_REQUEST_STAGES: tuple[str, ...] = (Stage.PERENCANAAN, Stage.INTERVENSI, Stage.MONITORING_EVALUASI)
# Closure reasons after which aftercare visits still make sense.
AFTERCARE_KEPT_ON: frozenset[str] = frozenset({ClosureReason.GOALS_MET})
# Fields of the case a worker may change, and those only a supervisor may change.
DETAIL_FIELDS: tuple[str, ...] = ("risk_level", "basis", "cluster", "is_confidential", "summary")
ASSIGNMENT_FIELDS: tuple[str, ...] = ("case_manager", "supervisor")
# What closing and reopening write.
CLOSURE_FIELDS = ["stage", "stage_changed_at", "closed_at", "closure_reason", "closure_summary", "updated_at"]


def stage_label(stage: str) -> str:
    try:
        return str(Stage(stage).label)
    except ValueError:
        return stage


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months later, or the month's last day if it has no
    such day (31 January + 1 month = 28/29 February)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise ApplicationError(_("This case is closed; reopen it to change it."))


# --- Stages ----------------------------------------------------------------------------


def stage_next(case: Case) -> str | None:
    """The stage a plain move forward leads to; None at aftercare (closing needs approval) or when closed."""
    if not case.is_open:
        return None
    following = STAGE_ORDER[case.stage_index() + 1]
    return None if following == Stage.CLOSED else following


def stage_requirement_problem(*, case: Case, to_stage: str) -> str | None:
    """What is missing before the case may enter `to_stage` (one step forward), or None."""
    if to_stage == Stage.ASESMEN:
        consented = Consent.objects.filter(case=case, allows_processing=True, withdrawn_on__isnull=True).exists()
        if not consented:
            return _("Record the guardian's consent before the assessment (UU PDP Pasal 25).")
    elif to_stage == Stage.PERENCANAAN:
        if not Assessment.objects.filter(case=case).exists():
            return _("Record an assessment before planning the intervention.")
    elif to_stage == Stage.INTERVENSI:
        if not PlanItem.objects.filter(case=case).exclude(status=PlanItemStatus.CANCELLED).exists():
            return _(
                "No intervention without an approved plan: the plan has no items yet "
                "(cancelled items do not count). Add the services first."
            )
        statuses = set(
            Approval.objects.filter(
                case=case, kind=ApprovalKind.PLAN, status__in=[ApprovalStatus.APPROVED, ApprovalStatus.PENDING]
            ).values_list("status", flat=True)
        )
        if ApprovalStatus.APPROVED not in statuses:
            if ApprovalStatus.PENDING in statuses:
                return _("No intervention without an approved plan: the plan is still waiting for a supervisor.")
            return _("No intervention without an approved plan: ask a supervisor to approve the plan first.")
    return None


@transaction.atomic
def case_stage_move(
    *,
    case: Case,
    by: User,
    to_stage: str,
    note: str = "",
    expected_stage: str | None = None,
) -> Case:
    """Move the case one stage forward, or back to an earlier open stage (with a note)."""
    case = case_lock(case)
    require(change_case_refusal(by, case))
    _require_open(case)
    note = (note or "").strip()
    if to_stage not in STAGE_ORDER:
        raise ApplicationError(_("Choose a stage from the list."), field="to_stage")
    if to_stage == Stage.CLOSED:
        raise ApplicationError(
            _(
                "A case is closed only through an approved closure request: "
                "request the closure and a supervisor approves it."
            )
        )
    if to_stage == case.stage:
        # Also what the second of two clicks sees: the first one already moved the case.
        raise ApplicationError(_("The case is already at the stage %(stage)s.") % {"stage": stage_label(case.stage)})
    if expected_stage and expected_stage != case.stage:
        raise ApplicationError(
            _("Someone moved this case to %(stage)s meanwhile; look at it again and choose the next step.")
            % {"stage": stage_label(case.stage)}
        )
    current, target = case.stage_index(), STAGE_ORDER.index(to_stage)
    if target > current:
        if target != current + 1:
            missing = STAGE_ORDER[current + 1]
            raise ApplicationError(
                _("A case moves one stage at a time: move it to %(missing)s before %(target)s.")
                % {"missing": stage_label(missing), "target": stage_label(to_stage)}
            )
        problem = stage_requirement_problem(case=case, to_stage=to_stage)
        if problem:
            raise ApplicationError(problem)
    elif not note:
        raise ApplicationError(
            _("Say why the case goes back to %(stage)s.") % {"stage": stage_label(to_stage)}, field="note"
        )

    now = timezone.now()
    from_stage = case.stage
    case.stage = to_stage
    case.stage_changed_at = now
    case.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    timeline_add(
        case=case, kind=TimelineKind.STAGE, actor=by, at=now, from_stage=from_stage, to_stage=to_stage, note=note
    )
    terminated = STAGE_ORDER.index(Stage.TERMINASI)
    if to_stage == Stage.TERMINASI and target > current:
        _schedule_aftercare(case=case, by=by, day=timezone.localdate(now))
    elif target < terminated <= current:
        reason = _("The case went back to %(stage)s.") % {"stage": stage_label(to_stage)}
        aftercare = case.follow_ups.filter(kind=FollowUpKind.AFTERCARE)
        _retire_follow_ups(case=case, by=by, follow_ups=aftercare, reason=reason)
    return case


def _schedule_aftercare(*, case: Case, by: User, day: datetime.date) -> list[FollowUp]:
    pending = case.follow_ups.filter(kind=FollowUpKind.AFTERCARE, status=FollowUpStatus.PENDING)
    if pending.exists():
        # Already scheduled (terminated before, never sent back): keep those dates.
        return []
    months = tuple(settings.ATENSI_AFTERCARE_MONTHS)
    assignee = case.case_manager or by
    created = []
    for n, m in enumerate(months, start=1):
        follow_up = FollowUp(
            case=case,
            kind=FollowUpKind.AFTERCARE,
            due_on=add_months(day, m),
            assignee=assignee,
            description=ngettext(
                "Aftercare visit %(n)s of %(total)s: %(months)s month after termination",
                "Aftercare visit %(n)s of %(total)s: %(months)s months after termination",
                m,
            )
            % {"n": n, "total": len(months), "months": m},
            created_by=by,
        )
        full_clean_or_raise(follow_up)
        follow_up.save()
        created.append(follow_up)
        timeline_add(
            case=case,
            kind=TimelineKind.FOLLOW_UP,
            actor=by,
            obj=follow_up,
            action="created",
            follow_up_kind=follow_up.kind,
            due_on=follow_up.due_on.isoformat(),
        )
    return created


def _retire_follow_ups(*, case: Case, by: User, follow_ups: QuerySet[FollowUp], reason: str) -> int:
    """Mark pending follow-ups that can no longer happen as missed, saying why, on the timeline too."""
    retired = list(follow_ups.filter(status=FollowUpStatus.PENDING).order_by("due_on", "pk"))
    if not retired:
        return 0
    FollowUp.objects.filter(pk__in=[f.pk for f in retired], status=FollowUpStatus.PENDING).update(
        status=FollowUpStatus.MISSED, missed_reason=reason
    )
    for follow_up in retired:
        timeline_add(
            case=case,
            kind=TimelineKind.FOLLOW_UP,
            actor=by,
            obj=follow_up,
            action="missed",
            follow_up_kind=follow_up.kind,
            due_on=follow_up.due_on.isoformat(),
            reason=reason,
        )
    return len(retired)


# --- Approvals -------------------------------------------------------------------------


def _pending_message(existing: Approval) -> str:
    return _(
        "A request for %(what)s is already waiting for a supervisor (asked by %(name)s); "
        "wait for the decision or withdraw that request first."
    ) % {"what": existing.get_kind_display().lower(), "name": person_name(existing.requested_by)}


@transaction.atomic
def approval_request(
    *,
    case: Case,
    kind: str,
    by: User,
    note: str = "",
    closure_reason: str = "",
    closure_summary: str = "",
) -> Approval:
    """Ask a supervisor to approve the intervention plan or the closure of the case; its
    approvers (cases.approvers) hear at once, in the bell and by e-mail."""
    case = case_lock(case)
    require(change_case_refusal(by, case))
    _require_open(case)
    note, closure_summary = (note or "").strip(), (closure_summary or "").strip()
    if kind == ApprovalKind.PLAN:
        if case.stage not in PLAN_REQUEST_STAGES:
            raise ApplicationError(
                _("A plan is sent for approval during intervention planning (the case is at %(stage)s).")
                % {"stage": stage_label(case.stage)}
            )
        if not PlanItem.objects.filter(case=case).exclude(status=PlanItemStatus.CANCELLED).exists():
            raise ApplicationError(
                _("Add at least one plan item before asking for approval (cancelled items do not count).")
            )
        closure_reason = closure_summary = ""
    elif kind == ApprovalKind.CLOSURE:
        if closure_reason not in ClosureReason.values:
            raise ApplicationError(_("Choose why the case is closed."), field="closure_reason")
        if not closure_summary:
            raise ApplicationError(
                _("Write a closure summary: what was achieved and where the child is now."), field="closure_summary"
            )
    else:
        raise ApplicationError(_("Choose what to ask approval for."), field="kind")
    existing = (
        Approval.objects.filter(case=case, kind=kind, status=ApprovalStatus.PENDING)
        .select_related("requested_by")
        .first()
    )
    if existing is not None:
        raise ApplicationError(_pending_message(existing))
    approval = Approval(
        case=case,
        kind=kind,
        requested_by=by,
        requested_at=timezone.now(),
        request_note=note,
        closure_reason=closure_reason,
        closure_summary=closure_summary,
    )
    full_clean_or_raise(approval)
    try:
        with transaction.atomic():
            approval.save()
    except IntegrityError:
        # approval_one_pending: another request of this kind arrived in the same instant.
        raise ApplicationError(
            _("A request for %(what)s is already waiting for a supervisor.")
            % {"what": approval.get_kind_display().lower()}
        ) from None
    timeline_add(
        case=case,
        kind=TimelineKind.APPROVAL_REQUESTED,
        actor=by,
        obj=approval,
        at=approval.requested_at,
        approval_kind=kind,
    )
    notify_approval_requested(approval)
    return approval


def _already_decided(approval: Approval) -> ApplicationError:
    approval.refresh_from_db()
    if approval.status == ApprovalStatus.WITHDRAWN:
        return ApplicationError(_("This request was withdrawn; there is nothing left to decide."))
    return ApplicationError(
        _("This request was already decided by %(name)s (%(status)s).")
        % {"name": person_name(approval.decided_by), "status": approval.get_status_display().lower()}
    )


@transaction.atomic
def approval_decide(*, approval: Approval, by: User, approve: bool, comment: str = "") -> Approval:
    """A supervisor (or another approver, cases.approvers) approves or rejects a pending
    request; approving a closure closes the case. The requester is told at once."""
    case = case_lock(approval.case)
    approval.case = case
    comment = (comment or "").strip()
    require(decide_approval_refusal(by, approval))
    if not approve and not comment:
        raise ApplicationError(
            _("Say why you reject the request, so the case manager knows what to change."), field="comment"
        )
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if approve and approval.kind == ApprovalKind.CLOSURE and not case.is_open:
        raise ApplicationError(_("This case is already closed."))
    now = timezone.now()
    # The decision is a claim on the pending row: of two supervisors, one wins.
    won = Approval.objects.filter(pk=approval.pk, status=ApprovalStatus.PENDING).update(
        status=status, decided_by=by, decided_at=now, comment=comment
    )
    if not won:
        raise _already_decided(approval)
    approval.refresh_from_db()
    timeline_add(
        case=case,
        kind=TimelineKind.APPROVAL_DECIDED,
        actor=by,
        obj=approval,
        at=now,
        approval_kind=approval.kind,
        status=status,
        comment=comment,
    )
    if approve and approval.kind == ApprovalKind.CLOSURE:
        _close(case=case, by=by, approval=approval, now=now)
    notify_approval_decided(approval)
    return approval


def _close(*, case: Case, by: User, approval: Approval, now: datetime.datetime) -> None:
    from_stage = case.stage
    case.stage = Stage.CLOSED
    case.stage_changed_at = now
    case.closed_at = now
    case.closure_reason = approval.closure_reason
    case.closure_summary = approval.closure_summary
    case.save(update_fields=CLOSURE_FIELDS)
    timeline_add(
        case=case,
        kind=TimelineKind.STAGE,
        actor=by,
        at=now,
        from_stage=from_stage,
        to_stage=Stage.CLOSED,
        note=approval.closure_summary,
        closure_reason=approval.closure_reason,
    )
    follow_ups = case.follow_ups.all()
    if approval.closure_reason in AFTERCARE_KEPT_ON:
        follow_ups = follow_ups.exclude(kind=FollowUpKind.AFTERCARE)
    _retire_follow_ups(case=case, by=by, follow_ups=follow_ups, reason=_("The case was closed."))
    # A plan waiting for approval has nothing left to plan for.
    for waiting in Approval.objects.filter(case=case, status=ApprovalStatus.PENDING).exclude(pk=approval.pk):
        if Approval.objects.filter(pk=waiting.pk, status=ApprovalStatus.PENDING).update(
            status=ApprovalStatus.WITHDRAWN, decided_at=now
        ):
            timeline_add(
                case=case,
                kind=TimelineKind.APPROVAL_DECIDED,
                actor=by,
                obj=waiting,
                at=now,
                approval_kind=waiting.kind,
                status=ApprovalStatus.WITHDRAWN,
                comment=_("The case was closed."),
            )
    if case.basis == Basis.RESIDENSIAL:
        occupancy_recount(organisation=case.organisation)


@transaction.atomic
def approval_withdraw(*, approval: Approval, by: User) -> Approval:
    """The requester takes back a request that is still waiting."""
    case = case_lock(approval.case)
    if approval.requested_by_id != getattr(by, "pk", None):
        raise ApplicationError(
            _("Only %(name)s, who asked for it, can withdraw this request.")
            % {"name": person_name(approval.requested_by)}
        )
    now = timezone.now()
    won = Approval.objects.filter(pk=approval.pk, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.WITHDRAWN, decided_at=now
    )
    if not won:
        raise _already_decided(approval)
    approval.refresh_from_db()
    timeline_add(
        case=case,
        kind=TimelineKind.APPROVAL_DECIDED,
        actor=by,
        obj=approval,
        at=now,
        approval_kind=approval.kind,
        status=ApprovalStatus.WITHDRAWN,
        comment="",
    )
    return approval


# --- Reopening -------------------------------------------------------------------------


@transaction.atomic
def case_reopen(*, case: Case, by: User, reason: str) -> Case:
    """A closed case starts again at assessment; the closure stays in the timeline and history."""
    case = case_lock(case)
    require(change_case_refusal(by, case))
    reason = (reason or "").strip()
    if case.is_open:
        raise ApplicationError(_("This case is open; only a closed case can be reopened."))
    if Beneficiary.objects.filter(pk=case.beneficiary_id, anonymised_at__isnull=False).exists():
        raise ApplicationError(anonymised_message())
    if not reason:
        raise ApplicationError(_("Say why the case is reopened."), field="reason")
    other = (
        Case.objects.filter(organisation=case.organisation_id, beneficiary=case.beneficiary_id, stage__in=OPEN_STAGES)
        .exclude(pk=case.pk)
        .only("number")
        .first()
    )
    if other is not None:
        raise ApplicationError(
            _("The child has another open case here (%(number)s); continue that one instead.")
            % {"number": other.number}
        )
    now = timezone.now()
    closure_reason = case.closure_reason
    case.stage = Stage.ASESMEN
    case.stage_changed_at = now
    case.closed_at = None
    case.closure_reason = ""
    case.closure_summary = ""
    try:
        with transaction.atomic():
            case.save(update_fields=CLOSURE_FIELDS)
    except IntegrityError:
        # case_one_open_per_beneficiary: a case for the child was opened in the same instant.
        raise ApplicationError(_("The child has another open case here; continue that one instead.")) from None
    timeline_add(
        case=case,
        kind=TimelineKind.STAGE,
        actor=by,
        at=now,
        from_stage=Stage.CLOSED,
        to_stage=Stage.ASESMEN,
        note=reason,
        previous_closure_reason=closure_reason,
    )
    if case.basis == Basis.RESIDENSIAL:
        occupancy_recount(organisation=case.organisation)
    return case


# --- Case facts and assignment ---------------------------------------------------------


def assignable_case_managers(case: Case) -> QuerySet[User]:
    """People who may be made case manager: social workers and supervisors of the owning organisation."""
    return members_with_roles(organisation_ids=[case.organisation_id], roles=CASE_MANAGER_ROLES)


def assignable_supervisors(case: Case) -> QuerySet[User]:
    return members_with_roles(organisation_ids=[case.organisation_id], roles=(Role.SUPERVISOR,))


class CaseChanges(TypedDict, total=False):
    """What case_update may change: the facts (DETAIL_FIELDS) and the assignment (ASSIGNMENT_FIELDS)."""

    risk_level: str
    basis: str
    cluster: Cluster
    is_confidential: bool
    summary: str
    case_manager: User | None
    supervisor: User | None


@transaction.atomic
def case_update(
    *, case: Case, by: User, expected_updated_at: datetime.datetime | None, **changes: Unpack[CaseChanges]
) -> Case:
    """Change the case's facts (case manager or supervisor) or its assignment (supervisors).

    `expected_updated_at` is the case's `updated_at` when the form was opened: if the case
    changed since, nothing is saved (no silent overwrite of someone else's change).
    """
    unknown = set(changes) - set(DETAIL_FIELDS) - set(ASSIGNMENT_FIELDS)
    if unknown:
        raise ApplicationError(
            _("These details cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    case = case_lock(case)
    require(change_case_refusal(by, case))
    _require_open(case)
    if expected_updated_at is None or case.updated_at != expected_updated_at:
        raise ApplicationError(_("Someone else changed this case since you opened the form; reload and try again."))

    changed: list[str] = []
    for name, value in changes.items():
        if name in ("cluster", *ASSIGNMENT_FIELDS):
            if not (value is None or hasattr(value, "pk")):
                raise ApplicationError(_("Choose from the list."), field=name)
            if getattr(case, f"{name}_id") != getattr(value, "pk", None):
                changed.append(name)
        else:
            if isinstance(value, str):
                value = value.strip()
            if getattr(case, name) != value:
                changed.append(name)
    if not changed:
        return case

    assignment = [name for name in changed if name in ASSIGNMENT_FIELDS]
    if assignment and not can_supervise_case(by, case):
        raise ApplicationError(
            _("Only a supervisor of %(org)s can assign the case manager or the supervisor.")
            % {"org": case.organisation.name},
            field=assignment[0],
        )
    if "is_confidential" in changed and case.is_confidential and not can_supervise_case(by, case):
        # Lifting confidentiality shows the child to the whole organisation: a supervisor's call.
        raise ApplicationError(
            _("Only a supervisor of %(org)s can make a confidential case ordinary again.")
            % {"org": case.organisation.name},
            field="is_confidential",
        )
    manager = changes.get("case_manager")
    if "case_manager" in changed and manager is not None:
        if not is_case_manager_candidate(organisation=case.organisation, user=manager):
            raise ApplicationError(
                _("%(name)s is not a social worker or supervisor of %(org)s.")
                % {"name": person_name(manager), "org": case.organisation.name},
                field="case_manager",
            )
    chief = changes.get("supervisor")
    if (
        "supervisor" in changed
        and chief is not None
        and not holds_role(organisation_id=case.organisation_id, user=chief, roles=(Role.SUPERVISOR,))
    ):
        raise ApplicationError(
            _("%(name)s is not a supervisor of %(org)s.") % {"name": person_name(chief), "org": case.organisation.name},
            field="supervisor",
        )
    if "cluster" in changed and not Cluster.objects.filter(pk=changes["cluster"].pk, is_active=True).exists():
        raise ApplicationError(_("Choose an active cluster."), field="cluster")

    old_basis = case.basis
    for name, value in changes.items():
        if name in changed:
            setattr(case, name, value.strip() if isinstance(value, str) else value)
    full_clean_or_raise(case, exclude=["number"])
    case.save(update_fields=[*changed, "updated_at"])

    if assignment:
        timeline_add(
            case=case,
            kind=TimelineKind.ASSIGNED,
            actor=by,
            case_manager=person_name(case.case_manager),
            supervisor=person_name(case.supervisor),
        )
    details = [name for name in changed if name in DETAIL_FIELDS]
    if details:
        timeline_add(case=case, kind=TimelineKind.UPDATED, actor=by, fields=details)
    if "basis" in changed and Basis.RESIDENSIAL in (old_basis, case.basis):
        occupancy_recount(organisation=case.organisation)
    return case
