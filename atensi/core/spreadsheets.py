"""CSV and XLSX files: formula-safe cells, and the two file formats built one way.

XLSX is written with XlsxWriter in constant-memory mode: each row goes to disk as it
comes, so a workbook of any length costs the memory of one row (openpyxl stays for
reading imports). `csv_text`/`xlsx_bytes` make small in-memory tables (a dashboard's);
`write_xlsx` writes a workbook of several sheets to a file or buffer, rows as they come.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"  # makes Excel read a CSV file as UTF-8

# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit on a sheet name.
SHEET_TITLE_MAX = 31


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields rows."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A CSV file line by line (for a streaming response): byte order mark, headers, rows."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([str(h) for h in headers])
    for row in rows:
        yield writer.writerow(["" if v is None else v for v in row])


def csv_text(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV file; the byte order mark makes Excel read it as UTF-8."""
    return "".join(csv_lines(headers, rows))


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[Any]
    rows: Iterable[Sequence[Any]]


_NUMBERS = frozenset({int, float, Decimal})


def write_xlsx(target: str | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """A workbook with one sheet per `Sheet`: bold, frozen header row, then the rows in order.

    Text is written as text, never as a formula or a link, whatever it starts with."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
            "remove_timezone": True,
        },
    )
    try:
        bold = workbook.add_format({"bold": True})
        for sheet in sheets:
            worksheet = workbook.add_worksheet(str(sheet.title)[:SHEET_TITLE_MAX])
            worksheet.freeze_panes(1, 0)
            worksheet.write_row(0, 0, [str(h) for h in sheet.headers], bold)
            write_string, write_number = worksheet.write_string, worksheet.write_number
            write_boolean, write_datetime = worksheet.write_boolean, worksheet.write_datetime
            # The type of each cell by identity, most frequent first: this loop runs for every
            # cell of a 1,000,000-row export.
            for number, row in enumerate(sheet.rows, start=1):
                for column, value in enumerate(row):
                    kind = type(value)
                    if kind is str:
                        if value:
                            write_string(number, column, value)
                    elif value is None:
                        continue
                    elif kind is bool:
                        write_boolean(number, column, value)
                    elif kind in _NUMBERS:
                        write_number(number, column, value)
                    elif kind is datetime.date:
                        write_datetime(number, column, value)
                    elif kind is datetime.datetime:
                        write_datetime(number, column, value.replace(tzinfo=None))
                    else:  # lazy translations, str subclasses
                        text = str(value)
                        if text:
                            write_string(number, column, text)
    finally:
        workbook.close()


def xlsx_bytes(*, sheet_title: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook: bold, frozen header row, then the rows (written as they come)."""
    buffer = io.BytesIO()
    write_xlsx(buffer, [Sheet(title=sheet_title, headers=headers, rows=rows)])
    return buffer.getvalue()
