"""The monthly report (laporan bulanan) of one organisation, or of one province or kab/kota:
what was done in one whole month of its own time zone (WIB, WITA or WIT).

- Cases opened and closed in the month, by AMPK category, cluster and basis (a child in
  two AMPK categories counts once in each; "No AMPK category" holds the rest).
- Services delivered: plan items marked done in the month, per ATENSI component.
- Referrals sent and received in the month, by kind and by where they stand now (a
  region's: every referral of its children's cases sent in the month).
- Aftercare visits due in the month: done, missed, still pending.

An organisation's report counts its own cases; a region's counts the cases of the
children who live there (their kab/kota), whichever organisation holds them. How the
figures are shown is atensi.core.disclosure's: exact for a supervisor of the organisation
(and superusers), small cells hidden and counts rounded for everyone else — an org admin,
a Dinas Sosial reading its province, a national viewer (`shown_report`).

It composes cases and referrals, so it lives in the project layer. Every figure is one SQL
aggregate (GROUP BY or a filtered COUNT) over the organisation's rows; nothing loops over
cases in Python. The figures count every case of the organisation, confidential ones too:
they name no child, and are shown as the reader's disclosure allows.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atensi.core.disclosure import Disclosure, Shown, show, show_row
from atensi.core.errors import ApplicationError
from atensi.core.localtime import local_date, local_moment, organisation_timezone, province_timezone, zone_label
from atensi.core.models import AmpkCategory, Cluster, ServiceComponent
from atensi.core.spreadsheets import Sheet
from cases.models import Basis, Case, FollowUp, FollowUpKind, FollowUpStatus, PlanItem, PlanItemStatus
from referrals.models import Referral, ReferralKind, ReferralStatus
from stakeholders.models import Organisation, Region, RegionLevel

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


@dataclass(frozen=True)
class Scope:
    """Whose month: an organisation's own cases, or the cases of the children living in a
    province or kab/kota (`region_codes`: the kab/kota codes, matched on the beneficiary's)."""

    title: str
    code: str  # the organisation's code, or the region's
    zone: ZoneInfo
    organisation: Organisation | None = None
    region: Region | None = None
    region_codes: tuple[str, ...] = ()

    @property
    def regional(self) -> bool:
        return self.organisation is None

    def case_filter(self, prefix: str = "") -> Q:
        if self.organisation is not None:
            return Q(**{f"{prefix}organisation": self.organisation})
        return Q(**{f"{prefix}beneficiary__regency_code__in": list(self.region_codes)})


def organisation_scope(organisation: Organisation) -> Scope:
    return Scope(
        title=organisation.name,
        code=organisation.code,
        zone=organisation_timezone(organisation),
        organisation=organisation,
    )


def region_scope(region: Region) -> Scope:
    """A province (every kab/kota in it) or a kab/kota; the zone is the province's."""
    if region.level == RegionLevel.REGENCY:
        codes: tuple[str, ...] = (region.code,)
    else:
        codes = tuple(
            Region.objects.filter(parent_id=region.code, level=RegionLevel.REGENCY)
            .order_by("code")
            .values_list("code", flat=True)
        )
    return Scope(
        title=region.name, code=region.code, zone=province_timezone(region.code), region=region, region_codes=codes
    )


@dataclass
class MonthlyReport:
    scope: Scope
    month: Month
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
    def zone(self) -> str:
        return zone_label(self.scope.zone)


def today_in(scope: Scope, now: datetime.datetime | None = None) -> datetime.date:
    return local_date(now or timezone.now(), scope.zone)


def _case_lines(
    cases: QuerySet[Case], column: str, opened: Q, closed: Q, names: Iterable[tuple[Any, str]], none: str = ""
) -> list[CaseLine]:
    """Opened and closed per value of `column`: a GROUP BY each (each on its own month's
    range of one index); every named value listed, zeros too."""

    # Only a column through the children's AMPK categories can repeat a case.
    distinct = "__ampk_categories__" in column

    def counts(within: Q) -> dict[Any, int]:
        rows = cases.filter(within).values(column).annotate(n=Count("id", distinct=distinct)).order_by()
        return {row[column]: row["n"] for row in rows}

    opened_by, closed_by = counts(opened), counts(closed)
    lines = [CaseLine(label, opened_by.get(key, 0), closed_by.get(key, 0)) for key, label in names]
    if none and (None in opened_by or None in closed_by):
        lines.append(CaseLine(none, opened_by.get(None, 0), closed_by.get(None, 0)))
    return lines


def _referral_lines(referrals: QuerySet[Referral]) -> list[ReferralLine]:
    kinds = dict(ReferralKind.choices)
    statuses = dict(ReferralStatus.choices)
    rows = referrals.values("kind", "status").annotate(n=Count("id")).order_by("kind", "status")
    order = {value: i for i, value in enumerate(ReferralKind.values)}
    status_order = {value: i for i, value in enumerate(ReferralStatus.values)}
    ordered = sorted(rows, key=lambda r: (order.get(r["kind"], 99), status_order.get(r["status"], 99)))
    return [
        ReferralLine(str(kinds.get(r["kind"], r["kind"])), str(statuses.get(r["status"], r["status"])), r["n"])
        for r in ordered
    ]


def monthly_report(*, scope: Scope, month: Month, now: datetime.datetime | None = None) -> MonthlyReport:
    start = local_moment(month.first, 0, scope.zone)
    end = local_moment(month.next_first, 0, scope.zone)
    report = MonthlyReport(scope=scope, month=month, made_at=now or timezone.now())

    cases = Case.objects.filter(scope.case_filter())
    opened = Q(opened_at__gte=start, opened_at__lt=end)
    closed = Q(closed_at__gte=start, closed_at__lt=end)
    report.opened, report.closed = cases.filter(opened).count(), cases.filter(closed).count()
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
            scope.case_filter("case__"), status=PlanItemStatus.DONE, done_at__gte=start, done_at__lt=end
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

    sent_in_month = Referral.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if scope.organisation is not None:
        report.referrals_sent = _referral_lines(sent_in_month.filter(sender=scope.organisation))
        report.referrals_received = _referral_lines(sent_in_month.filter(receiver=scope.organisation))
    else:
        report.referrals_sent = _referral_lines(sent_in_month.filter(scope.case_filter("case__")))

    due = Q(due_on__gte=month.first, due_on__lt=month.next_first)
    visits = FollowUp.objects.filter(scope.case_filter("case__"), kind=FollowUpKind.AFTERCARE).filter(
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


# --- As the reader may see it --------------------------------------------------------------


@dataclass(frozen=True)
class ShownLine:
    label: str
    values: tuple[Shown, ...]


@dataclass(frozen=True)
class ShownTable:
    title: str
    columns: tuple[str, ...]  # the first names the labels
    lines: list[ShownLine]
    total: tuple[Shown, ...] | None = None  # the column totals, where the lines partition them
    testid: str = ""


@dataclass(frozen=True)
class ShownReport:
    report: MonthlyReport
    disclosure: Disclosure
    opened: Shown
    closed: Shown
    case_tables: list[ShownTable]
    services: ShownTable
    referrals: list[ShownTable]
    aftercare: ShownTable
    aftercare_done_in_month: Shown

    @property
    def aggregate(self) -> bool:
        return self.disclosure is Disclosure.AGGREGATE


def _column_totals(
    columns: list[list[int]], disclosure: Disclosure
) -> tuple[tuple[Shown, ...], list[tuple[Shown, ...]]]:
    """Each column shown as `disclosure` allows, with its total made the disclosure's way."""
    rows = [show_row(column, disclosure) for column in columns]
    cells = [tuple(row.cells[i] for row in rows) for i in range(len(columns[0]) if columns else 0)]
    return tuple(row.total for row in rows), cells


def _table(
    title: str,
    columns: tuple[str, ...],
    labels: list[str],
    counts: list[tuple[int, ...]],
    disclosure: Disclosure,
    *,
    testid: str,
    totals: bool = True,
) -> ShownTable:
    by_column = [[row[i] for row in counts] for i in range(len(columns) - 1)]
    total, cells = _column_totals(by_column, disclosure)
    return ShownTable(
        title=title,
        columns=columns,
        lines=[ShownLine(label, cells[i]) for i, label in enumerate(labels)],
        total=total if totals else None,
        testid=testid,
    )


def shown_report(report: MonthlyReport, disclosure: Disclosure) -> ShownReport:
    """The report as `disclosure` lets the reader see it (atensi.core.disclosure): exact, or
    small cells hidden and every count rounded, a table's total made from its shown cells."""
    case_columns = (_("Item"), _("Opened"), _("Closed"))

    def case_table(title: str, lines: list[CaseLine], testid: str, totals: bool) -> ShownTable:
        return _table(
            title,
            (title, *case_columns[1:]),
            [line.label for line in lines],
            [(line.opened, line.closed) for line in lines],
            disclosure,
            testid=testid,
            totals=totals,
        )

    # Each case has one cluster: the cluster table's totals are the report's (the AMPK
    # table counts a child in each of their categories, so it has no total row).
    clusters = case_table(_("Cluster"), report.by_cluster, "report-cluster", True)
    opened, closed = clusters.total or (show(report.opened, disclosure), show(report.closed, disclosure))
    referral_columns = (_("Kind and where it stands"), _("Number"))
    referrals = [
        _table(
            _("Sent") if not report.scope.regional else _("Sent for the region's children"),
            referral_columns,
            [f"{line.kind} — {line.status}" for line in report.referrals_sent],
            [(line.count,) for line in report.referrals_sent],
            disclosure,
            testid="report-referrals-sent",
        )
    ]
    if not report.scope.regional:
        referrals.append(
            _table(
                _("Received"),
                referral_columns,
                [f"{line.kind} — {line.status}" for line in report.referrals_received],
                [(line.count,) for line in report.referrals_received],
                disclosure,
                testid="report-referrals-received",
            )
        )
    care = report.aftercare
    aftercare = _table(
        _("Aftercare visits"),
        (_("Aftercare visits due in the month"), _("Number")),
        [_("Done"), _("Missed"), _("Still pending")],
        [(care.done,), (care.missed,), (care.pending,)],
        disclosure,
        testid="report-aftercare",
    )
    return ShownReport(
        report=report,
        disclosure=disclosure,
        opened=opened if disclosure is Disclosure.AGGREGATE else show(report.opened, disclosure),
        closed=closed if disclosure is Disclosure.AGGREGATE else show(report.closed, disclosure),
        case_tables=[
            case_table(_("AMPK category"), report.by_ampk, "report-ampk", False),
            clusters,
            case_table(_("Basis"), report.by_basis, "report-basis", True),
        ],
        services=_table(
            _("Services delivered"),
            (_("ATENSI component"), _("Plan items done")),
            [line.label for line in report.services],
            [(line.count,) for line in report.services],
            disclosure,
            testid="report-services",
        ),
        referrals=referrals,
        aftercare=aftercare,
        aftercare_done_in_month=show(care.done_in_month, disclosure),
    )


# --- The workbook --------------------------------------------------------------------------


def _sheet_rows(table: ShownTable) -> list[list[object]]:
    rows: list[list[object]] = [[line.label, *(v.for_export() for v in line.values)] for line in table.lines]
    if table.total is not None:
        rows.append([_("Total"), *(v.for_export() for v in table.total)])
    return rows


def report_sheets(shown: ShownReport) -> list[Sheet]:
    """The report as workbook sheets (cases, services, referrals, aftercare), shown as on the page."""
    case_rows: list[list[object]] = []
    for table in shown.case_tables:
        case_rows += [[table.title, *row] for row in _sheet_rows(table)]
    referral_rows: list[list[object]] = []
    for table in shown.referrals:
        referral_rows += [[table.title, *row] for row in _sheet_rows(table)]
    return [
        Sheet(_("Cases"), [_("Breakdown"), _("Item"), _("Opened"), _("Closed")], case_rows),
        Sheet(_("Services"), list(shown.services.columns), _sheet_rows(shown.services)),
        Sheet(_("Referrals"), [_("Direction"), _("Kind and where it stands"), _("Number")], referral_rows),
        Sheet(
            _("Aftercare"),
            list(shown.aftercare.columns),
            [
                *_sheet_rows(shown.aftercare),
                [_("Done in the month (whenever due)"), shown.aftercare_done_in_month.for_export()],
            ],
        ),
    ]


def report_filename(report: MonthlyReport) -> str:
    return f"laporan-bulanan-{report.scope.code.lower()}-{report.month.value}.xlsx"
