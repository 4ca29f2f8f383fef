"""The register of subject access requests (UU 27/2022 Pasal 32: a person — for a child,
their parent or guardian — may ask an organisation for the personal data it holds about
them, and must have it within 3 × 24 hours)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import ExportJob
from stakeholders.models import Organisation

from .beneficiaries import Beneficiary, Relation
from .common import USER


class SubjectAccessStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("request status", "Open")
    ANSWERED = "answered", _("Answered")
    REFUSED = "refused", _("Refused")


class RequesterRelation(models.TextChoices):
    SELF = "self", _("The person themself")
    FATHER = Relation.FATHER.value, Relation.FATHER.label
    MOTHER = Relation.MOTHER.value, Relation.MOTHER.label
    STEPPARENT = Relation.STEPPARENT.value, Relation.STEPPARENT.label
    GRANDPARENT = Relation.GRANDPARENT.value, Relation.GRANDPARENT.label
    SIBLING = Relation.SIBLING.value, Relation.SIBLING.label
    UNCLE_AUNT = Relation.UNCLE_AUNT.value, Relation.UNCLE_AUNT.label
    FOSTER = Relation.FOSTER.value, Relation.FOSTER.label
    GUARDIAN = Relation.GUARDIAN.value, Relation.GUARDIAN.label
    LAWYER = "lawyer", _("Lawyer or legal aid")
    OTHER = Relation.OTHER.value, Relation.OTHER.label


@audited()
class SubjectAccessRequest(models.Model):
    """One request for the data an organisation holds about one person: who asked and
    when, the deadline the law sets, and how it was answered."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("about"), on_delete=models.PROTECT, related_name="subject_access_requests"
    )
    requester_name = models.CharField(_("asked by"), max_length=200)
    requester_relation = models.CharField(_("relation to the person"), max_length=20, choices=RequesterRelation.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    notes = models.TextField(_("notes"), blank=True, max_length=TEXT_MAX_LENGTH)
    status = models.CharField(
        _("status"), max_length=10, choices=SubjectAccessStatus.choices, default=SubjectAccessStatus.OPEN
    )
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # The last file made for it (the export job keeps who made it, when, and until when).
    bundle = models.ForeignKey(
        ExportJob, verbose_name=_("file"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        USER, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("how it was answered"), blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        verbose_name = _("subject access request")
        verbose_name_plural = _("subject access requests")
        constraints = [
            models.CheckConstraint(condition=Q(due_at__gt=models.F("received_at")), name="subject_access_due_after"),
            models.CheckConstraint(
                condition=Q(status="open", answered_at__isnull=True, answered_by__isnull=True)
                | (~Q(status="open") & Q(answered_at__isnull=False, answered_by__isnull=False) & ~Q(answer="")),
                name="subject_access_answer_when_closed",
            ),
        ]
        indexes = [
            # The register: an organisation's open requests by deadline, then the rest.
            models.Index(fields=["organisation", "status", "due_at", "id"], name="subject_access_register"),
            # The reminder rule's bands on the deadline of open requests.
            models.Index(fields=["due_at"], condition=Q(status="open"), name="subject_access_open_due"),
        ]

    def __str__(self) -> str:
        return str(_("Subject access request no. %(id)s")) % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status == SubjectAccessStatus.OPEN
