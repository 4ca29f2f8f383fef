"""Print a session cookie for an account, signed in and past the second factor, for a load
test or a bench driving the portal over HTTP (development and test only).

    manage.py signed_in_session supervisor.alyatama   ->   sessionid=…

Many simultaneous logins of one persona are never needed: every virtual user of a load
test can share the printed cookie, or ask for one each. Refused under production settings,
as the demo data is: it is a way in without the password.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.management.demo_only import ensure_demo_command_allowed
from stakeholders.models import User
from stakeholders.second_factor import AUTHENTICATOR, HAS_DEVICE, is_required
from stakeholders.sessions import LAST_SEEN, SIGNED_IN


class Command(BaseCommand):
    help = "Print a signed-in session cookie (second factor given) for an account. Development and tests only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_demo_command_allowed()
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active account {options['username']}.")
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        # The backend that signs people in (axes' only counts failures).
        session[BACKEND_SESSION_KEY] = next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes."))
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        now = int(time.time())
        session[SIGNED_IN] = now
        session[LAST_SEEN] = now
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None and is_required(user):
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=True)
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[HAS_DEVICE] = device is not None
        session.create()
        self.stdout.write(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
