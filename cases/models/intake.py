"""Community reports (intake) and the organisations a report was passed to."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import AmpkCategory
from stakeholders.models import Organisation, Region

from .common import USER, Sex, Urgency


class ReporterKind(models.TextChoices):
    PSM = "psm", _("PSM (community social worker)")
    TKSK = "tksk", _("TKSK (sub-district social welfare worker)")
    SAKTI_PEKSOS = "sakti_peksos", _("Sakti Peksos")
    PENDAMPING_PKH = "pendamping_pkh", _("PKH facilitator")
    FAMILY = "family", _("Family member")
    COMMUNITY = "community", _("Community member")
    TEACHER = "teacher", _("Teacher / school")
    POLICE = "police", _("Police")
    HEALTH = "health", _("Health worker")
    OTHER = "other", _("Other")


class ReportChannel(models.TextChoices):
    FIELD = "field", _("Field report")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone")


class ReportStatus(models.TextChoices):
    NEW = "new", _("Awaiting triage")
    CASE_OPENED = "case_opened", _("Case opened")
    DISMISSED = "dismissed", _("Dismissed")


@audited()
class Report(models.Model):
    """A community report of a child who needs help: the start of most cases."""

    public_id = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    recorded_by = models.ForeignKey(
        USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="reports_recorded"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ReportChannel.choices, default=ReportChannel.FIELD)
    reporter_kind = models.CharField(_("reporter"), max_length=20, choices=ReporterKind.choices)
    reporter_name = models.CharField(_("reporter's name"), max_length=200)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    child_name = models.CharField(_("child's name"), max_length=200, blank=True, help_text=_("Leave empty if unknown."))
    child_sex = models.CharField(_("child's sex"), max_length=1, choices=Sex.choices, blank=True)
    child_age = models.PositiveSmallIntegerField(_("child's approximate age"), null=True, blank=True)
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location_detail = models.CharField(_("where exactly"), max_length=300, blank=True)
    ampk_categories = models.ManyToManyField(
        AmpkCategory, verbose_name=_("concern (AMPK category)"), blank=True, related_name="+"
    )
    concern = models.CharField(_("concern in your words"), max_length=300, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    narrative = models.TextField(_("what happened"), max_length=TEXT_MAX_LENGTH)
    status = models.CharField(_("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.NEW)
    triaged_by = models.ForeignKey(
        USER, verbose_name=_("triaged by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(_("triaged"), null=True, blank=True)
    triaged_for = models.ForeignKey(
        Organisation,
        verbose_name=_("triaged by organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dismissal_reason = models.TextField(_("reason for dismissal"), blank=True, max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("reported"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Set by the retention run (atensi.erasure) on a report no case came from, once it is
    # older than the retention period: its words are gone, its counts stay.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    class Meta:
        verbose_name = _("community report")
        verbose_name_plural = _("community reports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recorded_by", "-created_at"], name="report_recorder"),
            models.Index(fields=["village"], name="report_village"),
        ]
        constraints = [
            # A report is either waiting, or someone decided it at a known time.
            models.CheckConstraint(
                condition=Q(status=ReportStatus.NEW) | Q(triaged_at__isnull=False, triaged_by__isnull=False),
                name="report_decided_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.DISMISSED) | ~Q(dismissal_reason=""),
                name="report_dismissal_has_reason",
            ),
            models.CheckConstraint(condition=Q(child_age__lte=25), name="report_child_age_plausible"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.child_label}"

    @property
    def reference(self) -> str:
        return f"LAP-{self.public_id.hex[:8].upper()}"

    @property
    def child_label(self) -> str:
        return self.child_name or str(_("(name unknown)"))


class RecipientVia(models.TextChoices):
    COVERAGE = "coverage", _("Covers the village")
    FALLBACK = "fallback", _("Social service of the province")
    PASSED = "passed", _("Passed on by another organisation")


@audited()
class ReportRecipient(models.Model):
    """An organisation whose intake queue holds the report. Passing it on adds a row."""

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="recipients")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(_("routed because"), max_length=10, choices=RecipientVia.choices)
    passed_by = models.ForeignKey(
        USER, verbose_name=_("passed on by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True, max_length=TEXT_MAX_LENGTH)
    # Set when this organisation passed the report on: it leaves their queue.
    passed_on_at = models.DateTimeField(_("passed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("routed"), default=timezone.now)

    class Meta:
        verbose_name = _("report recipient")
        verbose_name_plural = _("report recipients")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["report", "organisation"], name="report_recipient_once"),
        ]
        indexes = [models.Index(fields=["organisation", "passed_on_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.organisation_id}"
