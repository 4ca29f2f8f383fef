"""Bulk loading for the bench's data set: COPY, indexes and foreign keys after, history in bulk.

`bulk_load(models)` opens a loading window over some tables: their secondary indexes and
foreign keys are dropped (and those of their pghistory event tables), their audit
triggers disabled. Rows go in with `Copier` (COPY from an in-memory buffer, explicit
ids), and the caller writes the history rows the triggers would have written
(`history()`); `Copier.close()` sets the id sequence past the rows. When the window
closes the indexes are built again, the foreign keys added again — PostgreSQL validates
each one over the whole table, so the data satisfies them exactly as if they had been
there — the triggers are enabled and the tables analysed. CHECK, NOT NULL, primary-key
and unique constraints stay in place during the load and are checked row by row.

This is how pg_restore loads a dump; rows that went in with the triggers off are
recorded by `history()` instead, one `insert` event per row (and whatever update events
the caller adds), with no context (no request made them).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

PROFILE = bool(os.environ.get("BENCH_PROFILE"))
CHUNK = 20_000  # rows per COPY statement
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
PGH_COLUMNS = ("pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id")


def _plain(value: Any) -> str:
    return str(value)


def _string(value: str) -> str:
    return value.translate(_ESCAPE) if _SPECIAL(value) else value


def _iso(value: dt.date) -> str:
    return value.isoformat()


def _other(value: Any) -> str:
    if isinstance(value, dict):
        return _string(json.dumps(value))
    if isinstance(value, list | tuple):  # an ArrayField (JSON arrays come as Django's adapter)
        items = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value)
        return _string("{" + ",".join(f'"{v}"' for v in items) + "}")
    adapted = getattr(value, "adapted", None)  # Django's JSON adapter
    if adapted is not None:
        return _string(json.dumps(adapted))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_SPECIAL = re.compile(r"[\\\t\n\r]").search
_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _string,
    int: _plain,
    float: _plain,
    bool: lambda value: "t" if value else "f",
    type(None): lambda _value: r"\N",
    dt.datetime: _iso,
    dt.date: _iso,
}


def text(value: Any) -> str:
    """One value in COPY's text format."""
    return _FORMATS.get(type(value), _other)(value)


def _one(sql: str, params: Iterable[Any] = ()) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    return row[0] if row else None


def _rows(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            if PROFILE:
                print(f"[bench] {time.perf_counter() - started:7.2f} s  {sql[:100]}", file=sys.stderr)


class Copier:
    """Rows of one model through COPY: every column, the model's defaults unless given.

    `add(**values)` takes attnames (`organisation_id`, not `organisation`) and returns the
    row's id, assigned here so that later rows can point at it before it is written.
    """

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.table = model._meta.db_table
        fields = list(model._meta.concrete_fields)
        self.pk = model._meta.pk.attname
        self.columns = [f.column for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        blank = model()
        now = timezone.now()
        defaults = []
        for f in fields:
            if f.primary_key:
                defaults.append(r"\N")
                continue
            value = (
                now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else getattr(blank, f.attname)
            )
            defaults.append(text(f.get_db_prep_save(value, connection)))
        self.defaults = defaults
        self.auto_id = model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")
        self.next_id = (_one(f'SELECT COALESCE(MAX("{model._meta.pk.column}"), 0) FROM "{self.table}"') or 0) + 1
        self.first_id = self.next_id
        self.pending: list[str] = []
        self.written = 0

    def add(self, **values: Any) -> Any:
        parts = self.defaults.copy()
        if self.auto_id and self.pk not in values:
            values[self.pk] = self.next_id
            self.next_id += 1
        index = self.index
        for name, value in values.items():
            parts[index[name]] = text(value)
        self.pending.append("\t".join(parts))
        if len(self.pending) >= CHUNK:
            self.flush()
        return values.get(self.pk)

    def flush(self) -> None:
        if not self.pending:
            return
        buffer = io.StringIO("\n".join(self.pending) + "\n")
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f'COPY "{self.table}" ({columns}) FROM STDIN', buffer)
        self.written += len(self.pending)
        self.pending = []

    def close(self) -> int:
        """Write what is left and set the id sequence past the rows; returns the rows written."""
        self.flush()
        if self.auto_id and self.written:
            column = self.model._meta.pk.column
            _execute(
                f"SELECT setval(pg_get_serial_sequence('\"{self.table}\"', '{column}'), "
                f'(SELECT MAX("{column}") FROM "{self.table}"))'
            )
        return self.written


def event_table(table: str) -> str | None:
    """The pghistory event table of `table`, if it is audited."""
    name = f"{table}event"
    return name if _one("SELECT to_regclass(%s)::text", [name]) else None


def history(table: str, *, since_id: int, label: str = "insert", at: str = "", where: str = "") -> int:
    """Write one event per row of `table` with id >= since_id (and `where`): the row as it is now.

    `at` is the SQL expression of the event's time (the row's created_at, or now()).
    """
    events = event_table(table)
    if events is None:
        return 0
    tracked = [
        c
        for (c,) in _rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [events],
        )
        if c not in PGH_COLUMNS
    ]
    source = {c for (c,) in _rows("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])}
    if not at:
        at = '"created_at"' if "created_at" in source else "now()"
    columns = ", ".join(f'"{c}"' for c in tracked)
    condition = f'"id" >= {int(since_id)}' + (f" AND ({where})" if where else "")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{events}" (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, {columns}) '
            f'SELECT {at}, %s, "id", NULL, {columns} FROM "{table}" WHERE {condition}',
            [label],
        )
        if PROFILE:
            print(f"[bench] {time.perf_counter() - started:7.2f} s  history of {table} ({label})", file=sys.stderr)
        return int(cursor.rowcount)


@contextmanager
def bulk_load(models: Iterable[type[Model]]) -> Iterator[None]:
    """The loading window (see the module's docstring). Run it inside a transaction."""
    tables = [m._meta.db_table for m in models]
    tables += [e for t in tables if (e := event_table(t)) is not None]
    indexes: list[str] = []
    foreign_keys: list[tuple[str, str, str]] = []
    # Rows written just before (by the services) may have foreign-key checks pending:
    # run them now, or the tables cannot be altered.
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in tables:
        # Indexes that back no constraint (primary keys and unique constraints stay).
        for name, definition in _rows(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(i.indexname))",
            [table],
        ):
            indexes.append(definition)
            _execute(f'DROP INDEX "{name}"')
        for name, definition in _rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
            "AND contype = 'f'",
            [table],
        ):
            foreign_keys.append((table, name, definition))
            _execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        _execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    _execute("SET LOCAL maintenance_work_mem = '512MB'")
    yield
    for definition in indexes:
        _execute(definition)
    for table, name, definition in foreign_keys:
        _execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for table in tables:
        _execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        # Fresh bulk-loaded tables: give the planner the statistics autovacuum would.
        _execute(f'ANALYZE "{table}"')
    _execute("SET CONSTRAINTS ALL DEFERRED")
