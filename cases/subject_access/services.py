"""Writes of the subject access register: record a request, make its file, answer or
refuse it. Every change is audited (pghistory) with the acting supervisor."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError, require
from atensi.core.exports import export_request
from atensi.core.models import ExportJob
from stakeholders.models import User

from ..models import Beneficiary, RequesterRelation, SubjectAccessRequest, SubjectAccessStatus
from ..permissions import handle_subject_access_refusal, subject_access_organisations
from .bundle import SOURCE
from .reminders import notify_recorded
from .sections import sections

# A request written down late (a letter found in the post) may be dated back this far.
RECEIVED_BACK_DAYS = 30


def answer_due(received_at: datetime.datetime) -> datetime.datetime:
    """The legal deadline: ATENSI_SUBJECT_ACCESS_HOURS (3 x 24) after the request arrived."""
    return received_at + datetime.timedelta(hours=settings.ATENSI_SUBJECT_ACCESS_HOURS)


@transaction.atomic
def subject_access_record(
    *,
    by: User,
    beneficiary: Beneficiary,
    organisation_id: int,
    requester_name: str,
    requester_relation: str,
    received_at: datetime.datetime | None = None,
    notes: str = "",
) -> SubjectAccessRequest:
    if organisation_id not in subject_access_organisations(by, beneficiary):
        raise ApplicationError(
            _("Choose an organisation you supervise that holds this person's data."), field="organisation"
        )
    if beneficiary.merged_into_id is not None:
        raise ApplicationError(_("This record was merged into another one; record the request there."))
    now = timezone.now()
    received_at = received_at or now
    if received_at > now:
        raise ApplicationError(_("A request cannot arrive in the future."), field="received_at")
    if received_at < now - datetime.timedelta(days=RECEIVED_BACK_DAYS):
        raise ApplicationError(
            _("A request received more than %(days)s days ago cannot be recorded now; note it in the case instead.")
            % {"days": RECEIVED_BACK_DAYS},
            field="received_at",
        )
    name = requester_name.strip()
    if not name:
        raise ApplicationError(_("Say who made the request."), field="requester_name")
    if requester_relation not in RequesterRelation.values:
        raise ApplicationError(_("Choose how the person asking is related."), field="requester_relation")
    request = SubjectAccessRequest(
        organisation_id=organisation_id,
        beneficiary=beneficiary,
        requester_name=name,
        requester_relation=requester_relation,
        received_at=received_at,
        due_at=answer_due(received_at),
        notes=notes.strip(),
        recorded_by=by,
    )
    request.full_clean()
    request.save()
    notify_recorded(request)
    return request


def _locked_open(request: SubjectAccessRequest, by: User) -> SubjectAccessRequest:
    require(handle_subject_access_refusal(by, request.organisation_id))
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=request.pk)
    if not locked.is_open:
        raise ApplicationError(_("This request has already been closed."))
    return locked


@transaction.atomic
def subject_access_bundle(
    *, by: User, request: SubjectAccessRequest, withhold: Iterable[str] = (), reason: str = ""
) -> ExportJob:
    """Queue the request's file, made as `by` in the background; the same file asked for
    again while it is being made is that one job.

    `withhold`: sections left out, with the `reason` the file's letter repeats (UU PDP
    Pasal 33: access is refused where it would endanger the person or someone else, or
    disclose another person's data — an estranged parent asking where the child now lives)."""
    locked = _locked_open(request, by)
    names = {section.name for section in sections()}
    left_out = sorted(set(withhold))
    if not set(left_out) <= names:
        raise ApplicationError(_("Choose the parts to leave out from the list."), field="withhold")
    reason = reason.strip()
    if left_out and not reason:
        raise ApplicationError(
            _("Say why these parts are left out: the letter in the file tells the person."), field="reason"
        )
    params = [["request", str(locked.pk)], *(["withhold", name] for name in left_out)]
    if left_out:
        params.append(["reason", reason])
    job = export_request(user=by, source=SOURCE, params=params)
    locked.bundle = job
    locked.save(update_fields=["bundle"])
    return job


def _close(*, by: User, request: SubjectAccessRequest, status: str, answer: str) -> SubjectAccessRequest:
    locked = _locked_open(request, by)
    text = answer.strip()
    if not text:
        raise ApplicationError(_("Say how the request was answered."), field="answer")
    locked.status = status
    locked.answer = text
    locked.answered_at = timezone.now()
    locked.answered_by = by
    locked.save(update_fields=["status", "answer", "answered_at", "answered_by"])
    return locked


@transaction.atomic
def subject_access_answer(*, by: User, request: SubjectAccessRequest, answer: str) -> SubjectAccessRequest:
    """The person has their data: how it was given (handed over, sent to which address)."""
    return _close(by=by, request=request, status=SubjectAccessStatus.ANSWERED, answer=answer)


@transaction.atomic
def subject_access_refuse(*, by: User, request: SubjectAccessRequest, reason: str) -> SubjectAccessRequest:
    """Refused, with the reason the law allows (the person asking could not show who they
    are, or is not the child's parent or guardian, ...), which is told to them."""
    try:
        return _close(by=by, request=request, status=SubjectAccessStatus.REFUSED, answer=reason)
    except ApplicationError as error:
        if error.field == "answer":
            raise ApplicationError(_("Give the reason for refusing."), field="answer") from None
        raise
