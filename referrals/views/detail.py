"""The referral page and what is done on it: accept (a transfer names the new case
manager), decline, complete, cancel, the message thread, and the child's material the
referral opens — the shared sections and documents after acceptance, or the sender's file
at the handover of a transfer (referrals/material.py decides which, and up to when).

Every URL starts with the scoping function (`referrals_visible_to`): anyone who is not a
party gets 404. A party who may not take an action gets the service's message, and
nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atensi.core.access import record_access
from atensi.core.errors import ApplicationError
from atensi.core.once import AlreadySubmitted, claim_submission
from atensi.core.submit import first_error
from cases.documents import document_download_name
from cases.selectors import person_name
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import User

from .. import material
from ..detail_forms import AcceptForm, CancelForm, CompleteForm, DeclineForm, MessageForm
from ..messages import referral_message_send, referral_thread, referral_trail
from ..models import ACTIVE_STATUSES, Referral, ReferralKind, ReferralStatus, SharedSection
from ..permissions import can_accept_transfer, can_answer_referral, can_cancel_referral
from ..selectors import referral_get_for_user, referrals_visible_to
from ..services import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
)

SECTION_READERS: dict[str, Callable[[material.Access], Any]] = {
    SharedSection.IDENTITY: material.identity_section,
    SharedSection.FAMILY: material.family_section,
    SharedSection.ASSESSMENTS: material.assessments_section,
    SharedSection.PLAN: material.plan_section,
    SharedSection.NOTES: material.notes_section,
}


def _back(referral: Referral, anchor: str = "") -> HttpResponse:
    response = redirect("referrals:detail", pk=referral.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _actions(user: User, referral: Referral) -> dict[str, bool]:
    """Which forms the page offers the user (the services decide again on submit)."""
    answers = can_answer_referral(user, referral)
    for_sender = can_cancel_referral(user, referral)
    status = referral.status
    return {
        "can_accept": answers
        and status == ReferralStatus.SENT
        and (referral.kind != ReferralKind.TRANSFER or can_accept_transfer(user, referral)),
        # A referral officer may decline a transfer but leaves accepting it to a supervisor.
        "transfer_for_supervisor": answers
        and status == ReferralStatus.SENT
        and referral.kind == ReferralKind.TRANSFER
        and not can_accept_transfer(user, referral),
        "can_decline": answers and status == ReferralStatus.SENT,
        "can_complete": answers and status == ReferralStatus.ACCEPTED,
        "can_cancel": for_sender
        and (
            status == ReferralStatus.SENT
            or (status == ReferralStatus.ACCEPTED and referral.kind != ReferralKind.TRANSFER)
        ),
        "can_write": (answers or for_sender) and status in ACTIVE_STATUSES,
    }


def _detail_page(
    request: AuthenticatedRequest, referral: Referral, *, bound: dict[str, Form] | None = None
) -> HttpResponse:
    """The page; `bound`: a submitted form that comes back with its errors, by its name."""
    bound = bound or {}
    user = request.user
    # Every showing of the page is logged, also one that returns a refused form.
    record_access(user=user, obj=referral, request=request, organisation_id=referral.case.organisation_id)
    access = material.referral_access(user=user, referral=referral)
    actions = _actions(user, referral)
    child = material.child_as_at(access)
    thread = list(referral_thread(referral))
    resent = list(
        referrals_visible_to(user)
        .filter(resent_from=referral)
        .select_related("receiver", "sent_by")
        .order_by("sent_at")
    )
    show_full_name = access.case_readable or SharedSection.IDENTITY in access.sections
    # What the sender chose to share: shown to the sender's readers of the case.
    shared_documents = (
        list(referral.shared_documents.order_by("-uploaded_at", "-pk"))
        if access.side == material.SENDER and access.case_readable
        else []
    )
    message_form = bound.get("message_form")
    if actions["can_write"] and message_form is None:
        documents = (
            material.attachable_documents(user=user, referral=referral)
            if referral.status == ReferralStatus.ACCEPTED
            else None
        )
        message_form = MessageForm(documents=documents)
    context = {
        "referral": referral,
        "access": access,
        **actions,
        "is_overdue": referral.is_overdue(),
        "child": material.child_summary(child),
        "child_full_name": child.full_name if (child is not None and show_full_name) else "",
        "components": list(referral.components.all()),
        "sections": [(s, SharedSection(s).label) for s in access.sections],
        "shared_section_labels": [
            SharedSection(s).label for s in material.SECTION_ORDER if s in referral.shared_sections
        ],
        "shared_documents": shared_documents,
        "documents": list(material.documents_listed(access)) if access.documents else [],
        "trail": referral_trail(referral, thread=thread, resent=resent),
        "can_resend": referral.status == ReferralStatus.DECLINED
        and access.side == material.SENDER
        and access.case_readable,
        "accept_form": (bound.get("accept_form") or AcceptForm(referral=referral)) if actions["can_accept"] else None,
        "decline_form": (bound.get("decline_form") or DeclineForm()) if actions["can_decline"] else None,
        "complete_form": (bound.get("complete_form") or CompleteForm()) if actions["can_complete"] else None,
        "cancel_form": (bound.get("cancel_form") or CancelForm()) if actions["can_cancel"] else None,
        "message_form": message_form if actions["can_write"] else None,
    }
    return render(request, "referrals/detail.html", context)


@require_GET
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)
    return _detail_page(request, referral)


def _answer(
    request: AuthenticatedRequest,
    referral: Referral,
    *,
    form: Form,
    form_name: str,
    offered: str,
    act: Callable[[Referral, dict[str, Any]], Referral],
    done: Callable[[Referral], str],
) -> HttpResponse:
    """Bind, call the service, say what happened. A field the user can fix comes back on
    the page next to the field; anything else (not theirs to do, answered meanwhile) is a
    message. Nothing is changed unless the service succeeded."""
    is_offered = _actions(request.user, referral)[offered]
    if not form.is_valid():
        if is_offered:
            return _detail_page(request, referral, bound={form_name: form})
        messages.error(request, first_error(form))
        return _back(referral)
    try:
        updated = act(referral, form.cleaned_data)
    except ApplicationError as exc:
        if is_offered and exc.field in form.fields:
            form.add_error(exc.field, str(exc))
            return _detail_page(request, referral, bound={form_name: form})
        messages.error(request, str(exc))
        return _back(referral)
    messages.success(request, done(updated))
    return _back(updated)


@require_POST
def accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)

    def act(r: Referral, data: dict[str, Any]) -> Referral:
        return referral_accept(referral=r, by=request.user, case_manager=data.get("case_manager"))

    def done(r: Referral) -> str:
        if r.kind == ReferralKind.TRANSFER:
            return _("You accepted the transfer: the case now belongs to %(org)s, managed by %(name)s.") % {
                "org": r.receiver.name,
                "name": person_name(r.new_case_manager),
            }
        return _("You accepted the referral. The shared information is now open to you below.")

    return _answer(
        request,
        referral,
        form=AcceptForm(request.POST, referral=referral),
        form_name="accept_form",
        offered="can_accept",
        act=act,
        done=done,
    )


@require_POST
def decline(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)

    def act(r: Referral, data: dict[str, Any]) -> Referral:
        return referral_decline(referral=r, by=request.user, reason=data["reason"], note=data["note"])

    return _answer(
        request,
        referral,
        form=DeclineForm(request.POST),
        form_name="decline_form",
        offered="can_decline",
        act=act,
        done=lambda r: (
            _("You declined the referral. %(org)s can now send it to another organisation.") % {"org": r.sender.name}
        ),
    )


@require_POST
def complete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)

    def act(r: Referral, data: dict[str, Any]) -> Referral:
        return referral_complete(referral=r, by=request.user, outcome=data["outcome"])

    return _answer(
        request,
        referral,
        form=CompleteForm(request.POST),
        form_name="complete_form",
        offered="can_complete",
        act=act,
        done=lambda r: _("The referral is completed. %(org)s can read your outcome.") % {"org": r.sender.name},
    )


@require_POST
def cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)

    def act(r: Referral, data: dict[str, Any]) -> Referral:
        return referral_cancel(referral=r, by=request.user, reason=data["reason"])

    return _answer(
        request,
        referral,
        form=CancelForm(request.POST),
        form_name="cancel_form",
        offered="can_cancel",
        act=act,
        done=lambda r: _("The referral to %(org)s is cancelled.") % {"org": r.receiver.name},
    )


@require_POST
def message_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)
    offered = _actions(request.user, referral)["can_write"]
    documents = (
        material.attachable_documents(user=request.user, referral=referral)
        if referral.status == ReferralStatus.ACCEPTED
        else None
    )
    form = MessageForm(request.POST, documents=documents)
    if not form.is_valid():
        if offered:
            return _detail_page(request, referral, bound={"message_form": form})
        messages.error(request, first_error(form))
        return _back(referral)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            claim_submission(user=request.user, token=data.get("submission_token"))
            referral_message_send(
                referral=referral, by=request.user, body=data["body"], attachments=data.get("attachments") or ()
            )
    except AlreadySubmitted as exc:
        messages.info(request, str(exc))
        return _back(referral, "thread")
    except ApplicationError as exc:
        if offered and exc.field in form.fields:
            form.add_error(exc.field, str(exc))
            return _detail_page(request, referral, bound={"message_form": form})
        messages.error(request, str(exc))
        return _back(referral)
    messages.success(request, _("Your message was sent."))
    return _back(referral, "thread")


@require_GET
def section(request: AuthenticatedRequest, pk: int, section: str) -> HttpResponse:
    referral = referral_get_for_user(user=request.user, referral_id=pk)
    access = material.referral_access(user=request.user, referral=referral)
    material.section_or_404(access, section)
    data = SECTION_READERS[section](access)
    record_access(user=request.user, obj=referral.case, request=request, organisation_id=referral.case.organisation_id)
    return render(
        request,
        "referrals/detail_section.html",
        {
            "referral": referral,
            "access": access,
            "section": section,
            "section_label": SharedSection(section).label,
            "sections": [(s, SharedSection(s).label) for s in access.sections],
            "data": data,
            "section_template": f"referrals/detail_section_{section}.html",
        },
    )


@require_GET
def document(request: AuthenticatedRequest, pk: int, document_pk: int) -> HttpResponseBase:
    referral = referral_get_for_user(user=request.user, referral_id=pk)
    access = material.referral_access(user=request.user, referral=referral)
    doc = material.document_get_for_access(access, document_pk)
    # Only the stored name of the document is ever opened, never a path from the request.
    try:
        handle = doc.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    record_access(
        user=request.user, obj=doc, action="download", request=request, organisation_id=referral.case.organisation_id
    )
    response = FileResponse(
        handle, as_attachment=True, filename=document_download_name(doc), content_type=doc.content_type
    )
    # Saved as the type it was checked to be, never sniffed into something runnable;
    # nothing keeps a copy on the way.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("referrals/<int:pk>/", detail, name="detail"),
    path("referrals/<int:pk>/accept/", accept, name="accept"),
    path("referrals/<int:pk>/decline/", decline, name="decline"),
    path("referrals/<int:pk>/complete/", complete, name="complete"),
    path("referrals/<int:pk>/cancel/", cancel, name="cancel"),
    path("referrals/<int:pk>/messages/", message_create, name="message_create"),
    path("referrals/<int:pk>/shared/<slug:section>/", section, name="section"),
    path("referrals/<int:pk>/documents/<int:document_pk>/", document, name="document"),
]
