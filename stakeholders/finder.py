"""The nearest-service finder: organisations ranked by great-circle distance from a place.

Postgres does the ranking. `ll_to_earth(latitude, longitude)` carries a GiST index
(`organisation_earth`), and ordering by the cube distance `<->` to the origin's point
lets Postgres walk that index nearest-first (a KNN "Order By" index scan) and stop
after `limit` matches, whatever the number of organisations. `<->` measures the chord
through the earth, which orders points exactly as the great-circle distance does; the
kilometres shown come from `earth_distance`.

The /finder/ page calls `nearest_organisations` with a village or district; the
referral form can pass a case's village the same way, and anything else with a Region
(or a latitude/longitude pair) in hand can too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict, cast

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django_stubs_ext import WithAnnotations

from atensi.core.errors import ApplicationError
from atensi.core.geo import CubeDistance, EarthDistance, earth_point, in_indonesia
from atensi.core.models import Cluster, ServiceComponent

from .models import Accreditation, Organisation, Region

MAX_LIMIT = 200
MAX_KM = 5000  # Sabang to Merauke is about 5,200 km: anything more means "anywhere"

# Accreditation grades from best to worst: "at least B" means A or B.
GRADES = [Accreditation.A, Accreditation.B, Accreditation.C]

Origin = Region | tuple[float, float]


def origin_coordinates(origin: Origin) -> tuple[float, float]:
    """(latitude, longitude) of `origin`: a region's own pin, else its nearest ancestor's.

    A few villages in the national list have no coordinates; their district or regency
    centre is close enough to rank services by distance.
    """
    if isinstance(origin, tuple):
        latitude, longitude = origin
        if not in_indonesia(latitude, longitude):
            raise ApplicationError(_("The starting point is not in Indonesia."))
        return float(latitude), float(longitude)
    if origin.latitude is not None and origin.longitude is not None:
        return origin.latitude, origin.longitude
    nearest_placed = (
        Region.objects.filter(code__in=origin.ancestors_codes()[1:], latitude__isnull=False, longitude__isnull=False)
        .order_by("-level")
        .values_list("latitude", "longitude")
        .first()
    )
    if nearest_placed is None:
        raise ApplicationError(
            _("%(region)s has no position on the map; choose a neighbouring village.") % {"region": origin.name},
            field="village",
        )
    return cast(tuple[float, float], nearest_placed)  # both non-null, filtered above


def _item_pk(model: type[Cluster] | type[ServiceComponent], value: Any) -> int:
    """A reference item's id, from the item or its code.

    By id, not by a join on the code: the planner then knows from the statistics how
    common the item is, and picks the nearest-first scan when it should.
    """
    if isinstance(value, model):
        return value.pk
    pk = model.objects.filter(code=value).values_list("pk", flat=True).first()
    if pk is None:
        raise ValueError(f"Unknown {model._meta.model_name} code: {value!r}")
    return pk


class Distance(TypedDict):
    """What the finder annotates on each organisation."""

    distance_km: float  # great-circle, from the origin


def organisations_by_distance(
    *,
    origin: Origin,
    kinds: Iterable[str] = (),
    cluster: Cluster | str | None = None,
    component: ServiceComponent | str | None = None,
    accreditation: str | None = None,
    accredited_only: bool = False,
    with_free_places: bool = False,
    max_km: float | None = None,
    today: Any = None,
) -> QuerySet[WithAnnotations[Organisation, Distance]]:
    """Active organisations with a pin, nearest to `origin` first, annotated with `distance_km`.

    kinds:            OrganisationKind values; empty means every kind.
    cluster:          a Cluster (or its code) the organisation serves.
    component:        a ServiceComponent (or its code) the organisation offers.
    accreditation:    a grade; organisations accredited at that grade or better ("B": A or B).
    accredited_only:  any grade, as long as the accreditation is current.
    with_free_places: capacity above current occupancy (organisations without residential
                      capacity are left out).
    max_km:           no farther than this, in kilometres.

    An expired accreditation counts as none for both accreditation filters. The queryset
    is unsliced and ordered; `nearest_organisations` takes the first `limit`.
    """
    latitude, longitude = origin_coordinates(origin)
    here = earth_point(Value(latitude), Value(longitude))
    there = earth_point(F("latitude"), F("longitude"))
    qs = Organisation.objects.filter(is_active=True, latitude__isnull=False, longitude__isnull=False)

    kinds = [k for k in kinds if k]
    if kinds:
        qs = qs.filter(kind__in=kinds)
    # EXISTS rather than a join: one row per organisation whatever the filters, and the
    # planner can still drive the query from the nearest-first index scan.
    if cluster is not None:
        serves = Organisation.clusters.through.objects.filter(
            organisation_id=OuterRef("pk"), cluster_id=_item_pk(Cluster, cluster)
        )
        qs = qs.filter(Exists(serves))
    if component is not None:
        offers = Organisation.components.through.objects.filter(
            organisation_id=OuterRef("pk"), servicecomponent_id=_item_pk(ServiceComponent, component)
        )
        qs = qs.filter(Exists(offers))
    if accreditation or accredited_only:
        today = today or timezone.localdate()
        grades = GRADES[: GRADES.index(Accreditation(accreditation)) + 1] if accreditation else GRADES
        qs = qs.filter(
            Q(accreditation__in=grades),
            Q(accreditation_expires__isnull=True) | Q(accreditation_expires__gte=today),
        )
    if with_free_places:
        qs = qs.filter(capacity__gt=F("occupancy"))
    if max_km is not None:
        if max_km <= 0:
            raise ValueError("max_km must be positive")
        # Deliberately not an indexable earth_box condition: see nearest_organisations.
        qs = qs.alias(_metres=EarthDistance(here, there)).filter(_metres__lte=float(max_km) * 1000)

    return (
        qs.select_related("home_region")
        .annotate(distance_km=EarthDistance(here, there) / 1000)
        # Ties (organisations pinned on the same village centre) break by name, then id.
        .order_by(CubeDistance(there, here), "name", "pk")
    )


def nearest_organisations(
    *,
    origin: Origin,
    kinds: Iterable[str] = (),
    cluster: Cluster | str | None = None,
    component: ServiceComponent | str | None = None,
    accreditation: str | None = None,
    accredited_only: bool = False,
    with_free_places: bool = False,
    max_km: float | None = None,
    limit: int = 20,
) -> list[WithAnnotations[Organisation, Distance]]:
    """The `limit` nearest organisations matching the filters, nearest first.

    Each carries `distance_km` (great-circle, kilometres) and its home region (no extra
    query); `free_places` and `capacity` come with the row. See `organisations_by_distance`
    for the filters.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if max_km is not None and max_km <= 0:
        raise ValueError("max_km must be positive")
    qs = organisations_by_distance(
        origin=origin,
        kinds=kinds,
        cluster=cluster,
        component=component,
        accreditation=accreditation,
        accredited_only=accredited_only,
        with_free_places=with_free_places,
    )
    found = list(qs[:limit])
    if max_km is None:
        return found
    # The radius is applied to the `limit` nearest, not in SQL: they come nearest first, so
    # once one is too far every later one is too, and the answer is the same. In SQL, an
    # earth_box condition makes the planner (which guesses any box holds 0.1 % of the rows)
    # trade the nearest-first scan for a bitmap scan plus a sort of everything inside the
    # box: 65 ms for 500 km around Kota Jambi at 10,000 organisations, against 1 ms here.
    # Without any radius condition the scan still stops after `limit` matches.
    return [org for org in found if org.distance_km <= max_km]


__all__ = ["MAX_KM", "MAX_LIMIT", "nearest_organisations", "organisations_by_distance", "origin_coordinates"]
