"""Case views: assessments, the intervention plan, notes and visits, follow-ups.

Everyone who may read the case (case_get_for_user, else 404) sees these pages; only
those the services allow (case manager, supervisors) get the forms. Create forms are
once-only: the token is claimed in the same transaction as the write.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import record_access
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest

from .. import record_selectors as sel
from .. import records, workflow
from ..models import ApprovalKind, ApprovalStatus, Case, FollowUpStatus
from ..permissions import change_case_refusal, change_plan_refusal, write_assessment_refusal, write_note_refusal
from ..record_forms import (
    AssessmentEditForm,
    AssessmentForm,
    FollowUpForm,
    FollowUpMarkForm,
    NoteForm,
    PlanItemEditForm,
    PlanItemForm,
    assessment_components,
)
from ..selectors import case_get_for_user
from ..workflow_forms import ApprovalRequestForm

NOTES_PER_PAGE = 20
DECIDED_FOLLOW_UPS_SHOWN = 20


def _case(request: AuthenticatedRequest, pk: int) -> Case:
    case = case_get_for_user(user=request.user, case_id=pk)
    if request.method == "GET":
        record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    return case


def _refused(request: AuthenticatedRequest, refusal: str, to: str, case: Case) -> HttpResponse:
    messages.error(request, refusal)
    return redirect(to, pk=case.pk)


# --- Assessments ---------------------------------------------------------------------------


@require_GET
def case_assessments(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    return render(
        request,
        "cases/assessment_list.html",
        {
            "case": case,
            "tab": "assessments",
            "rows": sel.assessment_rows(case=case),
            "can_write": write_assessment_refusal(user=request.user, case=case) is None,
        },
    )


@require_http_methods(["GET", "POST"])
def assessment_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = write_assessment_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_assessments", case)
    form = AssessmentForm(request.POST or None, components=assessment_components())
    if request.method == "POST" and submit(
        request,
        form,
        lambda: records.assessment_create(case=case, by=request.user, **form.service_kwargs()),
        success=_("The assessment was saved."),
    ):
        return redirect("cases:case_assessments", pk=case.pk)
    return render(request, "cases/assessment_form.html", {"case": case, "tab": "assessments", "form": form})


@require_http_methods(["GET", "POST"])
def assessment_edit(request: AuthenticatedRequest, pk: int, assessment_pk: int) -> HttpResponse:
    case = _case(request, pk)
    assessment = sel.assessment_get(case=case, assessment_id=assessment_pk)
    assessment.case = case
    refusal = write_assessment_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_assessments", case)
    components = assessment_components(assessment)
    if request.method == "POST":
        form = AssessmentEditForm(request.POST, components=components)
    else:
        form = AssessmentEditForm(initial=AssessmentEditForm.initial_for(assessment), components=components)
    conflict = False
    if request.method == "POST":
        outcome = submit(
            request,
            form,
            lambda: records.assessment_update(
                assessment=assessment, by=request.user, version=form.cleaned_data["version"], **form.service_kwargs()
            ),
            success=_("The assessment was saved."),
        )
        if outcome:
            return redirect("cases:case_assessments", pk=case.pk)
        conflict = bool(outcome.error and outcome.error.extra.get("conflict"))
    return render(
        request,
        "cases/assessment_form.html",
        {"case": case, "tab": "assessments", "form": form, "assessment": assessment, "conflict": conflict},
    )


# --- The plan ------------------------------------------------------------------------------


@require_GET
def case_plan(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    plan = sel.plan_view(case=case)
    waiting = plan.approval is not None and plan.approval.status == ApprovalStatus.PENDING
    can_request = (
        not waiting and case.stage in workflow.PLAN_REQUEST_STAGES and change_case_refusal(request.user, case) is None
    )
    return render(
        request,
        "cases/plan_list.html",
        {
            "case": case,
            "tab": "plan",
            "plan": plan,
            "can_write": change_plan_refusal(user=request.user, case=case) is None,
            # The same request as the overview's, where the plan is made.
            "can_request_plan": can_request and bool(plan.groups),
            "plan_form": ApprovalRequestForm(initial={"kind": ApprovalKind.PLAN}, auto_id="plan_%s"),
        },
    )


def _plan_saved_messages(request: AuthenticatedRequest, saved: records.PlanItemSaved | None) -> None:
    """What else the user must know after a plan item is saved (nothing after a repeated submit)."""
    if saved is None:
        return
    if saved.item.provider_id is not None:
        messages.info(
            request,
            _("%(org)s provides this service: a referral to them will be needed.")
            % {"org": saved.item.provider.name if saved.item.provider else ""},
        )
    if saved.needs_approval:
        messages.warning(
            request,
            _(
                "The plan was approved before; this change is not yet approved. Ask a supervisor for a new "
                "approval on the case overview."
            ),
        )


@require_http_methods(["GET", "POST"])
def plan_item_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = change_plan_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_plan", case)
    form = PlanItemForm(request.POST or None, case=case)
    if request.method == "POST":
        outcome = submit(
            request,
            form,
            lambda: records.plan_item_create(case=case, by=request.user, **form.service_kwargs()),
            success=_("The plan item was saved."),
        )
        if outcome:
            _plan_saved_messages(request, outcome.value)
            return redirect("cases:case_plan", pk=case.pk)
    return render(
        request,
        "cases/plan_item_form.html",
        {"case": case, "tab": "plan", "form": form, "plan_approved": sel.plan_was_approved(case=case)},
    )


@require_http_methods(["GET", "POST"])
def plan_item_edit(request: AuthenticatedRequest, pk: int, item_pk: int) -> HttpResponse:
    case = _case(request, pk)
    item = sel.plan_item_get(case=case, item_id=item_pk)
    item.case = case
    refusal = change_plan_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_plan", case)
    if request.method == "POST":
        form = PlanItemEditForm(request.POST, case=case, item=item)
    else:
        form = PlanItemEditForm(initial=PlanItemEditForm.initial_for(item), case=case, item=item)
    if request.method == "POST":
        outcome = submit(
            request,
            form,
            lambda: records.plan_item_update(item=item, by=request.user, **form.service_kwargs()),
            success=_("The plan item was saved."),
        )
        if outcome:
            _plan_saved_messages(request, outcome.value)
            return redirect("cases:case_plan", pk=case.pk)
    return render(
        request,
        "cases/plan_item_form.html",
        {"case": case, "tab": "plan", "form": form, "item": item, "plan_approved": sel.plan_was_approved(case=case)},
    )


# --- Notes, visits and follow-ups --------------------------------------------------------------


@require_GET
def case_notes(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    page = Paginator(sel.notes_of_case(case=case), NOTES_PER_PAGE).get_page(request.GET.get("page"))
    pending = sel.pending_follow_up_rows(user=request.user, case=case)
    decided = list(sel.follow_ups_decided(case=case)[:DECIDED_FOLLOW_UPS_SHOWN])
    can_write = write_note_refusal(user=request.user, case=case) is None
    return render(
        request,
        "cases/note_list.html",
        {
            "case": case,
            "tab": "notes",
            "page": page,
            "pending": pending,
            "decided": decided,
            "can_write": can_write,
            "today": timezone.localdate(),
            "mark_form": FollowUpMarkForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def note_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = write_note_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_notes", case)
    form = NoteForm(request.POST or None, case=case)

    def saved(_note: object) -> str:
        if form.cleaned_data.get("add_follow_up"):
            return _("The note was saved, with a follow-up due on %(due)s.") % {
                "due": date_format(form.cleaned_data["follow_up_due_on"], "DATE_FORMAT")
            }
        return _("The note was saved.")

    if request.method == "POST" and submit(
        request,
        form,
        lambda: records.note_create(case=case, by=request.user, **form.service_kwargs()),
        success=saved,
    ):
        return redirect("cases:case_notes", pk=case.pk)
    return render(request, "cases/note_form.html", {"case": case, "tab": "notes", "form": form})


@require_http_methods(["GET", "POST"])
def follow_up_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = write_note_refusal(user=request.user, case=case)
    if refusal is not None:
        return _refused(request, refusal, "cases:case_notes", case)
    form = FollowUpForm(request.POST or None, case=case)
    if request.method == "POST":
        outcome = submit(
            request,
            form,
            lambda: records.follow_up_create(case=case, by=request.user, **form.service_kwargs()),
            success=_("The follow-up was scheduled."),
        )
        if outcome.repeated:
            return redirect("cases:case_notes", pk=case.pk)
        if outcome:
            return redirect(reverse("cases:case_notes", kwargs={"pk": case.pk}) + "#follow-ups")
    return render(request, "cases/follow_up_form.html", {"case": case, "tab": "notes", "form": form})


@require_POST
def follow_up_update(request: AuthenticatedRequest, pk: int, follow_up_pk: int) -> HttpResponse:
    case = _case(request, pk)
    follow_up = sel.follow_up_get(case=case, follow_up_id=follow_up_pk)
    follow_up.case = case
    back = reverse("cases:case_notes", kwargs={"pk": case.pk}) + "#follow-ups"
    form = FollowUpMarkForm(request.POST)
    submit(
        request,
        form,
        lambda: records.follow_up_mark(
            follow_up=follow_up,
            by=request.user,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
        ),
        success=lambda marked: (
            _("The follow-up was marked as done.")
            if marked.status == FollowUpStatus.DONE
            else _("The follow-up was marked as missed.")
        ),
        errors="message",
        invalid=_("Choose whether the follow-up was done or missed. Nothing was changed."),
    )
    return redirect(back)


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/assessments/", case_assessments, name="case_assessments"),
    path("cases/<int:pk>/assessments/new/", assessment_create, name="assessment_create"),
    path("cases/<int:pk>/assessments/<int:assessment_pk>/edit/", assessment_edit, name="assessment_edit"),
    path("cases/<int:pk>/plan/", case_plan, name="case_plan"),
    path("cases/<int:pk>/plan/new/", plan_item_create, name="plan_item_create"),
    path("cases/<int:pk>/plan/<int:item_pk>/edit/", plan_item_edit, name="plan_item_edit"),
    path("cases/<int:pk>/notes/", case_notes, name="case_notes"),
    path("cases/<int:pk>/notes/new/", note_create, name="note_create"),
    path("cases/<int:pk>/follow-ups/new/", follow_up_create, name="follow_up_create"),
    path("cases/<int:pk>/follow-ups/<int:follow_up_pk>/", follow_up_update, name="follow_up_update"),
]
