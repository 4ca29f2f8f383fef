"""Keyset pagination cursors: the (name, id) a page starts after, as an opaque signed token.

Signed so a hand-made token cannot make the list query anything odd; anything that does
not decode is simply "the first page".
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Model, Q, QuerySet


def rows_after(keys: Sequence[tuple[str, bool]], values: Sequence[Any], pk: int) -> Q:
    """Rows after (values, pk) in the order of `keys` ((field, descending) pairs, the id
    last). The leading column's range comes first so the planner walks the index from
    there; the OR only trims the boundary."""
    position = [*values, pk]
    condition = Q(pk__in=[])
    for i, (name, desc) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if desc else 'gt'}": position[i]})
        for j in range(i):
            step &= Q(**{keys[j][0]: position[j]})
        condition |= step
    lead, lead_desc = keys[0]
    return Q(**{f"{lead}__{'lte' if lead_desc else 'gte'}": position[0]}) & condition


def encode_cursor(name: str, pk: int, *, salt: str) -> str:
    return signing.dumps([name, pk], salt=salt, compress=True)


def decode_cursor(token: str | None, *, salt: str) -> tuple[str, int] | None:
    if not token:
        return None
    try:
        value = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return value[0], value[1]
    return None


def decode_time_cursor(token: str | None, *, salt: str) -> tuple[datetime.datetime, int] | None:
    """A cursor whose key is a moment (encoded with its isoformat): the moment and the id,
    or None (no cursor, or one that does not decode: the first page)."""
    cursor = decode_cursor(token, salt=salt)
    if cursor is None:
        return None
    try:
        return datetime.datetime.fromisoformat(cursor[0]), cursor[1]
    except ValueError:
        return None


@dataclass(frozen=True)
class TimePage[M: Model]:
    rows: list[M]
    next_cursor: str | None
    is_first: bool


def time_page[M: Model](
    queryset: QuerySet[M], *, field: str, descending: bool, after: str | None, size: int, salt: str
) -> TimePage[M]:
    """One keyset page of `queryset` ordered by the moment `field` then the id (both
    `descending` or both not): the rows after the cursor `after` (None or one that does not
    decode: the first page), and the cursor of the next page if there is one."""
    order = ((field, descending), ("pk", descending))
    sign = "-" if descending else ""
    queryset = queryset.order_by(f"{sign}{field}", f"{sign}pk")
    cursor = decode_time_cursor(after, salt=salt)
    if cursor is not None:
        queryset = queryset.filter(rows_after(order, [cursor[0]], cursor[1]))
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, field).isoformat(), last.pk, salt=salt)
    return TimePage(rows=rows, next_cursor=next_cursor, is_first=cursor is None)
