"""Signing in with the second factor in tests: a known key, its current code, and a test
client whose `force_login` also gives the second factor where the person needs one.

Every test that logs a supervisor, an org admin, a referral officer or a superuser in gets
a verified session this way, as a real sign-in would after the code; the second factor's
own tests sign in through the pages.
"""

from __future__ import annotations

from typing import Any

import django.test
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from stakeholders import second_factor
from stakeholders.models import User
from stakeholders.second_factor import AUTHENTICATOR, HAS_DEVICE, has_second_factor, is_required

# RFC 6238's test secret ("12345678901234567890"): a key only tests use.
TEST_KEY = "3132333435363738393031323334353637383930"


def needs_second_factor(user: User) -> bool:
    """As stakeholders.second_factor decides, on a fresh copy of the person (so that no actor
    is left cached on the test's own object, whose roles the test may still change)."""
    fresh = User.objects.get(pk=user.pk)
    return has_second_factor(fresh) or is_required(fresh)


def authenticator(user: User, key: str = TEST_KEY) -> TOTPDevice:
    """The person's confirmed authenticator (made with `key` if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, key=key, confirmed=True)
    return device


def code_now(device: TOTPDevice, *, reusable: bool = True) -> str:
    """The code the person's app shows now. `reusable`: forget the last code used, so that
    a test signing the same person in twice within 30 seconds is not refused as a replay,
    and clear the throttle left by a test's wrong codes."""
    if reusable:
        TOTPDevice.objects.filter(pk=device.pk).update(
            last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
        )
        device.refresh_from_db()
    return second_factor.code_now(device)


def verify_session(client: django.test.Client, user: User) -> None:
    """Mark the client's session as verified by the person's authenticator."""
    device = authenticator(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[HAS_DEVICE] = True
    session.save()


class Client(django.test.Client):
    """Django's test client; `force_login` also gives the second factor where it is needed."""

    def force_login(self, user: Any, backend: str | None = None) -> None:
        super().force_login(user, backend)
        if needs_second_factor(user):
            verify_session(self, user)
