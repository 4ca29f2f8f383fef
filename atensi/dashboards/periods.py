"""The dashboards' periods: a whole month, quarter or year for everyone, and a range of days
for exact readers only.

Aggregate readers get whole calendar periods only: two overlapping custom ranges could be
subtracted from each other to find one child (see atensi.core.disclosure). The `period`
parameter reads `2026-11` (a month), `2026-Q4` (a quarter) or `2026` (a year); exact readers
may send `from` and `to` (YYYY-MM-DD, both included) instead. Anything else is answered with a
message and the current month.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from cases.figures import Days

MONTH, QUARTER, YEAR, RANGE = "month", "quarter", "year", "range"
_MONTH = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})$")
_QUARTER = re.compile(r"^(?P<year>[0-9]{4})-[Qq](?P<quarter>[1-4])$")
_YEAR = re.compile(r"^(?P<year>[0-9]{4})$")
FIRST_YEAR = 2000
# A custom range is at most this long (a longer question is a year's).
MAX_RANGE_DAYS = 366


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date
    end: datetime.date  # the day after the last

    @property
    def days(self) -> Days:
        return Days(self.start, self.end)

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def param(self) -> str:
        """The `period` parameter that asks for this period ("" for a range)."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return f"{self.start.year}"
        return ""

    @property
    def query(self) -> dict[str, str]:
        if self.kind == RANGE:
            return {"from": self.start.isoformat(), "to": self.last_day.isoformat()}
        return {"period": self.param}

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return formats.date_format(self.start, "YEAR_MONTH_FORMAT")
        if self.kind == QUARTER:
            return _("Quarter %(quarter)s %(year)s") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        if self.kind == YEAR:
            return str(self.start.year)
        return _("%(start)s to %(end)s") % {
            "start": formats.date_format(self.start, "SHORT_DATE_FORMAT"),
            "end": formats.date_format(self.last_day, "SHORT_DATE_FORMAT"),
        }

    def shifted(self, *, months: int) -> Period:
        """The same kind of period `months` later (earlier when negative); a range of days
        moves by whole months and keeps its length."""
        if self.kind == RANGE:
            length = self.end - self.start
            start = _shift_day(self.start, months)
            return Period(RANGE, start, start + length)
        return Period(self.kind, _add_months(self.start, months), _add_months(self.end, months))

    def previous(self) -> Period:
        """The period just before: last month, last quarter, last year, or the range of the
        same length ending where this one starts."""
        if self.kind == MONTH:
            return self.shifted(months=-1)
        if self.kind == QUARTER:
            return self.shifted(months=-3)
        if self.kind == YEAR:
            return self.shifted(months=-12)
        length = self.end - self.start
        return Period(RANGE, self.start - length, self.start)

    def year_before(self) -> Period:
        return self.shifted(months=-12)


def _shift_day(day: datetime.date, months: int) -> datetime.date:
    first = _add_months(day.replace(day=1), months)
    following = _add_months(first, 1)
    return first.replace(day=min(day.day, (following - datetime.timedelta(days=1)).day))


def month_of(day: datetime.date) -> Period:
    start = day.replace(day=1)
    return Period(MONTH, start, _add_months(start, 1))


def year_of(day: datetime.date) -> Period:
    return Period(YEAR, datetime.date(day.year, 1, 1), datetime.date(day.year + 1, 1, 1))


def last_months(period: Period, count: int = 12) -> list[Period]:
    """The `count` months ending with the period's last month, oldest first (the line chart)."""
    last = month_of(period.last_day)
    return [last.shifted(months=-i) for i in range(count - 1, -1, -1)]


def parse_period(params: Mapping[str, str], *, today: datetime.date, allow_range: bool) -> tuple[Period, str | None]:
    """The period asked for, or the current month and a message saying why not."""
    start, end = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if start or end:
        if not allow_range:
            return month_of(today), _(
                "Custom ranges of days are for readers of exact figures; showing whole months, quarters or years."
            )
        try:
            first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
        except ValueError:
            return month_of(today), _("The dates must be written as YYYY-MM-DD; showing this month.")
        if last < first:
            return month_of(today), _("The range ends before it starts; showing this month.")
        if (last - first).days >= MAX_RANGE_DAYS or first.year < FIRST_YEAR:
            return month_of(today), _("A range can be at most a year long; showing this month.")
        return Period(RANGE, first, last + datetime.timedelta(days=1)), None
    value = (params.get("period") or "").strip()
    if not value:
        return month_of(today), None
    period = _parse_calendar(value)
    if period is None or period.start.year < FIRST_YEAR or period.start > today:
        return month_of(today), _("Unknown period “%(period)s”; showing this month.") % {"period": value[:20]}
    return period, None


def _parse_calendar(value: str) -> Period | None:
    if match := _MONTH.match(value):
        month = int(match["month"])
        if not 1 <= month <= 12:
            return None
        return month_of(datetime.date(int(match["year"]), month, 1))
    if match := _QUARTER.match(value):
        start = datetime.date(int(match["year"]), 3 * (int(match["quarter"]) - 1) + 1, 1)
        return Period(QUARTER, start, _add_months(start, 3))
    if match := _YEAR.match(value):
        return year_of(datetime.date(int(match["year"]), 1, 1))
    return None


def choices(today: datetime.date) -> list[tuple[str, str]]:
    """The picker's whole periods: the last 12 months, the last 4 quarters, the last 3 years."""
    this_month = month_of(today)
    months = [this_month.shifted(months=-i) for i in range(12)]
    quarter_start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    this_quarter = Period(QUARTER, quarter_start, _add_months(quarter_start, 3))
    quarters = [this_quarter.shifted(months=-3 * i) for i in range(4)]
    years = [year_of(today).shifted(months=-12 * i) for i in range(3)]
    return [(p.param, p.label) for p in (*months, *quarters, *years)]
