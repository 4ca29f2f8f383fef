"""Print the current second-factor code of a demo account (development only).

Only for an authenticator with the demo key (atensi.demo.DEMO_TOTP_KEY): a real account's
code is never printed, and the command is refused under production settings, as the demo
data is.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.demo import DEMO_TOTP_KEY
from atensi.management.demo_only import ensure_demo_command_allowed
from stakeholders.second_factor import code_now


class Command(BaseCommand):
    help = "Print the current 6-digit code of a demo account's authenticator (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_demo_command_allowed()
        device = TOTPDevice.objects.filter(user__username=options["username"], confirmed=True).first()
        if device is None:
            raise CommandError(f"{options['username']} has no authenticator: they sign in with the password only.")
        if device.key != DEMO_TOTP_KEY:
            raise CommandError(f"{options['username']}'s authenticator is not the demo's: its code stays on its phone.")
        self.stdout.write(code_now(device))
