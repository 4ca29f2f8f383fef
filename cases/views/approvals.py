"""The approvals queue: the plan and closure requests waiting for the user's decision, with
approve/reject on each row, and the user's own requests with who may decide them and why.

Deciding from the queue needs no case page: an org admin or a Dinas Sosial supervisor
who decides (cases.approvers) never opens the child's file. A request outside
`approvals_decidable_by` is a 404; one decided meanwhile by someone else gets the
service's message.
"""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from atensi.core.access import record_access_many
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest

from .. import approvals, workflow
from ..models import Approval, ApprovalKind
from ..workflow_forms import ApprovalDecisionForm
from .case import approval_outcome


class QueueDecisionForm(ApprovalDecisionForm):
    """Approve or reject; withdrawing is the requester's, on the case page."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Show"), choices=[("", _("All requests")), *ApprovalKind.choices], required=False)


@require_GET
def approval_queue(request: AuthenticatedRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    page = approvals.approval_queue(user=request.user, kind=kind, after=request.GET.get("after"))
    # A decider from outside the case's organisation reads its plan or closure here, not
    # on the case page: logged as the case page would be.
    outside = [row.approval for row in page.rows if not row.can_open_case]
    if outside:
        record_access_many(user=request.user, objects=outside, action="view", request=request)
    return render(
        request,
        "cases/approval_queue.html",
        {"page": page, "filter_form": form, "kind": kind, "mine": approvals.my_waiting_requests(request.user)},
    )


@require_POST
def approval_queue_decide(request: AuthenticatedRequest, approval_pk: int) -> HttpResponse:
    approval = approvals.approval_get_for_decider(user=request.user, approval_id=approval_pk)
    form = QueueDecisionForm(request.POST)

    def decide() -> Approval:
        decision = form.cleaned_data["decision"]
        return workflow.approval_decide(
            approval=approval, by=request.user, approve=decision == "approve", comment=form.cleaned_data["comment"]
        )

    submit(request, form, decide, success=approval_outcome, errors="message")
    kind = request.POST.get("kind", "")
    back = reverse("cases:approval_queue")
    return redirect(f"{back}?kind={kind}" if kind in ApprovalKind.values else back)


urlpatterns = [
    path("approvals/", approval_queue, name="approval_queue"),
    path("approvals/<int:approval_pk>/decide/", approval_queue_decide, name="approval_queue_decide"),
]
