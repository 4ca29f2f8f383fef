"""People and organisations: users, organisations and the roles users hold in them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from atensi.audit import audited

from .roles import Role


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

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]
        constraints = [
            # Two accounts that differ only in case would be a support nightmare.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


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
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        permissions = [("view_aggregates", _("Can view aggregate figures"))]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("pk")), name="organisation_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


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
