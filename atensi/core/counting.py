"""Counts with a cap, all of a page's in one query.

A home page counts many lists; each count is exact up to `CAP` and shown as "1.000+"
beyond (in the reader's number format), so counting costs the same however many rows
match: Postgres stops after `CAP + 1`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import IntegerField, QuerySet, Subquery
from django.utils.formats import number_format

CAP = 1000


class CappedCount(Subquery):
    """COUNT(*) of at most CAP + 1 rows of a queryset, as a scalar subquery.

    The queryset's ordering is dropped, unless it is `ordered`: then it stays, for a
    queryset ordered like the index that should lead the count (the planner, costing every
    row of a large set, may otherwise pick a bitmap scan that reads them all before the
    LIMIT stops anything)."""

    template = "(SELECT count(*) FROM (%(subquery)s) _capped)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet[Any], cap: int = CAP, *, ordered: bool = False) -> None:
        rows = queryset if ordered else queryset.order_by()
        super().__init__(rows.values("pk")[: cap + 1])


@dataclass(frozen=True)
class Tally:
    """A capped count: `value` is exact up to `cap`; `display` says "1.000+" beyond."""

    value: int
    cap: int = CAP

    @property
    def is_capped(self) -> bool:
        return self.value > self.cap

    @property
    def display(self) -> str:
        if self.is_capped:
            return number_format(self.cap, force_grouping=True) + "+"
        return number_format(self.value, force_grouping=True)

    def __bool__(self) -> bool:
        return self.value > 0


def capped_counts(
    user_id: int, querysets: Mapping[str, QuerySet[Any]], *, ordered: bool = False, cap: int = CAP
) -> dict[str, Tally]:
    """Every count in one query (the user's own row, with a scalar subquery per count);
    `ordered`: each keeps its queryset's ordering (CappedCount)."""
    if not querysets:
        return {}
    annotations = {name: CappedCount(qs, cap, ordered=ordered) for name, qs in querysets.items()}
    users = get_user_model()._default_manager.filter(pk=user_id)
    row: Mapping[str, int] = users.annotate(**annotations).values(*annotations).first() or {}
    return {name: Tally(int(row.get(name) or 0), cap) for name in querysets}


@dataclass(frozen=True)
class Where:
    """One count of capped_counts_where: an SQL condition on the queryset's own columns,
    with its parameters, and maybe an order (`order`: SQL on those columns, e.g.
    '"sent_at" DESC') that leads the count along an index in that order, so that it stops
    after the cap instead of reading every row before the LIMIT."""

    condition: str
    params: Sequence[object] = ()
    order: str = ""


def capped_counts_where(queryset: QuerySet[Any], conditions: Mapping[str, Where], cap: int = CAP) -> dict[str, Tally]:
    """Capped counts of several parts of one queryset, in one query that holds the queryset
    once: `conditions` maps each count's name to its Where, e.g.
    {"waiting": Where('"status" = %s', ["sent"])}. For a queryset costly to compile (a
    scoping function's), which capped_counts would compile once per count. The queryset is
    a CTE that is not materialized: each count reads it with its condition pushed down to
    the indexes, and stops after `cap` + 1 rows."""
    if not conditions:
        return {}
    columns = sorted({name for where in conditions.values() for name in _quoted_names(where.condition + where.order)})
    try:
        scope_sql, scope_params = queryset.order_by().values(*columns).query.sql_with_params()
    except EmptyResultSet:  # a scope that holds nothing (none of the user's organisations)
        return {name: Tally(0, cap) for name in conditions}
    parts = []
    params: list[Any] = list(scope_params)
    for where in conditions.values():
        rows = f"SELECT 1 FROM _scope WHERE {where.condition}"  # noqa: S608 - the code's SQL; values are parameters
        if where.order:
            rows += f" ORDER BY {where.order}"
        parts.append(f"(SELECT count(*) FROM ({rows} LIMIT {int(cap) + 1}) _c)")  # noqa: S608 - the code's SQL; values are parameters
        params.extend(where.params)
    sql = f"WITH _scope AS NOT MATERIALIZED ({scope_sql}) SELECT {', '.join(parts)}"
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone() or ()
    return {name: Tally(int(value or 0), cap) for name, value in zip(conditions, row, strict=False)}


def _quoted_names(sql: str) -> list[str]:
    """The "quoted" column names an SQL condition or order reads."""
    return re.findall(r'"(\w+)"', sql)
