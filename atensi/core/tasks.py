"""Core tasks. Tasks are thin: take ids, call a service."""

from __future__ import annotations

import logging

from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .typed_task import task

logger = logging.getLogger(__name__)


@task(name="atensi.ping", acks_late=True, soft_time_limit=10, time_limit=15)
def ping() -> dict[str, str]:
    """Round trip through broker and worker; used by the health test and operators
    (`ping.apply_async(ignore_result=False).get(timeout=10)`: tasks keep no result unless asked)."""
    from atensi.core.health import check_database

    _db_ok, db_state = check_database()
    return {"pong": "ok", "database": db_state, "at": timezone.now().isoformat()}


@task(name="atensi.reminders_sweep", acks_late=True, soft_time_limit=50, time_limit=55)
def reminders_sweep(rules: bool = True) -> dict[str, int]:
    """Every minute (beat): plan what the rules find due, claim due reminders, queue their
    delivery in batches of DELIVERY_BATCH once the claim is committed. A queueing failure
    (the broker is down) leaves the claim to expire; a later sweep takes those reminders
    again.

    A full claim queues the next sweep (rules already run) behind its deliveries: a
    backlog drains as fast as the workers deliver, never more than a claim ahead of them."""
    from atensi.core.reminders import CLAIM_BATCH, DELIVERY_BATCH, claim_due, run_rules

    now = timezone.now()
    if rules:
        run_rules(now)
    ids = claim_due(now=now)  # committed: the claims are visible to the deliveries
    queued = 0
    for start in range(0, len(ids), DELIVERY_BATCH):
        batch = ids[start : start + DELIVERY_BATCH]
        try:
            reminders_deliver.delay(batch)
        except BrokerError:  # the broker is down: the claims expire and a later sweep reclaims
            logger.warning("reminders: the broker refused a delivery; %d left to a later sweep", len(ids) - queued)
            break
        queued += len(batch)
    if queued == CLAIM_BATCH:
        try:
            reminders_sweep.apply_async(kwargs={"rules": False}, ignore_result=True)
        except BrokerError:  # beat's next sweep carries on
            logger.warning("reminders: the broker refused the next sweep; beat's next one carries on")
    return {"claimed": len(ids), "queued": queued}


# Deliveries keep no result (CELERY_TASK_IGNORE_RESULT, said again here because the sweep
# depends on it): sending would otherwise wait on Redis for its result and hang a sweep run
# by hand while Redis is down. A lost worker's message goes back on the queue
# (acks_late, reject_on_worker_lost); a failure retries the whole batch, which finds done
# what was done.
_DELIVERY = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,  # CELERY_MAX_RETRY_DELAY: below the broker's visibility timeout
    "retry_jitter": True,
    "max_retries": 8,
    "soft_time_limit": 120,
    "time_limit": 130,
}


@task(name="atensi.reminders_deliver", **_DELIVERY)
def reminders_deliver(reminder_ids: list[int]) -> int:
    """Deliver a batch of claimed reminders (atensi.core.reminders.deliver_batch); how many had something delivered."""
    from atensi.core.reminders import deliver_batch

    return deliver_batch([int(pk) for pk in reminder_ids])


@task(name="atensi.reminder_deliver", **_DELIVERY)
def reminder_deliver(reminder_id: int) -> bool:
    """One reminder: the messages queued by a release that delivered them one by one."""
    from atensi.core.reminders import deliver

    return deliver(int(reminder_id))


@task(
    name="atensi.notifications_digest",
    acks_late=True,
    # Sends one e-mail after another: allowed most of the hour (below the broker's
    # visibility timeout); whoever is left when time runs out is sent by the next run.
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def notifications_digest() -> dict[str, int]:
    """Every hour (beat): the daily digests whose hour has come (atensi.core.digest)."""
    from atensi.core.digest import send_due_digests

    return send_due_digests()


@task(name="atensi.notifications_cleanup", acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60)
def notifications_cleanup() -> dict[str, int]:
    """Every day (beat): forget old notifications, reminders and temporary rows (atensi.core.retention)."""
    from atensi.core.retention import cleanup

    return cleanup()


@task(
    name="atensi.export_run",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # A 1,000,000-row workbook takes minutes; below the broker's visibility timeout (an hour)
    # and below exports.STALE_AFTER, after which a lost job may be claimed again.
    soft_time_limit=40 * 60,
    time_limit=45 * 60,
)
def export_run(job_id: int) -> str:
    """Make a background export's file (atensi.core.exports); a job already taken is skipped."""
    from atensi.core.exports import run_export

    return run_export(int(job_id))
