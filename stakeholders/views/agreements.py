"""Agreements (MoU/PKS) between organisations: the signed document, for the parties only."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from atensi.access import get_or_404, record_access

from .. import selectors


@require_GET
def agreement_document(request: HttpRequest, agreement_id: int) -> HttpResponse:
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


urlpatterns = [
    path("agreements/<int:agreement_id>/document/", agreement_document, name="agreement_document"),
]
