"""Values in cells: each parser turns one cell's text into a value or raises CellError
saying what to write instead. Regions, clusters and components are looked up for the
whole file at once (a few queries), never per row.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import translation
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from atensi.core.models import Cluster, ServiceComponent
from atensi.core.values import normalise_nik, normalise_phone, parse_nik, restore_mobile_zero, validate_phone

from ..models import OrganisationKind, Region, RegionLevel, WorkforceKind


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


def parse_count(value: str) -> int:
    text = value.replace(" ", "")
    match = re.fullmatch(r"(\d+)(?:[.,]0+)?", text)
    if not match:
        raise CellError(_("“%(value)s” is not a whole number of 0 or more.") % {"value": value})
    return int(match.group(1))


def parse_coordinate(value: str) -> float:
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


def parse_phone(value: str) -> str:
    phone = restore_mobile_zero(normalise_phone(value))
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise CellError(f"“{value}”: {exc.messages[0]}") from None
    return phone


def parse_email(value: str) -> str:
    email = value.strip()
    try:
        EmailValidator()(email)
    except ValidationError:
        raise CellError(_("“%(value)s” is not an email address.") % {"value": value}) from None
    return email


_YES = {"ya", "y", "yes", "true", "1", "aktif", "active", "benar"}
_NO = {"tidak", "no", "n", "false", "0", "nonaktif", "non aktif", "tidak aktif", "inactive", "salah"}


def parse_yes_no(value: str) -> bool:
    text = " ".join(value.lower().replace("-", " ").split())
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(_("Write ya or tidak (yes or no), not “%(value)s”.") % {"value": value})


_NOT_ACCREDITED = {"", "-", "tidak", "belum", "tidak terakreditasi", "belum terakreditasi", "none", "not accredited"}


def parse_accreditation(value: str) -> str:
    text = " ".join(value.split()).upper()
    if text.lower() in _NOT_ACCREDITED:
        return ""
    match = re.fullmatch(r"(?:(?:TER)?AKREDITASI\s+)?([ABC])(?:\s*\(.*\))?", text)
    if not match:
        raise CellError(_("Accreditation is A, B, C or empty, not “%(value)s”.") % {"value": value})
    return match.group(1)


def choice_key(value: str) -> str:
    return " ".join(re.sub(r"[_\-]", " ", value.lower()).split())


def choice_index(choices: type[models.TextChoices], extras: Mapping[str, str]) -> dict[str, str]:
    """Every way people write a choice: its code, its label in either language, the abbreviation."""
    index: dict[str, str] = {}
    for value in choices.values:
        index[choice_key(value)] = value
    for language in ("en", "id"):
        with translation.override(language):
            for value, label in choices.choices:
                text = str(label)
                index.setdefault(choice_key(text), value)
                for inner in re.findall(r"\(([^)]*)\)", text):
                    index.setdefault(choice_key(inner), value)
                    parts = inner.split("/")
                    # "Puskesmas/RS" is two names; "Dinas Sosial Kabupaten/Kota" is one.
                    if all(" " not in part.strip() for part in parts):
                        for part in parts:
                            index.setdefault(choice_key(part), value)
    for alias, value in extras.items():
        index[choice_key(alias)] = value
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


def choice_names(choices: Iterable[str]) -> str:
    return ", ".join(sorted(choices))


class ReferenceIndex:
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


def code_of(value: str) -> str | None:
    """A Kemendagri code as typed (dots and spaces optional), or None when it is a name."""
    compact = value.replace(".", "").replace(" ", "")
    return compact if compact.isdigit() else None


def name_key(value: str) -> str:
    return " ".join(value.split()).upper()


def regency_keys(value: str) -> list[str]:
    key = re.sub(r"^KAB\.?\s+", "KABUPATEN ", name_key(value))
    if key.startswith(("KABUPATEN ", "KOTA ")):
        return [key]
    return [key, f"KABUPATEN {key}", f"KOTA {key}"]


def region_label(region: Region) -> str:
    return f"{region.name} ({region.dotted_code})"


class RegionIndex:
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
                self.by_name[region.upper_name].append(region)

    @staticmethod
    def _wrong_level(region: Region, wanted: StrOrPromise) -> CellError:
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
        code = code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown regency/city code %(code)s.") % {"code": value})
            if region.level != RegionLevel.REGENCY:
                raise self._wrong_level(region, _("a regency/city"))
            return region
        matches = {r.code: r for key in regency_keys(value) for r in self.by_name.get(key, ()) if r.level == 2}
        if not matches:
            raise CellError(_("Unknown regency/city “%(name)s”.") % {"name": value})
        if len(matches) > 1:
            raise CellError(
                _("“%(name)s” could be %(options)s; write which one, or its code.")
                % {"name": value, "options": _(" or ").join(r.name for r in matches.values())}
            )
        return next(iter(matches.values()))

    def village(self, value: str, scope: Region | None) -> Region:
        code = code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown village code %(code)s.") % {"code": value})
            if region.level != RegionLevel.VILLAGE:
                raise self._wrong_level(region, _("the code of a village (desa/kelurahan)"))
            if scope is not None and not region.code.startswith(scope.code):
                raise CellError(
                    _("The village %(village)s is not in %(area)s.")
                    % {"village": region_label(region), "area": scope.name}
                )
            return region
        matches = [
            r
            for r in self.by_name.get(name_key(value), ())
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
        code = code_of(value)
        if code is not None:
            region = self.by_code.get(code)
            if region is None:
                raise CellError(_("Unknown region code %(code)s.") % {"code": value})
            return region
        matches = [
            r
            for r in self.by_name.get(name_key(value), ())
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


def parse_nik_cell(value: str) -> str:
    nik = normalise_nik(value)
    try:
        parse_nik(nik)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None
    return nik
