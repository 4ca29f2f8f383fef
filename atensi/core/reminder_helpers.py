"""Small helpers shared by the reminder rules of the apps (cases, referrals, stakeholders).

- `cancel_unless`: drop the open reminders of some kinds whose thing no longer calls for
  them (the follow-up was done, the referral answered), in one query over the open
  reminders (the partial index `reminder_open_due` holds only those).
- `data_int` / `data_date` / `data_text`: a value of `Reminder.data` as SQL, for those joins.
- `key_expr`: a reminder key built in SQL, to skip things whose reminder is already planned.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import BigIntegerField, CharField, DateField, DateTimeField, F, Func, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Concat

from .models import Reminder

# How far back a rule still plans what it should have planned: the sweep may not have run
# (the broker was down, beat was stopped). A thing whose moment is older is left alone.
CATCH_UP = datetime.timedelta(days=2)
CATCH_UP_DAYS = CATCH_UP.days
# Reminders go out at this local hour on "the day before", "on the day" and expiry days.
MORNING_HOUR = 7


def data_int(name: str) -> Cast:
    return Cast(KT(f"data__{name}"), BigIntegerField())


def data_date(name: str) -> Cast:
    return Cast(KT(f"data__{name}"), DateField())


def data_datetime(name: str) -> Cast:
    return Cast(KT(f"data__{name}"), DateTimeField())


def data_text(name: str) -> Any:
    return KT(f"data__{name}")


def iso_date(date: Any) -> Func:
    """A date column (a field name, F or OuterRef) as YYYY-MM-DD, whatever the session's DateStyle."""
    expression = F(date) if isinstance(date, str) else date
    return Func(expression, Value("YYYY-MM-DD"), function="to_char", output_field=CharField())


def key_expr(*parts: Any) -> Concat:
    """A key in SQL from literal strings and expressions (F, OuterRef...; Postgres casts
    each to text; give dates through `iso_date`)."""
    expressions: list[Any] = [Value(part) if isinstance(part, str) else part for part in parts]
    return Concat(*expressions, output_field=CharField())


def cancel_unless(
    *,
    key_prefix: str,
    kinds: Iterable[str],
    valid: Any,
    now: datetime.datetime,
    annotations: dict[str, Any],
    data_keys: Iterable[str],
) -> int:
    """Cancel the open reminders of `kinds` planned by a rule — their key starts with
    `key_prefix` and their data holds `data_keys` — for which `valid` (an Exists over the
    thing, using `annotations` read from `data` with `data_*`) is false. Returns how many.
    Reminders of these kinds planned otherwise are left alone."""
    stale = list(
        Reminder.objects.filter(
            delivered_at__isnull=True,
            cancelled_at__isnull=True,
            kind__in=list(kinds),
            key__startswith=key_prefix,
            data__has_keys=list(data_keys),
        )
        .annotate(**annotations)
        .filter(~valid)
        .values_list("pk", flat=True)
    )
    if not stale:
        return 0
    return Reminder.objects.filter(pk__in=stale, delivered_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=now
    )


def person(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """A staff member's name as pages show it (full name, else the username)."""
    full = f"{first_name or ''} {last_name or ''}".strip()
    return full or (username or "")
