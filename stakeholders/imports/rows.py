"""A plan and the rows it is made of: what an import would do, and one row's cells being
parsed into it with every error at the file's own column name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from .cells import CellError


@dataclass
class Plan:
    """What an import would do: normalised rows, row errors, and (without errors) the writes."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    creates: list[Any] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    unchanged: int = 0
    # (object, M2M field name, target ids); `replace` marks objects whose links are rewritten
    links: list[tuple[Any, str, list[int]]] = field(default_factory=list)
    replace: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "new": len(self.creates),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "error_rows": len({e["row"] for e in self.errors}),
        }


class Row:
    """One row's cells being parsed; errors collect in the plan, at the file's column names."""

    def __init__(self, plan: Plan, raw: dict[str, Any], headers: dict[str, str]) -> None:
        self.plan = plan
        self.raw = raw
        self.number = int(raw["_row"])
        self.headers = headers
        self.out: dict[str, Any] = {"_row": self.number}
        self.values: dict[str, Any] = {}
        self.failed = False

    def error(self, key: str, message: Any) -> None:
        self.failed = True
        self.plan.errors.append({"row": self.number, "column": self.headers.get(key, ""), "message": str(message)})

    def has(self, key: str) -> bool:
        return key in self.raw

    def cell(self, key: str, parse: Callable[[str], Any], *, required: bool = False, text: Any = None) -> None:
        """Parse one cell into self.values (absent column: nothing; empty cell: None)."""
        if key not in self.raw:
            return
        raw = str(self.raw.get(key) or "").strip()
        if not raw:
            if required:
                self.error(key, _("This cell is required but empty."))
            self.out[key] = ""
            self.values[key] = None
            return
        try:
            value = parse(raw)
        except CellError as exc:
            self.error(key, exc)
            self.out[key] = raw
            return
        self.values[key] = value
        self.out[key] = text(value) if text is not None else (value if isinstance(value, str) else str(value))


def field_errors(row: Row, exc: ValidationError, field_to_column: dict[str, str]) -> None:
    for field_name, messages in exc.message_dict.items():
        column = field_to_column.get(field_name, field_name)
        for message in messages:
            row.error(column, message)


def snapshot(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def changed_fields(obj: models.Model, before: dict[str, Any]) -> set[str]:
    return {f.name for f in obj._meta.concrete_fields if getattr(obj, f.attname) != before[f.attname]}
