"""The subject access register (UU PDP Pasal 32), for supervisors: the requests made to
their organisations with the legal deadline, recording one from a person's page, making
the file that answers it, and closing it as answered or refused."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core import exports
from atensi.core.keyset import time_page
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest
from stakeholders.selectors import organisations_by_ids

from ..models import SubjectAccessStatus
from ..permissions import can_keep_subject_access_register, subject_access_organisations
from ..selectors import beneficiary_get_for_user
from ..subject_access import services as svc
from ..subject_access.forms import SubjectAccessCloseForm, SubjectAccessFileForm, SubjectAccessRequestForm
from ..subject_access.selectors import subject_access_register, subject_access_request_get

PAGE_SIZE = 50
# Open requests are answered within 3 x 24 hours, so they are few; a superuser's national
# register is cut here, nearest deadline first, and says so.
OPEN_SHOWN = 200
_CURSOR_SALT = "cases.subject_access"


@require_GET
def subject_access_list(request: AuthenticatedRequest) -> HttpResponse:
    if not can_keep_subject_access_register(request.user):
        raise Http404(_("Not found."))
    register = subject_access_register(request.user)
    open_requests = list(register.filter(status=SubjectAccessStatus.OPEN).order_by("due_at", "pk")[: OPEN_SHOWN + 1])
    closed = time_page(
        register.exclude(status=SubjectAccessStatus.OPEN),
        field="received_at",
        descending=True,
        after=request.GET.get("after"),
        size=PAGE_SIZE,
        salt=_CURSOR_SALT,
    )
    return render(
        request,
        "cases/subject_access/list.html",
        {
            "open_requests": open_requests[:OPEN_SHOWN],
            "more_open": len(open_requests) > OPEN_SHOWN,
            "closed": closed,
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
def subject_access_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    beneficiary = beneficiary_get_for_user(user=request.user, beneficiary_id=pk)
    allowed = subject_access_organisations(request.user, beneficiary)
    if not allowed:
        raise Http404(_("Not found."))
    organisations = organisations_by_ids(allowed)
    form = SubjectAccessRequestForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and (
        outcome := submit(
            request,
            form,
            lambda: svc.subject_access_record(by=request.user, beneficiary=beneficiary, **form.service_kwargs()),
            success=lambda made: (
                _("The request was recorded. It must be answered by %(due)s.")
                % {"due": timezone.localtime(made.due_at).strftime("%d-%m-%Y %H:%M")}
            ),
        )
    ):
        if outcome.value is None:  # a repeated submit: the first one made it
            return redirect("cases:subject_access_list")
        return redirect("cases:subject_access_detail", pk=outcome.value.pk)
    return render(request, "cases/subject_access/form.html", {"beneficiary": beneficiary, "form": form})


@require_GET
def subject_access_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access_request = subject_access_request_get(user=request.user, request_id=pk)
    job = access_request.bundle
    return render(
        request,
        "cases/subject_access/detail.html",
        {
            "access_request": access_request,
            "now": timezone.now(),
            # The file itself is downloaded only by whoever made it (the export policy).
            "job": exports.job_row(job) if job is not None and job.user_id == request.user.pk else None,
            "job_by_other": job is not None and job.user_id != request.user.pk,
            "close_form": SubjectAccessCloseForm(),
            "file_form": SubjectAccessFileForm(),
        },
    )


@require_POST
def subject_access_bundle(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access_request = subject_access_request_get(user=request.user, request_id=pk)
    form = SubjectAccessFileForm(request.POST)
    submit(
        request,
        form,
        lambda: svc.subject_access_bundle(
            by=request.user,
            request=access_request,
            withhold=form.cleaned_data["withhold"],
            reason=form.cleaned_data["reason"],
        ),
        success=_("The file is being made. You will be notified when it is ready to download here."),
        errors="message",
    )
    return redirect("cases:subject_access_detail", pk=access_request.pk)


@require_POST
def subject_access_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access_request = subject_access_request_get(user=request.user, request_id=pk)
    form = SubjectAccessCloseForm(request.POST)

    def close() -> object:
        data = form.cleaned_data
        if data["outcome"] == "refused":
            return svc.subject_access_refuse(by=request.user, request=access_request, reason=data["answer"])
        return svc.subject_access_answer(by=request.user, request=access_request, answer=data["answer"])

    # A refusal or a missing answer is a message on the request's page, shown afresh.
    submit(request, form, close, success=_("The request was closed."), errors="message")
    return redirect("cases:subject_access_detail", pk=access_request.pk)


urlpatterns = [
    path("subject-access/", subject_access_list, name="subject_access_list"),
    path("subject-access/<int:pk>/", subject_access_detail, name="subject_access_detail"),
    path("subject-access/<int:pk>/file/", subject_access_bundle, name="subject_access_bundle"),
    path("subject-access/<int:pk>/close/", subject_access_close, name="subject_access_close"),
    path("cases/beneficiaries/<int:pk>/subject-access/", subject_access_create, name="subject_access_create"),
]
