"""Beneficiaries, their family members, and the record of two records merged into one."""

from __future__ import annotations

import datetime

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import AmpkCategory, Cluster, PpksType
from atensi.core.values import mask_nik, validate_nik
from stakeholders.models import Organisation, Region

from .common import USER, Sex, private_upload_path


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
    # Set by the retention run (atensi.erasure): the person's data was removed, what is left
    # is counted in the statistics only. An anonymised record is not picked again.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(birth_date__isnull=True) | Q(birth_date__gte=datetime.date(1900, 1, 1)),
                name="beneficiary_birth_after_1900",
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="beneficiary_name_trgm"),
            GinIndex(OpClass(Upper("alias"), name="gin_trgm_ops"), name="beneficiary_alias_trgm"),
            models.Index(fields=["kk_number"], name="beneficiary_kk", condition=~Q(kk_number="")),
        ]

    def __str__(self) -> str:
        return self.full_name

    def age(self, today: datetime.date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        today = today or timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def is_child(self, today: datetime.date | None = None) -> bool:
        age = self.age(today)
        return age is not None and age < 18

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)


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
    reason = models.TextField(_("reason"), max_length=TEXT_MAX_LENGTH)
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
