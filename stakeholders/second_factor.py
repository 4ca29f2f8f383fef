"""The second factor: a code from an authenticator app (TOTP, django-otp), or a single-use
recovery code.

- Who must: holders of ATENSI_TWO_FACTOR_ROLES (supervisors, org admins, referral
  officers, national admins) and anyone with Django admin access (`is_required`). Anyone
  else may enrol, and once enrolled gives the code at every sign-in.
- Where it is asked: `SecondFactorMiddleware`, after the password, on whatever page the
  person goes to first — so no way in skips it (the login form, admin's login form, a
  password reset: Django's reset does not sign in, and the next sign-in asks for the code).
  Until the code is given, every page but the second-factor pages themselves, the
  language switch, the session check and logout sends the person to give it (or, where it
  is required and there is none yet, to enrol).
- The session remembers the device that verified it (django-otp's session key). It is not
  looked up again on every request: a reset of the person's devices, or switching the
  second factor off, ends their other sessions (the session version, stakeholders.sessions),
  so a remembered device can never outlive itself.
- Wrong codes slow the next try (django-otp's throttle, doubling from
  OTP_TOTP_THROTTLE_FACTOR seconds), each device on its own; a recovery code is deleted as
  it is used.
- A lost phone: an org admin of one of the person's organisations, a national admin or a
  superuser resets it (`reset_second_factor`): the devices go, the sessions end, the
  person is e-mailed and enrols again at their next sign-in; the reset is in the person's
  history (User.second_factor_reset_at, audited).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.signals import user_logged_in
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError, require

from .models import User
from .permissions import reset_second_factor_refusal
from .services import end_sessions

# Whether the signed-in person has a confirmed device, noted at sign-in (one query then,
# none per page): the middleware asks the session, not the database.
HAS_DEVICE = "atensi_2fa_device"
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
# Recovery codes shown once, between enrolment (or making new ones) and the page showing them.
CODES_TO_SHOW = "atensi_2fa_codes"


def is_required(user: User) -> bool:
    """Must this person give a second factor? Their roles anywhere, or admin access."""
    actor = actor_for(user)
    if actor.is_staff or actor.is_superuser:
        return True
    return bool(actor.all_roles() & set(settings.ATENSI_TWO_FACTOR_ROLES))


def authenticator_of(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def has_second_factor(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count())


@receiver(user_logged_in)
def _note_device(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session") and isinstance(user, User):
        request.session[HAS_DEVICE] = has_second_factor(user)


# --- Enrolment ---------------------------------------------------------------------------


def code_now(device: TOTPDevice) -> str:
    """The code the device's app shows at this moment (demo_otp, the tests' sign-ins)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


def enrolment_device(user: User) -> TOTPDevice:
    """The authenticator being enrolled: the same key until it is confirmed, so an
    enrolment left half way (the app scanned, the code never typed) goes on where it stopped."""
    device = authenticator_of(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG (made here: nothing leaves the portal, and the
    strict CSP allows it: a path with presentation attributes, no style)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # The XML declaration is for a file, not for markup inside a page; the image is named for
    # screen readers (the key to type is on the page as text).
    label = escape(_("QR code to scan with the authenticator app"))
    return svg[svg.index("<svg") :].replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def key_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for an app that cannot scan."""
    import base64

    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _new_recovery_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [_recovery_code() for _ in range(settings.ATENSI_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _recovery_code() -> str:
    # 10 characters of a-z0-9 without the look-alikes: read off paper, typed on a phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _clean(code: str) -> str:
    return "".join(code.split()).lower()


def confirm_enrolment(request: HttpRequest, *, user: User, code: str) -> list[str]:
    """The first code from the app proves the key is in it: the authenticator is confirmed,
    recovery codes are made (returned, to be shown once) and this session is verified.
    The code is checked outside the transaction: a wrong one must count towards the
    throttle even though nothing else is saved."""
    device = authenticator_of(user, confirmed=False)
    if device is None:
        if has_second_factor(user):
            raise ApplicationError(_("Your authenticator app is already set up."))
        raise ApplicationError(_("The set-up expired. Start again."))
    _check_throttle(device)
    if not device.verify_token(_clean(code)):
        raise ApplicationError(_("That code is not right. Type the 6 digits your app shows now."))
    with transaction.atomic():
        if not TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True):
            raise ApplicationError(_("Your authenticator app is already set up."))
        # Any other half-made authenticator of theirs goes: one device per person.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
    device.confirmed = True
    _verified(request, device)
    return codes


@transaction.atomic
def new_recovery_codes(*, user: User) -> list[str]:
    """Fresh recovery codes (the old ones stop working), for a person who has a second factor."""
    if not has_second_factor(user):
        raise ApplicationError(_("Set up an authenticator app first."))
    return _new_recovery_codes(user)


# --- Giving the code ---------------------------------------------------------------------


def _check_throttle(device: Any) -> None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return
    until = (data or {}).get("locked_until")
    seconds = max(1, int((until - timezone.now()).total_seconds())) if until else 1
    raise ApplicationError(
        ngettext(
            "Too many wrong codes. Wait %(seconds)s second, then try again.",
            "Too many wrong codes. Wait %(seconds)s seconds, then try again.",
            seconds,
        )
        % {"seconds": seconds}
    )


@dataclass(frozen=True)
class Verified:
    # A recovery code was used: how many are left (None: the app's code was used).
    recovery_left: int | None


def verify(request: HttpRequest, *, user: User, code: str) -> Verified:
    """A code from the app (6 digits) or a recovery code; this session is verified by it."""
    token = _clean(code)
    if not token:
        raise ApplicationError(_("Type the code."))
    recovery = not token.isdigit()
    device: Any = (
        StaticDevice.objects.filter(user=user, name=RECOVERY, confirmed=True).first()
        if recovery
        else authenticator_of(user)
    )
    if device is None:
        raise ApplicationError(
            _("You have no recovery codes. Ask your organisation's administrator to reset your second factor.")
            if recovery
            else _("You have no authenticator app set up.")
        )
    _check_throttle(device)
    # verify_token counts a failure towards the throttle and deletes a used recovery code.
    if not device.verify_token(token):
        raise ApplicationError(
            _("That recovery code is not right, or it was used already.")
            if recovery
            else _("That code is not right. Type the 6 digits your app shows now.")
        )
    _verified(request, device)
    return Verified(recovery_left=recovery_codes_left(user) if recovery else None)


def _verified(request: HttpRequest, device: Any) -> None:
    # A new session key: whatever was known about the session before the code stays behind.
    request.session.cycle_key()
    otp_login(request, device)
    request.session[HAS_DEVICE] = True


# --- Switching off, and a lost phone -----------------------------------------------------


def switch_off(request: HttpRequest, *, user: User, code: str) -> None:
    """A person whose roles do not require it may stop using a second factor, giving a
    current code; their other sessions end (they were verified by the device now gone)."""
    if is_required(user):
        raise ApplicationError(_("Your roles require a second factor: it cannot be switched off."))
    verify(request, user=user, code=code)  # outside the transaction: a wrong code counts
    with transaction.atomic():
        _remove_devices(user)
        end_sessions(user)
    update_session_auth_hash(request, user)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[HAS_DEVICE] = False


def _remove_devices(user: User) -> None:
    # Credentials, not records: they go (the portal's records are never deleted).
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def reset_second_factor(*, by: User, user: User) -> None:
    """A lost or replaced phone: the person's devices and recovery codes go, every session
    of theirs ends, they are told by e-mail, and they enrol again at their next sign-in.
    Recorded in the person's history (second_factor_reset_at, with who did it)."""
    require(reset_second_factor_refusal(by, user))
    locked = User.objects.select_for_update().get(pk=user.pk)
    _remove_devices(locked)
    locked.second_factor_reset_at = timezone.now()
    locked.save(update_fields=["second_factor_reset_at"])
    end_sessions(locked)
    if locked.email:
        transaction.on_commit(lambda: _tell(locked, by))


def _tell(user: User, by: User) -> None:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        context = {"user": user, "by": by, "site_url": settings.SITE_URL, "login": reverse("login")}
        send_mail(
            _("ATENSI Portal: your second factor was reset"),
            render_to_string("stakeholders/second_factor/reset_email.txt", context),
            None,
            [user.email],
        )


# --- The gate ------------------------------------------------------------------------------


def second_factor_exempt[F: Callable[..., Any]](view: F) -> F:
    """The pages a signed-in person reaches before giving the code."""
    view.second_factor_exempt = True  # type: ignore[attr-defined]
    return view


def _has_device(request: HttpRequest, user: User) -> bool:
    known = request.session.get(HAS_DEVICE)
    if known is None:  # a session from before second factors: asked once
        known = request.session[HAS_DEVICE] = has_second_factor(user)
    return bool(known)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_verified(request):
            return None
        if _has_device(request, user):
            target = reverse("stakeholders:second_factor_verify")
        elif is_required(user):
            target = reverse("stakeholders:second_factor_setup")
        else:
            return None
        # The pages before the code show no navigation (its badges count the person's work).
        request.second_factor_pending = True  # type: ignore[attr-defined]
        if getattr(view_func, "second_factor_exempt", False) or getattr(view_func, "login_required", True) is False:
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name == "logout":  # signing out needs no code
            return None
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return _redirect(request, target)


def _redirect(request: HttpRequest, target: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


def enrolled_at(user: User) -> datetime.datetime | None:
    device = authenticator_of(user)
    return getattr(device, "created_at", None) if device is not None else None
