"""The case page (overview and timeline) and the workflow actions on it: stage moves,
approval requests and decisions, reopening, and editing the case's facts and assignment.

Every URL starts with `case_get_for_user`: outsiders, and colleagues on a confidential
case, get 404. Colleagues who may read an ordinary case but not change it get the
service's message on the case page; nothing is changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import get_or_404, is_id, record_access
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest
from stakeholders.selectors import region_label, regions_with_path

from .. import pages, workflow
from ..approvers import approvers_for_many
from ..models import STAGE_ORDER, Approval, ApprovalKind, ApprovalStatus, Case, FollowUpStatus, Stage
from ..permissions import can_supervise_case, can_work_on_case, change_case_refusal
from ..selectors import case_get_for_user
from ..timeline import timeline_page
from ..workflow_forms import ApprovalDecisionForm, ApprovalRequestForm, CaseEditForm, ReopenForm, StageMoveForm

UPCOMING_FOLLOW_UPS = 5
TIMELINE_PAGE = 100


def _back(case: Case) -> HttpResponse:
    return redirect("cases:case_detail", pk=case.pk)


def _cursor(value: str) -> int | None:
    """The ?before= entry id of an older timeline page; anything malformed is the first page."""
    if not is_id(value):
        return None
    return int(value)


def _stage_bar(case: Case) -> list[dict[str, Any]]:
    current = case.stage_index()
    return [
        {
            "value": stage.value,
            "label": stage.label,
            "state": "done" if i < current else ("current" if i == current else "todo"),
            "number": i + 1,
        }
        for i, stage in enumerate(Stage)
    ]


@require_GET
def case_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    can_work = can_work_on_case(request.user, case)
    can_supervise = can_supervise_case(request.user, case)
    before = _cursor(request.GET.get("before", ""))
    timeline = timeline_page(case=case, user=request.user, limit=TIMELINE_PAGE, before=before)

    beneficiary = case.beneficiary
    village = regions_with_path().filter(code=beneficiary.village_id).first() if beneficiary.village_id else None
    approvals = list(
        case.approvals.filter(status=ApprovalStatus.PENDING).select_related("requested_by").order_by("requested_at")
    )
    follow_ups = list(
        case.follow_ups.filter(status=FollowUpStatus.PENDING)
        .select_related("assignee")
        .order_by("due_on", "pk")[:UPCOMING_FOLLOW_UPS]
    )
    next_stage = workflow.stage_next(case) if can_work else None
    next_problem = workflow.stage_requirement_problem(case=case, to_stage=next_stage) if next_stage else None
    pending_kinds = {a.kind for a in approvals}
    approvers = approvers_for_many(approvals)
    context = {
        "case": case,
        "tab": "overview",
        "age": beneficiary.age(),
        "village_label": region_label(village) if village is not None else "",
        "stages": _stage_bar(case),
        "can_work": can_work,
        "can_supervise": can_supervise,
        "next_stage": next_stage,
        "next_stage_label": Stage(next_stage).label if next_stage else "",
        "next_problem": next_problem,
        "back_stages": [Stage(s) for s in STAGE_ORDER[: case.stage_index()]] if case.is_open else [],
        "can_request_plan": can_work
        and case.stage in workflow.PLAN_REQUEST_STAGES
        and ApprovalKind.PLAN not in pending_kinds,
        "can_request_closure": can_work and case.is_open and ApprovalKind.CLOSURE not in pending_kinds,
        "can_reopen": can_work and not case.is_open,
        "approvals": approvals,
        # Who may decide each request and why (cases.approvers), for the one who asked.
        "approval_rows": [(a, approvers[a.pk]) for a in approvals],
        "follow_ups": follow_ups,
        "today": timezone.localdate(),
        "now": timezone.now(),
        # Sections of the apps above cases (cases.pages.case_panel): referrals under way.
        "case_panels": pages.panels_for(request, case),
        "timeline": timeline,
        "timeline_is_older_page": before is not None,
        "plan_form": ApprovalRequestForm(initial={"kind": ApprovalKind.PLAN}, auto_id="plan_%s"),
        "closure_form": ApprovalRequestForm(initial={"kind": ApprovalKind.CLOSURE}, auto_id="closure_%s"),
        "reopen_form": ReopenForm(),
    }
    return render(request, "cases/case_detail.html", context)


def approval_outcome(approval: Approval) -> str:
    what = approval.get_kind_display()
    if approval.status == ApprovalStatus.APPROVED and approval.kind == ApprovalKind.CLOSURE:
        return _("Closure approved: the case is closed.")
    if approval.status == ApprovalStatus.APPROVED:
        return _("%(what)s approved.") % {"what": what}
    if approval.status == ApprovalStatus.REJECTED:
        return _("%(what)s not approved; the case manager sees your comment.") % {"what": what}
    return _("Your request was withdrawn.")


@require_POST
def case_stage(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    form = StageMoveForm(request.POST)
    submit(
        request,
        form,
        lambda: workflow.case_stage_move(
            case=case,
            by=request.user,
            to_stage=form.cleaned_data["to_stage"],
            note=form.cleaned_data["note"],
            expected_stage=form.cleaned_data["expected_stage"] or None,
        ),
        success=lambda moved: _("The case is now at %(stage)s.") % {"stage": moved.get_stage_display()},
        errors="message",
    )
    return _back(case)


@require_http_methods(["GET", "POST"])
def case_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    refusal = change_case_refusal(request.user, case)
    if refusal is not None:
        messages.error(request, refusal)
        return _back(case)
    if not case.is_open:
        messages.error(request, _("This case is closed; reopen it to change it."))
        return _back(case)
    can_assign = can_supervise_case(request.user, case)
    if request.method == "POST":
        form = CaseEditForm(request.POST, case=case, can_assign=can_assign)
        outcome = submit(
            request,
            form,
            lambda: workflow.case_update(
                case=case,
                by=request.user,
                expected_updated_at=form.cleaned_data["expected_updated_at"],
                **form.changes(),
            ),
        )
        if outcome.value is not None:
            if outcome.value.updated_at == form.cleaned_data["expected_updated_at"]:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(request, _("The case was updated."))
            return _back(case)
    else:
        form = CaseEditForm(case=case, can_assign=can_assign)
        record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    return render(
        request,
        "cases/case_edit.html",
        {"case": case, "tab": "overview", "form": form, "can_assign": can_assign},
    )


@require_POST
def approval_request(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    form = ApprovalRequestForm(request.POST)
    submit(
        request,
        form,
        lambda: workflow.approval_request(
            case=case,
            kind=form.cleaned_data["kind"],
            by=request.user,
            note=form.cleaned_data["note"],
            closure_reason=form.cleaned_data["closure_reason"],
            closure_summary=form.cleaned_data["closure_summary"],
        ),
        success=lambda approval: (
            _("Your request (%(what)s) was sent to the supervisors.") % {"what": approval.get_kind_display().lower()}
        ),
        errors="message",
    )
    if request.POST.get("back") == "plan":
        return redirect("cases:case_plan", pk=case.pk)
    return _back(case)


@require_POST
def approval_decide(request: AuthenticatedRequest, pk: int, approval_pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    approval = get_or_404(case.approvals.select_related("requested_by"), pk=approval_pk)
    form = ApprovalDecisionForm(request.POST)

    def decide() -> Approval:
        decision = form.cleaned_data["decision"]
        if decision == "withdraw":
            return workflow.approval_withdraw(approval=approval, by=request.user)
        return workflow.approval_decide(
            approval=approval, by=request.user, approve=decision == "approve", comment=form.cleaned_data["comment"]
        )

    submit(request, form, decide, success=approval_outcome, errors="message")
    return _back(case)


@require_POST
def case_reopen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    form = ReopenForm(request.POST)
    submit(
        request,
        form,
        lambda: workflow.case_reopen(case=case, by=request.user, reason=form.cleaned_data["reason"]),
        success=lambda reopened: _("The case was reopened at %(stage)s.") % {"stage": reopened.get_stage_display()},
        errors="message",
    )
    return _back(case)


urlpatterns = [
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/stage/", case_stage, name="case_stage"),
    path("cases/<int:pk>/edit/", case_edit, name="case_edit"),
    path("cases/<int:pk>/approvals/", approval_request, name="approval_request"),
    path("cases/<int:pk>/approvals/<int:approval_pk>/", approval_decide, name="approval_decide"),
    path("cases/<int:pk>/reopen/", case_reopen, name="case_reopen"),
]
