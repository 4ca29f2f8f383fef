"""Run the retention: anonymise the beneficiaries whose cases were closed long enough ago
(atensi.erasure). `--dry-run` lists what would be anonymised and changes nothing. Beat runs
the same monthly (atensi.erase_expired). Prints counts per table and ids, never a name."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from atensi.core.errors import ApplicationError
from atensi.core.models import ErasureRun
from atensi.erasure.run import erasure_run


class Command(BaseCommand):
    help = "Anonymise the beneficiaries past the retention period (--dry-run: only list them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count and list; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        try:
            run = erasure_run(dry_run=dry_run, trigger=ErasureRun.Trigger.COMMAND)
        except ApplicationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report(run))


def report(run: ErasureRun) -> str:
    verb = "would be anonymised" if run.dry_run else "anonymised"
    lines = [f"Retention run {run.pk}{' (dry run: nothing changed)' if run.dry_run else ''}: {run.status}."]
    if not run.beneficiary_ids:
        lines.append("No beneficiary is due for anonymisation." if run.dry_run else "No beneficiary was due.")
        return "\n".join(lines)
    lines.append(f"{run.beneficiaries} beneficiary records {verb} (ids): {', '.join(map(str, run.beneficiary_ids))}")
    lines.append("Rows per table:" if not run.dry_run else "Rows per table that would change:")
    width = max(len(name) for name in run.counts)
    lines += [f"  {name.ljust(width)}  {count}" for name, count in run.counts.items()]
    return "\n".join(lines)
