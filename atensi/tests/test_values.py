"""The kernel's value types: one NIK rule and one phone rule for every form, field, import
and service."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from atensi.core import validators, values
from atensi.core.values import (
    build_nik,
    is_kk_shaped,
    is_nik_shaped,
    mask_nik,
    nik_facts_or_none,
    nik_problem,
    normalise_kk,
    normalise_nik,
    normalise_phone,
    parse_nik,
    restore_mobile_zero,
    validate_nik,
    validate_phone,
)

TODAY = datetime.date(2026, 11, 22)


# --- Normalising -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1571 0157 0515 0001", "1571015705150001"),
        ("1571.01.5705150001", "1571015705150001"),
        ("157101-570515-0001", "1571015705150001"),
        ("  1571015705150001\t", "1571015705150001"),
        ("1571\u00a0015705150001", "1571015705150001"),  # a no-break space from a PDF
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_nik_strips_what_people_type_between_the_groups(raw, expected):
    assert normalise_nik(raw) == expected
    assert normalise_kk(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "15710157051500O1",  # a letter O for a zero
        "\u0661\u0665\u0667\u0661\u0660\u0661\u0665\u0667\u0660\u0665\u0661\u0665\u0660\u0660\u0660\u0661",
        "\uff11\uff15\uff17\uff11\uff10\uff11\uff15\uff17\uff10\uff15\uff11\uff15\uff10\uff10\uff10\uff11",
    ],
)
def test_normalising_changes_no_character_into_another(raw):
    # Other scripts' digits and letters stay, so the validator refuses them rather than a
    # different number being stored.
    assert normalise_nik(raw) == raw
    assert not is_nik_shaped(raw)
    with pytest.raises(ValidationError) as exc:
        parse_nik(raw)
    assert exc.value.code == "nik_format"


@pytest.mark.parametrize(
    ("nik", "shaped"),
    [
        ("1571015705150001", True),
        ("157101570515000", False),  # 15 digits
        ("15710157051500012", False),  # 17 digits
        ("1571 0157 0515 0001", False),  # not normalised
        ("", False),
    ],
)
def test_nik_shape_is_sixteen_ascii_digits(nik, shaped):
    assert is_nik_shaped(nik) is shaped
    assert is_kk_shaped(nik) is shaped


# --- Parsing ---------------------------------------------------------------------------


def test_nik_facts_of_a_man():
    facts = parse_nik("1571011203850002", today=TODAY)
    assert facts.sex == "M" and facts.birth_date == datetime.date(1985, 3, 12)
    assert (facts.province_code, facts.regency_code, facts.district_code) == ("15", "1571", "157101")
    assert facts.sequence == "0002"


def test_nik_facts_of_a_woman_have_day_plus_40():
    facts = parse_nik("1571014507100001", today=TODAY)
    assert facts.sex == "F" and facts.birth_date == datetime.date(2010, 7, 5)


def test_day_40_is_a_man_and_day_41_a_woman():
    with pytest.raises(ValidationError):  # day 40 of a man is no date
        parse_nik("1571014001100001", today=TODAY)
    assert parse_nik("1571014101100001", today=TODAY).birth_date == datetime.date(2010, 1, 1)
    assert parse_nik("1571017101100001", today=TODAY).birth_date == datetime.date(2010, 1, 31)


def test_two_digit_year_after_this_year_is_last_century():
    assert parse_nik("1571011203270002", today=TODAY).birth_date == datetime.date(1927, 3, 12)
    assert parse_nik("1571011203260002", today=TODAY).birth_date == datetime.date(2026, 3, 12)


def test_a_birth_date_later_this_year_is_returned_for_the_caller_to_refuse():
    facts = parse_nik("1571012512260002", today=TODAY)
    assert facts.birth_date == datetime.date(2026, 12, 25) > TODAY


def test_today_is_the_local_date_not_the_servers():
    # 18:00 UTC on 31 December is already 1 January in Jakarta: a NIK born "010127" is a
    # newborn there, not someone born in 1927.
    wib_new_year = datetime.datetime(2026, 12, 31, 18, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with time_machine.travel(wib_new_year, tick=False):
        assert parse_nik("1571010101270001").birth_date == datetime.date(2027, 1, 1)


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("157101120385000", "nik_format"),  # 15 digits
        ("15710112038500021", "nik_format"),  # 17 digits
        ("15710A1203850002", "nik_format"),
        ("1571 0112 0385 0002", "nik_format"),  # normalise first
        ("0071011203850002", "nik_region"),
        ("1500011203850002", "nik_region"),
        ("1571001203850002", "nik_region"),
        ("1571013102850002", "nik_date"),  # 31 February
        ("1571017202850002", "nik_date"),  # day 72 - 40 = 32
        ("1571010013850002", "nik_date"),  # month 13
        ("1571014000850002", "nik_date"),  # day 0 (a woman's day 40)
        ("1571011203850000", "nik_sequence"),
    ],
)
def test_bad_niks_say_which_part_is_wrong(nik, code):
    with pytest.raises(ValidationError) as exc:
        parse_nik(nik, today=TODAY)
    assert exc.value.code == code
    with pytest.raises(ValidationError):
        validate_nik(nik)
    assert nik_problem(nik) == str(exc.value.messages[0])
    assert nik_facts_or_none(nik) is None


def test_the_date_message_names_the_digits():
    problem = nik_problem("1571013102850002")
    assert problem is not None and "310285" in problem


def test_an_empty_nik_is_no_problem_and_has_no_facts():
    assert nik_problem("") is None
    assert nik_facts_or_none("") is None


def test_a_good_nik_is_no_problem():
    assert nik_problem("1571014507100001") is None
    validate_nik("1571014507100001")


@pytest.mark.parametrize("sex", ["M", "F"])
def test_build_nik_is_the_inverse_of_parse_nik(sex):
    nik = build_nik(district_code="157101", birth_date=datetime.date(2010, 7, 5), sex=sex, sequence="0001")
    assert nik == ("1571010507100001" if sex == "M" else "1571014507100001")
    facts = parse_nik(nik, today=TODAY)
    assert (facts.district_code, facts.birth_date, facts.sex, facts.sequence) == (
        "157101",
        datetime.date(2010, 7, 5),
        sex,
        "0001",
    )


def test_a_masked_nik_keeps_the_district_and_the_serial():
    assert mask_nik("1571014507100001") == "157101••••••0001"
    assert mask_nik("1571014507100001", fill="*") == "157101******0001"
    assert mask_nik("") == ""


def test_the_old_import_path_is_the_same_validator():
    # The migrations name atensi.core.validators.validate_nik: it must stay the same object, or
    # makemigrations sees a changed field.
    assert validators.validate_nik is values.validate_nik
    assert validators.validate_phone is values.validate_phone


# --- Phones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "081234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("(0741) 123456", "0741123456"),
        ("0812.3456.7890", "081234567890"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_phone_keeps_the_plus_and_the_digits(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("phone", ["0812-3456-7890", "+62 812 3456 7890", "(0741) 123456", "628123456789", ""])
def test_indonesian_phones_pass(phone):
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "+1 555 010 0000",
        "0812-ABC",
        "08123456789012345678",
        "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666",
    ],
)
def test_other_phones_fail(phone):
    with pytest.raises(ValidationError) as exc:
        validate_phone(phone)
    assert exc.value.code == "phone"


@pytest.mark.parametrize(
    ("phone", "expected"),
    [("81234567890", "081234567890"), ("081234567890", "081234567890"), ("741123456", "741123456")],
)
def test_a_mobile_number_that_lost_its_zero_in_a_spreadsheet_gets_it_back(phone, expected):
    assert restore_mobile_zero(phone) == expected
