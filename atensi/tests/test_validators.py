"""NIK and phone validation: precise messages about which part is wrong."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from atensi.core.validators import parse_nik, validate_phone


def test_nik_parts_for_a_woman_have_day_plus_40():
    parts = parse_nik("1571014507100001", today=datetime.date(2026, 11, 22))
    assert parts.sex == "F" and parts.birth_date == datetime.date(2010, 7, 5)
    assert parts.district_code == "157101"


def test_nik_two_digit_year_after_today_is_last_century():
    parts = parse_nik("1571011203850002", today=datetime.date(2026, 11, 22))
    assert parts.sex == "M" and parts.birth_date == datetime.date(1985, 3, 12)


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("157101120385", "nik_format"),
        ("15710112038500021", "nik_format"),
        ("15710A1203850002", "nik_format"),
        ("1571013102850002", "nik_date"),  # 31 February
        ("1571017202850002", "nik_date"),  # day 72 - 40 = 32
        ("1500011203850002", "nik_region"),
        ("1571011203850000", "nik_sequence"),
    ],
)
def test_bad_niks_say_which_part_is_wrong(nik, code):
    with pytest.raises(ValidationError) as exc:
        parse_nik(nik)
    assert exc.value.code == code


@pytest.mark.parametrize("phone", ["0812-3456-7890", "+62 812 3456 7890", "(0741) 123456", "628123456789", ""])
def test_indonesian_phones_pass(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["12345", "+1 555 010 0000", "0812-ABC", "08123456789012345678"])
def test_other_phones_fail(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)
