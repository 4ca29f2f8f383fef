"""Writes to organisations, users and memberships. Views, admin and commands call these."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atensi.access import forget_actor
from atensi.errors import ApplicationError

from .models import Membership, Organisation, User
from .roles import Role
from .selectors import can_administer

ORGANISATION_EDITABLE_FIELDS = ("name", "kind", "parent", "is_active", "notes")


def _require_org_admin(*, by: Any, organisation: Organisation) -> None:
    if can_administer(by, organisation):
        return
    raise ApplicationError(_("Only an administrator of %(org)s can do this.") % {"org": organisation.name})


@transaction.atomic
def organisation_create(
    *, code: str, name: str, kind: str, by: Any = None, parent: Organisation | None = None, notes: str = ""
) -> Organisation:
    org = Organisation(code=code.strip().upper(), name=name.strip(), kind=kind, parent=parent, notes=notes)
    org.full_clean()
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError:
        raise ApplicationError(_("An organisation with code %(code)s already exists.") % {"code": org.code}) from None
    return org


@transaction.atomic
def organisation_update(*, organisation: Organisation, by: Any, **changes: Any) -> Organisation:
    _require_org_admin(by=by, organisation=organisation)
    unknown = set(changes) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save(update_fields=[*changes, "updated_at"])
    return organisation


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
