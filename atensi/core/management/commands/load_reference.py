"""Load or refresh the programme's reference data. Safe to run any number of times."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from atensi.core.audit import audit_context
from atensi.core.reference import load_reference_data


class Command(BaseCommand):
    help = "Load clusters, ATENSI components, AMPK categories and PPKS types (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(command="load_reference"):
            counts = load_reference_data()
        summary = ", ".join(f"{n} {name}" for name, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Reference data up to date: {summary}"))
