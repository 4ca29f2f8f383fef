"""The dashboards, composed from each app's figures: cases (cases.figures), referrals
(referrals.figures) and reach targets (stakeholders). Every count is shown as the reader's
disclosure allows (atensi.core.disclosure) and, for readers of exact figures, links to the
case list filtered the same way. A fixed number of queries per dashboard, whatever the
number of cases.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.disclosure import Disclosure, show
from atensi.core.localtime import WIB, format_local, local_date, local_moment, organisation_timezone
from atensi.core.models import AmpkCategory, Cluster
from cases.figures import (
    NO_CATEGORY,
    UNASSIGNED,
    Area,
    CaseFigures,
    Days,
    RegionRow,
    WorkerRow,
    Zones,
    case_figures,
    caseload,
    in_days,
    organisation_zones,
    reference_names,
    region_breakdown,
)
from cases.models import OPEN_STAGES, Basis, RiskLevel, Stage
from referrals.figures import NOTHING, RECEIVER, SENDER, Figures, referral_case_figures, referral_figures
from stakeholders.models import Organisation, Region
from stakeholders.permissions import FigureScope
from stakeholders.selectors import organisations_named, reach_target_for, regions_named

from .periods import Period, last_months, month_of, year_of
from .tables import Cell, Links, Row, Table, column_table, count_cell, grid_table, text_cell

logger = logging.getLogger(__name__)

# Fewer answered referrals than this and an aggregate reader sees no rate or median: with
# three answers a rate of 67% says two were accepted.
MIN_ANSWERED_FOR_RATES = 5
# Rows of the caseload table on the page; a larger team's full table is in its download.
CASELOAD_ON_PAGE = 50


@dataclass
class Dashboard:
    title: str
    disclosure: Disclosure
    period: Period
    today: datetime.date
    tiles: list[tuple[str, Cell]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    monthly: Table | None = None
    has_cases: bool = True
    computed_at: datetime.datetime | None = None
    zone: ZoneInfo = WIB
    kept: bool = False  # read from the figures counted ahead, not counted for this request
    recount_offered: bool = False

    @property
    def as_of(self) -> str:
        """When the figures were counted, in the dashboard's zone ("7 Desember 2026 13:05 WIB")."""
        return format_local(self.computed_at, self.zone) if self.computed_at else ""

    def table(self, key: str) -> Table | None:
        every = [*self.tables, *([self.monthly] if self.monthly else [])]
        return next((t for t in every if t.key == key), None)


def local_today(zone: ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    return local_date(now or timezone.now(), zone)


def organisation_zone(organisation: Organisation) -> ZoneInfo:
    return organisation_timezone(organisation)


def _periods(period: Period) -> tuple[dict[str, Days], list[Period]]:
    months = last_months(period)
    periods = {
        "current": period.days,
        "previous": period.previous().days,
        "year_before": period.year_before().days,
        **{f"m{i}": month.days for i, month in enumerate(months)},
    }
    return periods, months


def _range(days: Days, prefix: str) -> dict[str, str]:
    last = days.end - datetime.timedelta(days=1)
    return {f"{prefix}_from": days.start.isoformat(), f"{prefix}_to": last.isoformat()}


def _labels(choices: type[Stage] | type[Basis] | type[RiskLevel]) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


def _breakdowns(figures: CaseFigures, links: Links, disclosure: Disclosure) -> list[Table]:
    """Open cases by stage, cluster, AMPK category, basis and risk."""
    open_label, total_label = _("Open cases"), _("All open cases")
    total_link = links.to(status="open")
    stages, bases, risks = _labels(Stage), _labels(Basis), _labels(RiskLevel)

    def table(
        *,
        key: str,
        title: str,
        label_header: str,
        items: list[tuple[str, str, int, str]],
        total: str = total_label,
        link: str = total_link,
        note: str = "",
    ) -> Table:
        return column_table(
            key=key,
            title=title,
            label_header=label_header,
            items=items,
            disclosure=disclosure,
            column=open_label,
            total_label=total,
            total_link=link,
            note=note,
        )

    ampk_items = [
        (code, name, figures.by_ampk.get(code, 0), links.to(status="open", ampk=code))
        for code, name in reference_names(AmpkCategory)
    ]
    ampk_items.append(("none", _("No category recorded"), figures.by_ampk.get(NO_CATEGORY, 0), ""))
    return [
        table(
            key="stage",
            title=_("Open cases by stage"),
            label_header=_("Stage"),
            items=[(s, stages[s], figures.by_stage[s], links.to(status="open", stage=s)) for s in OPEN_STAGES],
        ),
        table(
            key="cluster",
            title=_("Open cases by cluster"),
            label_header=_("Cluster"),
            items=[
                (code, name, figures.by_cluster.get(code, 0), links.to(status="open", cluster=code))
                for code, name in reference_names(Cluster)
            ],
        ),
        table(
            key="ampk",
            title=_("Open cases by AMPK category"),
            label_header=_("AMPK category"),
            items=ampk_items,
            note=_("A child may have several categories, so the rows can add up to more than the open cases."),
            total=_("Sum of the rows"),
            link="",
        ),
        table(
            key="basis",
            title=_("Open cases by basis"),
            label_header=_("Basis"),
            items=[(b, bases[b], figures.by_basis[b], links.to(status="open", basis=b)) for b in Basis.values],
        ),
        table(
            key="risk",
            title=_("Open cases by risk level"),
            label_header=_("Risk level"),
            items=[(r, risks[r], figures.by_risk[r], links.to(status="open", risk=r)) for r in RiskLevel.values],
        ),
    ]


def _comparison(figures: CaseFigures, period: Period, links: Links, disclosure: Disclosure) -> Table:
    keys = {"current": period, "previous": period.previous(), "year_before": period.year_before()}
    items = [
        (
            "opened",
            _("Opened"),
            [figures.opened[k] for k in keys],
            [links.to(status="all", **_range(p.days, "opened")) for p in keys.values()],
        ),
        (
            "closed",
            _("Closed"),
            [figures.closed[k] for k in keys],
            [links.to(status="closed", **_range(p.days, "closed")) for p in keys.values()],
        ),
    ]
    return grid_table(
        key="new_closed",
        title=_("New and closed cases"),
        label_header=_("Cases"),
        columns=[
            _("%(period)s (this period)") % {"period": period.label},
            _("%(period)s (before)") % {"period": keys["previous"].label},
            _("%(period)s (a year earlier)") % {"period": keys["year_before"].label},
        ],
        items=items,
        disclosure=disclosure,
        total_label=None,
    )


def _monthly(figures: CaseFigures, months: list[Period], links: Links, disclosure: Disclosure) -> Table:
    items = [
        (
            month.param,
            month.label,
            [figures.opened[f"m{i}"], figures.closed[f"m{i}"]],
            [
                links.to(status="all", **_range(month.days, "opened")),
                links.to(status="closed", **_range(month.days, "closed")),
            ],
        )
        for i, month in enumerate(months)
    ]
    return grid_table(
        key="monthly",
        title=_("Cases opened and closed per month"),
        label_header=_("Month"),
        columns=[_("Opened"), _("Closed")],
        items=items,
        disclosure=disclosure,
        total_label=_("Total"),
    )


def _referrals(rows: list[tuple[str, Figures]], disclosure: Disclosure) -> Table:
    table_rows = []
    for label, figures in rows:
        counts = [show(n, disclosure) for n in (figures.received, figures.answered, figures.accepted)]
        rates_shown = disclosure is Disclosure.EXACT or figures.answered >= MIN_ANSWERED_FOR_RATES
        median = figures.median_label if rates_shown else NOTHING
        rate = figures.rate_label if rates_shown else NOTHING
        waiting = [show(n, disclosure) for n in (figures.waiting, figures.overdue)]
        table_rows.append(
            Row(
                label, [*(count_cell(c) for c in counts), text_cell(median), text_cell(rate), *map(count_cell, waiting)]
            )
        )
    note = _("Referrals in the period, answered in the period; waiting and overdue: now.")
    if disclosure is Disclosure.AGGREGATE:
        note += " " + _("Time to answer and acceptance rate are shown from %(n)s answers.") % {
            "n": MIN_ANSWERED_FOR_RATES
        }
    return Table(
        key="referrals",
        title=_("Referrals"),
        label_header=_("Referrals"),
        columns=[
            _("In the period"),
            _("Answered"),
            _("Accepted"),
            _("Median time to answer"),
            _("Acceptance rate"),
            _("Waiting now"),
            _("Overdue now"),
        ],
        rows=table_rows,
        note=note,
    )


def _tiles(
    figures: CaseFigures, period: Period, links: Links, disclosure: Disclosure, target: int | None
) -> list[tuple[str, Cell]]:
    reach = show(figures.reach, disclosure)
    reach_text = str(reach)
    if target:
        reach_text = _("%(reach)s of %(target)s") % {"reach": reach, "target": target}
    aftercare = _("%(done)s of %(due)s done") % {
        "done": show(figures.aftercare_done, disclosure),
        "due": show(figures.aftercare_due, disclosure),
    }
    return [
        (_("Open cases"), count_cell(show(figures.open_total, disclosure), links.to(status="open"))),
        (
            _("Opened in the period"),
            count_cell(
                show(figures.opened["current"], disclosure), links.to(status="all", **_range(period.days, "opened"))
            ),
        ),
        (
            _("Closed in the period"),
            count_cell(
                show(figures.closed["current"], disclosure), links.to(status="closed", **_range(period.days, "closed"))
            ),
        ),
        (
            _("Open cases with an overdue follow-up"),
            count_cell(show(figures.overdue, disclosure), links.to(status="open", overdue="1")),
        ),
        (_("Children reached in %(year)s") % {"year": period.start.year}, Cell(reach_text, reach_text)),
        (_("Aftercare visits due in the period"), Cell(aftercare, aftercare)),
    ]


@dataclass
class Raw:
    """Every count a dashboard shows, before disclosure and links: what is kept in the cache
    (`cached_figures`). `slow`: counting them took longer than ATENSI_DASHBOARD_LIVE_MS, so
    exact readers read them from the cache too."""

    figures: CaseFigures
    referrals: list[Figures]
    computed_at: datetime.datetime
    caseload: list[WorkerRow] = field(default_factory=list)
    regions: dict[str, RegionRow] = field(default_factory=dict)
    target: int | None = None
    slow: bool = False


@dataclass(frozen=True)
class Counted:
    """Figures and where they came from: `kept` when read from the cache (the page then says
    when they were counted and, to exact readers, offers to count again)."""

    raw: Raw
    kept: bool


SLOW_ORGANISATIONS = "dashboards:v1:slow-organisations"


def _cache_get(key: str) -> Raw | None:
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)
        return None
    return found if isinstance(found, Raw) else None


def _cache_set(key: str, raw: Raw, seconds: int) -> None:
    try:
        cache.set(key, raw, seconds)
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)


def cached_figures(
    key: str,
    compute: Callable[[], Raw],
    *,
    exact: bool,
    refresh: bool = False,
    on_slow: Callable[[], None] | None = None,
    slow: bool | None = None,
) -> Counted:
    """`compute()`, or its result kept for ATENSI_DASHBOARD_CACHE_SECONDS.

    Aggregate readers always read what is kept: their figures are rounded anyway. Exact
    readers (each figure a link to the list it equals) get live figures, unless counting
    them took longer than ATENSI_DASHBOARD_LIVE_MS (an organisation of 100,000 cases, a
    province, Indonesia): then they read the kept figures with the time they were counted,
    and may ask for a recount (`refresh`). Slow figures are counted again ahead by beat
    (`on_slow` registers them; `dashboards_warm`, which says `slow` itself). Without Redis,
    everything is live."""
    seconds = settings.ATENSI_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return Counted(compute(), kept=False)
    full_key = f"dashboards:v1:{key}"
    if not refresh:
        found = _cache_get(full_key)
        if found is not None and (found.slow or not exact):
            return Counted(found, kept=True)
    started = time.monotonic()
    raw = compute()
    raw.slow = (time.monotonic() - started) * 1000 > settings.ATENSI_DASHBOARD_LIVE_MS if slow is None else slow
    _cache_set(full_key, raw, seconds)
    if raw.slow and on_slow is not None:
        on_slow()
    return Counted(raw, kept=False)


def recount_allowed(counted: Counted, now: datetime.datetime | None = None) -> bool:
    """A recount of kept figures is offered once they are a minute old: one reader pressing
    it again and again must not keep the database counting a province."""
    age = (now or timezone.now()) - counted.raw.computed_at
    return counted.kept and age >= datetime.timedelta(seconds=settings.ATENSI_DASHBOARD_RECOUNT_AFTER_SECONDS)


def _remember_slow_organisation(organisation_id: int) -> None:
    try:
        cache.set(
            SLOW_ORGANISATIONS,
            sorted({*(cache.get(SLOW_ORGANISATIONS) or ()), organisation_id}),
            settings.ATENSI_DASHBOARD_SLOW_MEMORY_SECONDS,
        )
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)


def slow_organisations() -> list[int]:
    try:
        return list(cache.get(SLOW_ORGANISATIONS) or ())
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)
        return []


def _period_key(period: Period) -> str:
    return f"{period.kind}:{period.start.isoformat()}:{period.end.isoformat()}"


def organisation_dashboard(
    *,
    organisation: Organisation,
    disclosure: Disclosure,
    period: Period,
    now: datetime.datetime | None = None,
    recount: bool = False,
) -> Dashboard:
    now = now or timezone.now()
    zone = organisation_zone(organisation)
    links = Links(enabled=disclosure is Disclosure.EXACT, base={"organisation": str(organisation.pk)})
    months = last_months(period)
    reach_year = year_of(period.start)
    today = local_today(zone, now)
    key = _organisation_key(organisation.pk, period, today)
    exact = disclosure is Disclosure.EXACT
    counted = cached_figures(
        key,
        functools.partial(_organisation_raw, organisation, period, now),
        exact=exact,
        refresh=recount and exact and _recount_due(key, now),
        on_slow=functools.partial(_remember_slow_organisation, organisation.pk),
    )
    raw = counted.raw
    figures = raw.figures
    dashboard = Dashboard(
        title=organisation.name,
        disclosure=disclosure,
        period=period,
        today=today,
        has_cases=figures.open_total > 0 or any(figures.opened.values()) or any(figures.closed.values()),
        computed_at=raw.computed_at,
        zone=zone,
        kept=counted.kept,
        recount_offered=exact and recount_allowed(counted, now),
    )
    dashboard.tiles = _tiles(figures, period, links, disclosure, raw.target)
    dashboard.tables = [_comparison(figures, period, links, disclosure), *_breakdowns(figures, links, disclosure)]
    dashboard.tables.append(_caseload(raw.caseload, links, disclosure))
    dashboard.tables.append(_aftercare_reach(figures, reach_year, raw.target, disclosure))
    received, sent = raw.referrals
    dashboard.tables.append(_referrals([(_("Received"), received), (_("Sent"), sent)], disclosure))
    dashboard.monthly = _monthly(figures, months, links, disclosure)
    return dashboard


def _caseload(workers: list[WorkerRow], links: Links, disclosure: Disclosure) -> Table:
    """Case managers by name; where there are more than CASELOAD_ON_PAGE, the page shows
    the most loaded first (where work needs rebalancing) and the download has them all."""
    stages = _labels(Stage)
    many = len(workers) > CASELOAD_ON_PAGE
    if many:
        workers = sorted(workers, key=lambda w: (-w.open_total, w.name.lower()))
    no_links = [""] * (len(OPEN_STAGES) + 3)
    items = []
    for index, worker in enumerate(workers):
        manager = "none" if worker.user_id == UNASSIGNED else str(worker.user_id)
        counts = [
            *(worker.by_stage[s] for s in OPEN_STAGES),
            worker.open_total,
            worker.overdue,
            worker.approvals_waiting,
        ]
        row_links = no_links
        if index < CASELOAD_ON_PAGE:  # links of rows not on the page would never be read
            row_links = [
                *(links.to(status="open", case_manager=manager, stage=s) for s in OPEN_STAGES),
                links.to(status="open", case_manager=manager),
                links.to(status="open", case_manager=manager, overdue="1"),
                "",
            ]
        name = worker.name if worker.user_id != UNASSIGNED else _("Not assigned")
        items.append((manager, name, counts, row_links))
    table = grid_table(
        key="caseload",
        title=_("Caseload per case manager"),
        label_header=_("Case manager"),
        columns=[
            *(stages[s] for s in OPEN_STAGES),
            _("Open cases"),
            _("With an overdue follow-up"),
            _("Approvals waiting"),
        ],
        items=items,
        disclosure=disclosure,
        total_label=_("Total"),
        note=_("Open cases of each case manager by stage; approvals waiting: plans and closures sent for approval."),
    )
    if many:
        table.on_page = CASELOAD_ON_PAGE
        table.note += " " + _("The case managers with the most open cases come first.")
    return table


def _aftercare_reach(figures: CaseFigures, year: Period, target: int | None, disclosure: Disclosure) -> Table:
    rows = [
        Row(_("Aftercare visits due in the period"), [count_cell(show(figures.aftercare_due, disclosure))]),
        Row(_("... of which done"), [count_cell(show(figures.aftercare_done, disclosure))]),
        Row(
            _("Children reached in %(year)s") % {"year": year.start.year},
            [count_cell(show(figures.reach, disclosure))],
        ),
        Row(
            _("Annual target"),
            [Cell(str(target), target) if target else text_cell(_("No target set"))],
        ),
    ]
    return Table(
        key="aftercare_reach",
        title=_("Aftercare and reach"),
        label_header=_("Measure"),
        columns=[_("Number")],
        rows=rows,
        note=_(
            "Reach: distinct children with a case opened in the year. Targets are set by the national administrator."
        ),
    )


# --- Regions ------------------------------------------------------------------------------


def region_dashboard(
    *,
    region: Region | None,
    disclosure: Disclosure,
    period: Period,
    now: datetime.datetime | None = None,
    recount: bool = False,
) -> Dashboard:
    """A province's or kab/kota's figures (by the child's kab/kota), or all of Indonesia's
    (`region` None), per province or kab/kota beneath it."""
    now = now or timezone.now()
    code = region.code if region is not None else ""
    base = {"kabkota": code} if len(code) == 4 else ({"province": code} if code else {})
    links = Links(enabled=disclosure is Disclosure.EXACT, base=base)
    months = last_months(period)
    reach_year = year_of(period.start)
    today = local_today(WIB, now)
    key = _region_key(code, period, today)
    exact = disclosure is Disclosure.EXACT
    counted = cached_figures(
        key,
        lambda: _region_raw(code, period, now),
        exact=exact,
        refresh=recount and exact and _recount_due(key, now),
    )
    raw = counted.raw
    figures = raw.figures
    dashboard = Dashboard(
        title=region.name if region is not None else _("Indonesia"),
        disclosure=disclosure,
        period=period,
        today=today,
        has_cases=figures.open_total > 0 or any(figures.opened.values()) or any(figures.closed.values()),
        computed_at=raw.computed_at,
        kept=counted.kept,
        recount_offered=exact and recount_allowed(counted, now),
    )
    dashboard.tiles = _tiles(figures, period, links, disclosure, None)
    dashboard.tables = [_comparison(figures, period, links, disclosure)]
    if len(code) != 4:
        dashboard.tables.append(_region_table(code, raw.regions, period, reach_year, links, disclosure))
    dashboard.tables += _breakdowns(figures, links, disclosure)
    dashboard.tables.append(_aftercare_reach(figures, reach_year, None, disclosure))
    dashboard.tables.append(_referrals([(_("All referrals of these cases"), raw.referrals[0])], disclosure))
    dashboard.monthly = _monthly(figures, months, links, disclosure)
    return dashboard


def _organisation_raw(organisation: Organisation, period: Period, now: datetime.datetime) -> Raw:
    zone = organisation_zone(organisation)
    area = Area(organisation_id=organisation.pk, zones=Zones(single=zone))
    periods, _months = _periods(period)
    reach_year = year_of(period.start)
    figures = case_figures(area=area, periods=periods, reach_year=reach_year.days, aftercare=period.days, now=now)
    since = local_moment(period.start, 0, zone)
    until = local_moment(period.end, 0, zone) - datetime.timedelta(microseconds=1)
    ids = [organisation.pk]
    received = referral_figures(organisation_ids=ids, since=since, until=until, now=now, side=RECEIVER)
    sent = referral_figures(organisation_ids=ids, since=since, until=until, now=now, side=SENDER)
    return Raw(
        figures=figures,
        referrals=[received[organisation.pk], sent[organisation.pk]],
        computed_at=now,
        caseload=caseload(area=area, now=now),
        target=reach_target_for(organisation_id=organisation.pk, year=reach_year.start.year),
    )


def _organisation_key(organisation_id: int, period: Period, today: datetime.date) -> str:
    return f"org:{organisation_id}:{_period_key(period)}:{today.isoformat()}"


def _recount_due(key: str, now: datetime.datetime) -> bool:
    """A recount asked for figures counted less than a minute ago reads them instead."""
    found = _cache_get(f"dashboards:v1:{key}")
    return found is None or recount_allowed(Counted(found, kept=True), now)


def _region_key(code: str, period: Period, today: datetime.date) -> str:
    return f"region:{code or 'national'}:{_period_key(period)}:{today.isoformat()}"


def _region_raw(code: str, period: Period, now: datetime.datetime) -> Raw:
    periods, _months = _periods(period)
    reach_year = year_of(period.start)
    area = Area(region_code=code, zones=organisation_zones())
    figures = case_figures(area=area, periods=periods, reach_year=reach_year.days, aftercare=period.days, now=now)
    since = local_moment(period.start, 0, WIB)
    # Each referral's day is its case's organisation's, as for the cases.
    referrals = referral_case_figures(
        cases=area.cases(),
        during=lambda path: in_days(path, period.days, area.zones, org_path="case__organisation_id"),
        since=since,
        now=now,
    )
    regions = {}
    if len(code) != 4:
        regions = region_breakdown(area=area, period=period.days, reach_year=reach_year.days, now=now)
    return Raw(figures=figures, referrals=[referrals], computed_at=now, regions=regions)


def warm_region_figures(codes: list[str], now: datetime.datetime | None = None) -> int:
    """Count this month's figures of Indonesia ("") and of each region in `codes` into the
    cache, so no aggregate reader waits for them; the number of dashboards counted."""
    now = now or timezone.now()
    today = local_today(WIB, now)
    period = month_of(today)
    for code in codes:
        compute = functools.partial(_region_raw, code, period, now)
        cached_figures(_region_key(code, period, today), compute, exact=False, refresh=True)
    return len(codes)


def team_caseload(
    organisations: list[Organisation], now: datetime.datetime | None = None
) -> tuple[list[WorkerRow], datetime.datetime | None, tuple[str, ...] | None]:
    """Open cases per case manager of `organisations`, as the organisation dashboard counts
    them (cases.figures.caseload): from an organisation's figures of this month kept because
    counting them live was too slow (then also the time they were counted, the oldest of
    them), else counted now (three queries per organisation); and, when every one of them
    came from figures counted ahead (nothing counted now), the moments of those counts (what
    the rows depend on). A person working in several of them is one row."""
    now = now or timezone.now()
    merged: dict[int, WorkerRow] = {}
    counted_at: datetime.datetime | None = None
    moments: list[str] | None = [] if organisations else None
    for organisation in organisations:
        zone = organisation_zone(organisation)
        today = local_today(zone, now)
        kept = None
        if settings.ATENSI_DASHBOARD_CACHE_SECONDS > 0:
            kept = _cache_get(f"dashboards:v1:{_organisation_key(organisation.pk, month_of(today), today)}")
        if kept is not None and kept.slow:
            rows = kept.caseload
            counted_at = min(counted_at or kept.computed_at, kept.computed_at)
            if moments is not None:
                moments.append(f"{organisation.pk}@{kept.computed_at.isoformat()}")
        else:
            moments = None
            started = time.monotonic()
            rows = caseload(area=Area(organisation_id=organisation.pk, zones=Zones(single=zone)), now=now)
            if (time.monotonic() - started) * 1000 > settings.ATENSI_HOME_CASELOAD_LIVE_MS:
                _remember_slow_organisation(organisation.pk)  # beat counts it ahead from now on
        for row in rows:
            found = merged.get(row.user_id)
            merged[row.user_id] = row if found is None else found.plus(row)
    return list(merged.values()), counted_at, tuple(moments) if moments is not None else None


def warm_organisation_figures(organisation_ids: list[int], now: datetime.datetime | None = None) -> int:
    """Count this month's figures of each organisation in `organisation_ids` (those whose
    figures were too slow to count live) into the cache; the number counted."""
    now = now or timezone.now()
    found = list(Organisation.objects.filter(pk__in=organisation_ids, is_active=True))
    for organisation in found:
        today = local_today(organisation_zone(organisation), now)
        period = month_of(today)
        compute = functools.partial(_organisation_raw, organisation, period, now)
        key = _organisation_key(organisation.pk, period, today)
        cached_figures(key, compute, exact=True, refresh=True, slow=True)
    return len(found)


def _region_table(
    code: str, rows: dict[str, RegionRow], period: Period, reach_year: Period, links: Links, disclosure: Disclosure
) -> Table:
    length = Area(region_code=code).breakdown_length
    names = regions_named(parent_code=code)
    items = []
    param = "province" if length == 2 else "kabkota"
    for code, name in [*names, ("", _("Kab/kota not recorded"))]:
        row = rows.get(code)
        if row is None and code == "":
            continue
        counts = [0, 0, 0, 0, 0] if row is None else [row.open_total, row.opened, row.closed, row.overdue, row.reach]
        place = {param: code} if code else {}
        region_links = [
            links.to(status="open", **place),
            links.to(status="all", **place, **_range(period.days, "opened")),
            links.to(status="closed", **place, **_range(period.days, "closed")),
            links.to(status="open", overdue="1", **place),
            "",
        ]
        items.append((code, name, counts, region_links if code else [""] * 5))
    title = _("By province") if length == 2 else _("By kab/kota")
    return grid_table(
        key="regions",
        title=title,
        label_header=_("Province") if length == 2 else _("Kab/kota"),
        columns=[
            _("Open cases"),
            _("Opened in the period"),
            _("Closed in the period"),
            _("With an overdue follow-up"),
            _("Children reached in %(year)s") % {"year": reach_year.start.year},
        ],
        items=items,
        disclosure=disclosure,
        total_label=_("Total"),
        note=_("The region of a case is its child's kab/kota, whichever organisation holds the case."),
    )


# --- Which dashboards -----------------------------------------------------------------------


def dashboard_choices(scope: FigureScope) -> list[tuple[str, str]]:
    """(label, url) of every dashboard the reader may open: Indonesia's, then each covered
    region's, then each organisation's. Superusers start from Indonesia's (and open any
    organisation's from its URL)."""
    choices: list[tuple[str, str]] = []
    if scope.national:
        choices.append((_("Indonesia (national)"), reverse("dashboard_national")))
    else:
        for code, name in regions_named(codes=scope.region_codes):
            choices.append((name, reverse("dashboard_region", args=[code])))
    # A national body's own figures are not a dashboard of their own: it holds no cases.
    for pk, name in organisations_named(scope.organisation_ids, national=not scope.national):
        choices.append((name, reverse("dashboard_organisation", args=[pk])))
    return choices
