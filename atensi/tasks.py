"""Core tasks. Tasks are thin: take ids, call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="atensi.ping", acks_late=True, soft_time_limit=10, time_limit=15)
def ping() -> dict[str, str]:
    """Round trip through broker and worker; used by the health test and operators."""
    from atensi.health import check_database

    _db_ok, db_state = check_database()
    return {"pong": "ok", "database": db_state, "at": timezone.now().isoformat()}
