"""The map of open cases per kab/kota: who reads which figures, and how they are shown.

Composes the case counts (cases.map_figures, one GROUP BY query), the places of the
kab/kota and of the LKSA and Balai/Sentra (stakeholders.map_places) and the reader's
disclosure (atensi.core.disclosure, stakeholders.permissions.figure_scope_for):

- A reader reads exactly their figure scope. The figures are exact only for a superuser
  or for a reader whose figures are all of organisations where they are supervisor (they
  may open every case counted); everyone else reads aggregates: 1 to 4 shown as "<5",
  every count rounded to 5, the total made from the shown cells.
- A bubble's size comes from the shown count, never the true one; a hidden count gets the
  smallest bubble. The table sorts by the shown count too (then by name), so its order
  says nothing the numbers do not.
- Nothing on the map names a child or links to a case.

The counts of a scope and its filters are kept in the cache for ATENSI_MAP_CACHE_SECONDS
(counting every case of Indonesia takes about a second at 1,000,000 cases); the page says
when they were counted. The cache holds true counts: they are shown through the reader's
disclosure afterwards, and its key is the scope itself (national, regions, organisations),
so two readers share an entry only if they read the same cases.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from atensi.core.disclosure import Disclosure, Shown, show, show_row
from cases.map_figures import NO_REGENCY, MapFilters, map_counts_by_regency, map_regency_breakdown
from stakeholders.map_places import MapOrganisation, organisations_for_map, regencies_placed
from stakeholders.models import Region
from stakeholders.permissions import FigureScope

MIN_RADIUS = 6  # pixels: a hidden count, and the smallest shown one
MAX_RADIUS = 30


@dataclass(frozen=True)
class MapRow:
    code: str  # "" for the children without a kab/kota
    name: str
    province: str
    latitude: float | None
    longitude: float | None
    approximate: bool
    count: Shown
    radius: int = MIN_RADIUS


@dataclass(frozen=True)
class MapData:
    disclosure: Disclosure
    rows: list[MapRow]  # in the table's order
    total: Shown
    organisations: list[MapOrganisation]
    counted_at: datetime.datetime

    @property
    def exact(self) -> bool:
        return self.disclosure is Disclosure.EXACT


def map_disclosure(scope: FigureScope) -> Disclosure:
    """Exact only where the reader may open every case counted."""
    if scope.is_superuser:
        return Disclosure.EXACT
    if not scope.sees_regions and scope.organisation_ids and scope.organisation_ids <= scope.exact_organisation_ids:
        return Disclosure.EXACT
    return Disclosure.AGGREGATE


def _radius(shown: Shown, largest: int) -> int:
    if shown.value is None or largest <= 0:
        return MIN_RADIUS
    # The area grows with the count.
    return round(MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * math.sqrt(shown.value / largest))


def _sort_key(sort: str) -> object:
    def shown_value(row: MapRow) -> float:
        return 2.5 if row.count.value is None else row.count.value

    if sort == "name":
        return lambda row: (row.code == NO_REGENCY, row.name, row.code)
    if sort == "province":
        return lambda row: (row.code == NO_REGENCY, row.province, row.name, row.code)
    return lambda row: (-shown_value(row), row.code == NO_REGENCY, row.name, row.code)


# Every national reader (a member of a national organisation, a superuser) counts the same
# cases: the scope whose default view the beat task keeps counted (atensi/tasks.py).
NATIONAL = FigureScope(
    is_superuser=False,
    national=True,
    region_codes=frozenset(),
    organisation_ids=frozenset(),
    exact_organisation_ids=frozenset(),
)


def _cache_key(scope: FigureScope, filters: MapFilters) -> str:
    period = filters.period
    parts = (
        scope.national,
        # A national scope counts every case, whatever else the reader reads.
        sorted(scope.region_codes) if not scope.national else [],
        sorted(scope.organisation_ids) if not scope.national else [],
        filters.category.pk if filters.category else None,
        filters.cluster.pk if filters.cluster else None,
        (period.start.isoformat(), period.end.isoformat()) if period else None,
    )
    return "figures-map:v1:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def counts_by_regency(
    *, scope: FigureScope, filters: MapFilters, recount: bool = False
) -> tuple[dict[str, int], datetime.datetime]:
    """The true counts per kab/kota and when they were counted: from the cache when they are
    there (and the cache is on) unless `recount`, else one query, kept for the next readers.
    Without Redis they are counted every time."""
    seconds = settings.ATENSI_MAP_CACHE_SECONDS
    if seconds <= 0:
        return map_counts_by_regency(scope=scope, filters=filters), timezone.now()
    key = _cache_key(scope, filters)
    kept = None
    if not recount:
        try:
            kept = cache.get(key)
        except (RedisError, OSError):
            pass
    if kept is not None:
        counts, counted_at = kept
        return counts, counted_at
    counts, counted_at = map_counts_by_regency(scope=scope, filters=filters), timezone.now()
    try:
        cache.set(key, (counts, counted_at), seconds)
    except (RedisError, OSError):
        pass
    return counts, counted_at


def recount_national() -> int:
    """Count the national map's default view (open now, no filter) again and keep it: what
    every national reader opens first is then never counted while they wait. Returns the
    number of kab/kota counted."""
    counts, _counted_at = counts_by_regency(scope=NATIONAL, filters=MapFilters(), recount=True)
    return len(counts)


def map_data(*, scope: FigureScope, filters: MapFilters, sort: str = "count") -> MapData:
    """The kab/kota with open cases, as the reader may see them, and the services to place
    children in: a constant number of queries (the counts, the kab/kota, the services)."""
    disclosure = map_disclosure(scope)
    counted, counted_at = counts_by_regency(scope=scope, filters=filters)
    counts = {code: n for code, n in counted.items() if n > 0}
    places = regencies_placed(code for code in counts if code != NO_REGENCY)
    codes = sorted(counts)
    shown_row = show_row([counts[code] for code in codes], disclosure)
    shown = dict(zip(codes, shown_row.cells, strict=True))
    largest = max((s.value or 0 for s in shown_row.cells), default=0)
    rows = []
    for code in codes:
        place = places.get(code)
        rows.append(
            MapRow(
                code=code if place is not None else NO_REGENCY,
                name=place.name if place is not None else _("Kab/kota not recorded"),
                province=place.province if place is not None else "",
                latitude=place.latitude if place is not None else None,
                longitude=place.longitude if place is not None else None,
                approximate=place.approximate if place is not None else False,
                count=shown[code],
                radius=_radius(shown[code], largest),
            )
        )
    key = _sort_key(sort)
    rows.sort(key=key)  # type: ignore[arg-type]
    if scope.national:
        region_codes: list[str] | None = None
    elif scope.region_codes:
        region_codes = sorted(scope.region_codes)
    else:  # an organisation's own figures: the services in the provinces of its children
        region_codes = sorted({code[:2] for code in codes if code})
    organisations = (
        organisations_for_map(region_codes=region_codes, cluster=filters.cluster) if region_codes != [] else []
    )
    return MapData(
        disclosure=disclosure, rows=rows, total=shown_row.total, organisations=organisations, counted_at=counted_at
    )


@dataclass(frozen=True)
class BreakdownRow:
    name: str
    count: Shown


@dataclass(frozen=True)
class RegencyFigures:
    region: Region
    count: Shown
    by_cluster: list[BreakdownRow]
    by_category: list[BreakdownRow]


def regency_figures(
    *, scope: FigureScope, filters: MapFilters, region: Region, clusters: dict[int, str], categories: dict[int, str]
) -> RegencyFigures:
    """One kab/kota's open cases in all, by cluster and by AMPK category (ids to names in
    `clusters` and `categories`), as the reader may see them: two queries."""
    disclosure = map_disclosure(scope)
    by_cluster, by_category = map_regency_breakdown(scope=scope, filters=filters, regency_code=region.code)
    total = sum(by_cluster.values())
    cluster_ids = sorted(by_cluster, key=lambda pk: clusters.get(pk, ""))
    category_ids = sorted((pk for pk in by_category if pk is not None), key=lambda pk: categories.get(pk, ""))
    cluster_cells = show_row([by_cluster[pk] for pk in cluster_ids], disclosure).cells
    category_rows = [BreakdownRow(categories.get(pk, ""), show(by_category[pk], disclosure)) for pk in category_ids]
    if by_category.get(None):
        category_rows.append(BreakdownRow(_("No category recorded"), show(by_category[None], disclosure)))
    return RegencyFigures(
        region=region,
        count=show(total, disclosure),
        by_cluster=[
            BreakdownRow(clusters.get(pk, ""), cell) for pk, cell in zip(cluster_ids, cluster_cells, strict=True)
        ],
        by_category=category_rows,
    )
