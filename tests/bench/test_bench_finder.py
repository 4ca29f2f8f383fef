"""The nearest-service finder: the selector and the /finder/ page over 10,000 placed organisations.

The module adds its own organisations (BENCH_SCALE x 10,000, pinned across Indonesia on
real regency and village coordinates) on top of the session's data set, and removes
them when it is done, so other sections measure the same data set whether or not this
one ran. The selector scenarios call `nearest_organisations` directly (one query each);
the page scenarios go through the test client like the rest of the report.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atensi.core.models import Cluster, ServiceComponent
from stakeholders.finder import nearest_organisations
from stakeholders.models import Organisation, OrganisationKind, Region, RegionLevel
from tests.bench.dataset import BATCH, KIND_NAME, KIND_WEIGHTS, SEED, scale_from_env
from tests.bench.harness import BenchError, Result, percentile

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Nearest-service finder"
BASE_PLACED = 10_000
CODE_PREFIX = "FIND-"
TELANAIPURA = "1571011004"  # Kota Jambi
LUBUK_MINTURUN = "1371111002"  # Kota Padang
MERAUKE = "9301"  # Kabupaten Merauke, Papua Selatan: the far end of the country
RESIDENTIAL = {
    OrganisationKind.LKSA: (10, 60),
    OrganisationKind.LPKS: (10, 40),
    OrganisationKind.BALAI: (50, 150),
}


def _placed_total() -> int:
    return max(100, round(BASE_PLACED * scale_from_env()))


BENCH_DESCRIPTION = (
    f"`nearest_organisations` and the /finder/ page over {BASE_PLACED:,} organisations (times BENCH_SCALE) "
    "pinned across Indonesia: 70 % on a random regency/city centre with a few kilometres' scatter, 30 % on "
    "the centre of a village of Sumatera Barat or Jambi (the test database's villages: a dense area, with "
    "ties); 3 % inactive and 3 % without a pin. Kinds in the data set's national proportions; residential "
    "kinds have a capacity (a third of them full); clusters, components and accreditation (some lapsed) "
    "at random. The selector rows time the call, its one query and the list it returns (home regions "
    "included); *plan* is what EXPLAIN shows for that query, run once after the timed calls: the GiST index "
    "`organisation_earth` walked nearest-first (KNN) unless the filters are rare enough for the planner to "
    "prefer other indexes and a sort. A distance limit is applied to the nearest-first results rather than "
    "as an `earth_box` condition in SQL: with the box, the planner (which guesses a box holds 0.1 % of the "
    "rows) switched to a bitmap scan and a sort of everything inside it, 18 to 70 ms for 150 to 500 km "
    "around Kota Jambi or Kota Padang here, against about 1 ms for the nearest-first scan. The page rows "
    "are a logged-in social worker's GET through the test client: the empty form's row is what rendering the "
    "form costs (the region picker, 15 kinds of organisation), the search adds its query and the table."
)


# --- the data ---------------------------------------------------------------------------


def _scatter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    # About `km` of scatter around a regency centre; clamped to the model's Indonesia box.
    lat += rng.gauss(0, km / 111)
    lon += rng.gauss(0, km / 111)
    return min(max(lat, -11.4), 6.4), min(max(lon, 94.6), 141.4)


def build_placed_organisations(total: int, seed: int = SEED) -> int:
    """Create `total` organisations with pins, clusters, components and capacity; return the count."""
    rng = random.Random(seed)
    regencies = list(
        Region.objects.filter(level=RegionLevel.REGENCY, latitude__isnull=False).values_list(
            "code", "name", "latitude", "longitude"
        )
    )
    villages = list(
        Region.objects.filter(level=RegionLevel.VILLAGE, latitude__isnull=False).values_list(
            "code", "name", "latitude", "longitude"
        )
    )
    if not regencies or not villages:
        raise BenchError("the finder bench needs regions: the test database loads them after migrate")
    cluster_ids = list(Cluster.objects.values_list("pk", "code"))
    component_ids = list(ServiceComponent.objects.values_list("pk", flat=True))
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    orgs = []
    for i in range(1, total + 1):
        kind = rng.choices(kinds, weights)[0]
        if rng.random() < 0.3:
            code, place, lat, lon = rng.choice(villages)
            home = code[:4]
            village_id: str | None = code
        else:
            home, place, lat, lon = rng.choice(regencies)
            lat, lon = _scatter(rng, lat, lon, 5)
            village_id = None
        if rng.random() < 0.03:
            lat = lon = None  # not placed yet
        capacity = occupancy = None
        if kind in RESIDENTIAL:
            capacity = rng.randint(*RESIDENTIAL[kind])
            occupancy = capacity if rng.random() < 0.33 else rng.randint(0, capacity)
        grade = rng.choices(["", "A", "B", "C"], [40, 15, 25, 20])[0] if kind in RESIDENTIAL else ""
        expires = None
        if grade:
            expires = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(-700, 1500))
        orgs.append(
            Organisation(
                code=f"{CODE_PREFIX}{i:06d}",
                name=KIND_NAME[kind].format(place=place.title(), word=f"No. {i}")[:200],
                kind=kind,
                home_region_id=home,
                village_id=village_id,
                latitude=lat,
                longitude=lon,
                capacity=capacity,
                occupancy=occupancy or 0,
                accreditation=grade,
                accreditation_expires=expires,
                phone=f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.8 else "",
                is_active=rng.random() > 0.03,
            )
        )
    with transaction.atomic():
        created = Organisation.objects.bulk_create(orgs, batch_size=BATCH)
        ClusterLink = Organisation.clusters.through
        ComponentLink = Organisation.components.through
        cluster_links, component_links = [], []
        children = next(pk for pk, code in cluster_ids if code == "anak")
        for org in created:
            chosen = {children} if rng.random() < 0.7 else set()
            chosen |= {pk for pk, _ in rng.sample(cluster_ids, rng.randint(0, 2))}
            cluster_links += [ClusterLink(organisation_id=org.pk, cluster_id=pk) for pk in chosen]
            component_links += [
                ComponentLink(organisation_id=org.pk, servicecomponent_id=pk)
                for pk in rng.sample(component_ids, rng.randint(1, 4))
            ]
        ClusterLink.objects.bulk_create(cluster_links, batch_size=BATCH)
        ComponentLink.objects.bulk_create(component_links, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stakeholders_organisation")
        cursor.execute(f"ANALYZE {ClusterLink._meta.db_table}")
        cursor.execute(f"ANALYZE {ComponentLink._meta.db_table}")
    return len(created)


def remove_placed_organisations() -> None:
    """One DELETE per table. Django's collector would walk every relation of each placed
    organisation: more than 15 minutes for 100,000 at scale 10. Nothing but their own
    links (and history rows, which keep them) points at them."""
    with transaction.atomic():
        placed = Organisation.objects.filter(code__startswith=CODE_PREFIX)
        links = [field.remote_field.through for field in Organisation._meta.many_to_many]
        for through in links:
            doomed = through.objects.filter(organisation__in=placed)
            doomed._raw_delete(doomed.db)
        # History is append-only: the delete trigger records each one, in the same statement.
        placed._raw_delete(placed.db)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stakeholders_organisation")


@pytest.fixture(scope="module")
def placed(bench_data: Any, bench_report: Any, django_db_blocker: Any) -> Iterator[int]:
    with django_db_blocker.unblock():
        started = time.perf_counter()
        count = build_placed_organisations(_placed_total())
        built_in = time.perf_counter() - started
        with_pin = Organisation.objects.filter(
            code__startswith=CODE_PREFIX, latitude__isnull=False, is_active=True
        ).count()
    bench_report.sizes["organisations placed for the finder and registry sections (theirs only)"] = count
    bench_report.sizes["… of which active, with a pin"] = with_pin
    bench_report.settings["Finder organisations built in"] = f"{built_in:.1f} s (bulk inserts, audit triggers on)"
    yield count
    with django_db_blocker.unblock():
        remove_placed_organisations()


# --- timing a selector ------------------------------------------------------------------


def measure_call(
    fn: Callable[[int], Any], *, name: str, repeat: int, warmup: int, check: Callable[[Any], None] | None = None
) -> Result:
    """harness.measure() for a function: `fn(i)` for the i-th call, warm-up first, queries counted."""
    timings: list[float] = []
    counts: list[int] = []
    sql: list[str] = []
    for i in range(warmup + repeat):
        if i == warmup:
            gc.collect()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            value = fn(i)
            elapsed = time.perf_counter() - started
        if check is not None:
            check(value)
        if i >= warmup:
            timings.append(elapsed * 1000)
            counts.append(len(captured.captured_queries))
            sql = [q["sql"] for q in captured.captured_queries]
    return Result(
        name=name,
        p50_ms=percentile(timings, 50),
        p95_ms=percentile(timings, 95),
        max_ms=max(timings),
        queries=max(counts),
        queries_min=min(counts),
        status=0,
        requests=repeat,
        sql=tuple(sql),
    )


def plan_summary(qs_kwargs: dict[str, Any]) -> str:
    """The finder query's scans and sorts, from EXPLAIN: is the GiST index walked nearest-first?"""
    from stakeholders.finder import organisations_by_distance

    plan = organisations_by_distance(**qs_kwargs)[:20].explain()
    steps: list[str] = []
    for line in plan.splitlines():
        text = line.strip().removeprefix("->").strip()
        if text.startswith("Order By:") and steps:
            steps[-1] += " (KNN order by `<->`)"
            continue
        if "(cost=" not in text:
            continue
        head = text.split("(cost=")[0].strip()
        if " using " in head:
            kind, rest = head.split(" using ", 1)
            target = f" using {rest.split(' on ')[0]}"
        elif " on " in head:
            kind, rest = head.split(" on ", 1)
            target = f" on {rest.split()[0]}"
        else:
            kind, target = head, ""
        if "Scan" in kind or "Sort" in kind:
            steps.append(f"{kind}{target}")
    return "plan: " + "; ".join(steps) if steps else "plan: ?"


def _expect_sorted(found: list[Organisation]) -> None:
    distances = [o.distance_km for o in found]
    if distances != sorted(distances):
        raise BenchError("the finder's results are not nearest first")


def _run_selector(bench: Any, *, name: str, origins: list[Region], minimum: int = 1, **filters: Any) -> None:
    def call(i: int) -> list[Organisation]:
        found = nearest_organisations(origin=origins[i % len(origins)], **filters)
        # What the page reads from every row: no lazy query may hide here.
        [(o.home_region.name if o.home_region else "", o.free_places, o.distance_km) for o in found]
        return found

    def check(found: list[Organisation]) -> None:
        if len(found) < minimum:
            raise BenchError(f"{name}: {len(found)} results, expected at least {minimum}")
        _expect_sorted(found)

    result = measure_call(call, name=name, repeat=bench.repeat, warmup=bench.warmup, check=check)
    result = dataclasses.replace(result, notes=plan_summary({"origin": origins[0], **filters}))
    bench.record(result)


def _village(code: str) -> Region:
    return Region.objects.select_related("parent__parent").get(code=code)


# --- scenarios --------------------------------------------------------------------------

RESIDENTIAL_KINDS = [OrganisationKind.LKSA, OrganisationKind.BALAI, OrganisationKind.LPKS]


def test_selector_no_filters(bench, placed):
    _run_selector(
        bench, name="selector: 20 nearest, any kind (Telanaipura)", origins=[_village(TELANAIPURA)], minimum=20
    )


def test_selector_default_kinds(bench, placed):
    _run_selector(
        bench,
        name="selector: LKSA, Balai, LPKS (the page's default), Telanaipura",
        origins=[_village(TELANAIPURA)],
        kinds=RESIDENTIAL_KINDS,
        minimum=20,
    )


def test_selector_many_villages(bench, placed):
    # A different origin on every call: 200 villages of Sumatera Barat and Jambi.
    placed_villages = Region.objects.filter(level=RegionLevel.VILLAGE, latitude__isnull=False).order_by("code")
    villages = random.Random(SEED).sample(list(placed_villages), 200)
    _run_selector(
        bench,
        name="selector: LKSA with free places, a different village each call",
        origins=villages,
        kinds=[OrganisationKind.LKSA],
        with_free_places=True,
        minimum=20,
    )


def test_selector_selective_filters(bench, placed):
    _run_selector(
        bench,
        name="selector: LKSA, cluster Anak, component Terapi, accredited B+, free places (Telanaipura)",
        origins=[_village(TELANAIPURA)],
        kinds=[OrganisationKind.LKSA],
        # Objects, as the page's form passes them (a code costs one more query to look up).
        cluster=Cluster.objects.get(code="anak"),
        component=ServiceComponent.objects.get(code="terapi"),
        accreditation="B",
        with_free_places=True,
        minimum=5,
    )


def test_selector_within_radius(bench, placed):
    _run_selector(
        bench,
        name="selector: any kind within 25 km (Lubuk Minturun, Kota Padang)",
        origins=[_village(LUBUK_MINTURUN)],
        max_km=25,
        minimum=5,
    )


def test_selector_rare_kind_far_away(bench, placed):
    # Bapas with accessibility support and room, from Merauke: the nearest-first scan has
    # to walk far before it finds 20 that match.
    _run_selector(
        bench,
        name="selector: Bapas offering accessibility support (rare), from Merauke",
        origins=[Region.objects.get(code=MERAUKE)],
        kinds=[OrganisationKind.BAPAS],
        component=ServiceComponent.objects.get(code="aksesibilitas"),
        # Few placed organisations match (3 of 1,000 at SCALE=0.1): a trial scale asks for one.
        minimum=5 if _placed_total() >= BASE_PLACED else 1,
    )


def _check_page(expect_rows: int) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        found = len(re.findall(r'<tr data-code="', response.content.decode()))
        if found < expect_rows:
            raise BenchError(f"/finder/ listed {found} organisations, expected at least {expect_rows}")

    return check


def test_page_default_search(bench, client, placed):
    client.force_login(bench.data.social_worker)
    query = "village=" + TELANAIPURA + "".join(f"&kinds={k}" for k in RESIDENTIAL_KINDS)
    bench.measure(
        client,
        f"{reverse('stakeholders:finder')}?{query}",
        name="page: /finder/ from Telanaipura, LKSA/Balai/LPKS",
        check=_check_page(20),
    )


def test_page_filtered_search(bench, client, placed):
    client.force_login(bench.data.social_worker)
    query = f"village={LUBUK_MINTURUN}&kinds=lksa&cluster=anak&free_places=on&accreditation=current&max_km=150"
    bench.measure(
        client,
        f"{reverse('stakeholders:finder')}?{query}",
        name="page: /finder/ from Lubuk Minturun, LKSA, Anak, free places, accredited, 150 km",
        check=_check_page(5),
    )


def test_page_empty_form(bench, client, placed):
    client.force_login(bench.data.social_worker)
    bench.measure(client, reverse("stakeholders:finder"), name="page: /finder/ empty form")
