"""The columns of each import: the names a spreadsheet may give them, and the templates
that show them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from ..models import ImportKind


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as the template writes it (Indonesian: the users' spreadsheets are)
    label: StrOrPromise  # English msgid, for the column guide and for matching translated headers
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""
    help: StrOrPromise = ""
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
