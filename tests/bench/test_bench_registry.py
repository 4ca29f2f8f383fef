"""Registry pages: the organisation directory, the region picker's search, the CSV import.

The module reuses the finder bench's `placed` fixture: it builds the same 10,000 placed
organisations (times BENCH_SCALE) for itself and removes them when it is done. Then it
loads the national region table (all 91,599 regions; the test database holds the districts
and villages of two provinces only) and leaves it in place: the figures of that load are
rows of the section. The import scenarios run inside their test's transaction, so the
thousands of organisations they create are rolled back with it.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import html
import io
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atensi.core.models import Cluster, ServiceComponent
from atensi.core.validators import normalise_phone
from stakeholders import imports
from stakeholders.directory import PAGE_SIZE
from stakeholders.models import ImportBatch, ImportKind, ImportStatus, Organisation, OrganisationKind, Region
from stakeholders.models import RegionLevel as Level
from stakeholders.regions import load_regions
from stakeholders.roles import Role
from stakeholders.services import membership_add, organisation_create, user_create
from tests.bench import test_bench_finder as finder
from tests.bench.dataset import SEED
from tests.bench.harness import BenchError, Result, measure

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Registry pages"
DEEP_PAGE = 21  # the first page, then "next" followed 20 times
SEARCH_WORD = "sosial"  # in every "Dinas Sosial …": about a quarter of the names
NATIONAL_VILLAGES = 80_000  # fewer villages than this: the test database's two provinces only
IMPORT_ROWS = 1000
IMPORT_REPEAT = 5
IMPORT_WARMUP = 1
KOTA_JAMBI = "1571"

BENCH_DESCRIPTION = (
    f"Over the finder bench's {finder.BASE_PLACED:,} placed organisations (times BENCH_SCALE, built again "
    "for this section and removed after it) besides the data set's own. "
    "**Directory** rows: a logged-in social worker's GET of /organisations/ (a page of "
    f"{PAGE_SIZE}, keyed on name and id, plus the count of all matches); *notes* give the matches. "
    f"The deep page is page {DEEP_PAGE}, reached by following the page's own “next” link "
    f"{DEEP_PAGE - 1} times before the timing. A directory page's time is mostly rendering (the filter "
    "form and the table), not SQL: measured while writing this bench, its queries took about 4 ms together "
    "(12 ms with the name search, 7 of them counting all its matches). "
    "**Regions**: the section first loads the whole national region table with "
    "`stakeholders.regions.load_regions()` (the test database holds every province and regency/city but "
    "the districts and villages of Sumatera Barat and Jambi only), runs ANALYZE on it, and leaves it "
    "loaded; the two `load_regions()` rows are one call each, in ms: the first load (inserts what is "
    "missing, upserts the rest) and a second, idempotent run (every row upserted again). The picker's "
    "search endpoint (/regions/search/, default levels district and village, 15 results) is then measured "
    "on those 91,599 regions. "
    f"**Import** rows call `stakeholders.imports` directly: a CSV of {IMPORT_ROWS:,} LKSA rows (villages of "
    "Kota Jambi, a third given by name and the rest by code, clusters, components, capacity, accreditation) "
    "imported by an org admin of a Dinas Sosial Kota Jambi; "
    f"{IMPORT_WARMUP} untimed run, then {IMPORT_REPEAT} timed. *Preview* is `import_preview()`: read the file, "
    "validate every row, store the batch. *Confirm, new* is `organisation_import_confirm()` of a file of "
    f"fresh codes (every run imports {IMPORT_ROWS:,} new organisations; its preview is made beforehand, "
    "untimed). *Confirm, update* re-imports codes imported before with a changed phone number and "
    f"capacity on every row: {IMPORT_ROWS:,} updates (profiled while writing this bench, most of its time was "
    "Django's `bulk_update()` building its CASE expressions in Python; its two UPDATE statements took about "
    "0.25 s). The confirm re-validates the rows under row locks "
    "and writes them in bulk; it runs inside the test's transaction (rolled back afterwards), so its "
    "`atomic()` is a savepoint and no commit is timed."
)

# The finder bench's organisations (module-scoped: built for this module, removed after it).
placed = finder.placed


# --- directory ---------------------------------------------------------------------------

_ROW = re.compile(r'<tr data-code="')
_NEXT = re.compile(r'<a class="page-link" rel="next"[^>]*\bhref="([^"]+)"')
_COUNT = re.compile(r'data-testid="directory-count">\s*([\d.,\s]+)')


def _rows(response: Any) -> int:
    return len(_ROW.findall(response.content.decode()))


def _match_count(response: Any) -> int:
    found = _COUNT.search(response.content.decode())
    if found is None:
        raise BenchError("/organisations/ shows no count of organisations")
    return int(re.sub(r"\D", "", found.group(1)))


def _check_directory(minimum: int) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        rows = _rows(response)
        if not minimum <= rows <= PAGE_SIZE:
            raise BenchError(f"/organisations/ listed {rows} organisations, expected {minimum} to {PAGE_SIZE}")

    return check


def _directory(bench: Any, client: Any, query: str, *, name: str, minimum: int = PAGE_SIZE, notes: str = "") -> None:
    client.force_login(bench.data.social_worker)
    url = reverse("stakeholders:organisation_list") + query
    first = client.get(url)
    if first.status_code != 200:
        raise BenchError(f"{name}: GET {url} answered {first.status_code}")
    matches = f"{_match_count(first):,} organisations match"
    bench.measure(client, url, name=name, check=_check_directory(minimum), notes=f"{matches}{notes}")


def test_directory_first_page(bench, client, placed):
    _directory(bench, client, "", name="directory: first page, no filters")


def test_directory_kind_and_province(bench, client, placed):
    _directory(bench, client, "?kind=lksa&province=15", name="directory: kind LKSA, province Jambi (15)")


def test_directory_name_search(bench, client, placed):
    _directory(bench, client, f"?q={SEARCH_WORD}", name=f"directory: name search “{SEARCH_WORD}”")


def test_directory_deep_page(bench, client, placed):
    client.force_login(bench.data.social_worker)
    base = reverse("stakeholders:organisation_list")
    url = base
    for _ in range(DEEP_PAGE - 1):
        response = client.get(url)
        found = _NEXT.search(response.content.decode())
        if response.status_code != 200 or found is None:
            raise BenchError(f"the directory page {url} has no “next” link")
        url = base + html.unescape(found.group(1))
    first_row = (DEEP_PAGE - 1) * PAGE_SIZE + 1
    bench.measure(
        client,
        url,
        name=f"directory: page {DEEP_PAGE}, no filters (cursor)",
        check=_check_directory(PAGE_SIZE),
        notes=f"rows {first_row:,} to {first_row + PAGE_SIZE - 1:,}, reached through the page's own “next” links",
    )


# --- regions -----------------------------------------------------------------------------


def _timed_load() -> tuple[float, int, dict[str, int]]:
    gc.collect()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        counts = load_regions()
        elapsed = time.perf_counter() - started
    return elapsed, len(captured.captured_queries), counts


def _load_result(name: str, elapsed: float, queries: int, notes: str) -> Result:
    ms = elapsed * 1000
    return Result(
        name=name,
        p50_ms=ms,
        p95_ms=ms,
        max_ms=ms,
        queries=queries,
        queries_min=queries,
        status=0,
        requests=1,
        notes=notes,
    )


@pytest.fixture(scope="module")
def national_regions(placed: int, bench_report: Any, django_db_blocker: Any) -> Iterator[list[Result]]:
    """Every region of Indonesia, loaded once (after `placed`, so its organisations match the finder's)."""
    results: list[Result] = []
    with django_db_blocker.unblock():
        before = Counter(Region.objects.values_list("level", flat=True))
        if before[Level.VILLAGE] < NATIONAL_VILLAGES:
            elapsed, queries, counts = _timed_load()
            total = sum(counts.values())
            added = total - sum(before.values())
            results.append(
                _load_result(
                    "load_regions(): first national load",
                    elapsed,
                    queries,
                    f"{elapsed:.1f} s for {total:,} regions: {added:,} inserted, "
                    f"{total - added:,} already there (the test database's) upserted",
                )
            )
        elapsed, queries, counts = _timed_load()
        results.append(
            _load_result(
                "load_regions(): again, nothing new (idempotent)",
                elapsed,
                queries,
                f"{elapsed:.1f} s for {sum(counts.values()):,} regions, every one upserted again",
            )
        )
        with connection.cursor() as cursor:
            # Autovacuum would do it soon after a real load; the search's plan depends on it.
            cursor.execute("ANALYZE stakeholders_region")
        after = Counter(Region.objects.values_list("level", flat=True))
    if after[Level.VILLAGE] < NATIONAL_VILLAGES:
        raise BenchError(f"load_regions() left {after[Level.VILLAGE]:,} villages; the national table has 83,762")
    bench_report.sizes["regions, national (loaded by the registry section, kept after it)"] = sum(after.values())
    bench_report.sizes["… of which villages (desa/kelurahan)"] = after[Level.VILLAGE]
    yield results


def test_load_regions(bench, national_regions):
    for result in national_regions:
        bench.record(result)


_OPTION = re.compile(r'role="option"[^>]*\bdata-code="(\d+)"')


def _region_search(bench: Any, client: Any, query: str, *, expect: str, name: str) -> None:
    client.force_login(bench.data.social_worker)
    found: list[str] = []

    def check(response: Any) -> None:
        found[:] = _OPTION.findall(response.content.decode())
        if expect not in found:
            raise BenchError(f"the region search for {query!r} did not offer {expect} (offered {found})")

    url = reverse("stakeholders:region_search")
    result = measure(client, url, data={"q": query}, name=name, check=check, repeat=bench.repeat, warmup=bench.warmup)
    # The last response's options, for the notes: how many, and where the expected one came.
    notes = f"{len(found)} options; {expect} is number {found.index(expect) + 1}"
    bench.record(dataclasses.replace(result, notes=notes))


def test_region_search_name(bench, client, national_regions):
    _region_search(bench, client, "Telanaipura", expect="1571011004", name="region search: “Telanaipura”")


def test_region_search_prefix(bench, client, national_regions):
    _region_search(bench, client, "Lubuk Min", expect="1371111002", name="region search: “Lubuk Min” (as typed)")


def test_region_search_typo(bench, client, national_regions):
    _region_search(bench, client, "Telanaypura", expect="1571011004", name="region search: “Telanaypura” (a typo)")


def test_region_search_code(bench, client, national_regions):
    _region_search(bench, client, "15.71.01", expect="157101", name="region search: code “15.71.01”")


# --- import ------------------------------------------------------------------------------

IMPORT_HEADER = [
    "kode",
    "nama",
    "jenis",
    "alamat",
    "desa/kelurahan",
    "telepon",
    "email",
    "klaster",
    "komponen",
    "kapasitas",
    "terisi",
    "akreditasi",
    "akreditasi berlaku sampai",
]
NAME_WORDS = ("Harapan", "Kasih Ibu", "Pelita", "Bina Insani", "Al-Ikhlas", "Permata", "Cahaya", "Nurul Iman")


def import_csv(prefix: str, *, version: int = 0, rows: int = IMPORT_ROWS) -> bytes:
    """`rows` valid LKSA rows for Kota Jambi; `version` changes every row's phone and capacity."""
    rng = random.Random(SEED)
    villages = list(Region.objects.filter(level=Level.VILLAGE, code__startswith=KOTA_JAMBI).values_list("code", "name"))
    if not villages:
        raise BenchError("the import bench needs the villages of Kota Jambi")
    name_counts = Counter(name for _code, name in villages)
    clusters = list(Cluster.objects.filter(is_active=True).values_list("code", flat=True))
    components = list(ServiceComponent.objects.filter(is_active=True).values_list("code", flat=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_HEADER)
    for i in range(1, rows + 1):
        code, village_name = rng.choice(villages)
        # A third by name (where Kota Jambi has only one village so called), the rest by code.
        village = village_name if i % 3 == 0 and name_counts[village_name] == 1 else Region(code=code).dotted_code
        capacity = rng.randint(10, 60)
        occupancy = rng.randint(0, capacity)
        grade = rng.choice(["", "A", "B", "C"])
        writer.writerow(
            [
                f"{prefix}-{i:04d}",
                f"LKSA {rng.choice(NAME_WORDS)} {i}",
                "LKSA",
                f"Jl. {village_name.title()} No. {rng.randint(1, 200)}",
                village,
                f"0741 {version % 10}{i:05d}",
                f"lksa{i}@example.org",
                ", ".join(rng.sample(clusters, rng.randint(1, 2))),
                ", ".join(rng.sample(components, rng.randint(1, 3))),
                capacity + version,  # after the random draws: a version changes nothing else
                occupancy,
                grade,
                f"31/12/{rng.randint(2026, 2029)}" if grade else "",
            ]
        )
    return out.getvalue().encode("utf-8")


@pytest.fixture
def importer(bench_data: Any) -> tuple[Organisation, Any]:
    """A Dinas Sosial Kota Jambi and its org admin (in the test's transaction)."""
    dinas = organisation_create(
        code="DINSOS-BENCH-1571",
        name="Dinas Sosial Kota Jambi (bench)",
        kind=OrganisationKind.DINSOS_KABKOTA,
        home_region=Region.objects.get(code=KOTA_JAMBI),
    )
    admin = user_create(username="bench.admin.dinsos", password=bench_data.password)
    membership_add(organisation=dinas, user=admin, role=Role.ORG_ADMIN)
    return dinas, admin


def _preview(dinas: Organisation, admin: Any, data: bytes, filename: str) -> ImportBatch:
    upload = SimpleUploadedFile(filename, data, content_type="text/csv")
    batch = imports.import_preview(organisation=dinas, by=admin, kind=ImportKind.ORGANISATIONS, upload=upload)
    if batch.errors:
        raise BenchError(f"the import preview of {filename} found errors: {batch.errors[:3]}")
    return batch


def _expect(counts: dict[str, int], **expected: int) -> None:
    got = {key: counts.get(key) for key in expected}
    if got != expected:
        raise BenchError(f"the import counted {got}, expected {expected}")


def _runs(bench: Any) -> tuple[int, int]:
    return min(IMPORT_REPEAT, bench.repeat), min(IMPORT_WARMUP, bench.warmup)


def test_import_preview(bench, importer):
    dinas, admin = importer
    repeat, warmup = _runs(bench)
    data = import_csv("BENCH-PRE")

    def preview(i: int) -> ImportBatch:
        return _preview(dinas, admin, data, f"lksa-{i}.csv")

    result = finder.measure_call(
        preview,
        name=f"import: preview of {IMPORT_ROWS:,} LKSA rows (CSV, all new)",
        repeat=repeat,
        warmup=warmup,
        check=lambda batch: _expect(batch.result, rows=IMPORT_ROWS, new=IMPORT_ROWS, error_rows=0),
    )
    bench.record(result)


def test_import_confirm_new(bench, importer):
    dinas, admin = importer
    repeat, warmup = _runs(bench)
    # One file of fresh codes per run, each previewed (untimed) before any is confirmed.
    batches = [_preview(dinas, admin, import_csv(f"BENCH-NEW{i}"), f"new-{i}.csv") for i in range(warmup + repeat)]

    def confirm(i: int) -> ImportBatch:
        return imports.organisation_import_confirm(batch=batches[i], by=admin)

    def check(batch: ImportBatch) -> None:
        if batch.status != ImportStatus.IMPORTED:
            raise BenchError(f"import batch {batch.pk} is {batch.status}, not imported")
        _expect(batch.result, new=IMPORT_ROWS, updated=0)

    result = finder.measure_call(
        confirm,
        name=f"import: confirm, {IMPORT_ROWS:,} new LKSA",
        repeat=repeat,
        warmup=warmup,
        check=check,
    )
    bench.record(result)
    imported = Organisation.objects.filter(parent=dinas, code__startswith="BENCH-NEW").count()
    if imported != IMPORT_ROWS * (warmup + repeat):
        raise BenchError(f"{imported} organisations imported, expected {IMPORT_ROWS * (warmup + repeat)}")


def test_import_confirm_update(bench, importer):
    dinas, admin = importer
    repeat, warmup = _runs(bench)
    first = _preview(dinas, admin, import_csv("BENCH-UPD"), "upd-0.csv")
    imports.organisation_import_confirm(batch=first, by=admin)
    # Every later version changes each row's phone and capacity: all rows are updates.
    batches = [
        _preview(dinas, admin, import_csv("BENCH-UPD", version=v), f"upd-{v}.csv")
        for v in range(1, warmup + repeat + 1)
    ]

    def confirm(i: int) -> ImportBatch:
        return imports.organisation_import_confirm(batch=batches[i], by=admin)

    def check(batch: ImportBatch) -> None:
        if batch.status != ImportStatus.IMPORTED:
            raise BenchError(f"import batch {batch.pk} is {batch.status}, not imported")
        _expect(batch.result, new=0, updated=IMPORT_ROWS)

    result = finder.measure_call(
        confirm,
        name=f"import: confirm, {IMPORT_ROWS:,} updates (re-import, phone and capacity changed)",
        repeat=repeat,
        warmup=warmup,
        check=check,
    )
    bench.record(result)
    last = Organisation.objects.get(code="BENCH-UPD-0001")
    if last.phone != normalise_phone(f"0741 {(warmup + repeat) % 10}00001"):
        raise BenchError(f"BENCH-UPD-0001 has phone {last.phone} after the re-imports")
