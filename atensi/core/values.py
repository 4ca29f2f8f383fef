"""Value types of the kernel: the NIK and the Indonesian phone number.

One place for each rule, so a form, a model field, a spreadsheet import and a service
accept exactly the same values and refuse them with the same words:

- `normalise_nik(raw)` (and `normalise_kk` for the family card) turn a NIK as people type
  it into digits; `parse_nik(nik)` reads its parts (`NikFacts`) or says which part is
  wrong; `validate_nik` is the model field validator; `nik_problem` the message or None;
  `mask_nik` what a list shows of it.
- `normalise_phone(raw)` strips what people type between the digits; `validate_phone`
  refuses a number that is not Indonesian.

Normalising only removes separators. Anything else — letters, digits of another script
(Arabic-Indic, full-width), a wrong length — stays in the value and is refused by the
validator, so nothing is silently changed into a different number. The database
constraints (`nik ~ '^[0-9]{16}$'`) repeat the rule.

This module imports no app: it is part of the kernel.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NIK_LENGTH = 16
# ASCII digits only: [0-9], not \d, which also matches other scripts' digits.
NIK_RE = re.compile(r"^[0-9]{16}$")
# What people type between the groups of a NIK or KK: "1571 0157 0515 0001", "1571.01...".
_NUMBER_SEPARATORS = re.compile(r"[\s.\-]")

# Indonesian numbers as people write them: 0812-3456-7890, +62 812 3456 7890, (0741) 123456.
PHONE_RE = re.compile(r"^(?:\+62|62|0)[0-9]{6,13}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
# A mobile number that went through a spreadsheet as a number lost its leading 0.
_MOBILE_WITHOUT_ZERO = re.compile(r"8[0-9]{8,12}")


# --- NIK --------------------------------------------------------------------------------


def normalise_nik(raw: str | None) -> str:
    """A NIK as people type it as its digits ("" when nothing was typed). Not validated."""
    return _NUMBER_SEPARATORS.sub("", raw or "")


def normalise_kk(raw: str | None) -> str:
    """A family card (KK) number as people type it: written like a NIK, 16 digits."""
    return _NUMBER_SEPARATORS.sub("", raw or "")


def is_nik_shaped(value: str) -> bool:
    """Sixteen ASCII digits: what a NIK search looks for, before any date check."""
    return bool(NIK_RE.match(value or ""))


def is_kk_shaped(value: str) -> bool:
    """A KK number is checked leniently: 16 digits, its date and serial follow no checkable rule."""
    return bool(NIK_RE.match(value or ""))


@dataclass(frozen=True)
class NikFacts:
    """What a valid NIK says: `PP KK CC DD MM YY SSSS`."""

    district_code: str  # digits 1-6: the kecamatan where the NIK was issued
    birth_date: datetime.date
    sex: str  # "M" or "F": women's day of birth is written plus 40
    sequence: str

    @property
    def province_code(self) -> str:
        return self.district_code[:2]

    @property
    def regency_code(self) -> str:
        return self.district_code[:4]


def parse_nik(value: str, *, today: datetime.date | None = None) -> NikFacts:
    """Split a NIK into its parts or raise ValidationError saying which part is wrong.

    `value` is expected normalised (`normalise_nik`); surrounding spaces are tolerated.
    Whether digits 1-6 are a kecamatan in today's list is checked by the caller against
    the region table, and is only a warning: codes change when regions split. A birth date
    later than today is returned as it is (this year's): the caller decides whether that is
    an error, as registering a child is, or only a typing slip.
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
    today = today or timezone.localdate()
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
    return NikFacts(district_code=value[:6], birth_date=birth, sex=sex, sequence=value[12:])


def build_nik(*, district_code: str, birth_date: datetime.date, sex: str, sequence: str) -> str:
    """A NIK as Dukcapil writes it, the inverse of `parse_nik`: the kecamatan code, the birth
    date as DDMMYY with 40 added to a woman's day, then the serial."""
    day = birth_date.day + (40 if sex == "F" else 0)
    return f"{district_code[:6]}{day:02d}{birth_date:%m%y}{sequence}"


def nik_facts_or_none(value: str) -> NikFacts | None:
    """The parts of a valid NIK, or None for an empty or invalid one."""
    try:
        return parse_nik(value) if value else None
    except ValidationError:
        return None


def nik_problem(value: str) -> str | None:
    """What is wrong with a NIK, in the user's language, or None (an empty NIK is fine)."""
    if not value:
        return None
    try:
        parse_nik(value)
    except ValidationError as exc:
        return str(exc.messages[0])
    return None


def validate_nik(value: str) -> None:
    """The model field validator (blank is the field's business)."""
    parse_nik(value)


def mask_nik(nik: str, *, fill: str = "•") -> str:
    """Enough of a NIK to tell two people apart on a list: the district code and the serial."""
    return f"{nik[:6]}{fill * 6}{nik[-4:]}" if nik else ""


# --- Phone ------------------------------------------------------------------------------


def normalise_phone(value: str | None) -> str:
    """Strip the spaces, dashes, dots and brackets people type; keep the leading +."""
    return _PHONE_SEPARATORS.sub("", value or "")


def restore_mobile_zero(phone: str) -> str:
    """A normalised mobile number that lost its leading 0 in a spreadsheet, with it back."""
    return "0" + phone if _MOBILE_WITHOUT_ZERO.fullmatch(phone) else phone


def validate_phone(value: str) -> None:
    """Refuse a number that is not Indonesian; an empty one is fine (fields are optional)."""
    if not value:
        return
    if not PHONE_RE.match(normalise_phone(value)):
        raise ValidationError(
            _("Enter an Indonesian phone number, e.g. 0812 3456 7890 or +62 812 3456 7890."), code="phone"
        )
