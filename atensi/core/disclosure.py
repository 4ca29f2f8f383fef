"""How a figure about children is shown to someone who may not see the children behind it.

A supervisor reads the exact figures of their own organisation: they may open every case
counted. A viewer at a directorate, a Dinas Sosial reading its province, an org admin:
they read figures about children they may not see, and a small number is a child ("the
one case of sexual exploitation in Kab. X"). For them (`Disclosure.AGGREGATE`):

- a count from 1 to 4 is shown as "<5" (zero stays zero: there is no one to protect);
- every other count, cells and totals alike, is rounded to the nearest 5.

Rounding every shown count, not only the totals, is what makes the rule hold: with exact
cells beside a rounded total, a suppressed cell can still be pinned down (cells 6 and a
hidden 1 make 7, shown as 5; 5 - 6 + up to 2 leaves exactly 1). With every count rounded
the published figures always leave at least two values from 1 to 4 possible for each
hidden cell — `atensi/tests/test_disclosure.py` checks it over random tables.

A total needs more care. The true total rounded to 5, beside rounded cells, still gives
a hidden cell away at the edges: cells 1, 1 and 5 make 7, shown as "<5", "<5", 5 and a
total of 5 — at most 7, of which the shown 5 takes at least 5, so both hidden cells are 1.
So for an aggregate reader the total of a table is made from what the table shows (each
shown count, plus 2.5 for each hidden one, rounded to the nearest 5): it says nothing the
cells do not, so no hidden cell can be worked out from it, and the rows add up as shown.
It differs from the true total by at most 2 per cell and 2 more, which the pages say.

Periods for aggregate readers are whole months, quarters or years (the dashboards keep
to that), so two custom ranges cannot be subtracted from each other either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils import formats

SMALL_CELL_MAX = 4  # 1..4 children are shown as "<5"
ROUND_TO = 5


class Disclosure(enum.Enum):
    EXACT = "exact"  # the reader may see every child counted
    AGGREGATE = "aggregate"  # the reader may not: small cells hidden, counts rounded


@dataclass(frozen=True)
class Shown:
    """A count as it is shown: `value` None means hidden ("<5")."""

    value: int | None
    rounded: bool = False

    @property
    def hidden(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        if self.value is None:
            return f"<{SMALL_CELL_MAX + 1}"
        return formats.number_format(self.value, force_grouping=True)

    def for_export(self) -> int | str:
        """A spreadsheet cell: a number where there is one, "<5" where it is hidden."""
        return str(self) if self.value is None else self.value


def round_count(n: int) -> int:
    """The nearest multiple of 5 (halves cannot happen with whole numbers and base 5)."""
    return ROUND_TO * ((n + ROUND_TO // 2) // ROUND_TO)


def show(n: int, disclosure: Disclosure) -> Shown:
    """One count (a cell or a total) as `disclosure` allows it to be shown."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    if disclosure is Disclosure.EXACT or n == 0:
        return Shown(n)
    if n <= SMALL_CELL_MAX:
        return Shown(None)
    return Shown(round_count(n), rounded=True)


def show_all(counts: dict[str, int], disclosure: Disclosure) -> dict[str, Shown]:
    return {key: show(n, disclosure) for key, n in counts.items()}


@dataclass(frozen=True)
class Row:
    cells: list[Shown]
    total: Shown


def show_row(counts: list[int], disclosure: Disclosure) -> Row:
    """A table's counts and its total, as `disclosure` allows (see the module's docstring)."""
    cells = [show(n, disclosure) for n in counts]
    if disclosure is Disclosure.EXACT:
        return Row(cells, Shown(sum(counts)))
    return Row(cells, total_of(cells))


def total_of(cells: list[Shown]) -> Shown:
    """The total an aggregate reader sees: made from the shown cells alone (2.5 for each
    hidden one), rounded to the nearest 5. Twice the sum keeps it in whole numbers."""
    twice = sum(2 * cell.value for cell in cells if cell.value is not None)
    twice += 5 * sum(1 for cell in cells if cell.value is None)
    return Shown(ROUND_TO * ((twice + ROUND_TO) // (2 * ROUND_TO)), rounded=True)


def possible_values(shown: Shown) -> range:
    """Every true count that would be shown as `shown` (a cell) to an aggregate reader."""
    if shown.value is None:
        return range(1, SMALL_CELL_MAX + 1)
    if shown.value == 0:
        return range(0, 1)
    low = max(shown.value - ROUND_TO // 2, SMALL_CELL_MAX + 1)
    return range(low, shown.value + ROUND_TO // 2 + 1)
