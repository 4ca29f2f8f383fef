"""Who hears about a case's events at once, and how each notification reads.

- A plan or closure sent for approval: its approvers (cases.approvers.approvers_for), in
  the bell and by e-mail (atensi.core.reminders.email_event: within a minute, once, as
  each person chose). The 2-day reminder of cases.reminders is the escalation after it.
- A request decided: the person who asked, in the bell and by e-mail.
- A case opened from a community report: whoever recorded the report, in the bell only.

Each event has a key naming it, so a retried or repeated call notifies nobody twice.
Texts carry case numbers, organisations and people's roles, never a child's name (nor a
supervisor's free-text comment, which might name the child): the reader follows the link.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atensi.core.localtime import local_date, organisation_timezone
from atensi.core.notifications import notify, register
from atensi.core.reminders import email_event
from stakeholders.models import Organisation

from .approvers import approvers_for
from .models import Approval, ApprovalKind, ApprovalStatus, Case, Report
from .notification_kinds import NotificationKind
from .selectors import person_name


def queue_link(approval: Approval) -> str:
    """The approvals queue, at the request: where every approver can decide it."""
    return reverse("cases:approval_queue") + f"#approval-{approval.pk}"


def _decision_link(approval: Approval) -> str:
    if approval.kind == ApprovalKind.PLAN:
        return reverse("cases:case_plan", args=[approval.case_id])
    return reverse("cases:case_detail", args=[approval.case_id])


def _announce(*, recipients: list[Any], key: str, **kwargs: Any) -> None:
    """In the bell now, by e-mail within a minute."""
    notify(recipients=recipients, key=key, **kwargs)
    email_event(key=key, recipient_ids=[u.pk for u in recipients])


def notify_approval_requested(approval: Approval) -> None:
    """Tell the request's approvers, each under the organisation they decide for (a Dinas
    Sosial's supervisors under their Dinas Sosial)."""
    case = approval.case
    approvers = approvers_for(approval)
    by_organisation: dict[int, list[Any]] = defaultdict(list)
    for user in approvers.users:
        by_organisation[approvers.via.get(user.pk, case.organisation_id)].append(user)
    organisations = Organisation.objects.in_bulk(list(by_organisation))
    for organisation_id, people in by_organisation.items():
        _announce(
            recipients=people,
            key=f"approval:{approval.pk}:requested",
            kind=NotificationKind.APPROVAL_REQUESTED,
            link=queue_link(approval),
            organisation=organisations.get(organisation_id),
            approval=approval.pk,
            case=case.pk,
            case_number=case.number,
            case_organisation=case.organisation.name,
            approval_kind=approval.kind,
            requester=person_name(approval.requested_by),
            reason=approvers.reason,
        )


def notify_approval_decided(approval: Approval) -> None:
    """Tell the person who asked how their request was decided."""
    case = approval.case
    _announce(
        recipients=[approval.requested_by],
        key=f"approval:{approval.pk}:decided",
        kind=NotificationKind.APPROVAL_DECIDED,
        link=_decision_link(approval),
        organisation=case.organisation,
        approval=approval.pk,
        case=case.pk,
        case_number=case.number,
        approval_kind=approval.kind,
        status=approval.status,
        decider=person_name(approval.decided_by),
    )


def notify_report_case_opened(*, report: Report, case: Case) -> None:
    """Tell the person who recorded a community report that a case was opened from it —
    in the bell only, and without the case number or the child: a community reporter
    does not read cases, only what became of their report."""
    if report.recorded_by_id == case.created_by_id:
        return
    tz = organisation_timezone(case.organisation)
    notify(
        recipients=[report.recorded_by],
        key=f"report:{report.pk}:case-opened",
        kind=NotificationKind.REPORT_CASE_OPENED,
        link=reverse("cases:report_detail", args=[report.public_id]),
        organisation=None,
        report_organisation=case.organisation.name,
        reported_on=local_date(report.created_at, tz).isoformat(),
    )


# --- How each notification reads ---------------------------------------------------------


def _what(data: dict[str, Any]) -> str:
    code = data.get("approval_kind", "")
    return str(ApprovalKind(code).label).lower() if code in ApprovalKind.values else code


@register(NotificationKind.APPROVAL_REQUESTED)
def _requested(data: dict[str, Any]) -> str:
    return _("%(requester)s asks for approval of the %(what)s of case %(case)s (%(org)s).") % {
        "requester": data["requester"],
        "what": _what(data),
        "case": data["case_number"],
        "org": data["case_organisation"],
    }


@register(NotificationKind.APPROVAL_DECIDED)
def _decided(data: dict[str, Any]) -> str:
    values = {"decider": data["decider"], "what": _what(data), "case": data["case_number"]}
    if data["status"] == ApprovalStatus.APPROVED:
        return _("%(decider)s approved the %(what)s of case %(case)s.") % values
    return _("%(decider)s did not approve the %(what)s of case %(case)s; read the comment on the case.") % values


@register(NotificationKind.REPORT_CASE_OPENED)
def _case_opened(data: dict[str, Any]) -> str:
    return _("%(org)s opened a case from your report of %(date)s. Thank you for reporting.") % {
        "org": data["report_organisation"],
        "date": date_format(datetime.date.fromisoformat(data["reported_on"]), "DATE_FORMAT"),
    }
