"""The retention run: one at a time, a child per transaction, accounted for.

- One run at a time: a session-level Postgres advisory lock held for the whole run. A
  second run started meanwhile (the command while beat's task runs) takes nothing and says
  a run is in progress. A run whose process died leaves its record "running" and its lock
  released with its connection; the next run marks that record "interrupted".
- Each child (a living record and the records merged into it) is anonymised in its own
  transaction, after its row is locked and the rule checked again (a case reopened since
  the list was made keeps the child out), so a big run never holds long locks, and a run
  that stops half way leaves every child either fully anonymised or untouched: the next
  run finishes the job. Files leave storage after their child's transaction commits.
- The append-only triggers of the history tables are suspended (`pgtrigger.ignore`) for
  that transaction only, and only those triggers.
- `ErasureRun` says what each run changed (rows per table, the ids of the records, never a
  name), updated after every child, so even a run that failed is accounted for. A dry run
  counts what a run would change and changes nothing else.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.audit import audit_context
from atensi.core.errors import ApplicationError
from atensi.core.models import ErasureRun
from cases.models import Beneficiary, Case
from stakeholders.models import User

from .eligibility import due_for_anonymisation, reports_due
from .scrub import Work, history_triggers, scrub_group, scrub_reports

logger = logging.getLogger(__name__)

# The advisory lock's key: a constant no other code of the portal uses.
LOCK_KEY = 0x4154454E5349  # "ATENSI"


@contextmanager
def _one_run() -> Iterator[bool]:
    """True while this session holds the run's lock; False if another session does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        (got,) = cursor.fetchone()
    try:
        yield bool(got)
    finally:
        if got:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
            except DatabaseError:
                # A transaction left aborted refuses the unlock, and a session lock outlives
                # rollbacks: the next run would find it held for as long as this connection
                # lives (a worker's, for days). Closing the session releases it.
                logger.warning("retention: the lock could not be released; closing the connection")
                connection.close()


def in_progress_message() -> str:
    return _("A retention run is already in progress. This one did nothing; try again when it has finished.")


def erasure_run(
    *,
    dry_run: bool,
    trigger: str,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> ErasureRun:
    """Anonymise every beneficiary due (atensi.erasure.eligibility), or with `dry_run` count
    what that would change. Raises ApplicationError when another run holds the lock."""
    now = now or timezone.now()
    with _one_run() as got:
        if not got:
            raise ApplicationError(in_progress_message())
        ErasureRun.objects.filter(status=ErasureRun.Status.RUNNING).update(
            status=ErasureRun.Status.INTERRUPTED, finished_at=now
        )
        run = ErasureRun.objects.create(dry_run=dry_run, trigger=trigger, triggered_by=by, started_at=now)
        counts: Counter[str] = Counter()
        anonymised: list[int] = []
        try:
            with audit_context(user=by, command="erase_expired", erasure_run=str(run.pk)):
                for survivor_id in list(due_for_anonymisation(now=now).values_list("pk", flat=True)):
                    work = Work(dry_run=dry_run)
                    ids = _one_child(work, survivor_id, now=now)
                    if not ids:
                        continue
                    counts.update(work.counts)
                    anonymised.extend(ids)
                    if not dry_run:
                        _account(run, counts, anonymised)
                _reports(run, counts, anonymised, now=now, dry_run=dry_run)
        except Exception as error:
            logger.exception("retention run %s failed", run.pk)
            _account(run, counts, anonymised, status=ErasureRun.Status.FAILED, error=type(error).__name__)
            raise
        _account(run, counts, anonymised, status=ErasureRun.Status.DONE)
    return run


def _one_child(work: Work, survivor_id: int, *, now: datetime.datetime) -> list[int]:
    if work.dry_run:
        return scrub_group(work, survivor_id)
    with pgtrigger.ignore(*history_triggers()), transaction.atomic():
        locked = Beneficiary.objects.select_for_update().filter(pk=survivor_id).values_list("pk", flat=True)
        # The cases too, before the rule is checked again: a reopening or a note being
        # written (its service locks the case) finishes first and keeps the child out, or
        # waits for this transaction and then finds the record anonymised.
        list(
            Case.objects.select_for_update()
            .filter(Q(beneficiary_id=survivor_id) | Q(beneficiary__merged_into=survivor_id))
            .values_list("pk", flat=True)
        )
        if not list(locked) or not due_for_anonymisation(now=now).filter(pk=survivor_id).exists():
            return []  # changed since the list was made (a case reopened, a merge): not due now
        return scrub_group(work, survivor_id)


REPORT_BATCH = 500


def _reports(
    run: ErasureRun, counts: Counter[str], anonymised: list[int], *, now: datetime.datetime, dry_run: bool
) -> None:
    """Community reports no case came from, older than the retention period, a batch per
    transaction (eligibility.reports_due)."""
    due = list(reports_due(now=now).values_list("pk", flat=True))
    for start in range(0, len(due), REPORT_BATCH):
        work = Work(dry_run=dry_run)
        batch = due[start : start + REPORT_BATCH]
        if dry_run:
            scrub_reports(work, batch)
        else:
            with pgtrigger.ignore(*history_triggers()), transaction.atomic():
                # Still due under the lock: a case opened from one meanwhile keeps it.
                locked = list(
                    reports_due(now=now)
                    .filter(pk__in=batch)
                    .select_for_update(of=("self",))
                    .values_list("pk", flat=True)
                )
                scrub_reports(work, locked)
        counts.update(work.counts)
        if not dry_run:
            _account(run, counts, anonymised)


def _account(
    run: ErasureRun,
    counts: Counter[str],
    anonymised: list[int],
    *,
    status: str = ErasureRun.Status.RUNNING,
    error: str = "",
) -> None:
    run.counts = dict(sorted(counts.items()))
    run.beneficiary_ids = sorted(anonymised)
    run.beneficiaries = len(anonymised)
    run.status = status
    run.error = error[:300]
    fields = ["counts", "beneficiary_ids", "beneficiaries", "status", "error"]
    if status != ErasureRun.Status.RUNNING:
        run.finished_at = timezone.now()
        fields.append("finished_at")
    run.save(update_fields=fields)
