"""Recount every organisation's occupancy from its open residential cases (after bulk imports)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from atensi.core.audit import audit_context
from cases.occupancy import occupancy_recount_all


class Command(BaseCommand):
    help = "Set every organisation's occupancy to the number of its open residential cases."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(command="recount_occupancy"):
            changed = occupancy_recount_all()
        self.stdout.write(self.style.SUCCESS(f"Occupancy recounted: {changed} organisation(s) corrected."))
