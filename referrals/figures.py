"""Per-organisation referral figures: how quickly and how often an organisation answers
the referrals it receives. Shown on the inbox and on /referrals/figures/, and meant for
the dashboards of a later issue (a plain dataclass per organisation, no request needed).

All figures come from one grouped query, computed in PostgreSQL (the median with
`percentile_cont`), whatever the number of referrals:

- received: referrals sent to the organisation in the period (as sender: referrals it sent);
- answered: referrals it answered (accepted or declined) in the period — `answered_at`
  in the period; an accepted referral the sender cancelled later still counts as
  accepted, since the receiver did answer, and answered yes;
- median time to respond: the median of `answered_at - sent_at` over the answered ones;
- acceptance rate: accepted (later completed or cancelled included) / answered;
- waiting and overdue: referrals waiting for its answer now, and those past their
  deadline (the same condition as `selectors.overdue_count`), whatever the period.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet
from django.utils import timezone
from django.utils.timesince import TIME_STRINGS

from cases.models import Case

from .models import Referral, ReferralStatus

DEFAULT_PERIOD_DAYS = 90
# The periods the figures page offers, in days.
PERIODS = (30, 90, 365)
NOTHING = "—"  # a figure that cannot be computed yet (nothing answered)
RECEIVER = "receiver"
SENDER = "sender"


class Median(Aggregate):
    """The continuous median of an expression (PostgreSQL's ordered-set aggregate).

    The FILTER clause of a filtered aggregate goes after WITHIN GROUP, where Aggregate's
    template puts `%(filter)s`.
    """

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"


@dataclass(frozen=True)
class Figures:
    organisation_id: int
    since: datetime.datetime
    received: int = 0
    answered: int = 0
    accepted: int = 0
    median_response: datetime.timedelta | None = None
    waiting: int = 0
    overdue: int = 0

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.answered if self.answered else None

    @property
    def median_label(self) -> str:
        return format_duration(self.median_response) if self.median_response is not None else NOTHING

    @property
    def rate_label(self) -> str:
        rate = self.acceptance_rate
        return format_percent(rate) if rate is not None else NOTHING


def default_since(now: datetime.datetime | None = None, days: int = DEFAULT_PERIOD_DAYS) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=days)


def referral_figures(
    *,
    organisation_ids: Iterable[int],
    since: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    side: str = RECEIVER,
) -> dict[int, Figures]:
    """Figures of each organisation as receiver (or, `side=SENDER`, as sender: how the
    referrals it sent were answered) from `since` (default: the last 90 days) up to and
    including `until` (default: now). Waiting and overdue are always as of now.

    Every organisation asked for is in the answer, with zeros when it had nothing.
    The caller decides who may see which organisation's figures.
    """
    ids = sorted(set(organisation_ids))
    now = now or timezone.now()
    since = since or default_since(now)
    if not ids:
        return {}
    column = f"{side}_id"
    during = between(since, until or now)
    rows = (
        _period_rows(Referral.objects.filter(**{f"{column}__in": ids}), during)
        .values(column)
        .annotate(**_figures(during, now))
    )
    found: dict[int, dict[str, Any]] = {row[column]: dict(row) for row in rows}
    return {org_id: _from_row(org_id, since, found.get(org_id, {})) for org_id in ids}


# "The moment at this path falls in the period", as a condition on a referral.
During = Callable[[str], Q]


def between(since: datetime.datetime, until: datetime.datetime) -> During:
    """A period of moments, `since` up to and including `until`."""
    return lambda path: Q(**{f"{path}__gte": since, f"{path}__lte": until})


def referral_case_figures(
    *, cases: QuerySet[Case], during: During, since: datetime.datetime, now: datetime.datetime | None = None
) -> Figures:
    """The figures of every referral of `cases` (a region's, say), whoever sent or received
    it, in the period `during` says (a region's: each case's organisation's local days)."""
    now = now or timezone.now()
    row = _period_rows(Referral.objects.filter(case__in=cases), during).aggregate(**_figures(during, now))
    return _from_row(0, since, row)


def _period_rows(qs: QuerySet[Referral], during: During) -> QuerySet[Referral]:
    # Only the rows some figure reads: the period's and the waiting ones.
    return qs.filter(during("sent_at") | during("answered_at") | Q(status=ReferralStatus.SENT)).order_by()


def _figures(during: During, now: datetime.datetime) -> dict[str, Aggregate]:
    answered = during("answered_at")
    accepted = answered & ~Q(status=ReferralStatus.DECLINED)
    waiting = Q(status=ReferralStatus.SENT)
    return {
        "received": Count("pk", filter=during("sent_at")),
        "answered": Count("pk", filter=answered),
        "accepted": Count("pk", filter=accepted),
        "median": Median(F("answered_at") - F("sent_at"), filter=answered, output_field=DurationField()),
        "waiting": Count("pk", filter=waiting),
        "overdue": Count("pk", filter=waiting & Q(respond_by__lt=now)),
    }


def _from_row(org_id: int, since: datetime.datetime, row: dict[str, Any]) -> Figures:
    return Figures(
        organisation_id=org_id,
        since=since,
        received=row.get("received") or 0,
        answered=row.get("answered") or 0,
        accepted=row.get("accepted") or 0,
        median_response=row.get("median"),
        waiting=row.get("waiting") or 0,
        overdue=row.get("overdue") or 0,
    )


def format_duration(value: datetime.timedelta) -> str:
    """A duration as people say it, in its two largest units: "2 days 3 hours",
    "5 hours 20 minutes", "12 minutes" (Django's own translated unit names)."""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [TIME_STRINGS["day"] % {"num": days}] + ([TIME_STRINGS["hour"] % {"num": hours}] if hours else [])
    elif hours:
        parts = [TIME_STRINGS["hour"] % {"num": hours}] + (
            [TIME_STRINGS["minute"] % {"num": minutes}] if minutes else []
        )
    else:
        parts = [TIME_STRINGS["minute"] % {"num": minutes}]
    return " ".join(parts)


def format_percent(rate: float) -> str:
    return f"{round(rate * 100)}%"
