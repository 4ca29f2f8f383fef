"""Spreadsheet imports of organisations and workforce: read, validate, preview, confirm.

This module owns the whole path from an uploaded CSV or XLSX file to saved rows:

- `read_table` turns the upload into rows of text, or refuses the file as a whole (wrong
  type, a disguised file, too large, not UTF-8, damaged) with a message in plain words;
- `plan_organisations` / `plan_workforce` validate every row and resolve region codes and
  names, existing codes, clusters and components with a few set-based queries for the whole
  file, giving normalised rows, row errors and the objects to write;
- `import_preview` keeps the normalised rows in an ImportBatch; nothing else is saved;
- `organisation_import_confirm` / `workforce_import_confirm` plan the stored rows again,
  under locks, and write them in bulk in one transaction: every row or none.

Normalising is idempotent (a village name becomes its code, a date its ISO form), so the
confirmation re-validates exactly what the preview showed, against the register as it is now.

Why the writes are not `services.organisation_create` per row: that costs about 20 queries a
row (foreign key and constraint checks, savepoints, M2M sets) and took 12.9 s for 1,000 rows.
Each row here meets the same rules instead — the model's field validators (full_clean without
its queries), `services.organisation_check_regions`, the pin on the village, and for workers
`services.workforce_check` — and the database constraints stay the last guard.

Why a Dinas admin may set a child's kind and accreditation here although
`services.organisation_update` keeps those for national admins: the Dinas Sosial keeps the
register of the institutions it licenses, and this path only ever updates organisations
whose parent is the importer (national admins: any), limited to the kinds in
ADMIN_IMPORTABLE_KINDS. It never changes a parent, coverage or the active flag.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import math
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from atensi.access import actor_for, get_or_404
from atensi.errors import ApplicationError
from atensi.geo import in_indonesia
from atensi.models import Cluster, ServiceComponent
from atensi.values import normalise_nik, normalise_phone, parse_nik, restore_mobile_zero, validate_phone

from . import services
from .models import (
    ImportBatch,
    ImportKind,
    ImportStatus,
    Organisation,
    OrganisationKind,
    Region,
    RegionLevel,
    WorkforceKind,
    WorkforceMember,
)
from .selectors import can_administer, organisations_administered_by

logger = logging.getLogger(__name__)

MAX_COLUMNS = 60
# A title row or two above the column names is common in office spreadsheets.
HEADER_SEARCH_ROWS = 10
# Far more than any real workbook of 5,000 rows unpacks to; a zip bomb stops here.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
PREVIEW_ROWS = 20
# Kinds an organisation's admin may register under it; national admins import any kind.
ADMIN_IMPORTABLE_KINDS = (OrganisationKind.LKSA, OrganisationKind.LPKS, OrganisationKind.OTHER)


# --- Columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as the template writes it (Indonesian: the users' spreadsheets are)
    label: Any  # English msgid, for the column guide and for matching translated headers
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""
    help: Any = ""
    text: bool = False  # a text column Excel would mangle as a number (codes, NIK, phones)


ORGANISATION_COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "kode",
        gettext_lazy("Code"),
        ("code", "kode lembaga", "kode organisasi"),
        required=True,
        example="LKSA-KASIH-IBU",
        help=gettext_lazy("2 to 30 capital letters, digits or hyphens. An existing code updates that organisation."),
        text=True,
    ),
    Column("name", "nama", gettext_lazy("Name"), ("name", "nama lembaga", "nama organisasi"), True, "LKSA Kasih Ibu"),
    Column(
        "kind",
        "jenis",
        gettext_lazy("Kind"),
        ("kind", "jenis lembaga", "type", "tipe"),
        required=True,
        example="LKSA",
        help=gettext_lazy("LKSA, LPKS or Other (lainnya); national administrators may import any kind."),
    ),
    Column(
        "address",
        "alamat",
        gettext_lazy("Street address"),
        ("address", "street address", "alamat jalan", "alamat lengkap"),
        example="Jl. Sunan Kalijaga No. 12",
    ),
    Column(
        "regency",
        "kab/kota",
        gettext_lazy("Regency/city"),
        ("kabupaten/kota", "kabupaten", "kota", "kab kota", "regency", "regency/city", "city"),
        example="Kota Jambi",
        help=gettext_lazy("Name or code. Narrows down a village given by its name."),
    ),
    Column(
        "village",
        "desa/kelurahan",
        gettext_lazy("Village"),
        ("desa", "kelurahan", "kode desa", "kode desa/kelurahan", "kode kelurahan", "village", "village code"),
        example="Telanaipura",
        help=gettext_lazy("Kemendagri code (dots optional, e.g. 15.71.01.1004) or name."),
        text=True,
    ),
    Column(
        "latitude",
        "latitude",
        gettext_lazy("Latitude"),
        ("lintang", "lat"),
        example="-1.6068",
        help=gettext_lazy("Decimal degrees. Empty: the pin is placed on the village."),
    ),
    Column("longitude", "longitude", gettext_lazy("Longitude"), ("bujur", "lon", "lng", "long"), example="103.5817"),
    Column(
        "phone",
        "telepon",
        gettext_lazy("Phone"),
        ("phone", "telephone", "telp", "no telepon", "nomor telepon", "no telp", "no hp", "hp"),
        example="0741 123456",
        text=True,
    ),
    Column(
        "whatsapp",
        "whatsapp",
        gettext_lazy("WhatsApp"),
        ("wa", "no wa", "nomor wa", "nomor whatsapp"),
        example="0812 3456 7890",
        text=True,
    ),
    Column("email", "email", gettext_lazy("Email"), ("e-mail", "surel", "alamat email"), example="lksa@example.org"),
    Column(
        "clusters",
        "klaster",
        gettext_lazy("Clusters served"),
        ("cluster", "clusters", "klaster layanan"),
        example="anak",
        help=gettext_lazy("Codes or names, separated by commas."),
    ),
    Column(
        "components",
        "komponen",
        gettext_lazy("ATENSI components offered"),
        ("component", "components", "komponen atensi", "components offered"),
        example="perawatan_sosial, dukungan_keluarga",
        help=gettext_lazy("Codes or names, separated by commas."),
    ),
    Column(
        "capacity",
        "kapasitas",
        gettext_lazy("Residential capacity"),
        ("capacity", "daya tampung"),
        example="40",
    ),
    Column(
        "accreditation",
        "akreditasi",
        gettext_lazy("Accreditation"),
        ("accreditation",),
        example="B",
        help=gettext_lazy("A, B, C or empty."),
    ),
    Column(
        "accreditation_expires",
        "akreditasi berlaku sampai",
        gettext_lazy("Accreditation valid until"),
        ("accreditation expires", "masa berlaku akreditasi", "akreditasi berlaku hingga"),
        example="31/12/2027",
        help=gettext_lazy("DD/MM/YYYY."),
    ),
    Column(
        "registration_number",
        "nomor izin",
        gettext_lazy("Registration/licence number"),
        (
            "no izin",
            "izin operasional",
            "nomor izin operasional",
            "registration number",
            "licence number",
            "license number",
            "nomor registrasi",
        ),
        example="460/123/DINSOS/2024",
        text=True,
    ),
)

WORKFORCE_COLUMNS: tuple[Column, ...] = (
    Column("name", "nama", gettext_lazy("Name"), ("name", "nama lengkap"), True, "Siti Aminah"),
    Column(
        "nik",
        "nik",
        gettext_lazy("NIK"),
        ("no nik", "nomor nik", "nik ktp", "no ktp"),
        required=True,
        example="1571014509900001",
        help=gettext_lazy("16 digits. Format the column as Text in Excel, or it drops digits."),
        text=True,
    ),
    Column(
        "kind",
        "jenis",
        gettext_lazy("Kind"),
        ("kind", "jenis tenaga", "peran", "role"),
        required=True,
        example="TKSK",
        help=gettext_lazy("PSM, TKSK, Sakti Peksos, Pendamping PKH, Pekerja Sosial or Pendamping Disabilitas."),
    ),
    Column(
        "phone",
        "telepon",
        gettext_lazy("Phone"),
        ("phone", "telephone", "telp", "no telepon", "nomor telepon", "no telp", "no hp", "hp"),
        example="0812 3456 7890",
        text=True,
    ),
    Column(
        "regions",
        "wilayah",
        gettext_lazy("Regions served"),
        ("regions", "regions served", "wilayah tugas", "wilayah kerja", "kode wilayah"),
        example="15.71.01",
        help=gettext_lazy("Codes or names of districts, villages or regencies, separated by commas."),
        text=True,
    ),
    Column(
        "certificate_number",
        "nomor sertifikat",
        gettext_lazy("Certificate number"),
        ("no sertifikat", "certificate number", "sertifikat"),
        example="SERT-2024-001",
    ),
    Column(
        "certificate_expires",
        "sertifikat berlaku sampai",
        gettext_lazy("Certificate valid until"),
        ("certificate expires", "certificate valid until", "masa berlaku sertifikat"),
        example="31/12/2027",
        help=gettext_lazy("DD/MM/YYYY."),
    ),
    Column(
        "is_active",
        "aktif",
        gettext_lazy("Active"),
        ("active", "is active", "status aktif"),
        example="ya",
        help=gettext_lazy("ya or tidak (yes or no). Empty means yes."),
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.ORGANISATIONS: ORGANISATION_COLUMNS,
    ImportKind.WORKFORCE: WORKFORCE_COLUMNS,
}
# Columns people keep in their lists that mean nothing to the register: skipped quietly.
# The occupancy among them: it is counted from open residential cases, and older
# templates still carry the column.
QUIET_COLUMNS = {
    "no",
    "nomor",
    "no urut",
    "#",
    "province",
    "provinsi",
    "organisation",
    "organisasi",
    "terisi",
    "terisi saat ini",
    "occupancy",
    "current occupancy",
    "jumlah penghuni",
    "penghuni",
}


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


# --- Reading the file -----------------------------------------------------------------


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


def _too_many_rows() -> ApplicationError:
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
                    raise _too_many_rows()
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
                    raise _too_many_rows()
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


# --- Values in cells ------------------------------------------------------------------


class CellError(Exception):
    """A cell's value is wrong; the message says what to write instead."""


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_date(value: str) -> datetime.date:
    text = value.strip()
    # "2027-12-31 00:00:00" or "2027-12-31T00:00": a date cell written out as a timestamp.
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2})?", text)
    if match:
        text = match.group(1)
    if re.fullmatch(r"\d{5}", text) and 20000 <= int(text) <= 80000:
        # A date cell Excel wrote as its serial number (days since 1899-12-30).
        return _EXCEL_EPOCH + datetime.timedelta(days=int(text))
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date. Write it as DD/MM/YYYY, e.g. 31/12/2027.") % {"value": value.strip()})


def _parse_count(value: str) -> int:
    text = value.replace(" ", "")
    match = re.fullmatch(r"(\d+)(?:[.,]0+)?", text)
    if not match:
        raise CellError(_("“%(value)s” is not a whole number of 0 or more.") % {"value": value})
    return int(match.group(1))


def _parse_coordinate(value: str) -> float:
    text = value.replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma, as Indonesian Excel writes it
    try:
        number = float(text)
    except ValueError:
        raise CellError(_("“%(value)s” is not a number in decimal degrees, e.g. -1.6068.") % {"value": value}) from None
    if not math.isfinite(number):
        raise CellError(_("“%(value)s” is not a number in decimal degrees, e.g. -1.6068.") % {"value": value})
    return number


def _parse_phone(value: str) -> str:
    phone = restore_mobile_zero(normalise_phone(value))
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise CellError(f"“{value}”: {exc.messages[0]}") from None
    return phone


def _parse_email(value: str) -> str:
    email = value.strip()
    try:
        EmailValidator()(email)
    except ValidationError:
        raise CellError(_("“%(value)s” is not an email address.") % {"value": value}) from None
    return email


_YES = {"ya", "y", "yes", "true", "1", "aktif", "active", "benar"}
_NO = {"tidak", "no", "n", "false", "0", "nonaktif", "non aktif", "tidak aktif", "inactive", "salah"}


def _parse_yes_no(value: str) -> bool:
    text = " ".join(value.lower().replace("-", " ").split())
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(_("Write ya or tidak (yes or no), not “%(value)s”.") % {"value": value})


_NOT_ACCREDITED = {"", "-", "tidak", "belum", "tidak terakreditasi", "belum terakreditasi", "none", "not accredited"}


def _parse_accreditation(value: str) -> str:
    text = " ".join(value.split()).upper()
    if text.lower() in _NOT_ACCREDITED:
        return ""
    match = re.fullmatch(r"(?:(?:TER)?AKREDITASI\s+)?([ABC])(?:\s*\(.*\))?", text)
    if not match:
        raise CellError(_("Accreditation is A, B, C or empty, not “%(value)s”.") % {"value": value})
    return match.group(1)


def _choice_key(value: str) -> str:
    return " ".join(re.sub(r"[_\-]", " ", value.lower()).split())


def _choice_index(choices: type[models.TextChoices], extras: Mapping[str, str]) -> dict[str, str]:
    """Every way people write a choice: its code, its label in either language, the abbreviation."""
    index: dict[str, str] = {}
    for value in choices.values:
        index[_choice_key(value)] = value
    for language in ("en", "id"):
        with translation.override(language):
            for value, label in choices.choices:
                text = str(label)
                index.setdefault(_choice_key(text), value)
                for inner in re.findall(r"\(([^)]*)\)", text):
                    index.setdefault(_choice_key(inner), value)
                    parts = inner.split("/")
                    # "Puskesmas/RS" is two names; "Dinas Sosial Kabupaten/Kota" is one.
                    if all(" " not in part.strip() for part in parts):
                        for part in parts:
                            index.setdefault(_choice_key(part), value)
    for alias, value in extras.items():
        index[_choice_key(alias)] = value
    return index


ORGANISATION_KIND_EXTRAS = {
    "balai": OrganisationKind.BALAI,
    "sentra": OrganisationKind.BALAI,
    "dinas sosial provinsi": OrganisationKind.DINSOS_PROVINSI,
    "dinsos provinsi": OrganisationKind.DINSOS_PROVINSI,
    "dinas sosial kabupaten/kota": OrganisationKind.DINSOS_KABKOTA,
    "dinas sosial kabupaten": OrganisationKind.DINSOS_KABKOTA,
    "dinas sosial kota": OrganisationKind.DINSOS_KABKOTA,
    "lainnya": OrganisationKind.OTHER,
    "lain lain": OrganisationKind.OTHER,
}
WORKFORCE_KIND_EXTRAS = {
    "pekerja sosial profesional": WorkforceKind.PEKERJA_SOSIAL,
    "peksos": WorkforceKind.PEKERJA_SOSIAL,
    "pendamping penyandang disabilitas": WorkforceKind.PENDAMPING_DISABILITAS,
    "pekerja sosial masyarakat": WorkforceKind.PSM,
    "tenaga kesejahteraan sosial kecamatan": WorkforceKind.TKSK,
}


WORKFORCE_KIND_NAMES = "PSM, TKSK, Sakti Peksos, Pendamping PKH, Pekerja Sosial, Pendamping Disabilitas"


def _choice_names(choices: Iterable[str]) -> str:
    return ", ".join(sorted(choices))


class _ReferenceIndex:
    """Clusters or components by code or name (either language), with comma-split lists."""

    def __init__(self, model: type[Cluster] | type[ServiceComponent]) -> None:
        self.by_key: dict[str, int] = {}
        self.codes: dict[int, str] = {}
        for item in model.objects.filter(is_active=True).order_by("position", "code"):
            self.codes[item.pk] = item.code
            for name in (item.code, item.name_id, item.name_en):
                self.by_key.setdefault(self._key(name), item.pk)

    @staticmethod
    def _key(text: str) -> str:
        text = re.sub(r"\s*[,;]\s*", ",", text.lower().replace("_", " "))
        return " ".join(text.split())

    def parse(self, value: str, *, what: str) -> list[int]:
        # Some names hold commas themselves ("Terapi fisik, psikososial, dan mental
        # spiritual"): take the longest run of pieces that names an item.
        pieces = [p.strip() for p in re.split(r"[,;]", value) if p.strip()]
        found: list[int] = []
        unknown: list[str] = []
        start = 0
        while start < len(pieces):
            for end in range(len(pieces), start, -1):
                pk = self.by_key.get(self._key(",".join(pieces[start:end])))
                if pk is not None:
                    if pk not in found:
                        found.append(pk)
                    start = end
                    break
            else:
                unknown.append(pieces[start])
                start += 1
        if unknown:
            raise CellError(
                _("Unknown %(what)s: %(values)s. Use these codes: %(codes)s.")
                % {
                    "what": what,
                    "values": ", ".join(f"“{u}”" for u in unknown),
                    "codes": ", ".join(self.codes.values()),
                }
            )
        return found

    def text(self, pks: Iterable[int]) -> str:
        return ",".join(self.codes[pk] for pk in pks)


def _code_of(value: str) -> str | None:
    """A Kemendagri code as typed (dots and spaces optional), or None when it is a name."""
    compact = value.replace(".", "").replace(" ", "")
    return compact if compact.isdigit() else None


def _name_key(value: str) -> str:
    return " ".join(value.split()).upper()


def _regency_keys(value: str) -> list[str]:
    key = re.sub(r"^KAB\.?\s+", "KABUPATEN ", _name_key(value))
    if key.startswith(("KABUPATEN ", "KOTA ")):
        return [key]
    return [key, f"KABUPATEN {key}", f"KOTA {key}"]


def _region_label(region: Region) -> str:
    return f"{region.name} ({region.dotted_code})"


class _RegionIndex:
    """The regions a whole file mentions, in two queries: by code and by name."""

    def __init__(self, *, codes: set[str], names: set[str]) -> None:
        self.by_code: dict[str, Region] = {}
        self.by_name: dict[str, list[Region]] = defaultdict(list)
        if codes:
            for region in Region.objects.filter(code__in=codes).select_related("parent__parent"):
                self.by_code[region.code] = region
        if names:
            named = (
                Region.objects.annotate(upper_name=Upper("name"))
                .filter(upper_name__in=names)
                .select_related("parent__parent")
                .order_by("code")
            )
            for region in named:
                self.by_name[region.upper_name].append(region)  # type: ignore[attr-defined]

    @staticmethod
    def _wrong_level(region: Region, wanted: Any) -> CellError:
        return CellError(
            _("%(code)s is %(name)s, a %(level)s; give %(wanted)s.")
            % {
                "code": region.dotted_code,
                "name": region.name,
                "level": RegionLevel(region.level).label,
                "wanted": wanted,
            }
        )

    def regency(self, value: str) -> Region:
        code = _code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown regency/city code %(code)s.") % {"code": value})
            if region.level != RegionLevel.REGENCY:
                raise self._wrong_level(region, _("a regency/city"))
            return region
        matches = {r.code: r for key in _regency_keys(value) for r in self.by_name.get(key, ()) if r.level == 2}
        if not matches:
            raise CellError(_("Unknown regency/city “%(name)s”.") % {"name": value})
        if len(matches) > 1:
            raise CellError(
                _("“%(name)s” could be %(options)s; write which one, or its code.")
                % {"name": value, "options": _(" or ").join(r.name for r in matches.values())}
            )
        return next(iter(matches.values()))

    def village(self, value: str, scope: Region | None) -> Region:
        code = _code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown village code %(code)s.") % {"code": value})
            if region.level != RegionLevel.VILLAGE:
                raise self._wrong_level(region, _("the code of a village (desa/kelurahan)"))
            if scope is not None and not region.code.startswith(scope.code):
                raise CellError(
                    _("The village %(village)s is not in %(area)s.")
                    % {"village": _region_label(region), "area": scope.name}
                )
            return region
        matches = [
            r
            for r in self.by_name.get(_name_key(value), ())
            if r.level == RegionLevel.VILLAGE and (scope is None or r.code.startswith(scope.code))
        ]
        if not matches:
            if scope is not None:
                raise CellError(_("Village “%(name)s” not found in %(area)s.") % {"name": value, "area": scope.name})
            raise CellError(_("Village “%(name)s” not found.") % {"name": value})
        if len(matches) > 1:
            where = _(" in %(area)s") % {"area": scope.name} if scope is not None else ""
            raise CellError(
                _("Ambiguous: %(count)s villages are named “%(name)s”%(where)s; give the village code.")
                % {"count": len(matches), "name": value, "where": where}
            )
        return matches[0]

    def any_level(self, value: str, scope: Region | None) -> Region:
        code = _code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown region code %(code)s.") % {"code": value})
            return region
        matches = [
            r
            for r in self.by_name.get(_name_key(value), ())
            if scope is None or r.code.startswith(scope.code) or scope.code.startswith(r.code)
        ]
        if not matches:
            if scope is not None:
                raise CellError(_("Region “%(name)s” not found in %(area)s.") % {"name": value, "area": scope.name})
            raise CellError(_("Region “%(name)s” not found.") % {"name": value})
        if len(matches) > 1:
            options = "; ".join(f"{r.name} ({RegionLevel(r.level).label}, {r.dotted_code})" for r in matches[:4]) + (
                "; …" if len(matches) > 4 else ""
            )
            raise CellError(
                _("“%(name)s” matches %(count)s regions: %(options)s. Give the code.")
                % {"name": value, "count": len(matches), "options": options}
            )
        return matches[0]


# --- Plans ----------------------------------------------------------------------------


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


class _Row:
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


def _field_errors(row: _Row, exc: ValidationError, field_to_column: dict[str, str]) -> None:
    for field_name, messages in exc.message_dict.items():
        column = field_to_column.get(field_name, field_name)
        for message in messages:
            row.error(column, message)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _changed_fields(obj: models.Model, before: dict[str, Any]) -> set[str]:
    return {f.name for f in obj._meta.concrete_fields if getattr(obj, f.attname) != before[f.attname]}


ORGANISATION_FIELD_COLUMNS = {"home_region": "regency", "village": "village", "parent": "code"}
_ORG_SIMPLE_FIELDS = (
    "name",
    "kind",
    "address",
    "phone",
    "whatsapp",
    "email",
    "capacity",
    "accreditation",
    "accreditation_expires",
    "registration_number",
)
_TEXT_DEFAULTS = {"address", "phone", "whatsapp", "email", "registration_number", "accreditation"}


def plan_organisations(
    *, organisation: Organisation, by: Any, rows: Sequence[dict[str, Any]], headers: dict[str, str], lock: bool = False
) -> Plan:
    """Validate organisation rows for `organisation` to import; `lock` the rows it would update."""
    national = actor_for(by).is_superuser
    plan = Plan()
    codes: set[str] = set()
    region_codes: set[str] = set()
    region_names: set[str] = set()
    for raw in rows:
        codes.add(str(raw.get("code") or "").strip().upper())
        for key in ("regency", "village"):
            cell = str(raw.get(key) or "").strip()
            if not cell:
                continue
            code = _code_of(cell)
            if code is not None:
                region_codes.add(code)
            else:
                region_names.update(_regency_keys(cell) if key == "regency" else [_name_key(cell)])
    codes.discard("")
    regions = _RegionIndex(codes=region_codes, names=region_names)
    present = set(headers)
    existing_qs: QuerySet[Organisation] = Organisation.objects.filter(code__in=codes).select_related(
        "village", "home_region"
    )
    for m2m in ("clusters", "components"):
        if m2m in present:
            existing_qs = existing_qs.prefetch_related(m2m)
    if lock:
        existing_qs = existing_qs.select_for_update(of=("self",))
    existing = {o.code: o for o in existing_qs} if codes else {}
    kinds = _choice_index(OrganisationKind, ORGANISATION_KIND_EXTRAS)
    clusters = _ReferenceIndex(Cluster) if "clusters" in present else None
    components = _ReferenceIndex(ServiceComponent) if "components" in present else None
    default_scope = organisation.home_region if organisation.home_region_id else None
    seen: dict[str, int] = {}

    def parse_kind(value: str) -> str:
        kind = kinds.get(_choice_key(value))
        if kind is None:
            raise CellError(
                _("Unknown kind “%(value)s”. Use one of: %(choices)s.")
                % {"value": value, "choices": _choice_names(OrganisationKind.values)}
            )
        return kind

    for raw in rows:
        row = _Row(plan, raw, headers)
        code = str(raw.get("code") or "").strip().upper()
        row.out["code"] = code
        current: Organisation | None = None
        if not code:
            row.error("code", _("This cell is required but empty."))
        elif code in seen:
            row.error(
                "code", _("The code %(code)s is already used in row %(row)s.") % {"code": code, "row": seen[code]}
            )
        else:
            seen[code] = row.number
            current = existing.get(code)
            if current is not None and not national and current.parent_id != organisation.pk:
                if current.pk == organisation.pk:
                    row.error(
                        "code",
                        _("%(code)s is the code of %(org)s itself; list the organisations under it.")
                        % {"code": code, "org": organisation.name},
                    )
                else:
                    row.error("code", _("The code %(code)s already belongs to another organisation.") % {"code": code})
                current = None
        row.cell("name", str, required=True)
        row.cell("kind", parse_kind, required=True)
        kind = row.values.get("kind")
        if kind and not national and kind not in ADMIN_IMPORTABLE_KINDS and (current is None or current.kind != kind):
            row.error(
                "kind",
                _("Only a national administrator can import a %(kind)s. You can import: %(allowed)s.")
                % {
                    "kind": OrganisationKind(kind).label,
                    "allowed": ", ".join(str(OrganisationKind(k).label) for k in ADMIN_IMPORTABLE_KINDS),
                },
            )
        row.cell("address", str)
        row.cell("regency", regions.regency, text=lambda r: r.code)
        if row.has("regency") and row.out.get("regency") and "regency" not in row.values:
            # The regency has its error already; a village searched outside it would only
            # add a confusing second one.
            if row.has("village"):
                row.out["village"] = str(raw.get("village") or "")
        else:
            scope = row.values.get("regency") or default_scope
            row.cell("village", partial(regions.village, scope=scope), text=lambda r: r.code)
        row.cell("latitude", _parse_coordinate)
        row.cell("longitude", _parse_coordinate)
        row.cell("phone", _parse_phone)
        row.cell("whatsapp", _parse_phone)
        row.cell("email", _parse_email)
        if clusters is not None:
            row.cell("clusters", lambda v: clusters.parse(v, what=_("cluster")), text=clusters.text)
        if components is not None:
            row.cell("components", lambda v: components.parse(v, what=_("component")), text=components.text)
        row.cell("capacity", _parse_count)
        row.cell("accreditation", _parse_accreditation)
        row.cell("accreditation_expires", parse_date, text=lambda d: d.isoformat())
        row.cell("registration_number", str)

        latitude, longitude = row.values.get("latitude"), row.values.get("longitude")
        if row.has("latitude") and "latitude" in row.values and "longitude" in row.values:
            if (latitude is None) != (longitude is None):
                row.error(
                    "latitude" if latitude is None else "longitude", _("Give both latitude and longitude, or neither.")
                )
            elif latitude is not None and longitude is not None and not in_indonesia(latitude, longitude):
                hint = _(" Latitude and longitude seem to be swapped.") if in_indonesia(longitude, latitude) else ""
                row.error(
                    "latitude",
                    _("The point %(lat)s, %(lon)s is outside Indonesia.") % {"lat": latitude, "lon": longitude} + hint,
                )
        if not row.has("accreditation"):
            accreditation: str | None = current.accreditation if current is not None else ""
        else:
            # None: the cell had its own error already.
            accreditation = row.values.get("accreditation", None) or ("" if "accreditation" in row.values else None)
        if row.values.get("accreditation_expires") and accreditation == "":
            row.error("accreditation_expires", _("A validity date needs an accreditation (A, B or C)."))

        village = row.values.get("village")
        if village is not None:
            row.out["_village"] = _region_label(village)
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue

        obj = current if current is not None else Organisation(code=code, parent=organisation, is_active=True)
        before = _snapshot(obj) if current is not None else None
        for key in _ORG_SIMPLE_FIELDS:
            if key in row.values:
                value = row.values[key]
                if value is None and key in _TEXT_DEFAULTS:
                    value = ""
                setattr(obj, key, value)
        if "village" in row.values:
            village_changed = current is not None and current.village_id != (village.code if village else None)
            obj.village = village
            if village is not None and not row.values.get("regency"):
                obj.home_region = village.parent.parent  # the village's regency/city
            if village_changed and not row.has("latitude"):
                # A new village moves the pin, as in services.organisation_update.
                obj.latitude = obj.longitude = None
        if row.values.get("regency") is not None:
            obj.home_region = row.values["regency"]
        if row.has("latitude"):
            obj.latitude, obj.longitude = latitude, longitude
        if not obj.accreditation and not row.has("accreditation_expires"):
            obj.accreditation_expires = None  # no accreditation, nothing to expire
        pinned_village = obj.village if obj.village_id is not None else None
        if pinned_village is not None and obj.latitude is None and obj.longitude is None:
            obj.latitude, obj.longitude = pinned_village.latitude, pinned_village.longitude
        try:
            services.organisation_check_regions(obj)
            # Foreign keys were resolved above and codes checked for the whole file; the
            # check constraints repeat the field validators. No query per row.
            obj.full_clean(
                exclude=["parent", "village", "home_region"], validate_unique=False, validate_constraints=False
            )
        except ApplicationError as exc:
            row.error(ORGANISATION_FIELD_COLUMNS.get(exc.field or "", exc.field or "code"), exc)
        except ValidationError as exc:
            _field_errors(row, exc, ORGANISATION_FIELD_COLUMNS)
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue

        changed: set[str] = set() if before is None else _changed_fields(obj, before)
        links: list[tuple[str, list[int]]] = []
        for m2m in ("clusters", "components"):
            if m2m in row.values:
                wanted = row.values[m2m] or []
                if current is None:
                    links.append((m2m, wanted))
                elif set(wanted) != {item.pk for item in getattr(current, m2m).all()}:
                    links.append((m2m, wanted))
                    plan.replace[m2m].append(obj)
        if current is None:
            plan.creates.append(obj)
            row.out["_action"] = "new"
        elif changed or links:
            plan.updates.append(obj)
            plan.update_fields |= changed
            row.out["_action"] = "update"
        else:
            plan.unchanged += 1
            row.out["_action"] = "same"
        plan.links.extend((obj, m2m, ids) for m2m, ids in links)
        plan.rows.append(row.out)
    return plan


_WORKFORCE_FIELDS = ("name", "kind", "phone", "certificate_number", "certificate_expires", "is_active")
_WORKFORCE_TEXT_DEFAULTS = {"phone", "certificate_number"}


def _parse_nik(value: str) -> str:
    nik = normalise_nik(value)
    try:
        parse_nik(nik)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None
    return nik


def plan_workforce(
    *, organisation: Organisation, by: Any, rows: Sequence[dict[str, Any]], headers: dict[str, str], lock: bool = False
) -> Plan:
    """Validate workforce rows for `organisation`; (NIK, kind) finds the record to update."""
    plan = Plan()
    present = set(headers)
    niks: set[str] = set()
    region_codes: set[str] = set()
    region_names: set[str] = set()
    for raw in rows:
        niks.add(normalise_nik(str(raw.get("nik") or "")))
        for piece in re.split(r"[,;]", str(raw.get("regions") or "")):
            piece = piece.strip()
            if piece:
                code = _code_of(piece)
                if code is not None:
                    region_codes.add(code)
                else:
                    region_names.add(_name_key(piece))
    niks.discard("")
    regions = _RegionIndex(codes=region_codes, names=region_names)
    existing_qs: QuerySet[WorkforceMember] = WorkforceMember.objects.filter(nik__in=niks)
    if "regions" in present:
        existing_qs = existing_qs.prefetch_related("regions")
    if lock:
        existing_qs = existing_qs.select_for_update()
    existing = {(m.nik, m.kind): m for m in existing_qs} if niks else {}
    kinds = _choice_index(WorkforceKind, WORKFORCE_KIND_EXTRAS)
    scope = organisation.home_region if organisation.home_region_id else None
    seen: dict[tuple[str, str], int] = {}

    def parse_kind(value: str) -> str:
        kind = kinds.get(_choice_key(value))
        if kind is None:
            raise CellError(
                _("Unknown kind “%(value)s”. Use one of: %(choices)s.")
                % {
                    "value": value,
                    "choices": WORKFORCE_KIND_NAMES,
                }
            )
        return kind

    def parse_regions(value: str) -> list[Region]:
        found: list[Region] = []
        problems: list[str] = []
        for piece in re.split(r"[,;]", value):
            piece = piece.strip()
            if not piece:
                continue
            try:
                region = regions.any_level(piece, scope)
            except CellError as exc:
                problems.append(str(exc))
                continue
            if region not in found:
                found.append(region)
        if problems:
            raise CellError(" ".join(problems))
        return found

    for raw in rows:
        row = _Row(plan, raw, headers)
        row.cell("name", str, required=True)
        row.cell("nik", _parse_nik, required=True)
        row.cell("kind", parse_kind, required=True)
        row.cell("phone", _parse_phone)
        row.cell("regions", parse_regions, text=lambda found: ",".join(r.code for r in found))
        row.cell("certificate_number", str)
        row.cell("certificate_expires", parse_date, text=lambda d: d.isoformat())
        row.cell("is_active", _parse_yes_no, text=lambda b: "true" if b else "false")
        nik, kind = row.values.get("nik"), row.values.get("kind")
        if nik:
            row.out["_nik"] = f"{nik[:6]}******{nik[-4:]}"
        if row.values.get("regions"):
            row.out["_regions"] = ", ".join(r.name for r in row.values["regions"])
        current: WorkforceMember | None = None
        if nik and kind:
            if (nik, kind) in seen:
                row.error(
                    "nik",
                    _("This NIK is already listed as %(kind)s in row %(row)s.")
                    % {"kind": WorkforceKind(kind).label, "row": seen[(nik, kind)]},
                )
            else:
                seen[(nik, kind)] = row.number
                current = existing.get((nik, kind))
                if current is not None and current.organisation_id != organisation.pk:
                    row.error(
                        "nik",
                        _("A worker with this NIK is already registered as %(kind)s by another organisation.")
                        % {"kind": WorkforceKind(kind).label},
                    )
                    current = None
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue
        obj = (
            current
            if current is not None
            else WorkforceMember(organisation=organisation, nik=nik or "", is_active=True)
        )
        before = _snapshot(obj) if current is not None else None
        for key in _WORKFORCE_FIELDS:
            if key in row.values:
                value = row.values[key]
                if value is None and key in _WORKFORCE_TEXT_DEFAULTS:
                    value = ""
                elif value is None and key == "is_active":
                    value = True
                setattr(obj, key, value)
        try:
            services.workforce_check(obj)
        except ApplicationError as exc:
            row.error(exc.field or "name", exc)
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue
        changed: set[str] = set() if before is None else _changed_fields(obj, before)
        links: list[int] | None = None
        if "regions" in row.values:
            wanted = [r.pk for r in row.values["regions"] or []]
            if current is None or set(wanted) != {r.pk for r in current.regions.all()}:
                links = wanted
                if current is not None:
                    plan.replace["regions"].append(obj)
        if current is None:
            plan.creates.append(obj)
            row.out["_action"] = "new"
        elif changed or links is not None:
            plan.updates.append(obj)
            plan.update_fields |= changed
            row.out["_action"] = "update"
        else:
            plan.unchanged += 1
            row.out["_action"] = "same"
        if links:
            plan.links.append((obj, "regions", links))
        plan.rows.append(row.out)
    return plan


PLANNERS: dict[str, Callable[..., Plan]] = {
    ImportKind.ORGANISATIONS: plan_organisations,
    ImportKind.WORKFORCE: plan_workforce,
}


# --- Preview, confirm, discard --------------------------------------------------------


def _require_admin(by: Any, organisation: Organisation) -> None:
    if not can_administer(by, organisation):
        raise ApplicationError(_("Only an administrator of %(org)s can import for it.") % {"org": organisation.name})


def _wrong_kind_hint(table: Table, kind: str) -> ApplicationError | None:
    """The columns fit the other kind of list: say so rather than list missing columns."""
    other = ImportKind.WORKFORCE if kind == ImportKind.ORGANISATIONS else ImportKind.ORGANISATIONS
    try:
        map_headers(table, COLUMNS[other])
    except ApplicationError:
        return None
    return ApplicationError(
        _("This file looks like a list of %(other)s. Choose “%(other)s” above and upload it again.")
        % {"other": ImportKind(other).label.lower()}
    )


def import_preview(*, organisation: Organisation, by: Any, kind: str, upload: Any) -> ImportBatch:
    """Read and check an uploaded file; keep its rows for confirmation. Saves nothing else.

    A file that cannot be read at all raises ApplicationError (no batch); row problems are
    kept in the batch for the preview page.
    """
    _require_admin(by, organisation)
    if kind not in COLUMNS:
        raise ApplicationError(_("Choose what the file holds: organisations or workforce."))
    table = read_table(upload)
    try:
        headers = map_headers(table, COLUMNS[kind])
    except ApplicationError as exc:
        raise _wrong_kind_hint(table, kind) or exc from None
    rows = table_rows(table, headers)
    if not rows:
        raise ApplicationError(_("The file has column names but no rows below them."))
    if len(rows) > settings.ATENSI_IMPORT_MAX_ROWS:
        raise _too_many_rows()
    plan = PLANNERS[kind](organisation=organisation, by=by, rows=rows, headers=headers.names)
    filename = os.path.basename(getattr(upload, "name", "") or "")[:255]
    return ImportBatch.objects.create(
        kind=kind,
        organisation=organisation,
        uploaded_by=by,
        filename=filename,
        rows=plan.rows,
        errors=plan.errors,
        result={"headers": headers.names, "warnings": table.warnings + headers.warnings, **plan.counts()},
    )


def _through_rows(model: type[models.Model], m2m: str, links: Iterable[tuple[Any, list[int]]]) -> list[Any]:
    relation = model._meta.get_field(m2m)
    through = relation.remote_field.through  # type: ignore[union-attr]
    source = f"{relation.m2m_field_name()}_id"  # type: ignore[union-attr]
    target = f"{relation.m2m_reverse_field_name()}_id"  # type: ignore[union-attr]
    return [through(**{source: obj.pk, target: pk}) for obj, ids in links for pk in ids]


def _write(model: type[models.Model], plan: Plan) -> None:
    """Every write of a plan, in bulk. The caller holds the transaction."""
    now = timezone.now()
    model.objects.bulk_create(plan.creates, batch_size=500)  # type: ignore[attr-defined]
    if plan.updates:
        for obj in plan.updates:
            obj.updated_at = now  # bulk_update does not run auto_now
        fields = sorted(plan.update_fields | {"updated_at"})
        model.objects.bulk_update(plan.updates, fields, batch_size=500)  # type: ignore[attr-defined]
    for m2m, objs in plan.replace.items():
        relation = model._meta.get_field(m2m)
        through = relation.remote_field.through  # type: ignore[union-attr]
        source = f"{relation.m2m_field_name()}_id__in"  # type: ignore[union-attr]
        through.objects.filter(**{source: [o.pk for o in objs]}).delete()
    by_field: dict[str, list[tuple[Any, list[int]]]] = defaultdict(list)
    for obj, m2m, ids in plan.links:
        by_field[m2m].append((obj, ids))
    for m2m, links in by_field.items():
        relation = model._meta.get_field(m2m)
        relation.remote_field.through.objects.bulk_create(  # type: ignore[union-attr]
            _through_rows(model, m2m, links), batch_size=1000
        )


def _confirm(*, batch: ImportBatch, by: Any, kind: str, model: type[models.Model]) -> ImportBatch:
    _require_admin(by, batch.organisation)
    stale: ImportBatch | None = None
    try:
        with transaction.atomic():
            # Two tabs or a double click: the second waits here, then finds it imported.
            locked = ImportBatch.objects.select_for_update().select_related("organisation").get(pk=batch.pk)
            if locked.kind != kind:
                raise ValueError(f"batch {locked.pk} holds {locked.kind}, not {kind}")
            if locked.status == ImportStatus.IMPORTED:
                raise ApplicationError(_("This import was already saved."))
            if locked.status == ImportStatus.DISCARDED:
                raise ApplicationError(_("This import was discarded. Upload the file again."))
            if locked.errors:
                raise ApplicationError(
                    _("The file has errors, so nothing can be saved. Correct them and upload the file again.")
                )
            plan = PLANNERS[kind](
                organisation=locked.organisation,
                by=by,
                rows=locked.rows,
                headers=locked.result.get("headers", {}),
                lock=True,
            )
            if plan.errors:
                # The register changed since the preview (a code taken, a worker added
                # elsewhere): keep the new errors for the page, save nothing else.
                locked.errors = plan.errors
                locked.rows = plan.rows
                locked.result = {**locked.result, **plan.counts()}
                locked.save(update_fields=["errors", "rows", "result"])
                stale = locked
            else:
                _write(model, plan)
                locked.status = ImportStatus.IMPORTED
                locked.finished_at = timezone.now()
                locked.result = {**locked.result, **plan.counts(), "confirmed_by": getattr(by, "pk", None)}
                fields = ["status", "finished_at", "result"]
                if kind == ImportKind.WORKFORCE:
                    locked.rows = []  # NIKs now live in the register; no second copy
                    fields.append("rows")
                locked.save(update_fields=fields)
    except IntegrityError:
        logger.warning("import %s collided with a concurrent change", batch.pk, exc_info=True)
        raise ApplicationError(
            _(
                "Someone changed the register at the same moment, so nothing was saved. "
                "Open the preview again and confirm once more."
            )
        ) from None
    if stale is not None:
        count = len({e["row"] for e in stale.errors})
        raise ApplicationError(
            ngettext(
                "The register changed since the preview: %(count)s row now has an error. Nothing was saved.",
                "The register changed since the preview: %(count)s rows now have errors. Nothing was saved.",
                count,
            )
            % {"count": count}
        )
    return locked


def organisation_import_confirm(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """Save a previewed organisation import: every row, or none."""
    return _confirm(batch=batch, by=by, kind=ImportKind.ORGANISATIONS, model=Organisation)


def workforce_import_confirm(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """Save a previewed workforce import: every row, or none."""
    return _confirm(batch=batch, by=by, kind=ImportKind.WORKFORCE, model=WorkforceMember)


def import_confirm(*, batch: ImportBatch, by: Any) -> ImportBatch:
    if batch.kind == ImportKind.WORKFORCE:
        return workforce_import_confirm(batch=batch, by=by)
    return organisation_import_confirm(batch=batch, by=by)


@transaction.atomic
def import_discard(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """Drop a previewed import; its rows (personal data for workforce) are deleted."""
    _require_admin(by, batch.organisation)
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status == ImportStatus.IMPORTED:
        raise ApplicationError(_("This import was already saved; it cannot be discarded."))
    if locked.status == ImportStatus.PREVIEW:
        locked.status = ImportStatus.DISCARDED
        locked.rows = []
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "rows", "finished_at"])
    return locked


# --- Reads ----------------------------------------------------------------------------


def import_batch_get(*, user: Any, organisation_id: Any, batch_id: Any) -> ImportBatch:
    """A batch of an organisation `user` administers, or 404."""
    organisation = get_or_404(organisations_administered_by(user), pk=organisation_id)
    batch = get_or_404(ImportBatch.objects.select_related("uploaded_by"), pk=batch_id, organisation=organisation)
    batch.organisation = organisation
    return batch


def import_batches_of(*, organisation: Organisation) -> QuerySet[ImportBatch]:
    """An organisation's recent imports, without their rows (which can be large)."""
    return (
        ImportBatch.objects.filter(organisation=organisation)
        .select_related("uploaded_by")
        .defer("rows", "errors")
        .order_by("-created_at", "-pk")
    )


# --- Templates ------------------------------------------------------------------------


def template_csv(kind: str) -> bytes:
    columns = COLUMNS[kind]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    writer.writerow([c.example for c in columns])
    # With a BOM Excel opens the file as UTF-8 instead of guessing the Windows code page.
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = str(ImportKind(kind).label)[:31]
    sheet.append([c.header for c in columns])
    sheet.append([c.example for c in columns])
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 2, len(column.example) + 2)
        if column.text:
            # Text format, or Excel turns 1571014509900001 into 1.57101E+15 and drops the
            # leading 0 of phone numbers.
            for row in range(2, 1002):
                sheet.cell(row=row, column=position).number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
