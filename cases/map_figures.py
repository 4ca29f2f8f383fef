"""Case counts for the map of open cases per kab/kota (the map page itself is the project
layer's: atensi/figures_map).

- Which cases a reader's figures count (`map_cases`): exactly their figure scope
  (stakeholders.permissions.figure_scope_for). All of Indonesia for a national reader; for a
  Dinas Sosial, the cases of children living in the provinces and kab/kota it covers,
  whichever organisation holds them; for supervisors, org admins and viewers of an
  organisation, that organisation's own cases.
- Where a case is counted: the kab/kota of its child (`Beneficiary.regency_code`); a child
  without one is counted under "" (no kab/kota), which has no place on the map.
- Open means not closed. Without a period: open now. With a period (whole months,
  quarters or years): open at some moment of it — opened before its end and not closed
  before its start, the period's days being those of the owning organisation's time zone.
- A category filter counts the cases of children recorded with that AMPK category; a
  cluster filter, the cases of that cluster.

Every count is one GROUP BY query, computed in PostgreSQL, whatever the number of cases.
How a count is shown (exact or suppressed and rounded) is the caller's, with
atensi.core.disclosure.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Case as CaseWhen  # Django's conditional expression, not our Case model
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Left

from atensi.core.localtime import PROVINCE_ZONES, WIT, WITA
from atensi.core.models import AmpkCategory, Cluster
from stakeholders.permissions import FigureScope

from .models import Beneficiary, Case, Stage

NO_REGENCY = ""  # the key of the cases whose child has no kab/kota recorded


@dataclass(frozen=True)
class MapPeriod:
    """Whole days from `start` to `end` (exclusive), e.g. a month, a quarter or a year."""

    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class MapFilters:
    category: AmpkCategory | None = None
    cluster: Cluster | None = None
    period: MapPeriod | None = None  # None: the cases open now


def map_cases(scope: FigureScope) -> QuerySet[Case]:
    """Every case (open or closed) whose figures the scope reads."""
    if scope.national:
        return Case.objects.all()
    if not scope.sees_any:
        return Case.objects.none()
    provinces = sorted(code for code in scope.region_codes if len(code) == 2)
    regencies = sorted(code for code in scope.region_codes if len(code) == 4)
    where = Q(organisation_id__in=sorted(scope.organisation_ids))
    if provinces:
        where |= Q(_child_province__in=provinces)
    if regencies:
        where |= Q(beneficiary__regency_code__in=regencies)
    return Case.objects.alias(_child_province=Left("beneficiary__regency_code", 2)).filter(where)


def _utc_offset_hours() -> CaseWhen:
    """The owning organisation's UTC offset (7, 8 or 9) by its province (home region, else
    village), as atensi.core.localtime.organisation_timezone decides it, in SQL. Reads the
    alias `_province`."""
    return CaseWhen(
        When(Q(_province__in=_provinces_in(WITA)), then=Value(8)),
        When(Q(_province__in=_provinces_in(WIT)), then=Value(9)),
        default=Value(7),
        output_field=IntegerField(),
    )


def _provinces_in(zone: object) -> list[str]:
    return sorted(code for code, z in PROVINCE_ZONES.items() if z is zone)


def _local_midnight(day: datetime.date) -> ExpressionWrapper[CombinedExpression]:
    """Midnight starting `day` in the owning organisation's zone, as a moment (UTC midnight
    minus the organisation's offset)."""
    utc_midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
    return ExpressionWrapper(
        Value(utc_midnight) - F("_offset") * Value(datetime.timedelta(hours=1)),
        output_field=DateTimeField(),
    )


def map_filtered_cases(*, scope: FigureScope, filters: MapFilters) -> QuerySet[Case]:
    """The cases the map counts for these filters (open now, or open in the period)."""
    qs = map_cases(scope)
    if filters.cluster is not None:
        qs = qs.filter(cluster_id=filters.cluster.pk)
    if filters.category is not None:
        # Exists, not a join: a child recorded with several categories is one case.
        links = Beneficiary.ampk_categories.through.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"), ampkcategory_id=filters.category.pk
        )
        qs = qs.filter(Exists(links))
    if filters.period is None:
        return qs.filter(~Q(stage=Stage.CLOSED))
    qs = qs.alias(_province=Left(Coalesce("organisation__home_region_id", "organisation__village_id"), 2))
    qs = qs.alias(_offset=_utc_offset_hours())
    qs = qs.alias(_ends=_local_midnight(filters.period.end), _starts=_local_midnight(filters.period.start))
    return qs.filter(Q(opened_at__lt=F("_ends")), Q(closed_at__isnull=True) | Q(closed_at__gte=F("_starts")))


def map_counts_by_regency(*, scope: FigureScope, filters: MapFilters) -> dict[str, int]:
    """Cases counted per kab/kota code ("" for children without one): one GROUP BY query."""
    rows = (
        map_filtered_cases(scope=scope, filters=filters)
        .values("beneficiary__regency_code")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("beneficiary__regency_code", "n")
    )
    return {code or NO_REGENCY: n for code, n in rows}


def map_regency_breakdown(
    *, scope: FigureScope, filters: MapFilters, regency_code: str
) -> tuple[dict[int, int], dict[int | None, int]]:
    """One kab/kota's cases by cluster and by AMPK category (id -> cases; None: no category
    recorded): two queries. A case whose child has several categories counts under each."""
    qs = map_filtered_cases(scope=scope, filters=filters).filter(beneficiary__regency_code=regency_code)
    by_cluster = dict(qs.values("cluster_id").annotate(n=Count("pk")).order_by().values_list("cluster_id", "n"))
    by_category: dict[int | None, int] = dict(
        qs.values("beneficiary__ampk_categories")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("beneficiary__ampk_categories", "n")
    )
    return by_cluster, by_category


__all__ = [
    "NO_REGENCY",
    "MapFilters",
    "MapPeriod",
    "map_cases",
    "map_counts_by_regency",
    "map_filtered_cases",
    "map_regency_breakdown",
]
