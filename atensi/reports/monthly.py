"""The monthly report (laporan bulanan) of one organisation: what it did in one whole month
of its own time zone (WIB, WITA or WIT).

- Cases opened and closed in the month, by AMPK category, cluster and basis (a child in
  two AMPK categories counts once in each; "No AMPK category" holds the rest).
- Services delivered: plan items marked done in the month, per ATENSI component.
- Referrals sent and received in the month, by kind and by where they stand now.
- Aftercare visits due in the month: done, missed, still pending.

It composes cases and referrals, so it lives in the project layer. Every figure is one SQL
aggregate (GROUP BY or a filtered COUNT) over the organisation's rows; nothing loops over
cases in Python. The figures count every case of the organisation, confidential ones too:
they name no child.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError
from atensi.core.localtime import local_date, local_moment, organisation_timezone, zone_label
from atensi.core.models import AmpkCategory, Cluster, ServiceComponent
from atensi.core.spreadsheets import Sheet
from cases.models import Basis, Case, FollowUp, FollowUpKind, FollowUpStatus, PlanItem, PlanItemStatus
from referrals.models import Referral, ReferralKind, ReferralStatus
from stakeholders.models import Organisation

_MONTH = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})$")
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class Month:
    first: datetime.date  # the first day

    @property
    def next_first(self) -> datetime.date:
        return (self.first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)

    @property
    def last(self) -> datetime.date:
        return self.next_first - datetime.timedelta(days=1)

    @property
    def value(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def label(self) -> str:
        return date_format(self.first, "YEAR_MONTH_FORMAT")


def parse_month(text: str, *, today: datetime.date) -> Month:
    """A month typed as YYYY-MM; one that has not begun yet (in the organisation's today) is refused."""
    match = _MONTH.match((text or "").strip())
    if match is None or not 1 <= int(match["month"]) <= 12 or int(match["year"]) < EARLIEST_YEAR:
        raise ApplicationError(_("Choose a month as year and month, e.g. 2026-11."), field="month")
    month = Month(datetime.date(int(match["year"]), int(match["month"]), 1))
    if month.first > today:
        raise ApplicationError(
            _("%(month)s has not begun yet: choose this month or an earlier one.") % {"month": month.label},
            field="month",
        )
    return month


def previous_month(today: datetime.date) -> Month:
    return Month((today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1))


@dataclass(frozen=True)
class CaseLine:
    label: str
    opened: int
    closed: int


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int


@dataclass(frozen=True)
class ReferralLine:
    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class Aftercare:
    due: int
    done: int
    missed: int
    pending: int
    done_in_month: int  # done in the month, whenever they were due


@dataclass
class MonthlyReport:
    organisation: Organisation
    month: Month
    zone: str
    made_at: datetime.datetime
    opened: int = 0
    closed: int = 0
    by_ampk: list[CaseLine] = field(default_factory=list)
    by_cluster: list[CaseLine] = field(default_factory=list)
    by_basis: list[CaseLine] = field(default_factory=list)
    services: list[CountLine] = field(default_factory=list)
    services_total: int = 0
    referrals_sent: list[ReferralLine] = field(default_factory=list)
    referrals_received: list[ReferralLine] = field(default_factory=list)
    aftercare: Aftercare = field(default_factory=lambda: Aftercare(0, 0, 0, 0, 0))

    @property
    def referrals_sent_total(self) -> int:
        return sum(line.count for line in self.referrals_sent)

    @property
    def referrals_received_total(self) -> int:
        return sum(line.count for line in self.referrals_received)


def organisation_today(organisation: Organisation, now: datetime.datetime | None = None) -> datetime.date:
    return local_date(now or timezone.now(), organisation_timezone(organisation))


def _case_lines(
    cases: QuerySet[Case], column: str, opened: Q, closed: Q, names: Iterable[tuple[Any, str]], none: str = ""
) -> list[CaseLine]:
    """Opened and closed per value of `column`: one GROUP BY; every named value listed, zeros too."""
    counts = {
        row[column]: (row["opened"], row["closed"])
        for row in cases.filter(opened | closed)
        .values(column)
        .annotate(opened=Count("id", filter=opened, distinct=True), closed=Count("id", filter=closed, distinct=True))
        .order_by()
    }
    lines = [CaseLine(label, *counts.get(key, (0, 0))) for key, label in names]
    if none and None in counts:
        lines.append(CaseLine(none, *counts[None]))
    return lines


def _referral_lines(referrals: QuerySet[Referral]) -> list[ReferralLine]:
    kinds = dict(ReferralKind.choices)
    statuses = dict(ReferralStatus.choices)
    rows = referrals.values("kind", "status").annotate(n=Count("id")).order_by("kind", "status")
    order = {value: i for i, value in enumerate(ReferralKind.values)}
    status_order = {value: i for i, value in enumerate(ReferralStatus.values)}
    return [
        ReferralLine(
            str(kinds.get(row["kind"], row["kind"])), str(statuses.get(row["status"], row["status"])), row["n"]
        )
        for row in sorted(rows, key=lambda r: (order.get(r["kind"], 99), status_order.get(r["status"], 99)))
    ]


def monthly_report(*, organisation: Organisation, month: Month, now: datetime.datetime | None = None) -> MonthlyReport:
    tz = organisation_timezone(organisation)
    start = local_moment(month.first, 0, tz)
    end = local_moment(month.next_first, 0, tz)
    report = MonthlyReport(organisation=organisation, month=month, zone=zone_label(tz), made_at=now or timezone.now())

    cases = Case.objects.filter(organisation=organisation)
    opened = Q(opened_at__gte=start, opened_at__lt=end)
    closed = Q(closed_at__gte=start, closed_at__lt=end)
    totals = cases.aggregate(opened=Count("id", filter=opened), closed=Count("id", filter=closed))
    report.opened, report.closed = totals["opened"], totals["closed"]
    report.by_ampk = _case_lines(
        cases,
        "beneficiary__ampk_categories__code",
        opened,
        closed,
        [(c.code, c.name) for c in AmpkCategory.objects.order_by("position", "code")],
        none=_("No AMPK category"),
    )
    report.by_cluster = _case_lines(
        cases, "cluster__code", opened, closed, [(c.code, c.name) for c in Cluster.objects.order_by("position", "code")]
    )
    report.by_basis = _case_lines(cases, "basis", opened, closed, [(v, str(label)) for v, label in Basis.choices])

    done = dict(
        PlanItem.objects.filter(
            case__organisation=organisation, status=PlanItemStatus.DONE, done_at__gte=start, done_at__lt=end
        )
        .values("component__code")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("component__code", "n")
    )
    report.services = [
        CountLine(c.name, done.get(c.code, 0)) for c in ServiceComponent.objects.order_by("position", "code")
    ]
    report.services_total = sum(done.values())

    report.referrals_sent = _referral_lines(
        Referral.objects.filter(sender=organisation, sent_at__gte=start, sent_at__lt=end)
    )
    report.referrals_received = _referral_lines(
        Referral.objects.filter(receiver=organisation, sent_at__gte=start, sent_at__lt=end)
    )

    due = Q(due_on__gte=month.first, due_on__lt=month.next_first)
    visits = FollowUp.objects.filter(case__organisation=organisation, kind=FollowUpKind.AFTERCARE).filter(
        due | Q(completed_at__gte=start, completed_at__lt=end)
    )
    figures = visits.aggregate(
        due=Count("id", filter=due),
        done=Count("id", filter=due & Q(status=FollowUpStatus.DONE)),
        missed=Count("id", filter=due & Q(status=FollowUpStatus.MISSED)),
        pending=Count("id", filter=due & Q(status=FollowUpStatus.PENDING)),
        done_in_month=Count("id", filter=Q(status=FollowUpStatus.DONE, completed_at__gte=start, completed_at__lt=end)),
    )
    report.aftercare = Aftercare(**figures)
    return report


# --- The workbook --------------------------------------------------------------------------


def report_sheets(report: MonthlyReport) -> list[Sheet]:
    """The report as workbook sheets: cases, services, referrals, aftercare."""
    case_rows: list[list[object]] = [[_("All cases"), "", report.opened, report.closed]]
    for title, lines in (
        (_("AMPK category"), report.by_ampk),
        (_("Cluster"), report.by_cluster),
        (_("Basis"), report.by_basis),
    ):
        case_rows += [[title, line.label, line.opened, line.closed] for line in lines]
    referral_rows: list[list[object]] = [
        [_("Sent"), line.kind, line.status, line.count] for line in report.referrals_sent
    ] + [[_("Received"), line.kind, line.status, line.count] for line in report.referrals_received]
    aftercare = report.aftercare
    return [
        Sheet(_("Cases"), [_("Breakdown"), _("Item"), _("Opened"), _("Closed")], case_rows),
        Sheet(
            _("Services"),
            [_("ATENSI component"), _("Plan items done")],
            [[line.label, line.count] for line in report.services] + [[_("Total"), report.services_total]],
        ),
        Sheet(_("Referrals"), [_("Direction"), _("Kind"), _("Where it stands"), _("Referrals")], referral_rows),
        Sheet(
            _("Aftercare"),
            [_("Aftercare visits"), _("Number")],
            [
                [_("Due in the month"), aftercare.due],
                [_("Due and done"), aftercare.done],
                [_("Due and missed"), aftercare.missed],
                [_("Due and still pending"), aftercare.pending],
                [_("Done in the month (whenever due)"), aftercare.done_in_month],
            ],
        ),
    ]


def report_filename(report: MonthlyReport) -> str:
    return f"laporan-bulanan-{report.organisation.code.lower()}-{report.month.value}.xlsx"
