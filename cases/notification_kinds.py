"""What cases notify about (registered with atensi.core.notification_kinds)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from atensi.core.notification_kinds import register_kinds


@register_kinds
class NotificationKind(models.TextChoices):
    # Reminders and escalations (cases.reminders).
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up due")
    FOLLOW_UP_OVERDUE = "follow_up_overdue", _("Follow-up overdue")
    AFTERCARE_MISSED = "aftercare_missed", _("Aftercare visit missed")
    STAGE_STALLED = "stage_stalled", _("Case waiting in a stage")
    APPROVAL_WAITING = "approval_waiting", _("Approval waiting")
    # Events, in the bell the moment they happen (cases.notify).
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_DECIDED = "approval_decided", _("Approval decided")
    REPORT_CASE_OPENED = "report_case_opened", _("Case opened from your report")
    # A supervisor handed cases over to a new case manager (cases.reassign), once per batch.
    CASES_REASSIGNED = "cases_reassigned", _("Cases handed over to you")
    # Someone searching before a registration found a child you hold in a confidential case
    # and asks you to get in touch (cases.beneficiaries.screening).
    CONTACT_REQUESTED = "contact_requested", _("Contact requested about a child you hold")
    # Subject access (cases.subject_access): a request recorded, tell the organisation's
    # other supervisors at once; its deadline near (a day before), then passed.
    SUBJECT_ACCESS_RECORDED = "subject_access_recorded", _("Request for personal data recorded")
    SUBJECT_ACCESS_DUE = "subject_access_due", _("Request for personal data due soon")
    SUBJECT_ACCESS_OVERDUE = "subject_access_overdue", _("Request for personal data overdue")
