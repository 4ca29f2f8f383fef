"""Case figures for the dashboards: every count made by PostgreSQL (GROUP BY, COUNT ... FILTER),
in a fixed number of queries whatever the number of cases. Who may read them, and how they
are shown, is the caller's (stakeholders.permissions.figure_scope_for, atensi.core.disclosure).

What each figure means is written once, in DEFINITIONS below, which the dashboards also show
as their help text; the functions of this module count exactly that.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy

from atensi.core.localtime import PROVINCE_ZONES, WIB, WIT, WITA, ZONES, local_moment, zone_for_regions
from atensi.core.models import AmpkCategory, Cluster
from stakeholders.models import Organisation

from .models import (
    OPEN_STAGES,
    Approval,
    ApprovalStatus,
    Basis,
    Case,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    RiskLevel,
)

DEFINITIONS = (
    gettext_lazy("Open: a case that is not closed, in any stage."),
    gettext_lazy(
        "Opened or closed in a period: on one of its days, counted in the time zone of the organisation "
        "holding the case (WIB, WITA or WIT)."
    ),
    gettext_lazy(
        "Overdue follow-up: an open case with a pending follow-up due before today in its organisation's time zone."
    ),
    gettext_lazy("Reach: distinct children with a case opened in the year."),
    gettext_lazy("Aftercare: aftercare visits due on a day of the period, and how many of them were done."),
    gettext_lazy("Region: the kab/kota of the child, whichever organisation holds the case."),
)
NO_CATEGORY = ""  # the AMPK row of open cases whose child has no category
UNASSIGNED = 0  # the caseload row of cases with no case manager


@dataclass(frozen=True)
class Zones:
    """Which time zone each counted case's organisation keeps: `single` when the cases are
    one organisation's; otherwise the organisations outside WIB (`organisation_zones`),
    every other one being in WIB (localtime's rule and default)."""

    single: ZoneInfo | None = None
    others: tuple[tuple[ZoneInfo, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class Area:
    """Whose cases are counted: one organisation's, a province's or kab/kota's (by the
    child's kab/kota), or all of Indonesia's (neither set)."""

    organisation_id: int | None = None
    region_code: str = ""  # 2 digits (province) or 4 (kab/kota)
    zones: Zones = Zones()

    def condition(self, prefix: str = "") -> Q:
        """The area's cases, as a condition on a case (through `prefix`, e.g. "case__")."""
        condition = Q()
        if self.organisation_id is not None:
            condition &= Q(**{f"{prefix}organisation_id": self.organisation_id})
        if len(self.region_code) == 4:
            condition &= Q(**{f"{prefix}beneficiary__regency_code": self.region_code})
        elif self.region_code:
            condition &= Q(**{f"{prefix}beneficiary__regency_code__startswith": self.region_code})
        return condition

    def cases(self) -> QuerySet[Case]:
        return Case.objects.filter(self.condition()).order_by()

    @property
    def breakdown_length(self) -> int:
        """Rows of the regional table: provinces (2) nationally, kab/kota (4) in a province."""
        return 2 if not self.region_code else 4


@dataclass(frozen=True)
class Days:
    """Local days from `start` up to, not including, `end`."""

    start: datetime.date
    end: datetime.date


# --- Local days in SQL --------------------------------------------------------------------
#
# A case's day is its organisation's: each condition on a moment is written once per zone
# that occurs, the zone told by the organisation's id (a short list of the organisations
# outside WIB), so PostgreSQL compares plain timestamps and ids, row by row.


def zone_q(tz: ZoneInfo, prefix: str = "") -> Q:
    """Organisations (through `prefix`) in zone `tz` by localtime's rule: the province of
    their home region, else of their village; WIB when they have neither."""
    if tz == WIB:
        condition = Q()
        for other in ZONES:
            if other != WIB:
                condition &= ~zone_q(other, prefix)
        return condition
    regex = "^(" + "|".join(sorted(code for code, zone in PROVINCE_ZONES.items() if zone == tz)) + ")"
    return Q(**{f"{prefix}home_region__code__regex": regex}) | Q(
        **{f"{prefix}home_region__isnull": True, f"{prefix}village__code__regex": regex}
    )


def organisation_zones() -> Zones:
    """The organisations in WITA and WIT (one query over organisations, never cases)."""
    found: dict[ZoneInfo, list[int]] = {tz: [] for tz in ZONES if tz != WIB}
    rows = Organisation.objects.filter(zone_q(WITA) | zone_q(WIT)).values_list("pk", "home_region_id", "village_id")
    for pk, home, village_code in rows:
        found[zone_for_regions(home, village_code)].append(pk)
    return Zones(others=tuple((tz, tuple(sorted(ids))) for tz, ids in found.items() if ids))


def _by_zone(zones: Zones, org_path: str, condition: Callable[[ZoneInfo], Q]) -> Q:
    if zones.single is not None:
        return condition(zones.single)
    if not zones.others:
        return condition(WIB)
    elsewhere = [pk for _tz, ids in zones.others for pk in ids]
    combined = ~Q(**{f"{org_path}__in": elsewhere}) & condition(WIB)
    for tz, ids in zones.others:
        combined |= Q(**{f"{org_path}__in": list(ids)}) & condition(tz)
    return combined


def in_days(path: str, days: Days, zones: Zones, org_path: str = "organisation_id") -> Q:
    """`path` (a moment) falls on one of `days` in its organisation's zone."""
    return _by_zone(
        zones,
        org_path,
        lambda tz: Q(**{f"{path}__gte": local_moment(days.start, 0, tz), f"{path}__lt": local_moment(days.end, 0, tz)}),
    )


def before_local_today(path: str, now: datetime.datetime, zones: Zones, org_path: str) -> Q:
    """`path` (a date) is before its organisation's local today."""
    return _by_zone(zones, org_path, lambda tz: Q(**{f"{path}__lt": now.astimezone(tz).date()}))


def overdue_follow_ups(area: Area, now: datetime.datetime) -> QuerySet[FollowUp]:
    """Pending follow-ups of the area's open cases due before their organisation's local
    today. Counted from this side (the index on status and due day), the few late ones
    lead to their cases, instead of every case asking for its follow-ups."""
    return (
        FollowUp.objects.filter(status=FollowUpStatus.PENDING, case__stage__in=OPEN_STAGES)
        .filter(before_local_today("due_on", now, area.zones, "case__organisation_id"))
        .filter(area.condition("case__"))
        .order_by()
    )


# --- The figures --------------------------------------------------------------------------


@dataclass
class CaseFigures:
    open_total: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    by_basis: dict[str, int] = field(default_factory=dict)
    by_risk: dict[str, int] = field(default_factory=dict)
    by_cluster: dict[str, int] = field(default_factory=dict)  # cluster code -> open cases
    by_ampk: dict[str, int] = field(default_factory=dict)  # category code (NO_CATEGORY) -> open cases
    opened: dict[str, int] = field(default_factory=dict)  # period key -> cases opened in it
    closed: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    reach: int = 0
    aftercare_due: int = 0
    aftercare_done: int = 0


def case_figures(
    *,
    area: Area,
    periods: dict[str, Days],
    reach_year: Days,
    aftercare: Days,
    now: datetime.datetime,
) -> CaseFigures:
    """The area's open cases by stage, basis, risk, cluster and AMPK category; cases opened
    and closed in each of `periods`; open cases with an overdue follow-up; children reached
    in `reach_year`; aftercare follow-ups due and done in `aftercare`. Five queries."""
    qs = area.cases()
    is_open = Q(stage__in=OPEN_STAGES)
    counts: dict[str, Any] = {"open_total": Count("pk", filter=is_open)}
    for stage in OPEN_STAGES:
        counts[f"stage_{stage}"] = Count("pk", filter=Q(stage=stage))
    for basis in Basis.values:
        counts[f"basis_{basis}"] = Count("pk", filter=is_open & Q(basis=basis))
    for risk in RiskLevel.values:
        counts[f"risk_{risk}"] = Count("pk", filter=is_open & Q(risk_level=risk))
    for key, days in periods.items():
        counts[f"opened_{key}"] = Count("pk", filter=in_days("opened_at", days, area.zones))
        counts[f"closed_{key}"] = Count("pk", filter=in_days("closed_at", days, area.zones))
    counts["reach"] = Count("beneficiary_id", distinct=True, filter=in_days("opened_at", reach_year, area.zones))
    row = qs.aggregate(**counts)
    figures = CaseFigures(
        open_total=row["open_total"],
        by_stage={stage: row[f"stage_{stage}"] for stage in OPEN_STAGES},
        by_basis={basis: row[f"basis_{basis}"] for basis in Basis.values},
        by_risk={risk: row[f"risk_{risk}"] for risk in RiskLevel.values},
        opened={key: row[f"opened_{key}"] for key in periods},
        closed={key: row[f"closed_{key}"] for key in periods},
        reach=row["reach"],
    )
    figures.overdue = overdue_follow_ups(area, now).aggregate(n=Count("case_id", distinct=True))["n"]
    by_cluster = dict(
        qs.filter(is_open).values("cluster__code").annotate(n=Count("pk")).values_list("cluster__code", "n")
    )
    figures.by_cluster = {str(code): n for code, n in by_cluster.items()}
    # A child may have several categories: each open case counts once in each of its
    # child's categories (so the rows may add up to more than the open cases). A (child,
    # category) pair is one row, so the join repeats no case within a category: no DISTINCT.
    ampk_rows = (
        qs.filter(is_open)
        .values("beneficiary__ampk_categories__code")
        .annotate(n=Count("pk"))
        .values_list("beneficiary__ampk_categories__code", "n")
    )
    figures.by_ampk = {(code or NO_CATEGORY): n for code, n in ampk_rows}
    aftercare_row = FollowUp.objects.filter(
        case__in=qs, kind=FollowUpKind.AFTERCARE, due_on__gte=aftercare.start, due_on__lt=aftercare.end
    ).aggregate(due=Count("pk"), done=Count("pk", filter=Q(status=FollowUpStatus.DONE)))
    figures.aftercare_due, figures.aftercare_done = aftercare_row["due"], aftercare_row["done"]
    return figures


@dataclass(frozen=True)
class WorkerRow:
    user_id: int  # UNASSIGNED for cases without a case manager
    name: str
    by_stage: dict[str, int]
    overdue: int
    approvals_waiting: int

    @property
    def open_total(self) -> int:
        return sum(self.by_stage.values())

    def plus(self, other: WorkerRow) -> WorkerRow:
        """The same person's figures in another organisation added."""
        return WorkerRow(
            user_id=self.user_id,
            name=self.name,
            by_stage={s: self.by_stage.get(s, 0) + other.by_stage.get(s, 0) for s in {*self.by_stage, *other.by_stage}},
            overdue=self.overdue + other.overdue,
            approvals_waiting=self.approvals_waiting + other.approvals_waiting,
        )


def caseload(*, area: Area, now: datetime.datetime) -> list[WorkerRow]:
    """Open cases per case manager and stage, those with an overdue follow-up, and the plan
    and closure approvals waiting on their cases, by name. Three queries."""
    qs = area.cases().filter(stage__in=OPEN_STAGES)
    rows = (
        qs.values("case_manager_id", "case_manager__first_name", "case_manager__last_name", "case_manager__username")
        .annotate(
            **{f"stage_{stage}": Count("pk", filter=Q(stage=stage)) for stage in OPEN_STAGES},
        )
        .order_by()
    )
    overdue = dict(
        overdue_follow_ups(area, now)
        .values("case__case_manager_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("case__case_manager_id", "n")
    )
    approvals = dict(
        Approval.objects.filter(case__in=qs, status=ApprovalStatus.PENDING)
        .values("case__case_manager_id")
        .annotate(n=Count("pk"))
        .values_list("case__case_manager_id", "n")
        .order_by()
    )
    workers = []
    for values in rows:
        row: dict[str, Any] = dict(values)
        user_id = row["case_manager_id"] or UNASSIGNED
        full = f"{row['case_manager__first_name'] or ''} {row['case_manager__last_name'] or ''}".strip()
        workers.append(
            WorkerRow(
                user_id=user_id,
                name=full or row["case_manager__username"] or "",
                by_stage={stage: row[f"stage_{stage}"] for stage in OPEN_STAGES},
                overdue=overdue.get(row["case_manager_id"], 0),
                approvals_waiting=approvals.get(row["case_manager_id"], 0),
            )
        )
    return sorted(workers, key=lambda w: (w.user_id == UNASSIGNED, w.name.lower()))


@dataclass(frozen=True)
class RegionRow:
    code: str
    open_total: int
    opened: int
    closed: int
    overdue: int
    reach: int


def region_breakdown(*, area: Area, period: Days, reach_year: Days, now: datetime.datetime) -> dict[str, RegionRow]:
    """The area's figures per province (nationally) or per kab/kota (in a province): two
    grouped queries. Cases of children with no kab/kota are under ""."""
    length = area.breakdown_length
    rows = (
        area.cases()
        .annotate(region=Substr("beneficiary__regency_code", 1, length))
        .values("region")
        .annotate(
            open_total=Count("pk", filter=Q(stage__in=OPEN_STAGES)),
            opened=Count("pk", filter=in_days("opened_at", period, area.zones)),
            closed=Count("pk", filter=in_days("closed_at", period, area.zones)),
            reach=Count("beneficiary_id", distinct=True, filter=in_days("opened_at", reach_year, area.zones)),
        )
        .order_by()
    )
    overdue = dict(
        overdue_follow_ups(area, now)
        .annotate(region=Substr("case__beneficiary__regency_code", 1, length))
        .values("region")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("region", "n")
    )
    return {
        row["region"] or "": RegionRow(
            code=row["region"] or "",
            open_total=row["open_total"],
            opened=row["opened"],
            closed=row["closed"],
            overdue=overdue.get(row["region"], 0),
            reach=row["reach"],
        )
        for row in rows
    }


def reference_names(model: type[Cluster] | type[AmpkCategory]) -> list[tuple[str, str]]:
    """(code, name) of a reference list, in its order: every row of a table is shown, zeros too."""
    return [(item.code, item.name) for item in model.objects.filter(is_active=True)]
