"""Cases, their numbering, the case timeline and approvals."""

from __future__ import annotations

import pgtrigger
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import Cluster
from stakeholders.models import Organisation

from .beneficiaries import Beneficiary
from .common import (
    STAGE_ORDER,
    USER,
    Basis,
    CaseCopy,
    CaseSource,
    ClosureReason,
    RiskLevel,
    Stage,
    copied_from_case,
)
from .intake import Report


class CaseSequence(models.Model):
    """The last case number used per organisation and year (gap-free numbering)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="case_sequence_once")]

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.year}: {self.last}"


@audited()
class Case(models.Model):
    number = models.CharField(_("case number"), max_length=60, unique=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("owning organisation"), on_delete=models.PROTECT, related_name="cases"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.PROTECT, related_name="cases"
    )
    # Indexed with the organisation (case_manager_org), which also serves the key's lookups.
    case_manager = models.ForeignKey(
        USER,
        verbose_name=_("case manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    supervisor = models.ForeignKey(
        USER, verbose_name=_("supervisor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices)
    report = models.ForeignKey(
        Report,
        verbose_name=_("community report"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    is_confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_(
            "For sexual crimes, trafficking, children in contact with the law: only the case manager "
            "and the supervisors see who the child is."
        ),
    )
    summary = models.TextField(_("presenting problem"), blank=True, max_length=TEXT_MAX_LENGTH)
    stage = models.CharField(_("stage"), max_length=30, choices=Stage.choices, default=Stage.PENDEKATAN_AWAL)
    stage_changed_at = models.DateTimeField(_("stage since"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_reason = models.CharField(_("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True)
    closure_summary = models.TextField(_("closure summary"), blank=True, max_length=TEXT_MAX_LENGTH)
    created_by = models.ForeignKey(USER, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # Gap-free numbering is done by CaseSequence; the unique number is the backstop.
            # (Not organisation + year + sequence: a transferred case keeps the number it was
            # issued, and the receiver may have issued the same year and sequence itself.)
            models.CheckConstraint(condition=Q(sequence__gte=1), name="case_sequence_positive"),
            # One open case per child per organisation: a double-clicked "open case" or a
            # second worker opening the same child's case gets the existing one instead.
            models.UniqueConstraint(
                fields=["organisation", "beneficiary"],
                condition=~Q(stage="closed"),
                name="case_one_open_per_beneficiary",
            ),
            # Closed means a closing time and a reason; open means neither.
            models.CheckConstraint(
                condition=(Q(stage=Stage.CLOSED) & Q(closed_at__isnull=False) & ~Q(closure_reason=""))
                | (~Q(stage=Stage.CLOSED) & Q(closed_at__isnull=True)),
                name="case_closed_consistent",
            ),
        ]
        indexes = [
            # The case list: an organisation's cases, newest first, keyset-paginated.
            models.Index(fields=["organisation", "-opened_at", "-id"], name="case_org_opened"),
            # The stage-deadline reminders: cases sitting in a stage since.
            models.Index(fields=["stage", "stage_changed_at"], name="case_stage_since"),
            models.Index(fields=["case_manager", "-opened_at", "-id"], name="case_manager_opened"),
            # A person's own cases where they may read them ("Hari ini", cases.work_selectors):
            # with the key alone, the planner ANDed a bitmap of the organisation's every case
            # (100,000 rows, 2 ms) to find the few hundred of one case manager.
            models.Index(fields=["case_manager", "organisation"], name="case_manager_org"),
            models.Index(fields=["organisation", "stage"], name="case_org_stage"),
            # A supervisor's caseload: open cases per case manager (an index-only count).
            models.Index(
                fields=["organisation", "case_manager"], condition=~Q(stage="closed"), name="case_org_manager_open"
            ),
            # The monthly report of a region: the cases opened, or closed, in one month,
            # whichever organisation holds them (atensi/reports/monthly.py).
            models.Index(fields=["opened_at"], name="case_opened_at"),
            models.Index(fields=["closed_at"], name="case_closed_at", condition=Q(closed_at__isnull=False)),
            models.Index(fields=["beneficiary"], name="case_beneficiary"),
            # Who may see a child whose case is confidential (cases_visible_to) looks for the
            # child's confidential cases: a few percent of all, so a small partial index.
            models.Index(
                fields=["beneficiary", "organisation"],
                include=["case_manager"],
                condition=Q(is_confidential=True),
                name="case_confidential_child",
            ),
            GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="case_number_trgm"),
        ]
        triggers = [
            # A transfer, or a new supervisor, moves the case's copies (CaseCopy) in the same
            # transaction: follow-ups carry the organisation and the supervisor, approvals
            # the organisation.
            pgtrigger.Trigger(
                name="move_copies",
                when=pgtrigger.After,
                operation=pgtrigger.UpdateOf("organisation_id", "supervisor_id"),  # type: ignore[no-untyped-call]
                condition=pgtrigger.Condition(
                    'OLD."organisation_id" IS DISTINCT FROM NEW."organisation_id" '
                    'OR OLD."supervisor_id" IS DISTINCT FROM NEW."supervisor_id"'
                ),
                func=(
                    'UPDATE "cases_followup" SET "organisation_id" = NEW."organisation_id", '
                    '"supervisor_id" = NEW."supervisor_id" WHERE "case_id" = NEW."id"; '
                    'UPDATE "cases_approval" SET "organisation_id" = NEW."organisation_id" '
                    'WHERE "case_id" = NEW."id" AND "organisation_id" IS DISTINCT FROM NEW."organisation_id"; '
                    "RETURN NULL;"
                ),
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED

    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    STAGE = "stage", _("Stage changed")
    ASSIGNED = "assigned", _("Assigned")
    UPDATED = "updated", _("Case details changed")
    NOTE = "note", _("Note or visit")
    ASSESSMENT = "assessment", _("Assessment")
    PLAN_ITEM = "plan_item", _("Plan item")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_DECIDED = "approval_decided", _("Approval decided")
    DOCUMENT = "document", _("Document")
    CONSENT = "consent", _("Consent")
    FOLLOW_UP = "follow_up", _("Follow-up")
    MERGE = "merge", _("Records merged")
    REFERRAL = "referral", _("Referral")


class TimelineEntry(models.Model):
    """One line of the case timeline, written by the service that made the change.

    `data` holds the facts needed to render the line in the reader's language (codes,
    not translated text); `object_id` points at the record it is about.
    """

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=30, choices=TimelineKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        USER, verbose_name=_("who"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at", "-id"], name="timeline_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ApprovalKind(models.TextChoices):
    PLAN = "plan", _("Intervention plan")
    CLOSURE = "closure", _("Case closure")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


@audited(exclude=["organisation"])
class Approval(models.Model):
    """A supervisor's approval of a plan or a closure: request, then approve or reject."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="approvals")
    organisation = CaseCopy(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False, blank=True, db_index=False
    )
    kind = models.CharField(_("what"), max_length=10, choices=ApprovalKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    requested_by = models.ForeignKey(USER, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    request_note = models.TextField(_("note to the supervisor"), blank=True, max_length=TEXT_MAX_LENGTH)
    # A closure request carries the closure it asks for; approval applies it.
    closure_reason = models.CharField(_("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True)
    closure_summary = models.TextField(_("closure summary"), blank=True, max_length=TEXT_MAX_LENGTH)
    decided_by = models.ForeignKey(
        USER, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("supervisor's comment"), blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One open request per case and kind: a double click cannot create two.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=Q(status=ApprovalStatus.PENDING),
                name="approval_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[ApprovalStatus.PENDING, ApprovalStatus.WITHDRAWN])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="approval_decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ApprovalKind.CLOSURE) | ~Q(closure_reason=""),
                name="approval_closure_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=ApprovalStatus.REJECTED) | ~Q(comment=""),
                name="approval_rejection_has_comment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="approval_waiting"),
            # An organisation's requests waiting, oldest first (the approvers' queue and home page).
            models.Index(
                fields=["organisation", "requested_at", "id"],
                name="approval_org_waiting",
                condition=Q(status="pending"),
            ),
        ]
        triggers = [copied_from_case("organisation_id")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.status}"
