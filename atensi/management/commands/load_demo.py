"""Load the demo organisations and accounts (development only; refused in production)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from atensi.core.audit import audit_context
from atensi.demo import load_demo_data


class Command(BaseCommand):
    help = "Create demo organisations and accounts (password atensi-demo-2026). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with audit_context(command="load_demo"):
                counts = load_demo_data()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({counts['organisations']} organisations and {counts['users']} accounts created now)."
            )
        )
