"""Validators for Indonesian identifiers and contact details, shared by every app."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NIK_RE = re.compile(r"^[0-9]{16}$")
# Indonesian numbers as people write them: 0812-3456-7890, +62 812 3456 7890, (0741) 123456.
PHONE_RE = re.compile(r"^(?:\+62|62|0)[0-9]{6,13}$")


def normalise_phone(value: str) -> str:
    """Strip the spaces, dashes, dots and brackets people type; keep the leading +."""
    return re.sub(r"[\s\-.()]", "", value or "")


def validate_phone(value: str) -> None:
    if not value:
        return
    if not PHONE_RE.match(normalise_phone(value)):
        raise ValidationError(
            _("Enter an Indonesian phone number, e.g. 0812 3456 7890 or +62 812 3456 7890."), code="phone"
        )


@dataclass(frozen=True)
class NikParts:
    district_code: str  # digits 1-6: the kecamatan where the NIK was issued
    birth_date: datetime.date
    sex: str  # "M" or "F": women's day of birth is written plus 40
    sequence: str


def parse_nik(value: str, *, today: datetime.date | None = None) -> NikParts:
    """Split a NIK into its parts or raise ValidationError saying which part is wrong.

    Whether digits 1-6 are a kecamatan in today's list is checked by the caller against
    the region table, and is only a warning: codes change when regions split.
    """
    value = (value or "").strip()
    if not NIK_RE.match(value):
        raise ValidationError(_("A NIK has exactly 16 digits."), code="nik_format")
    if value[:2] in {"00"} or value[2:4] == "00" or value[4:6] == "00":
        raise ValidationError(_("Digits 1 to 6 of a NIK are a district code and cannot contain 00."), code="nik_region")
    day, month, year2 = int(value[6:8]), int(value[8:10]), int(value[10:12])
    sex = "M"
    if day > 40:
        sex, day = "F", day - 40
    today = today or datetime.date.today()
    # Two-digit years: a birth year after this year must be last century.
    century = 2000 if 2000 + year2 <= today.year else 1900
    try:
        birth = datetime.date(century + year2, month, day)
    except ValueError:
        raise ValidationError(
            _("Digits 7 to 12 of a NIK are the birth date (DDMMYY, day plus 40 for women); %(digits)s is not a date.")
            % {"digits": value[6:12]},
            code="nik_date",
        ) from None
    if value[12:] == "0000":
        raise ValidationError(_("The last 4 digits of a NIK cannot be 0000."), code="nik_sequence")
    return NikParts(district_code=value[:6], birth_date=birth, sex=sex, sequence=value[12:])


def validate_nik(value: str) -> None:
    parse_nik(value)
