"""Audit trail: who changed what (pghistory triggers) and who looked at what (AccessLog).

Changes are captured by Postgres triggers, so bulk updates, admin actions and raw
queries are recorded too; HistoryMiddleware attaches the acting user and URL, and
`audit_context()` does the same for tasks and management commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pghistory
from django.contrib.auth.models import AbstractUser


# Every domain model is decorated with @audited: inserts, updates and deletes are
# snapshotted with the acting user's context. Event tables are append-only.
def audited(*, exclude: list[str] | None = None) -> Any:
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
        append_only=True,
    )


@contextmanager
def audit_context(*, user: AbstractUser | None = None, **extra: Any) -> Iterator[None]:
    """Attach the actor (and e.g. command=..., task=...) to writes outside a request."""
    values: dict[str, Any] = dict(extra)
    if user is not None:
        values["user"] = user.pk
    with pghistory.context(**values):
        yield
