"""Agreements (MoU/PKS) between organisations: recording them, the list, and the signed document.

Members of a party see an agreement and open its document; administrators of a party
record and edit it; everyone else gets 404.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from atensi.core.access import get_or_404, record_access
from atensi.core.submit import submit

from .. import agreements, selectors, services
from ..agreement_forms import AgreementFilterForm, AgreementForm
from ..http import AuthenticatedRequest

_FIELDS = ("number", "title", "scope", "signed_on", "valid_from", "valid_until")


@require_GET
def agreement_document(request: AuthenticatedRequest, agreement_id: int) -> HttpResponseBase:
    agreement = get_or_404(selectors.agreements_with_documents_for(request.user), pk=agreement_id)
    if not agreement.document:
        raise Http404
    try:
        handle = agreement.document.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    record_access(user=request.user, obj=agreement, request=request, action="download")
    response = FileResponse(
        handle, as_attachment=False, filename=f"{agreement.number}.pdf", content_type="application/pdf"
    )
    # The browser must treat it as a PDF and never sniff it into something runnable.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def agreement_create(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = get_or_404(selectors.organisations_administered_by(request.user), pk=organisation_id)
    form = AgreementForm(request.POST or None, request.FILES or None, host=organisation)
    if request.method == "POST" and submit(
        request,
        form,
        lambda: services.agreement_create(
            by=request.user,
            parties=[organisation, *form.cleaned_data["parties"]],
            document=form.cleaned_data["document"],
            **{f: form.cleaned_data[f] for f in _FIELDS},
        ),
        success=lambda agreement: _("Agreement %(number)s was recorded.") % {"number": agreement.number},
    ):
        return redirect("stakeholders:agreement_list")
    return render(
        request, "stakeholders/agreement_form.html", {"form": form, "organisation": organisation, "agreement": None}
    )


@require_http_methods(["GET", "POST"])
def agreement_edit(request: AuthenticatedRequest, agreement_id: int) -> HttpResponse:
    agreement = get_or_404(agreements.agreements_editable_by(request.user), pk=agreement_id)
    party_ids = list(agreement.parties.values_list("pk", flat=True))
    form = AgreementForm(
        request.POST or None,
        request.FILES or None,
        initial={**{f: getattr(agreement, f) for f in _FIELDS}, "parties": party_ids},
        current_party_ids=party_ids,
        has_document=bool(agreement.document),
    )
    if request.method == "POST" and submit(
        request,
        form,
        lambda: services.agreement_update(
            agreement=agreement,
            by=request.user,
            document=form.cleaned_data["document"],
            parties=form.cleaned_data["parties"],
            **{f: form.cleaned_data[f] for f in _FIELDS},
        ),
        success=lambda saved: _("Agreement %(number)s was saved.") % {"number": saved.number},
    ):
        return redirect("stakeholders:agreement_list")
    return render(
        request, "stakeholders/agreement_form.html", {"form": form, "organisation": None, "agreement": agreement}
    )


@require_GET
def agreement_list(request: AuthenticatedRequest) -> HttpResponse:
    form = AgreementFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(agreements.agreement_list(user=request.user, status=status), 50).get_page(request.GET.get("page"))
    # Where the user may record a new agreement: the organisations they administer.
    admin_orgs = selectors.organisations_with_admin_role(request.user).only("pk", "name")
    return render(
        request,
        "stakeholders/agreement_list.html",
        {
            "form": form,
            "page": page,
            "rows": agreements.agreement_rows(page),
            "status": status,
            "admin_orgs": admin_orgs,
        },
    )


urlpatterns = [
    path("agreements/", agreement_list, name="agreement_list"),
    path("agreements/<int:agreement_id>/edit/", agreement_edit, name="agreement_edit"),
    path("agreements/<int:agreement_id>/document/", agreement_document, name="agreement_document"),
    path("organisations/<int:organisation_id>/agreements/new/", agreement_create, name="agreement_create"),
]
