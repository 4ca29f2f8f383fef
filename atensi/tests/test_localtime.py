"""An organisation's local time: WIB, WITA or WIT by its province, and moments in it."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from atensi.core.localtime import (
    PROVINCE_ZONES,
    WIB,
    WIT,
    WITA,
    first_local_hour_at_or_after,
    format_local,
    local_date,
    local_dates_span,
    local_moment,
    organisation_timezone,
    province_timezone,
    zone_label,
)
from stakeholders.models import Region, RegionLevel
from stakeholders.tests.factories import OrganisationFactory

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("11", WIB),  # Aceh
        ("15", WIB),  # Jambi
        ("31", WIB),  # Jakarta
        ("61", WIB),  # Kalimantan Barat
        ("62", WIB),  # Kalimantan Tengah
        ("51", WITA),  # Bali
        ("52", WITA),  # NTB
        ("53", WITA),  # NTT
        ("63", WITA),  # Kalimantan Selatan
        ("64", WITA),  # Kalimantan Timur
        ("65", WITA),  # Kalimantan Utara
        ("71", WITA),  # Sulawesi Utara
        ("73", WITA),  # Sulawesi Selatan
        ("76", WITA),  # Sulawesi Barat
        ("81", WIT),  # Maluku
        ("82", WIT),  # Maluku Utara
        ("91", WIT),  # Papua
        ("96", WIT),  # Papua Barat Daya
        ("1571011004", WIB),  # a village in Kota Jambi
        ("7371", WITA),  # Kota Makassar
        ("9171", WIT),  # Kota Jayapura
        ("", WIB),
        (None, WIB),
        ("99", WIB),  # unknown: Jakarta
    ],
)
def test_the_zone_follows_the_province(code: str | None, zone: ZoneInfo) -> None:
    assert province_timezone(code) == zone


@pytest.mark.django_db
def test_the_table_agrees_with_the_region_data() -> None:
    provinces = dict(Region.objects.filter(level=RegionLevel.PROVINCE).values_list("code", "utc_offset"))
    assert len(provinces) >= 38
    offsets = {WIB: 7, WITA: 8, WIT: 9}
    for code, hours in provinces.items():
        assert offsets[province_timezone(code)] == hours, code
    # Every province the table names exists, except the one reserved for the future.
    assert set(PROVINCE_ZONES) - set(provinces) <= {"97"}


@pytest.mark.django_db
def test_an_organisation_takes_the_zone_of_its_home_region_else_its_village() -> None:
    makassar = OrganisationFactory(home_region_id="7371")
    jayapura = OrganisationFactory(home_region_id="91")
    by_village = OrganisationFactory(village_id="1571011004")
    nowhere = OrganisationFactory()
    assert organisation_timezone(makassar) == WITA
    assert organisation_timezone(jayapura) == WIT
    assert organisation_timezone(by_village) == WIB
    assert organisation_timezone(nowhere) == WIB
    assert organisation_timezone(None) == WIB


def test_local_moments_have_no_daylight_saving() -> None:
    day = datetime.date(2026, 11, 23)
    assert local_moment(day, 7, WIB) == datetime.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert local_moment(day, 7, WITA) == datetime.datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert local_moment(day, 7, WIT) == datetime.datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    # Same offsets in the (northern) summer: Indonesia keeps no daylight saving.
    june = datetime.date(2026, 6, 1)
    assert local_moment(june, 7, WIT).utcoffset() == datetime.timedelta(hours=9)


def test_the_local_day_differs_across_the_country_around_midnight() -> None:
    moment = datetime.datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 22:30 WIB, 23:30 WITA, 00:30 WIT
    assert local_date(moment, WIB) == datetime.date(2026, 11, 22)
    assert local_date(moment, WITA) == datetime.date(2026, 11, 22)
    assert local_date(moment, WIT) == datetime.date(2026, 11, 23)
    assert local_dates_span(moment) == (datetime.date(2026, 11, 22), datetime.date(2026, 11, 23))


def test_the_first_morning_at_or_after_a_moment() -> None:
    seven_wita = datetime.datetime(2026, 11, 23, 7, 0, tzinfo=WITA)
    assert first_local_hour_at_or_after(seven_wita, 7, WITA) == seven_wita
    assert first_local_hour_at_or_after(seven_wita + datetime.timedelta(minutes=1), 7, WITA) == (
        seven_wita + datetime.timedelta(days=1)
    )
    early = datetime.datetime(2026, 11, 23, 3, 0, tzinfo=WIT)
    assert first_local_hour_at_or_after(early, 7, WIT) == datetime.datetime(2026, 11, 23, 7, 0, tzinfo=WIT)


def test_a_moment_is_written_with_the_zone_label() -> None:
    from django.utils import translation

    moment = datetime.datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    with translation.override("en"):
        assert format_local(moment, WITA).endswith("WITA")
        assert "3 p.m." in format_local(moment, WITA)
    assert [zone_label(z) for z in (WIB, WITA, WIT)] == ["WIB", "WITA", "WIT"]
