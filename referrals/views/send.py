"""Sending referrals from a case: the case's "Referrals" tab, the send form (with the
receiver suggestions), and the suggestions' htmx refresh.

Everyone who may read the case (case_get_for_user, else 404) sees the tab; only its case
manager and the organisation's supervisors get the form (referral_send decides), others
are told why and sent back to the tab.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from atensi.core.access import record_access
from atensi.core.submit import submit
from cases.documents import sharing_allowed, sharing_bases
from cases.models import Case
from cases.selectors import case_get_for_user
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import Organisation
from stakeholders.selectors import organisation_active_get

from ..case_selectors import case_referral_rows, plan_items_awaiting_referral
from ..forms import ReferralSendForm, send_initial
from ..permissions import refer_case_refusal
from ..services import referral_send
from ..suggestions import receiver_suggestions


def _case(request: AuthenticatedRequest, pk: int) -> Case:
    case = case_get_for_user(user=request.user, case_id=pk)
    if request.method == "GET":
        record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    return case


@require_GET
def case_referrals(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = refer_case_refusal(request.user, case)
    rows = case_referral_rows(user=request.user, case=case, may_refer=refusal is None, now=timezone.now())
    return render(
        request,
        "referrals/case_referrals.html",
        {
            "case": case,
            "tab": "referrals",
            "rows": rows,
            "can_refer": refusal is None,
            "refusal": refusal,
            "awaiting": list(plan_items_awaiting_referral(case=case)),
        },
    )


def _missing_consent(case: Case, receiver: Organisation | None) -> Organisation | None:
    """The receiver, if the child's data may not be shared with it yet (so the page links
    to the consent tab), else None."""
    if receiver is None or not receiver.is_active or receiver.pk == case.organisation_id:
        return None
    return receiver if sharing_allowed(case=case, organisation=receiver) is None else None


def _preset_without_consent(case: Case, form: ReferralSendForm) -> Organisation | None:
    """A receiver preset by the link (a plan item's provider, a chosen suggestion) with
    whom the child's data may not be shared yet: the page says so before the worker writes."""
    chosen = form.initial.get("receiver")
    if chosen is None:
        return None
    receiver = organisation_active_get(organisation_id=chosen, exclude_id=case.organisation_id)
    if receiver is None or sharing_bases(case=case, organisation_ids=[receiver.pk]):
        return None
    return receiver


@require_http_methods(["GET", "POST"])
def send(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    refusal = refer_case_refusal(request.user, case)
    if refusal is not None:
        messages.error(request, refusal)
        return redirect("referrals:case_referrals", pk=case.pk)
    needs_consent = None
    if request.method == "POST":
        form = ReferralSendForm(request.POST, case=case, user=request.user)
        # Read before submitting: a refusal on the receiver takes it out of cleaned_data.
        receiver = form.cleaned_data["receiver"] if form.is_valid() else None
        outcome = submit(
            request,
            form,
            lambda: referral_send(case=case, by=request.user, **form.service_kwargs()),
            success=lambda referral: (
                _("The referral was sent to %(org)s. They are asked to answer by %(when)s.")
                % {
                    "org": referral.receiver.name,
                    "when": date_format(timezone.localtime(referral.respond_by), "DATETIME_FORMAT"),
                }
            ),
        )
        if outcome.repeated:
            return redirect("referrals:case_referrals", pk=case.pk)
        if outcome.value is not None:
            return redirect("referrals:detail", pk=outcome.value.pk)
        if outcome.error is not None and outcome.error.field == "receiver":
            needs_consent = _missing_consent(case, receiver)
    else:
        initial, notes = send_initial(case=case, user=request.user, query=request.GET)
        for note in notes:
            messages.warning(request, note)
        form = ReferralSendForm(initial=initial, case=case, user=request.user)
    return render(
        request,
        "referrals/send_form.html",
        {
            "case": case,
            "tab": "referrals",
            "form": form,
            "suggestions": receiver_suggestions(case=case, **form.suggestion_params()),
            "chosen_receiver": str(form["receiver"].value() or ""),
            "needs_consent": needs_consent if form.is_bound else _preset_without_consent(case, form),
        },
    )


@require_GET
def send_suggestions(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The suggestions panel of the send form, for the services and kind chosen so far (htmx)."""
    case = case_get_for_user(user=request.user, case_id=pk)
    form = ReferralSendForm(request.GET, case=case, user=request.user)
    return render(
        request,
        "referrals/send_suggestions.html",
        {
            "case": case,
            "form": form,
            "suggestions": receiver_suggestions(case=case, **form.suggestion_params()),
            "chosen_receiver": str(form["receiver"].value() or ""),
        },
    )


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/referrals/", case_referrals, name="case_referrals"),
    path("cases/<int:pk>/refer/", send, name="send"),
    path("cases/<int:pk>/refer/suggestions/", send_suggestions, name="send_suggestions"),
]
