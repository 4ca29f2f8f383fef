"""Writes to organisations, users and memberships. Views, admin and commands call these."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atensi.access import forget_actor
from atensi.errors import ApplicationError

from .models import Membership, Organisation, RegionLevel, User
from .roles import Role
from .selectors import can_administer

# What an organisation's own admins keep up to date.
ORGANISATION_PROFILE_FIELDS = (
    "name",
    "address",
    "village",
    "latitude",
    "longitude",
    "phone",
    "whatsapp",
    "email",
    "clusters",
    "components",
    "capacity",
    "occupancy",
    "registration_number",
    "notes",
)
# What only a national admin decides: what the organisation is, where it sits in the
# hierarchy, what it covers, and its accreditation.
ORGANISATION_NATIONAL_FIELDS = (
    "kind",
    "parent",
    "home_region",
    "coverage",
    "accreditation",
    "accreditation_expires",
    "is_active",
)
ORGANISATION_EDITABLE_FIELDS = ORGANISATION_PROFILE_FIELDS + ORGANISATION_NATIONAL_FIELDS
_M2M_FIELDS = ("clusters", "components", "coverage")


def _require_org_admin(*, by: Any, organisation: Organisation) -> None:
    if can_administer(by, organisation):
        return
    raise ApplicationError(_("Only an administrator of %(org)s can do this.") % {"org": organisation.name})


def organisation_check_regions(organisation: Organisation, coverage: Any = None) -> None:
    """Region rules the database cannot hold, each reported at its field."""
    if organisation.village_id is not None and organisation.village.level != RegionLevel.VILLAGE:
        raise ApplicationError(_("Choose a village (desa/kelurahan), not a larger region."), field="village")
    home = organisation.home_region
    if home is not None and home.level not in (RegionLevel.PROVINCE, RegionLevel.REGENCY):
        raise ApplicationError(_("The home region is a province or a regency/city."), field="home_region")
    if home is not None and organisation.village_id is not None and not organisation.village_id.startswith(home.code):
        raise ApplicationError(
            _("The village %(village)s is not in %(home)s.")
            % {"village": organisation.village.name, "home": home.name},
            field="village",
        )
    if coverage is not None and any(r.level == RegionLevel.VILLAGE for r in coverage):
        raise ApplicationError(
            _("Coverage is given as provinces, regencies/cities or districts, not villages."), field="coverage"
        )


def _fill_defaults(organisation: Organisation) -> None:
    # A pin on the village until someone places it more precisely.
    if organisation.village_id is not None and organisation.latitude is None and organisation.longitude is None:
        organisation.latitude = organisation.village.latitude
        organisation.longitude = organisation.village.longitude
    if organisation.home_region_id is None and organisation.village_id is not None:
        organisation.home_region_id = organisation.village_id[:4]


def _validate_and_save(organisation: Organisation, *, update_fields: list[str] | None = None) -> None:
    try:
        organisation.full_clean(validate_unique=update_fields is None)
    except ValidationError as exc:
        raise ApplicationError(_first_message(exc), field=_first_field(exc), extra={"errors": exc}) from None
    try:
        with transaction.atomic():
            organisation.save(update_fields=update_fields)
    except IntegrityError:
        raise ApplicationError(
            _("An organisation with code %(code)s already exists.") % {"code": organisation.code}, field="code"
        ) from None


def _first_field(exc: ValidationError) -> str | None:
    if hasattr(exc, "error_dict"):
        return next(iter(exc.error_dict))
    return None


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        errors = next(iter(exc.error_dict.values()))
        return str(errors[0].messages[0]) if errors else str(exc)
    return str(exc.messages[0])


@transaction.atomic
def organisation_create(
    *,
    code: str,
    name: str,
    kind: str,
    by: Any = None,
    parent: Organisation | None = None,
    notes: str = "",
    **profile: Any,
) -> Organisation:
    """A new organisation. `profile` takes any of ORGANISATION_EDITABLE_FIELDS."""
    unknown = set(profile) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown organisation fields: {sorted(unknown)}")
    m2m = {f: profile.pop(f) for f in _M2M_FIELDS if f in profile}
    org = Organisation(code=code.strip().upper(), name=name.strip(), kind=kind, parent=parent, notes=notes, **profile)
    if Organisation.objects.filter(code=org.code).exists():
        raise ApplicationError(
            _("An organisation with code %(code)s already exists.") % {"code": org.code}, field="code"
        )
    organisation_check_regions(org, m2m.get("coverage"))
    _fill_defaults(org)
    _validate_and_save(org)
    for field, values in m2m.items():
        getattr(org, field).set(values)
    return org


@transaction.atomic
def organisation_update(*, organisation: Organisation, by: Any, **changes: Any) -> Organisation:
    """Change an organisation. Its admins edit the profile; national admins everything else."""
    _require_org_admin(by=by, organisation=organisation)
    unknown = set(changes) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    national = set(changes) & set(ORGANISATION_NATIONAL_FIELDS)
    if national and not getattr(by, "is_superuser", False):
        raise ApplicationError(
            _("Only a national administrator can change %(fields)s.")
            % {"fields": ", ".join(str(Organisation._meta.get_field(f).verbose_name) for f in sorted(national))}
        )
    # Lock the row: two admins saving the profile at once must not interleave.
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    m2m = {f: changes.pop(f) for f in _M2M_FIELDS if f in changes}
    village_changed = "village" in changes and changes["village"] != locked.village
    for name, value in changes.items():
        setattr(locked, name, value)
    if village_changed and "latitude" not in changes and "longitude" not in changes:
        # A new village moves the pin, unless the user placed the pin themselves.
        locked.latitude = locked.longitude = None
    organisation_check_regions(locked, m2m.get("coverage"))
    _fill_defaults(locked)
    fields = {*changes, "latitude", "longitude", "home_region", "updated_at"}
    _validate_and_save(locked, update_fields=sorted(fields))
    for field, values in m2m.items():
        getattr(locked, field).set(values)
    organisation.refresh_from_db()
    return locked


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    preferred_language: str = User.Language.INDONESIAN,
) -> User:
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            _("The username %(username)s is already taken.") % {"username": username}, field="username"
        )
    user = User(
        username=username,
        email=User.objects.normalize_email(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        is_staff=is_staff,
        is_superuser=is_superuser,
        preferred_language=preferred_language,
    )
    if password:
        user.set_password(password)
    else:
        # The person sets their own password through the emailed reset link.
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def membership_add(*, organisation: Organisation, user: User, role: str, by: Any = None) -> Membership:
    """Give `user` `role` in `organisation` (reactivating a revoked membership)."""
    if by is not None:
        _require_org_admin(by=by, organisation=organisation)
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."), field="role")
    if not organisation.is_active:
        raise ApplicationError(_("%(org)s is not active.") % {"org": organisation.name})
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, organisation=organisation, role=role
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
    forget_actor(user)
    return membership


@transaction.atomic
def staff_invite(
    *, organisation: Organisation, by: Any, role: str, username: str, email: str, first_name: str, last_name: str = ""
) -> Membership:
    """An org admin adds a new colleague: account, role, and an email to set a password."""
    _require_org_admin(by=by, organisation=organisation)
    if not email:
        raise ApplicationError(_("An email address is needed to send the password link."), field="email")
    user = user_create(username=username, email=email, first_name=first_name, last_name=last_name)
    membership = membership_add(organisation=organisation, user=user, role=role, by=by)
    transaction.on_commit(lambda: _send_password_setup(user))
    return membership


def _send_password_setup(user: User) -> None:
    form = PasswordResetForm(data={"email": user.email})
    if form.is_valid():
        # Unusable passwords are skipped by the default reset form; a new account
        # has one, so send to it explicitly.
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        site = settings.SITE_URL.rstrip("/")
        context = {
            "email": user.email,
            "domain": site.split("://", 1)[-1],
            "site_name": "ATENSI Portal",
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": site.split("://", 1)[0],
        }
        form.send_mail(
            "registration/password_reset_subject.txt",
            "registration/account_invite_email.txt",
            context,
            None,
            user.email,
        )


@transaction.atomic
def membership_set_active(*, membership: Membership, by: Any, active: bool) -> Membership:
    _require_org_admin(by=by, organisation=membership.organisation)
    if not active and membership.user_id == getattr(by, "pk", None) and membership.role == Role.ORG_ADMIN:
        raise ApplicationError(_("You cannot remove your own administrator role."))
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
    forget_actor(locked.user)
    return locked
