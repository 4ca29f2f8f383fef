"""The dashboards' tables: counts as the reader may see them (atensi.core.disclosure), each
with the link to the case list behind it where the reader may open that list, and the same
rows for the CSV/XLSX download. A template or a spreadsheet can only show what is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from atensi.core.disclosure import Disclosure, Shown, show_row, total_of


@dataclass(frozen=True)
class Cell:
    text: str
    export: int | str
    link: str = ""
    value: int | None = None  # the shown number (None: hidden, or not a count)

    @property
    def hidden(self) -> bool:
        return self.value is None and self.text.startswith("<")


def count_cell(shown: Shown, link: str = "") -> Cell:
    # A hidden cell links nowhere: the list behind it is not the reader's (and zero is empty).
    return Cell(str(shown), shown.for_export(), link if shown.value else "", shown.value)


def text_cell(text: str) -> Cell:
    return Cell(text, text)


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]
    key: str = ""


@dataclass
class Table:
    key: str  # also the download's name
    title: str
    label_header: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    totals: Row | None = None
    chart: bool = False  # draw the first column as bars
    note: str = ""
    # The page shows the first `on_page` rows (None: all); the download has every row.
    on_page: int | None = None

    @property
    def labelled_rows(self) -> list[tuple[Row, list[tuple[str, Cell]]]]:
        """Each row shown on the page with its cells beside their column's name (a phone
        shows them stacked)."""
        return [(row, list(zip(self.columns, row.cells, strict=True))) for row in self.rows[: self.on_page]]

    @property
    def rows_not_on_page(self) -> int:
        return 0 if self.on_page is None else max(0, len(self.rows) - self.on_page)

    @property
    def labelled_totals(self) -> list[tuple[str, Cell]]:
        return list(zip(self.columns, self.totals.cells, strict=True)) if self.totals else []

    def export(self) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows for csv_text/xlsx_bytes, the totals row last."""
        rows = [[row.label, *(cell.export for cell in row.cells)] for row in self.rows]
        if self.totals is not None:
            rows.append([self.totals.label, *(cell.export for cell in self.totals.cells)])
        return [self.label_header, *self.columns], rows


class Links:
    """Links to the case list filtered like a figure, for exact readers only (everyone else
    gets no link: the list is not theirs to open)."""

    def __init__(self, *, enabled: bool, base: dict[str, str]) -> None:
        self.enabled = enabled
        self.base = base
        self._url = reverse("cases:case_list") if enabled else ""

    def to(self, **params: str) -> str:
        if not self.enabled:
            return ""
        query = {"scope": "all", **self.base, **{k: v for k, v in params.items() if v != ""}}
        return f"{self._url}?{urlencode(query)}"


def column_table(
    *,
    key: str,
    title: str,
    label_header: str,
    column: str,
    items: Sequence[tuple[str, str, int, str]],
    disclosure: Disclosure,
    total_label: str,
    total_link: str = "",
    chart: bool = True,
    note: str = "",
) -> Table:
    """A one-column table of counts (key, label, count, link per row) with its total, made
    from what is shown (show_row)."""
    shown = show_row([count for _key, _label, count, _link in items], disclosure)
    rows = [
        Row(label, [count_cell(cell, link)], key=item_key)
        for (item_key, label, _count, link), cell in zip(items, shown.cells, strict=True)
    ]
    return Table(
        key=key,
        title=title,
        label_header=label_header,
        columns=[column],
        rows=rows,
        totals=Row(total_label, [count_cell(shown.total, total_link)]),
        chart=chart,
        note=note,
    )


def grid_table(
    *,
    key: str,
    title: str,
    label_header: str,
    columns: list[str],
    items: Sequence[tuple[str, str, list[int], list[str]]],
    disclosure: Disclosure,
    total_label: str | None,
    note: str = "",
) -> Table:
    """A table of several count columns (key, label, counts, links per row); the totals row
    is each column's total made from its shown cells."""
    shown_rows = [[show_row([n], disclosure).cells[0] for n in counts] for _k, _l, counts, _links in items]
    rows = [
        Row(label, [count_cell(cell, link) for cell, link in zip(cells, links, strict=True)], key=item_key)
        for (item_key, label, _counts, links), cells in zip(items, shown_rows, strict=True)
    ]
    totals = None
    if total_label is not None:
        sums = []
        for index in range(len(columns)):
            column = [cells[index] for cells in shown_rows]
            if disclosure is Disclosure.EXACT:
                sums.append(Shown(sum(counts[index] for _k, _l, counts, _links in items)))
            else:
                sums.append(total_of(column))
        totals = Row(total_label, [count_cell(s) for s in sums])
    return Table(key=key, title=title, label_header=label_header, columns=columns, rows=rows, totals=totals, note=note)
