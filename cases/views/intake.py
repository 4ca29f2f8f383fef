"""Case views: community reports (intake) — report a child, my reports, the intake queue,
a report's page, and triage (pass on, dismiss, open a case).

Pages gated by role (the report form, the queue) answer 403 to users without the role;
a report outside the user's scope is a 404, whatever the URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import record_access
from atensi.core.errors import ApplicationError
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import Organisation
from stakeholders.selectors import region_label

from .. import intake
from ..intake_forms import ReportDismissForm, ReportForm, ReportPassForm, TriageSearchForm
from ..models import Report, ReportRecipient, ReportStatus
from ..permissions import (
    can_report,
    can_report_for_others,
    can_triage_report,
    can_triage_reports,
    queue_organisation_id,
)


@require_http_methods(["GET", "POST"])
def report_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_report(request.user):
        raise PermissionDenied
    for_others = can_report_for_others(request.user)
    if request.method == "POST":
        form = ReportForm(request.POST, can_report_for_others=for_others)
    else:
        defaults = intake.reporter_defaults(request.user)
        form = ReportForm(
            can_report_for_others=for_others,
            initial={"reporter_kind": defaults.kind, "reporter_name": defaults.name, "reporter_phone": defaults.phone},
        )
    if request.method == "POST":
        outcome = submit(request, form, lambda: intake.report_create(recorded_by=request.user, **form.service_kwargs()))
        if outcome.repeated:
            return redirect("cases:report_mine")
        if outcome.value is not None:
            report = outcome.value
            names = [r.organisation.name for r in report.recipients.select_related("organisation")]
            messages.success(
                request,
                _("Thank you. Report %(reference)s was sent to %(organisations)s.")
                % {"reference": report.reference, "organisations": ", ".join(names)},
            )
            return redirect("cases:report_detail", public_id=report.public_id)
    return render(
        request,
        "cases/report_form.html",
        {"form": form, "reporter_open": for_others or _reporter_needs_attention(form), "for_others": for_others},
    )


def _reporter_needs_attention(form: ReportForm) -> bool:
    """The reporter's own details stay folded away while they are filled in and fine."""
    if any(form[name].errors for name in ("reporter_kind", "reporter_name", "reporter_phone")):
        return True
    values = form.data if form.is_bound else form.initial
    return not all(values.get(name) for name in ("reporter_kind", "reporter_name"))


@require_GET
def report_mine(request: AuthenticatedRequest) -> HttpResponse:
    page = intake.reports_recorded_by(user=request.user, after=request.GET.get("after"))
    return render(
        request,
        "cases/report_mine.html",
        {"page": page, "can_report": can_report(request.user)},
    )


@require_GET
def report_queue(request: AuthenticatedRequest) -> HttpResponse:
    if not can_triage_reports(request.user):
        raise PermissionDenied
    paginator = Paginator(intake.report_queue(request.user), intake.QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [(report, region_label(report.village)) for report in page.object_list]
    return render(
        request,
        "cases/report_queue.html",
        {"page": page, "rows": rows, "count": paginator.count, "many_orgs": intake.triages_for_several(request.user)},
    )


def _triage_context(request: AuthenticatedRequest, report: Report, recipients: list[ReportRecipient]) -> dict[str, Any]:
    rows = intake.triage_rows(request.user, recipients) if report.status == ReportStatus.NEW else []
    acting = [r.organisation for r in rows]
    return {"triage_rows": rows, "acting": acting, "can_triage": bool(rows)}


@require_GET
def report_detail(request: AuthenticatedRequest, public_id: Any) -> HttpResponse:
    report = intake.report_get_for_user(user=request.user, public_id=public_id)
    recipients = intake.report_recipients(report)
    queue_org_id = queue_organisation_id(request.user, recipients)
    queue_member = queue_org_id is not None
    context: dict[str, Any] = {
        "report": report,
        "village_label": region_label(report.village),
        "queue_member": queue_member,
        "recipients": recipients,
        "holders": [r.organisation for r in recipients if r.passed_on_at is None],
    }
    if queue_member:
        # The report holds a child's data: every look by the people who act on it is logged.
        record_access(user=request.user, obj=report, request=request, organisation_id=queue_org_id)
        context.update(_triage_context(request, report, recipients))
        context["cases"] = intake.report_cases_readable_by(user=request.user, report=report)
        if context["can_triage"]:
            context["pass_form"] = ReportPassForm(
                acting_choices=context["acting"],
                candidates=intake.report_pass_candidates(
                    report=report, exclude=[r.organisation_id for r in recipients]
                ),
            )
            context["dismiss_form"] = ReportDismissForm(acting_choices=context["acting"])
    return render(request, "cases/report_detail.html", context)


def _acting_organisation(form: Any) -> Organisation | None:
    acting = form.cleaned_data.get("acting")
    return acting if isinstance(acting, Organisation) else None


def _queue_report(request: AuthenticatedRequest, public_id: Any) -> tuple[Report, list[Organisation]]:
    """The report and the organisations the user may triage it for; 404 unless the user
    is in the intake of one of its recipients (a reporter sees their report, not triage)."""
    report = intake.report_get_for_user(user=request.user, public_id=public_id)
    recipients = intake.report_recipients(report)
    if not can_triage_report(request.user, recipients):
        raise Http404
    return report, [r.organisation for r in intake.triage_rows(request.user, recipients)]


def _form_errors(form: Any) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@require_POST
def report_pass(request: AuthenticatedRequest, public_id: Any) -> HttpResponse:
    report, acting = _queue_report(request, public_id)
    form = ReportPassForm(request.POST, acting_choices=acting)
    if not form.is_valid():
        messages.error(request, _form_errors(form) + " " + _("Nothing was changed."))
        return redirect("cases:report_detail", public_id=report.public_id)
    to = form.cleaned_data["to"]
    try:
        intake.report_pass(
            report=report,
            by=request.user,
            to=to,
            note=form.cleaned_data["note"],
            organisation=_acting_organisation(form),
        )
    except ApplicationError as exc:
        messages.error(request, str(exc) + " " + _("Nothing was changed."))
        return redirect("cases:report_detail", public_id=report.public_id)
    messages.success(
        request,
        _("Report %(reference)s was passed to %(org)s. It has left your intake queue.")
        % {"reference": report.reference, "org": to.name},
    )
    return redirect("cases:report_queue")


@require_POST
def report_dismiss(request: AuthenticatedRequest, public_id: Any) -> HttpResponse:
    report, acting = _queue_report(request, public_id)
    form = ReportDismissForm(request.POST, acting_choices=acting)
    if not form.is_valid():
        messages.error(request, _form_errors(form) + " " + _("Nothing was changed."))
        return redirect("cases:report_detail", public_id=report.public_id)
    try:
        intake.report_dismiss(
            report=report, by=request.user, reason=form.cleaned_data["reason"], organisation=_acting_organisation(form)
        )
    except ApplicationError as exc:
        messages.error(request, str(exc) + " " + _("Nothing was changed."))
        return redirect("cases:report_detail", public_id=report.public_id)
    messages.success(request, _("Report %(reference)s was dismissed.") % {"reference": report.reference})
    return redirect("cases:report_queue")


@require_GET
def report_triage(request: AuthenticatedRequest, public_id: Any) -> HttpResponse:
    report, acting = _queue_report(request, public_id)
    if report.status != ReportStatus.NEW or not acting:
        messages.info(request, _("This report is no longer waiting in your intake queue."))
        return redirect("cases:report_detail", public_id=report.public_id)
    record_access(user=request.user, obj=report, request=request, organisation_id=acting[0].pk)
    initial_q = report.child_name
    form = TriageSearchForm(request.GET if "q" in request.GET else {"q": initial_q})
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = intake.triage_beneficiary_search(user=request.user, query=query)
    results = [(b, region_label(b.village) if b.village else "") for b in found]
    hint = ""
    if query and len(" ".join(query.split())) < intake.TRIAGE_SEARCH_MIN_LENGTH:
        hint = ngettext(
            "Type at least %(count)d letter of the name.",
            "Type at least %(count)d letters of the name.",
            intake.TRIAGE_SEARCH_MIN_LENGTH,
        ) % {"count": intake.TRIAGE_SEARCH_MIN_LENGTH}
    return render(
        request,
        "cases/report_triage.html",
        {
            "report": report,
            "village_label": region_label(report.village),
            "form": form,
            "query": query,
            "results": results,
            "hint": hint,
            "acting": acting,
        },
    )


urlpatterns: list[URLPattern] = [
    path("reports/new/", report_create, name="report_create"),
    path("reports/mine/", report_mine, name="report_mine"),
    path("intake/", report_queue, name="report_queue"),
    path("reports/<uuid:public_id>/", report_detail, name="report_detail"),
    path("reports/<uuid:public_id>/pass/", report_pass, name="report_pass"),
    path("reports/<uuid:public_id>/dismiss/", report_dismiss, name="report_dismiss"),
    path("reports/<uuid:public_id>/triage/", report_triage, name="report_triage"),
]
