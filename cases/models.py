"""Cases: community reports (intake), beneficiaries and families, cases and everything
recorded on them — stage changes, approvals, assessments, plan items, notes and visits,
follow-ups, documents, consent — and the case timeline.

Every model is audited (pghistory). Reads go through cases/selectors.py (one scoping
function per family), writes through the services modules.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.audit import audited
from atensi.models import AmpkCategory, Cluster, PpksType, ServiceComponent
from atensi.values import validate_nik
from stakeholders.models import Organisation, Region

USER = settings.AUTH_USER_MODEL


# --- Choices --------------------------------------------------------------------------


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class Stage(models.TextChoices):
    """The case-management stages in their order, then closed."""

    PENDEKATAN_AWAL = "pendekatan_awal", _("Intake and engagement")
    ASESMEN = "asesmen", _("Assessment")
    PERENCANAAN = "perencanaan", _("Intervention planning")
    INTERVENSI = "intervensi", _("Intervention")
    MONITORING_EVALUASI = "monitoring_evaluasi", _("Monitoring and evaluation")
    TERMINASI = "terminasi", _("Termination")
    BIMBINGAN_LANJUT = "bimbingan_lanjut", _("Aftercare")
    CLOSED = "closed", _("Closed")


STAGE_ORDER: list[str] = [s.value for s in Stage]
OPEN_STAGES: list[str] = STAGE_ORDER[:-1]


class Basis(models.TextChoices):
    KELUARGA = "keluarga", _("Family-based")
    KOMUNITAS = "komunitas", _("Community-based")
    RESIDENSIAL = "residensial", _("Residential")


class CaseSource(models.TextChoices):
    COMMUNITY_REPORT = "community_report", _("Community report")
    WALK_IN = "walk_in", _("Walk-in")
    POLICE = "police", _("Police")
    SCHOOL = "school", _("School")
    COURT = "court", _("Court / Bapas")
    PKH = "pkh", _("PKH")
    REFERRAL = "referral", _("Referral from another organisation")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Goals met")
    TRANSFERRED = "transferred", _("Transferred")
    MOVED_AWAY = "moved_away", _("Moved away")
    TURNED_18 = "turned_18", _("Turned 18, passed to the adult cluster")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    REFUSED = "refused", _("Refused services")
    DIED = "died", _("Died")


# --- Community reports (intake) --------------------------------------------------------


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
    narrative = models.TextField(_("what happened"))
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
    dismissal_reason = models.TextField(_("reason for dismissal"), blank=True)
    created_at = models.DateTimeField(_("reported"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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
    note = models.TextField(_("note"), blank=True)
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


# --- Beneficiaries and families ----------------------------------------------------------


class Religion(models.TextChoices):
    ISLAM = "islam", _("Islam")
    KRISTEN = "kristen", _("Protestant")
    KATOLIK = "katolik", _("Catholic")
    HINDU = "hindu", _("Hindu")
    BUDDHA = "buddha", _("Buddhist")
    KONGHUCU = "konghucu", _("Confucian")
    KEPERCAYAAN = "kepercayaan", _("Indigenous belief")


class SchoolStatus(models.TextChoices):
    IN_SCHOOL = "in_school", _("In school")
    OUT_OF_SCHOOL = "out_of_school", _("Out of school")
    NEVER = "never", _("Never attended")
    NOT_SCHOOL_AGE = "not_school_age", _("Not of school age")


def private_upload_path(prefix: str, filename: str) -> str:
    # Never the user's file name: it is shown to nobody and must not be guessable.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    ext = ext if ext.isalnum() and len(ext) <= 5 else "bin"
    return f"{prefix}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


def beneficiary_photo_path(instance: Beneficiary, filename: str) -> str:
    return private_upload_path("photos", filename)


@audited()
class Beneficiary(models.Model):
    """A person receiving services (penerima manfaat), usually a child."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="beneficiaries",
        help_text=_("The organisation that registered the person."),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    alias = models.CharField(_("alias / nickname"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # An approximate age is stored as an estimated birth date (1 July of the year), so
    # age, birth-year search and "under 18" work the same for both.
    birth_date_estimated = models.BooleanField(_("birth date is an estimate"), default=False)
    birthplace = models.CharField(_("birthplace"), max_length=100, blank=True)
    nik = models.CharField(_("NIK"), max_length=16, blank=True, validators=[validate_nik])
    kk_number = models.CharField(_("family card (KK) number"), max_length=16, blank=True)
    dtks_id = models.CharField(_("DTKS/DTSEN id"), max_length=50, blank=True)
    disability = models.CharField(_("disability"), max_length=200, blank=True)
    school_status = models.CharField(_("school status"), max_length=20, choices=SchoolStatus.choices, blank=True)
    school_name = models.CharField(_("school"), max_length=200, blank=True)
    school_grade = models.CharField(_("grade"), max_length=20, blank=True)
    religion = models.CharField(_("religion"), max_length=20, choices=Religion.choices, blank=True)
    address = models.CharField(_("street address"), max_length=300, blank=True)
    village = models.ForeignKey(
        Region, verbose_name=_("village"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The kab/kota of the village, kept for the duplicate search ("same kab/kota") and
    # the case list filter without a join through the region tree.
    regency_code = models.CharField(_("kab/kota code"), max_length=4, blank=True, db_index=True)
    photo = models.FileField(_("photo"), upload_to=beneficiary_photo_path, blank=True)
    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="+")
    ppks_types = models.ManyToManyField(PpksType, verbose_name=_("PPKS types"), blank=True, related_name="+")
    ampk_categories = models.ManyToManyField(
        AmpkCategory, verbose_name=_("AMPK categories"), blank=True, related_name="+"
    )
    # Candidates the registering worker confirmed are a different person.
    distinct_from = models.ManyToManyField(
        "self", verbose_name=_("confirmed different from"), blank=True, symmetrical=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    created_by = models.ForeignKey(USER, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["full_name", "pk"]
        constraints = [
            # One person, one record: a NIK belongs to one living (not merged) beneficiary.
            models.UniqueConstraint(
                fields=["nik"],
                condition=~Q(nik="") & Q(merged_into__isnull=True),
                name="beneficiary_nik_unique",
            ),
            models.CheckConstraint(condition=Q(nik="") | Q(nik__regex=r"^[0-9]{16}$"), name="beneficiary_nik_digits"),
            models.CheckConstraint(
                condition=Q(kk_number="") | Q(kk_number__regex=r"^[0-9]{16}$"), name="beneficiary_kk_digits"
            ),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="beneficiary_not_merged_into_self"),
        ]
        indexes = [
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="beneficiary_name_trgm"),
            GinIndex(OpClass(Upper("alias"), name="gin_trgm_ops"), name="beneficiary_alias_trgm"),
            models.Index(fields=["kk_number"], name="beneficiary_kk", condition=~Q(kk_number="")),
        ]

    def __str__(self) -> str:
        return self.full_name

    def age(self, today: Any = None) -> int | None:
        if self.birth_date is None:
            return None
        today = today or timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def is_child(self, today: Any = None) -> bool:
        age = self.age(today)
        return age is not None and age < 18

    @property
    def masked_nik(self) -> str:
        return f"{self.nik[:6]}••••••{self.nik[-4:]}" if self.nik else ""


class Relation(models.TextChoices):
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")
    STEPPARENT = "stepparent", _("Stepparent")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    UNCLE_AUNT = "uncle_aunt", _("Uncle / aunt")
    FOSTER = "foster", _("Foster parent")
    GUARDIAN = "guardian", _("Guardian (not a relative)")
    OTHER = "other", _("Other")


@audited()
class FamilyMember(models.Model):
    """A family member or guardian of a beneficiary."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("beneficiary"), on_delete=models.CASCADE, related_name="family"
    )
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    name = models.CharField(_("name"), max_length=200)
    nik = models.CharField(_("NIK"), max_length=16, blank=True, validators=[validate_nik])
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    receives_pkh = models.BooleanField(_("receives PKH"), default=False)
    other_aid = models.CharField(_("other aid received"), max_length=200, blank=True)
    is_legal_guardian = models.BooleanField(_("legal guardian"), default=False)
    lives_with_beneficiary = models.BooleanField(_("lives with the beneficiary"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["-is_legal_guardian", "relation", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(nik="") | Q(nik__regex=r"^[0-9]{16}$"), name="family_nik_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"


@audited()
class BeneficiaryMerge(models.Model):
    """Two records of one person joined: what moved where, by whom, and why."""

    survivor = models.ForeignKey(
        Beneficiary, verbose_name=_("kept record"), on_delete=models.PROTECT, related_name="merges_received"
    )
    merged = models.OneToOneField(
        Beneficiary, verbose_name=_("merged record"), on_delete=models.PROTECT, related_name="merge"
    )
    reason = models.TextField(_("reason"))
    # Ids of what moved (cases, family members, consents...) and the merged record's own
    # fields, so a mistaken merge can be undone by hand without guessing.
    moved = models.JSONField(_("what moved"), default=dict)
    merged_by = models.ForeignKey(USER, verbose_name=_("merged by"), on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)

    class Meta:
        verbose_name = _("beneficiary merge")
        verbose_name_plural = _("beneficiary merges")
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=F("merged")), name="merge_two_different_records"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


# --- Cases ---------------------------------------------------------------------------------


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
    case_manager = models.ForeignKey(
        USER, verbose_name=_("case manager"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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
    summary = models.TextField(_("presenting problem"), blank=True)
    stage = models.CharField(_("stage"), max_length=30, choices=Stage.choices, default=Stage.PENDEKATAN_AWAL)
    stage_changed_at = models.DateTimeField(_("stage since"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_reason = models.CharField(_("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True)
    closure_summary = models.TextField(_("closure summary"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # Gap-free numbering is done by CaseSequence; this is the backstop.
            models.UniqueConstraint(fields=["organisation", "year", "sequence"], name="case_number_once"),
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
            models.Index(fields=["organisation", "stage"], name="case_org_stage"),
            models.Index(fields=["beneficiary"], name="case_beneficiary"),
            GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="case_number_trgm"),
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


@audited()
class Approval(models.Model):
    """A supervisor's approval of a plan or a closure: request, then approve or reject."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(_("what"), max_length=10, choices=ApprovalKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    requested_by = models.ForeignKey(USER, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    request_note = models.TextField(_("note to the supervisor"), blank=True)
    # A closure request carries the closure it asks for; approval applies it.
    closure_reason = models.CharField(_("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True)
    closure_summary = models.TextField(_("closure summary"), blank=True)
    decided_by = models.ForeignKey(
        USER, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("supervisor's comment"), blank=True)

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
        indexes = [models.Index(fields=["status", "requested_at"], name="approval_waiting")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.status}"


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
    problems = models.TextField(_("problems"))
    # {component code: the need, in the worker's words}
    needs = models.JSONField(_("needs per ATENSI component"), default=dict, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    family_situation = models.TextField(_("family situation"), blank=True)
    education = models.TextField(_("education"), blank=True)
    health = models.TextField(_("health"), blank=True)
    legal_situation = models.TextField(_("legal situation"), blank=True)
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
    conclusion = models.TextField(_("conclusion"))
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
    outcome = models.TextField(_("outcome"), blank=True)
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
    narrative = models.TextField(_("narrative"))
    next_step = models.TextField(_("next step"), blank=True)
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


@audited()
class FollowUp(models.Model):
    """Something due on a case by a date. The reminders issue delivers reminders for these."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("kind"), max_length=20, choices=FollowUpKind.choices)
    due_on = models.DateField(_("due on"))
    assignee = models.ForeignKey(USER, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("what to do"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING
    )
    missed_reason = models.TextField(_("why it was missed"), blank=True)
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
            # The reminder rules: follow-ups by status and due day (pending ones to remind
            # and escalate, missed aftercare to escalate).
            models.Index(fields=["status", "due_on"], name="follow_up_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"


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
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
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
    reason = models.TextField(_("reason"))
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
