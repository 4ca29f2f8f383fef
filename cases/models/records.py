"""What is recorded on a case: assessments, plan items, notes and visits, follow-ups."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import ServiceComponent
from stakeholders.models import Organisation

from .cases import Case
from .common import USER, CaseCopy, copied_from_case


class IdentityDocument(models.TextChoices):
    AKTA = "akta", _("Birth certificate (akta kelahiran)")
    KK = "kk", _("Family card (KK)")
    KIA = "kia", _("Child identity card (KIA)")
    BPJS_KIS = "bpjs_kis", _("BPJS/KIS health insurance")
    KIP = "kip", _("Smart Indonesia card (KIP)")


class DiversionStage(models.TextChoices):
    NONE = "", _("Not applicable")
    POLICE = "police", _("Diversion at the police")
    PROSECUTION = "prosecution", _("Diversion at the prosecutor")
    COURT = "court", _("Diversion at the court")
    TRIAL = "trial", _("On trial")
    SENTENCED = "sentenced", _("Sentenced")


@audited()
class Assessment(models.Model):
    """An assessment (asesmen); a case may have several over time."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    problems = models.TextField(_("problems"), max_length=TEXT_MAX_LENGTH)
    # {component code: the need, in the worker's words}
    needs = models.JSONField(_("needs per ATENSI component"), default=dict, blank=True)
    strengths = models.TextField(_("strengths"), blank=True, max_length=TEXT_MAX_LENGTH)
    risks = models.TextField(_("risks"), blank=True, max_length=TEXT_MAX_LENGTH)
    family_situation = models.TextField(_("family situation"), blank=True, max_length=TEXT_MAX_LENGTH)
    education = models.TextField(_("education"), blank=True, max_length=TEXT_MAX_LENGTH)
    health = models.TextField(_("health"), blank=True, max_length=TEXT_MAX_LENGTH)
    legal_situation = models.TextField(_("legal situation"), blank=True, max_length=TEXT_MAX_LENGTH)
    diversion_stage = models.CharField(
        _("ABH: diversion stage"), max_length=20, choices=DiversionStage.choices, blank=True
    )
    court = models.CharField(_("ABH: court / case register"), max_length=200, blank=True)
    identity_documents = ArrayField(
        models.CharField(max_length=10, choices=IdentityDocument.choices),
        verbose_name=_("identity documents held"),
        default=list,
        blank=True,
    )
    conclusion = models.TextField(_("conclusion"), max_length=TEXT_MAX_LENGTH)
    author = models.ForeignKey(USER, verbose_name=_("assessed by"), on_delete=models.PROTECT, related_name="+")
    # Optimistic concurrency: an edit names the version it started from.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.assessed_on}"


class PlanItemStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


@audited()
class PlanItem(models.Model):
    """One service of the intervention plan."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="plan_items")
    component = models.ForeignKey(
        ServiceComponent, verbose_name=_("ATENSI component"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.CharField(_("service"), max_length=300)
    # Empty: the owning organisation provides it. Another organisation: a referral
    # carries it (referrals issue).
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("provided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responsible = models.ForeignKey(
        USER, verbose_name=_("responsible worker"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("start"))
    target_date = models.DateField(_("target date"))
    status = models.CharField(
        _("status"), max_length=20, choices=PlanItemStatus.choices, default=PlanItemStatus.PLANNED
    )
    outcome = models.TextField(_("outcome"), blank=True, max_length=TEXT_MAX_LENGTH)
    # When it was marked done (the services delivered in a month: the monthly report).
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("added by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(target_date__gte=F("start_date")), name="plan_item_dates_in_order"),
            models.CheckConstraint(
                condition=~Q(status=PlanItemStatus.DONE) | ~Q(outcome=""), name="plan_item_done_has_outcome"
            ),
        ]
        indexes = [
            models.Index(fields=["done_at"], name="plan_item_done_at", condition=Q(status=PlanItemStatus.DONE)),
        ]

    def __str__(self) -> str:
        return self.service


class NoteKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    OFFICE = "office", _("Office meeting")
    PHONE = "phone", _("Phone call")
    SCHOOL = "school", _("School visit")
    GROUP = "group", _("Group session")
    NOTE = "note", _("Case note")


@audited()
class CaseNote(models.Model):
    """A note or a contact with the child or family (visit, call, session)."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=20, choices=NoteKind.choices)
    occurred_on = models.DateField(_("date"))
    participants = models.CharField(_("participants"), max_length=300, blank=True)
    narrative = models.TextField(_("narrative"), max_length=TEXT_MAX_LENGTH)
    next_step = models.TextField(_("next step"), blank=True, max_length=TEXT_MAX_LENGTH)
    author = models.ForeignKey(USER, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("note or visit")
        verbose_name_plural = _("notes and visits")
        ordering = ["-occurred_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class FollowUpKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    CASE_REVIEW = "case_review", _("Case review")
    ASSESSMENT_DUE = "assessment_due", _("Assessment due")
    PLAN_REVIEW = "plan_review", _("Plan review")
    AFTERCARE = "aftercare", _("Aftercare monitoring")


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")


@audited(exclude=["organisation", "supervisor"])
class FollowUp(models.Model):
    """Something due on a case by a date. The reminders issue delivers reminders for these."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="follow_ups")
    # The case's organisation and supervisor (CaseCopy): a supervisor's escalations are read
    # from follow_up_org_due alone.
    organisation = CaseCopy(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False, blank=True, db_index=False
    )
    supervisor = CaseCopy(
        USER,
        verbose_name=_("supervisor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FollowUpKind.choices)
    due_on = models.DateField(_("due on"))
    assignee = models.ForeignKey(USER, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("what to do"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING
    )
    missed_reason = models.TextField(_("why it was missed"), blank=True, max_length=TEXT_MAX_LENGTH)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    note = models.ForeignKey(
        CaseNote,
        verbose_name=_("from note"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=FollowUpStatus.MISSED) | ~Q(missed_reason=""), name="follow_up_missed_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "due_on"], name="follow_up_assignee_due", condition=Q(status="pending")),
            models.Index(fields=["case", "due_on"], name="follow_up_case_due", condition=Q(status="pending")),
            # A team's overdue follow-ups, oldest first (the supervisor's escalations): in the
            # order of the list (due_on, id), so that its first rows are read without a sort,
            # and counted from the index alone (which of them reach this supervisor).
            models.Index(
                fields=["organisation", "due_on", "id"],
                include=["supervisor"],
                name="follow_up_org_due",
                condition=Q(status="pending"),
            ),
            # The reminder rules: follow-ups by status and due day (pending ones to remind
            # and escalate, missed aftercare to escalate).
            models.Index(fields=["status", "due_on"], name="follow_up_status_due"),
        ]
        triggers = [copied_from_case("organisation_id", "supervisor_id")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"
