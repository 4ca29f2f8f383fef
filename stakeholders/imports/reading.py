"""Reading an uploaded CSV or XLSX file into rows of text and finding its header row.

A file that cannot be read at all is refused as a whole, with a message in plain words
(wrong type, a disguised file, too large, not UTF-8, damaged).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import filetype
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.errors import ApplicationError

from .columns import QUIET_COLUMNS, Column

logger = logging.getLogger(__name__)

MAX_COLUMNS = 60
# A title row or two above the column names is common in office spreadsheets.
HEADER_SEARCH_ROWS = 10
# Far more than any real workbook of 5,000 rows unpacks to; a zip bomb stops here.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


def _header_key(text: str) -> str:
    """ "No. Telepon *" and "no telepon" are the same column."""
    text = text.replace("_", " ").replace("*", "").replace(":", "").replace(".", " ").lower()
    text = re.sub(r"\s*/\s*", "/", text)
    return " ".join(text.split())


def _alias_index(columns: Sequence[Column]) -> dict[str, str]:
    index: dict[str, str] = {}
    for column in columns:
        names = [column.key, column.header, *column.aliases]
        for language in ("en", "id"):
            with translation.override(language):
                names.append(str(column.label))
        for name in names:
            index.setdefault(_header_key(name), column.key)
    return index


def _clean_text(text: str) -> str:
    text = text.replace("\xa0", " ").strip()
    # Our own exports (and careful users) guard formulas and long numbers with a quote.
    if len(text) > 1 and text[0] == "'" and (text[1] in "=+-@" or text[1].isdigit()):
        text = text[1:]
    return text


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e17 else repr(value)
    return _clean_text(str(value))


@dataclass
class Table:
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells); blank rows dropped
    warnings: list[str] = field(default_factory=list)


def _looks_like(data: bytes) -> str:
    """What a file really is, in words, for a message about a disguised file."""
    guessed = filetype.guess(data[:8192])
    if guessed is not None:
        return _("a %(type)s file") % {"type": guessed.extension.upper()}
    if b"\x00" not in data[:8192]:
        return _("a text file")
    return _("an unknown kind of file")


def too_many_rows() -> ApplicationError:
    return ApplicationError(
        _("The file has more than %(max)s rows. Split it into smaller files and import them one by one.")
        % {"max": f"{settings.ATENSI_IMPORT_MAX_ROWS:,}"}
    )


def read_table(upload: Any) -> Table:
    """The upload's rows as text, or ApplicationError saying what is wrong with the file."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    extension = os.path.splitext(name)[1].lower()
    limit = settings.ATENSI_IMPORT_MAX_BYTES
    too_large = ApplicationError(
        _("The file is larger than %(limit)s. Split it into smaller files.") % {"limit": filesizeformat(limit)}
    )
    if (getattr(upload, "size", 0) or 0) > limit:
        raise too_large
    if extension == ".xls":
        raise ApplicationError(
            _(
                "Old Excel files (.xls) cannot be read. In Excel use “Save as” and choose "
                "“Excel Workbook (.xlsx)” or “CSV UTF-8”."
            )
        )
    if extension not in (".csv", ".xlsx"):
        raise ApplicationError(_("Upload a .csv or .xlsx file; “%(name)s” is neither.") % {"name": name})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data.strip():
        raise ApplicationError(_("The file is empty."))
    table = _read_xlsx(data) if extension == ".xlsx" else _read_csv(data)
    if not table.rows:
        raise ApplicationError(_("The file is empty."))
    return table


def _read_csv(data: bytes) -> Table:
    if data.startswith(b"PK\x03\x04"):
        raise ApplicationError(
            _(
                "This is an Excel workbook (or another zip file) with a .csv name. Upload it with its "
                ".xlsx name, or save it from Excel as “CSV UTF-8”."
            )
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_utf8(1) from None
    else:
        if b"\x00" in data[:8192] or filetype.guess(data[:8192]) is not None:
            raise ApplicationError(
                _("This is not a CSV text file (it looks like %(what)s).") % {"what": _looks_like(data)}
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _not_utf8(data[: exc.start].count(b"\n") + 1) from None
    if "\x00" in text:
        raise ApplicationError(_("This is not a CSV text file (it looks like %(what)s).") % {"what": _looks_like(data)})
    first_line = text.split("\n", 1)[0]
    # Excel in an Indonesian locale writes ";" (the decimal separator is ","); tabs come
    # from "Unicode text". The header line decides.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    max_rows = settings.ATENSI_IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS
    try:
        for number, record in enumerate(reader, start=1):
            cells = [_clean_text(c) for c in record[:MAX_COLUMNS]]
            if any(cells):
                rows.append((number, cells))
                if len(rows) > max_rows:
                    raise too_many_rows()
    except csv.Error as exc:
        raise ApplicationError(
            _("The CSV file could not be read near line %(line)s (%(error)s). Save it from Excel as “CSV UTF-8”.")
            % {"line": reader.line_num, "error": exc}
        ) from None
    return Table(rows=rows)


def _not_utf8(line: int) -> ApplicationError:
    # Strict on purpose: Windows-1252 decodes almost any bytes, so guessing it would save
    # garbled names without a word. One re-save is the cheaper mistake.
    return ApplicationError(
        _(
            "The file is not UTF-8 text (the first unreadable character is on line %(line)s). "
            "In Excel use “Save as” and choose “CSV UTF-8 (Comma delimited)”, or upload the .xlsx workbook."
        )
        % {"line": line}
    )


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    if not data.startswith(b"PK\x03\x04"):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise ApplicationError(
                _(
                    "This is an old Excel (.xls) or password-protected workbook with an .xlsx name. Open it "
                    "in Excel, remove any password and save it as “Excel Workbook (.xlsx)”."
                )
            )
        raise ApplicationError(
            _(
                "This file is not an Excel workbook although its name ends in .xlsx (it looks like %(what)s). "
                "Upload the workbook itself, or save it as “CSV UTF-8” and upload the .csv file."
            )
            % {"what": _looks_like(data)}
        )
    damaged = ApplicationError(
        _("The Excel file could not be read; it may be damaged. Open it in Excel, save it again and upload it.")
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise damaged from None
    if "xl/workbook.xml" not in names:
        raise ApplicationError(
            _(
                "This file is a zip archive but not an Excel workbook, although its name ends in .xlsx. "
                "Upload the workbook itself."
            )
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise ApplicationError(_("The workbook is too large once unpacked. Split it into smaller files."))
    rows: list[tuple[int, list[str]]] = []
    warnings: list[str] = []
    max_rows = settings.ATENSI_IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl reports a damaged file with whatever its XML and zip layers raise
        # (KeyError, ValueError, lxml errors...); all mean the same to the user.
        logger.info("unreadable xlsx upload", exc_info=True)
        raise damaged from None
    try:
        if not workbook.worksheets:
            raise damaged
        sheet = workbook.worksheets[0]
        if len(workbook.worksheets) > 1:
            warnings.append(_("Only the first sheet, “%(sheet)s”, was read.") % {"sheet": sheet.title})
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if any(cells):
                rows.append((number, cells))
                if len(rows) > max_rows:
                    raise too_many_rows()
    except ApplicationError:
        raise
    except Exception:
        logger.info("unreadable xlsx upload", exc_info=True)
        raise damaged from None
    finally:
        workbook.close()
    return Table(rows=rows, warnings=warnings)


@dataclass
class HeaderMap:
    index: dict[str, int]  # column key -> position in a row
    names: dict[str, str]  # column key -> the header as written in the file
    header_row: int
    warnings: list[str]


def map_headers(table: Table, columns: Sequence[Column]) -> HeaderMap:
    """Find the header row and what each column means; missing required columns fail the file."""
    aliases = _alias_index(columns)
    header_at = 0
    for position, (_number, cells) in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        if any(_header_key(c) in aliases for c in cells):
            header_at = position
            break
    header_row, header = table.rows[header_at]
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    warnings: list[str] = []
    for position, text in enumerate(header):
        key = _header_key(text)
        if not key:
            continue
        column = aliases.get(key)
        if column is None:
            if key not in QUIET_COLUMNS:
                warnings.append(_("The column “%(name)s” is not used and was ignored.") % {"name": text})
            continue
        if column in index:
            raise ApplicationError(
                _("The columns “%(first)s” and “%(second)s” mean the same thing; keep one of them.")
                % {"first": names[column], "second": text}
            )
        index[column] = position
        names[column] = text
    missing = [c for c in columns if c.required and c.key not in index]
    if missing:
        raise ApplicationError(
            ngettext(
                "A required column is missing: %(names)s. Row %(row)s should hold the column names; "
                "the template shows them.",
                "Required columns are missing: %(names)s. Row %(row)s should hold the column names; "
                "the template shows them.",
                len(missing),
            )
            % {"names": ", ".join(f"“{c.header}”" for c in missing), "row": header_row}
        )
    if ("latitude" in index) != ("longitude" in index):
        raise ApplicationError(_("Give both a latitude and a longitude column, or neither."))
    return HeaderMap(index=index, names=names, header_row=header_row, warnings=warnings)


def table_rows(table: Table, headers: HeaderMap) -> list[dict[str, Any]]:
    """The data rows below the header as {"_row": number, column key: text}."""
    rows = []
    for number, cells in table.rows:
        if number <= headers.header_row:
            continue
        row: dict[str, Any] = {"_row": number}
        for key, position in headers.index.items():
            row[key] = cells[position] if position < len(cells) else ""
        rows.append(row)
    return rows
