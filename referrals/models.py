"""Referrals between organisations: service referrals, case transfers and handovers
after rehabilitation, each with a receiver who must answer by a deadline.

Status moves are conditional updates on `status` (see referrals/services.py), so of two
concurrent answers exactly one wins; the constraints below are the database's backstop.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import ServiceComponent
from cases.models import Case, Document, PlanItem, Urgency
from stakeholders.models import Organisation

USER = settings.AUTH_USER_MODEL


class ReferralKind(models.TextChoices):
    SERVICE = "service", _("Service referral")
    TRANSFER = "transfer", _("Case transfer")
    HANDOVER = "handover", _("Handover after rehabilitation")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")


ACTIVE_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


class HandoverReason(models.TextChoices):
    SCHOOL = "school", _("Return to school (Dinas Pendidikan)")
    CIVIL_REGISTRY = "civil_registry", _("Identity documents: akta, KK, NIK, KIA (Dukcapil)")
    WORK = "work", _("Work placement for working-age youth (Dinas Tenaga Kerja)")
    HEALTH = "health", _("Health care (Puskesmas)")
    RELIGION = "religion", _("Religious guidance (Kemenag)")
    FAMILY_SUPPORT = "family_support", _("Family support (PKH)")


class DeclineReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", _("No capacity")
    OUT_OF_AREA = "out_of_area", _("Outside our area")
    NOT_OUR_SERVICE = "not_our_service", _("We do not provide this service")
    NOT_ELIGIBLE = "not_eligible", _("The child does not meet the criteria")
    INCOMPLETE = "incomplete", _("Not enough information")
    OTHER = "other", _("Other")


class SharedSection(models.TextChoices):
    IDENTITY = "identity", _("The child's full identity")
    FAMILY = "family", _("Family and guardians")
    ASSESSMENTS = "assessments", _("Assessments")
    PLAN = "plan", _("Intervention plan")
    NOTES = "notes", _("Notes and visits")


@audited()
class ResponseDeadline(models.Model):
    """How long a receiver has to answer, per urgency (editable in admin)."""

    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, unique=True)
    hours = models.PositiveIntegerField(_("hours to answer"))

    class Meta:
        verbose_name = _("response deadline")
        verbose_name_plural = _("response deadlines")
        ordering = ["hours"]
        constraints = [models.CheckConstraint(condition=Q(hours__gte=1), name="deadline_at_least_an_hour")]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()}: {self.hours} h"


@audited()
class Referral(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="referrals")
    kind = models.CharField(_("kind"), max_length=10, choices=ReferralKind.choices)
    sender = models.ForeignKey(
        Organisation, verbose_name=_("from"), on_delete=models.PROTECT, related_name="referrals_sent"
    )
    receiver = models.ForeignKey(
        Organisation, verbose_name=_("to"), on_delete=models.PROTECT, related_name="referrals_received"
    )
    sent_by = models.ForeignKey(USER, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    respond_by = models.DateTimeField(_("answer due by"))
    reason = models.TextField(_("reason for the referral"), max_length=TEXT_MAX_LENGTH)
    handover_reason = models.CharField(_("handover to"), max_length=20, choices=HandoverReason.choices, blank=True)
    components = models.ManyToManyField(
        ServiceComponent, verbose_name=_("services requested"), blank=True, related_name="+"
    )
    plan_item = models.ForeignKey(
        PlanItem,
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    shared_sections = ArrayField(
        models.CharField(max_length=20, choices=SharedSection.choices),
        verbose_name=_("shared after acceptance"),
        default=list,
        blank=True,
    )
    shared_documents = models.ManyToManyField(
        Document, verbose_name=_("shared documents"), blank=True, related_name="referrals"
    )
    # What allowed sharing the child's data: a consent naming the receiver, or a
    # supervisor's emergency override (cases.documents.sharing_allowed).
    sharing_basis = models.CharField(_("shared on the grounds of"), max_length=10, blank=True)
    # The child as the referral presented them when it was sent (first and full name,
    # sex, birth date, kab/kota). Lists show a closed referral — declined, cancelled,
    # completed, or a transfer seen from the sender — from this, so nothing the owner
    # records later (a move to a safe house, a new name after a merge) reaches them.
    child_summary = models.JSONField(_("the child when referred"), default=dict, blank=True)
    resent_from = models.ForeignKey(
        "self",
        verbose_name=_("re-sent from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resent_as",
    )
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    answered_by = models.ForeignKey(
        USER, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decline_reason = models.CharField(
        _("reason for declining"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    decline_note = models.TextField(_("explanation"), blank=True, max_length=TEXT_MAX_LENGTH)
    # A transfer names the receiver's case manager on acceptance.
    new_case_manager = models.ForeignKey(
        USER, verbose_name=_("new case manager"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_by = models.ForeignKey(
        USER, verbose_name=_("cancelled by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True, max_length=TEXT_MAX_LENGTH)
    completed_by = models.ForeignKey(
        USER, verbose_name=_("completed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, max_length=TEXT_MAX_LENGTH)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(sender=F("receiver")), name="referral_not_to_self"),
            models.CheckConstraint(condition=Q(respond_by__gt=F("sent_at")), name="referral_deadline_after_sending"),
            # Answered (accepted or declined) means who and when.
            models.CheckConstraint(
                condition=Q(status=ReferralStatus.SENT)
                | Q(status=ReferralStatus.CANCELLED, answered_at__isnull=True)
                | Q(answered_at__isnull=False, answered_by__isnull=False),
                name="referral_answer_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.DECLINED) | ~Q(decline_reason=""),
                name="referral_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.COMPLETED)
                | (~Q(outcome="") & Q(completed_at__isnull=False, completed_by__isnull=False)),
                name="referral_completion_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.CANCELLED)
                | (~Q(cancel_reason="") & Q(cancelled_at__isnull=False, cancelled_by__isnull=False)),
                name="referral_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ReferralKind.HANDOVER) | ~Q(handover_reason=""),
                name="referral_handover_has_reason",
            ),
            # One live referral of a case to one organisation: a double-clicked "send"
            # cannot create two.
            models.UniqueConstraint(
                fields=["case", "receiver"],
                condition=Q(status__in=["sent", "accepted"]),
                name="referral_one_active_per_receiver",
            ),
            # One live transfer per case: the case can only move to one place.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="transfer", status__in=["sent", "accepted"]),
                name="referral_one_active_transfer",
            ),
        ]
        indexes = [
            # The inbox: an organisation's incoming referrals by status and deadline.
            # `kind` rides along so the tab counts (which apply the accepted-transfer rule)
            # stay index-only.
            models.Index(fields=["receiver", "status", "respond_by"], include=["kind"], name="referral_inbox"),
            # The answered tabs, newest first.
            models.Index(fields=["receiver", "status", "-sent_at"], name="referral_inbox_answered"),
            models.Index(fields=["sender", "status", "-sent_at"], name="referral_outbox"),
            # The deadline reminders: waiting referrals by deadline, whatever the receiver.
            models.Index(fields=["respond_by"], condition=Q(status="sent"), name="referral_waiting_due"),
            models.Index(fields=["case", "-sent_at"], name="referral_case"),
            # Accepted referrals still owing an outcome, the longest waiting first (the
            # home page's list, read per receiver: referrals.selectors.oldest_accepted_without_outcome).
            models.Index(
                fields=["receiver", "answered_at", "id"],
                condition=Q(status="accepted") & ~Q(kind="transfer"),
                name="referral_accepted_no_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.receiver_id} ({self.status})"

    def is_overdue(self, now: object = None) -> bool:
        return self.status == ReferralStatus.SENT and (now or timezone.now()) > self.respond_by  # type: ignore[operator]


@audited()
class ReferralMessage(models.Model):
    """A message in the referral's thread, from either side."""

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(USER, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("on behalf of"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"), max_length=TEXT_MAX_LENGTH)
    attachments = models.ManyToManyField(Document, verbose_name=_("attachments"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("referral message")
        verbose_name_plural = _("referral messages")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="referral_message_not_empty")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.created_at:%Y-%m-%d %H:%M}"
