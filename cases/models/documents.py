"""Documents on a case, consent, and the sharing overrides of a case."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from stakeholders.models import Organisation

from .beneficiaries import FamilyMember, Relation
from .cases import Case
from .common import USER, private_upload_path


class DocumentKind(models.TextChoices):
    AKTA = "akta", _("Birth certificate (akta)")
    KK = "kk", _("Family card (KK)")
    ASSESSMENT_REPORT = "assessment_report", _("Assessment report")
    COURT_DECISION = "court_decision", _("Court / diversion decision")
    CONSENT_FORM = "consent_form", _("Consent form")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


def case_document_path(instance: Document, filename: str) -> str:
    return private_upload_path("case-documents", filename)


@audited()
class Document(models.Model):
    """A file on a case, kept in private storage and served only by a checked view."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=case_document_path)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(USER, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            # A double-clicked upload stores the file once.
            models.UniqueConstraint(fields=["case", "sha256"], name="document_once_per_case"),
        ]

    def __str__(self) -> str:
        return self.title


@audited()
class Consent(models.Model):
    """Consent to process (and share) a child's data, UU PDP Pasal 25."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="consents")
    given_by = models.ForeignKey(
        FamilyMember,
        verbose_name=_("given by (family member)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    given_by_name = models.CharField(_("given by"), max_length=200)
    relation = models.CharField(_("relation to the child"), max_length=20, choices=Relation.choices)
    given_on = models.DateField(_("date given"))
    allows_processing = models.BooleanField(_("processing of the child's data"), default=True)
    allows_photos = models.BooleanField(_("photos"), default=False)
    share_with = models.ManyToManyField(Organisation, verbose_name=_("sharing with"), blank=True, related_name="+")
    form = models.ForeignKey(
        Document,
        verbose_name=_("signed consent form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True, max_length=TEXT_MAX_LENGTH)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True, max_length=TEXT_MAX_LENGTH)
    withdrawn_by = models.ForeignKey(
        USER,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("given_on")),
                name="consent_withdrawn_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_by_name} {self.given_on}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


@audited()
class SharingOverride(models.Model):
    """A supervisor's emergency decision to share without consent, with the reason."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="overrides")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("sharing with"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=TEXT_MAX_LENGTH)
    decided_by = models.ForeignKey(USER, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)

    class Meta:
        verbose_name = _("emergency sharing override")
        verbose_name_plural = _("emergency sharing overrides")
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.organisation_id}"
