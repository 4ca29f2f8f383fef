"""The registry: regions, organisations and their people, the workforce and agreements."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from atensi.core.audit import audited
from atensi.core.geo import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, LlToEarth
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.values import mask_nik, validate_nik, validate_phone

from .roles import Role


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("province")
    REGENCY = 2, _("regency/city")
    DISTRICT = 3, _("district (kecamatan)")
    VILLAGE = 4, _("village (desa/kelurahan)")


@functools.cache
def _region_level_label(level: int, language: str) -> str:
    return str(RegionLevel(level).label)


# Kemendagri code lengths without dots, per level: 15, 1571, 157101, 1571011001.
REGION_CODE_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 10}


class Region(models.Model):
    """A province, kabupaten/kota, kecamatan or desa/kelurahan (Kepmendagri 300.2.2-2138/2025).

    The primary key is the Kemendagri code without dots, so a region's code starts with
    its parent's: "covered by 1571" is a prefix test and needs no tree walk. Loaded by
    `load_regions`, never edited by hand, so it carries no audit triggers.
    """

    code = models.CharField(_("code"), max_length=10, primary_key=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("part of"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # UTC offset in hours (7 WIB, 8 WITA, 9 WIT), from the province; "the day" of a
    # reminder is the organisation's local day.
    utc_offset = models.PositiveSmallIntegerField(_("UTC offset"), default=7)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=4), name="region_level_valid"),
            # Only provinces stand alone; everything else hangs off its parent code.
            models.CheckConstraint(
                condition=models.Q(level=1, parent__isnull=True) | models.Q(level__gt=1, parent__isnull=False),
                name="region_parent_by_level",
            ),
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{2,10}$"), name="region_code_digits"),
        ]
        indexes = [
            # The picker's "type a name": trigram matching on the lower-cased name.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="region_name_trgm"),
            models.Index(fields=["parent", "name"], name="region_parent_name"),
            models.Index(fields=["level", "name"], name="region_level_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        """get_level_display(), cached per language: a picker renders hundreds of these."""
        return _region_level_label(self.level, get_language() or "id")

    @property
    def dotted_code(self) -> str:
        """The code as Kemendagri writes it: 15.71.01.1001."""
        c = self.code
        parts = [c[:2], c[2:4], c[4:6], c[6:]]
        return ".".join(p for p in parts if p)

    @property
    def province_code(self) -> str:
        return self.code[:2]

    @property
    def regency_code(self) -> str:
        return self.code[:4] if self.level >= RegionLevel.REGENCY else ""

    def ancestors_codes(self) -> list[str]:
        """Codes of this region and everything above it, nearest first."""
        lengths = [n for lvl, n in sorted(REGION_CODE_LENGTHS.items(), reverse=True) if lvl <= self.level]
        return [self.code[:n] for n in lengths]


@audited(exclude=["password", "last_login"])
class User(AbstractUser):
    """A person who signs in. What they may see comes from their memberships."""

    class Language(models.TextChoices):
        INDONESIAN = "id", _("Bahasa Indonesia")
        ENGLISH = "en", _("English")

    phone = models.CharField(_("phone"), max_length=20, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.INDONESIAN
    )
    # Raised to end every session of the user at once (stakeholders.sessions.end_sessions).
    session_version = models.PositiveIntegerField(_("session version"), default=0, editable=False)
    # When an administrator last reset the person's second factor (a lost phone); audited, so
    # the history says who did it (stakeholders.second_factor.reset_second_factor).
    second_factor_reset_at = models.DateTimeField(_("second factor reset"), null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]
        constraints = [
            # Two accounts that differ only in case would be a support nightmare.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]
        # The national administrators' people directory (stakeholders.people): a word anywhere
        # in a name, username or e-mail, as UPPER(col) LIKE, over every account in the country.
        indexes = [
            GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=f"user_{column}_trgm")
            for column in ("first_name", "last_name", "username", "email")
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's hash of the password, with the session version once it was raised: a
        new version, like a new password, ends every session. Version 0 hashes as Django
        does, so sessions from before the version existed stay valid."""
        value = self.password if not self.session_version else f"{self.password}:{self.session_version}"
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class OrganisationKind(models.TextChoices):
    BALAI = "balai", _("Balai/Sentra (Kemensos UPT)")
    DINSOS_PROVINSI = "dinsos_provinsi", _("Provincial Social Service (Dinas Sosial Provinsi)")
    DINSOS_KABKOTA = "dinsos_kabkota", _("Regency/City Social Service (Dinas Sosial Kabupaten/Kota)")
    LKSA = "lksa", _("Child welfare institution (LKSA)")
    LPKS = "lpks", _("Social welfare institution (LPKS)")
    PKH = "pkh", _("PKH unit (Korwil/UPPKH)")
    HEALTH = "health", _("Health centre or hospital (Puskesmas/RS)")
    EDUCATION = "education", _("Education office (Dinas Pendidikan)")
    DUKCAPIL = "dukcapil", _("Civil registry (Dukcapil)")
    LABOUR = "labour", _("Manpower office (Dinas Tenaga Kerja)")
    KEMENAG = "kemenag", _("Religious affairs office (Kemenag)")
    POLICE = "police", _("Police women and children unit (UPPA)")
    BAPAS = "bapas", _("Correctional centre (Bapas)")
    UPTD_PPA = "uptd_ppa", _("Women and child protection unit (UPTD PPA)")
    OTHER = "other", _("Other")


class Accreditation(models.TextChoices):
    NONE = "", _("Not accredited")
    A = "A", _("A (excellent)")
    B = "B", _("B (good)")
    C = "C", _("C (adequate)")


organisation_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,29}$",
    _("Use 2 to 30 capital letters, digits or hyphens, e.g. BA-ALYATAMA."),
)


@audited()
class Organisation(models.Model):
    """An organisation that serves clients or takes referrals. Its code prefixes case numbers."""

    code = models.CharField(_("code"), max_length=30, unique=True, validators=[organisation_code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    home_region = models.ForeignKey(
        Region,
        verbose_name=_("home region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": [RegionLevel.PROVINCE, RegionLevel.REGENCY]},
        help_text=_("The province or regency/city the organisation belongs to."),
    )
    address = models.CharField(_("street address"), max_length=300, blank=True)
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": RegionLevel.VILLAGE},
    )
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True, validators=[MinValueValidator(LAT_MIN), MaxValueValidator(LAT_MAX)]
    )
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True, validators=[MinValueValidator(LON_MIN), MaxValueValidator(LON_MAX)]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    whatsapp = models.CharField(_("WhatsApp"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    clusters = models.ManyToManyField(
        "atensi.Cluster", verbose_name=_("clusters served"), blank=True, related_name="organisations"
    )
    components = models.ManyToManyField(
        "atensi.ServiceComponent", verbose_name=_("ATENSI components offered"), blank=True, related_name="organisations"
    )
    capacity = models.PositiveIntegerField(
        _("residential capacity"), null=True, blank=True, help_text=_("Places for residential care; empty if none.")
    )
    # Open residential cases, kept by cases.services as cases open and close (and
    # recounted by `manage.py recount_occupancy`); the finder reads free places as
    # capacity minus this.
    occupancy = models.PositiveIntegerField(_("current occupancy"), default=0)
    accreditation = models.CharField(
        _("accreditation"), max_length=1, choices=Accreditation.choices, blank=True, default=Accreditation.NONE
    )
    accreditation_expires = models.DateField(_("accreditation valid until"), null=True, blank=True)
    registration_number = models.CharField(_("registration/licence number"), max_length=100, blank=True)
    coverage = models.ManyToManyField(
        Region,
        verbose_name=_("coverage"),
        blank=True,
        related_name="covering_organisations",
        limit_choices_to={"level__in": [RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT]},
        help_text=_("The regions this organisation serves: provinces, regencies/cities or districts."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_national = models.BooleanField(
        _("national"),
        default=False,
        help_text=_(
            "A national body (the Kemensos directorate): its members read the figures of all of "
            "Indonesia, never the children behind them."
        ),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        permissions = [("view_aggregates", _("Can view aggregate figures"))]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("pk")), name="organisation_not_own_parent"),
            # A pin needs both halves, and it must be in Indonesia.
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=LAT_MIN,
                    latitude__lte=LAT_MAX,
                    longitude__gte=LON_MIN,
                    longitude__lte=LON_MAX,
                ),
                name="organisation_coordinates_in_indonesia",
            ),
            # An expiry date without an accreditation is meaningless.
            models.CheckConstraint(
                condition=~models.Q(accreditation="") | models.Q(accreditation_expires__isnull=True),
                name="organisation_accreditation_expiry",
            ),
            models.CheckConstraint(
                condition=models.Q(accreditation__in=Accreditation.values), name="organisation_accreditation_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
        ]
        indexes = [
            # The finder orders by distance with a GiST nearest-neighbour scan on this.
            GistIndex(LlToEarth("latitude", "longitude"), name="organisation_earth"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="organisation_name_trgm"),
            models.Index(fields=["kind", "name", "id"], name="organisation_kind_name"),
            models.Index(fields=["name", "id"], name="organisation_name_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            missing = "latitude" if self.latitude is None else "longitude"
            raise ValidationError({missing: _("Give both latitude and longitude, or neither.")})

    @property
    def free_places(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.occupancy, 0)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def accreditation_is_current(self, today: datetime.date | None = None) -> bool:
        if not self.accreditation:
            return False
        today = today or timezone.localdate()
        return self.accreditation_expires is None or self.accreditation_expires >= today


@audited()
class Membership(models.Model):
    """A user's role in an organisation. A user may hold several roles, in several organisations."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation__name", "user__username"]
        constraints = [
            # The same role twice in the same organisation means nothing more than once.
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="membership_user_active")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"

    def clean(self) -> None:
        # Admin's form: the rule membership_add keeps for the portal.
        if self.role == Role.NATIONAL_ADMIN and self.organisation_id and not self.organisation.is_national:
            raise ValidationError({"role": _("National administrators belong to an organisation marked national.")})


class WorkforceKind(models.TextChoices):
    PSM = "psm", _("Community social worker (PSM)")
    TKSK = "tksk", _("District social welfare worker (TKSK)")
    SAKTI_PEKSOS = "sakti_peksos", _("Sakti Peksos")
    PENDAMPING_PKH = "pendamping_pkh", _("PKH facilitator")
    PEKERJA_SOSIAL = "pekerja_sosial", _("Certified social worker")
    PENDAMPING_DISABILITAS = "pendamping_disabilitas", _("Disability facilitator")


@audited()
class WorkforceMember(models.Model):
    """A social welfare worker in the field, whether or not they sign in to the portal."""

    kind = models.CharField(_("kind"), max_length=30, choices=WorkforceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    nik = models.CharField(_("NIK"), max_length=16, validators=[validate_nik])
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="workforce"
    )
    regions = models.ManyToManyField(
        Region, verbose_name=_("regions served"), blank=True, related_name="workforce_members"
    )
    certificate_number = models.CharField(_("certificate number"), max_length=100, blank=True)
    certificate_expires = models.DateField(_("certificate valid until"), null=True, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("portal account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workforce_records",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("workforce member")
        verbose_name_plural = _("workforce")
        ordering = ["name", "id"]
        constraints = [
            # One record per person and role: a re-imported list updates, never duplicates.
            models.UniqueConstraint(fields=["nik", "kind"], name="workforce_unique_nik_kind"),
            models.CheckConstraint(condition=models.Q(nik__regex=r"^[0-9]{16}$"), name="workforce_nik_digits"),
            models.CheckConstraint(condition=models.Q(kind__in=WorkforceKind.values), name="workforce_kind_valid"),
        ]
        indexes = [models.Index(fields=["organisation", "is_active", "name"], name="workforce_org_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def masked_nik(self) -> str:
        # Enough to tell two people apart on a list; the full NIK is for the org's admins.
        return mask_nik(self.nik, fill="*")


class AgreementStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Not yet in force")
    ACTIVE = "active", _("Active")
    EXPIRING = "expiring", _("Expiring soon")
    EXPIRED = "expired", _("Expired")


AGREEMENT_EXPIRING_DAYS = 60


def agreement_document_path(instance: Agreement, filename: str) -> str:
    # Never the user's file name: it is shown to nobody and must not be guessable.
    import uuid

    return f"agreements/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.pdf"


@audited()
class Agreement(models.Model):
    """An MoU or PKS between two or more organisations."""

    number = models.CharField(_("number"), max_length=100)
    title = models.CharField(_("title"), max_length=300)
    scope = models.TextField(_("scope"), blank=True, max_length=TEXT_MAX_LENGTH)
    signed_on = models.DateField(_("signed on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    parties = models.ManyToManyField(Organisation, verbose_name=_("parties"), related_name="agreements")
    document = models.FileField(_("document (PDF)"), upload_to=agreement_document_path, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-valid_until", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="agreement_valid_range"
            ),
        ]
        indexes = [models.Index(fields=["valid_until"], name="agreement_valid_until")]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"

    def status(self, today: datetime.date | None = None) -> str:
        today = today or timezone.localdate()
        if today < self.valid_from:
            return AgreementStatus.UPCOMING
        if today > self.valid_until:
            return AgreementStatus.EXPIRED
        if (self.valid_until - today).days <= AGREEMENT_EXPIRING_DAYS:
            return AgreementStatus.EXPIRING
        return AgreementStatus.ACTIVE

    def get_status_display(self, today: datetime.date | None = None) -> Any:
        return AgreementStatus(self.status(today)).label


class ImportKind(models.TextChoices):
    ORGANISATIONS = "organisations", _("Organisations")
    WORKFORCE = "workforce", _("Workforce")


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Waiting for confirmation")
    IMPORTED = "imported", _("Imported")
    DISCARDED = "discarded", _("Discarded")


class ImportBatch(models.Model):
    """An uploaded spreadsheet between preview and confirmation.

    The parsed rows are kept here, not the file, so the confirmation imports exactly
    what the user saw in the preview.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("imported by organisation"), on_delete=models.CASCADE, related_name="imports"
    )
    uploaded_by = models.ForeignKey(User, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    rows = models.JSONField(_("rows"), default=list)
    errors = models.JSONField(_("errors"), default=list)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ImportKind.values), name="import_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=ImportStatus.values), name="import_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.filename}"


class ReachTarget(models.Model):
    """How many children an organisation means to reach in a year (set by superusers in
    admin); the organisation dashboard sets its reach against it."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="reach_targets"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    target = models.PositiveIntegerField(_("children to reach"))

    class Meta:
        verbose_name = _("reach target")
        verbose_name_plural = _("reach targets")
        ordering = ["-year", "organisation"]
        constraints = [
            # One target per organisation and year: the dashboard reads one number.
            models.UniqueConstraint(fields=["organisation", "year"], name="reach_target_once"),
            models.CheckConstraint(condition=models.Q(year__gte=2000, year__lte=2100), name="reach_target_year_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.year}: {self.target}"
