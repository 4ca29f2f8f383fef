"""Case views: documents (list, upload, the checked and audited download) and consent
(the page, recording and withdrawing consent, the emergency sharing override).

Whoever may read the case (case_get_for_user) sees these pages; its case manager and the
organisation's supervisors change them; everyone else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import record_access
from atensi.core.errors import ApplicationError
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest

from .. import documents as docs
from ..document_forms import (
    ConsentForm,
    ConsentWithdrawForm,
    DocumentFilterForm,
    DocumentUploadForm,
    SharingOverrideForm,
)
from ..models import Case, Consent
from ..permissions import can_supervise_case, can_work_on_case
from ..selectors import case_get_for_user

PAGE_SIZE = 50


def _refuse_reader(request: AuthenticatedRequest, case: Case, to: str) -> HttpResponse | None:
    """A colleague who may read but not change the case is told so, and sent back."""
    if can_work_on_case(request.user, case):
        return None
    messages.error(
        request,
        _("Only the case manager or a supervisor of %(org)s can change this case.") % {"org": case.organisation.name},
    )
    return redirect(to, pk=case.pk)


# --- Documents --------------------------------------------------------------------------


@require_GET
def case_documents(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    filter_form = DocumentFilterForm(request.GET)
    kind = filter_form.cleaned_data["kind"] if filter_form.is_valid() else ""
    page = Paginator(docs.documents_for_case(case=case, kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/document_list.html",
        {
            "case": case,
            "tab": "documents",
            "page": page,
            "filter_form": filter_form,
            "kind": kind,
            "can_work": can_work_on_case(request.user, case),
        },
    )


@require_http_methods(["GET", "POST"])
def document_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    refused = _refuse_reader(request, case, "cases:case_documents")
    if refused is not None:
        return refused
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and submit(
        request,
        form,
        lambda: docs.document_upload(
            case=case,
            by=request.user,
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            file=form.cleaned_data["file"],
        ),
        success=lambda document: _("“%(title)s” was added to the case.") % {"title": document.title},
    ):
        return redirect("cases:case_documents", pk=case.pk)
    return render(request, "cases/document_upload.html", {"case": case, "tab": "documents", "form": form})


@require_GET
def document_download(request: AuthenticatedRequest, pk: int, document_pk: int) -> HttpResponseBase:
    case = case_get_for_user(user=request.user, case_id=pk)
    document = docs.document_get_for_case(case=case, document_id=document_pk)
    # Only the stored name of the document is ever opened, never a path from the request.
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    record_access(
        user=request.user, obj=document, action="download", request=request, organisation_id=case.organisation_id
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=docs.document_download_name(document),
        content_type=document.content_type,
    )
    # The browser saves the file as the type it was checked to be and never sniffs it
    # into something runnable; nothing keeps a copy on the way.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Consent ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveConsent:
    """An active consent on the consent tab, with its own withdrawal form (a refused one comes back bound)."""

    consent: Consent
    withdraw_form: ConsentWithdrawForm


def _consent_page(
    request: AuthenticatedRequest,
    case: Case,
    *,
    withdraw_form: ConsentWithdrawForm | None = None,
    withdraw_for: int | None = None,
    override_form: SharingOverrideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    consents = list(docs.consents_for_case(case=case))
    overrides = list(docs.overrides_for_case(case=case))
    can_work = can_work_on_case(request.user, case)
    can_supervise = can_supervise_case(request.user, case)
    active = [c for c in consents if c.is_active]
    rows = [
        ActiveConsent(
            consent=consent,
            withdraw_form=withdraw_form
            if withdraw_form is not None and consent.pk == withdraw_for
            else ConsentWithdrawForm(auto_id=f"id_w{consent.pk}_%s"),
        )
        for consent in active
    ]
    return render(
        request,
        "cases/consent_list.html",
        {
            "case": case,
            "tab": "consent",
            "active": rows,
            "withdrawn": [c for c in consents if not c.is_active],
            "overrides": overrides,
            "shared": docs.sharing_summary(consents=consents, overrides=overrides),
            "processing_consent": next((c for c in active if c.allows_processing), None),
            "can_work": can_work,
            "can_supervise": can_supervise,
            "withdraw_for": withdraw_for,
            "override_form": (override_form or SharingOverrideForm(case=case)) if can_supervise else None,
            "override_open": override_form is not None,
        },
        status=status,
    )


@require_GET
def case_consent(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    return _consent_page(request, case)


@require_http_methods(["GET", "POST"])
def consent_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    refused = _refuse_reader(request, case, "cases:case_consent")
    if refused is not None:
        return refused
    form = ConsentForm(request.POST or None, case=case)
    if request.method == "POST" and submit(
        request,
        form,
        lambda: docs.consent_create(
            case=case,
            by=request.user,
            given_by=form.cleaned_data["given_by"],
            given_by_name=form.cleaned_data["given_by_name"],
            relation=form.cleaned_data["relation"],
            given_on=form.cleaned_data["given_on"],
            allows_processing=form.cleaned_data["allows_processing"],
            allows_photos=form.cleaned_data["allows_photos"],
            share_with=form.cleaned_data["share_with"],
            form_document=form.cleaned_data["form_document"],
            notes=form.cleaned_data["notes"],
        ),
        success=lambda consent: _("The consent given by %(name)s was recorded.") % {"name": consent.given_by_name},
    ):
        return redirect("cases:case_consent", pk=case.pk)
    return render(request, "cases/consent_create.html", {"case": case, "tab": "consent", "form": form})


@require_POST
def consent_withdraw(request: AuthenticatedRequest, pk: int, consent_pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    consent: Consent = docs.consent_get_for_case(case=case, consent_id=consent_pk)
    refused = _refuse_reader(request, case, "cases:case_consent")
    if refused is not None:
        return refused
    try:
        docs.consent_require_active(consent)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("cases:case_consent", pk=case.pk)
    form = ConsentWithdrawForm(request.POST, auto_id=f"id_w{consent.pk}_%s")
    outcome = submit(
        request,
        form,
        lambda: docs.consent_withdraw(
            consent=consent,
            by=request.user,
            withdrawn_on=form.cleaned_data["withdrawn_on"],
            reason=form.cleaned_data["reason"],
        ),
        success=lambda withdrawn: _("The consent given by %(name)s is withdrawn.") % {"name": withdrawn.given_by_name},
    )
    if outcome:
        return redirect("cases:case_consent", pk=case.pk)
    if outcome.error is not None and outcome.error.field is None:
        # Nothing the user can fix in the form (e.g. already withdrawn): said on the page.
        messages.error(request, str(outcome.error))
        return redirect("cases:case_consent", pk=case.pk)
    return _consent_page(request, case, withdraw_form=form, withdraw_for=consent.pk)


@require_POST
def sharing_override_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    if not can_supervise_case(request.user, case):
        messages.error(
            request,
            _("Only a supervisor of %(org)s can decide to share without consent.") % {"org": case.organisation.name},
        )
        return redirect("cases:case_consent", pk=case.pk)
    form = SharingOverrideForm(request.POST, case=case)
    if submit(
        request,
        form,
        lambda: docs.sharing_override_create(
            case=case,
            by=request.user,
            organisation=form.cleaned_data["organisation"],
            reason=form.cleaned_data["reason"],
        ),
        success=lambda override: (
            _("The child's data may now be shared with %(org)s without consent. The reason is on record.")
            % {"org": override.organisation.name}
        ),
    ):
        return redirect("cases:case_consent", pk=case.pk)
    return _consent_page(request, case, override_form=form)


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/documents/", case_documents, name="case_documents"),
    path("cases/<int:pk>/documents/upload/", document_upload, name="document_upload"),
    path("cases/<int:pk>/documents/<int:document_pk>/download/", document_download, name="document_download"),
    path("cases/<int:pk>/consent/", case_consent, name="case_consent"),
    path("cases/<int:pk>/consent/new/", consent_create, name="consent_create"),
    path("cases/<int:pk>/consent/<int:consent_pk>/withdraw/", consent_withdraw, name="consent_withdraw"),
    path("cases/<int:pk>/consent/override/", sharing_override_create, name="sharing_override_create"),
]
