"""The benchmark harness: time a page through Django's test client and write the report.

`measure()` times one URL server-side: warm-up requests first (untimed), then `repeat`
timed requests, each under `CaptureQueriesContext` so the number of SQL queries and the
time spent in them (as the database cursor measures it: the round trip included) are
known too; the rest of the request's time is Python (middleware, view, templates).
Any unexpected status code raises `BenchError`: the benchmark fails on errors, never on
slowness (speed targets live in the report, not in assertions).

`Report` collects results per section (one section per bench module) and renders
docs/benchmarks.md: the machine, the data-set sizes and one table per section.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parents[2]


class BenchError(AssertionError):
    """A scenario did not behave (wrong status, wrong redirect): the run is not valid."""


@dataclass(frozen=True)
class Result:
    name: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int  # the most queries any timed request made
    status: int
    requests: int
    queries_min: int = 0  # the fewest; equal to `queries` unless the count varies
    notes: str = ""
    sql: tuple[str, ...] = ()  # the last timed request's queries (BENCH_SHOW_QUERIES=1 prints them)
    sql_ms: float | None = None  # median time of a timed request's SQL queries
    python_ms: float | None = None  # median of the rest of its time

    @property
    def queries_label(self) -> str:
        return str(self.queries) if self.queries_min == self.queries else f"{self.queries_min}–{self.queries}"


def percentile(samples: Iterable[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class _ServerClock:
    """Times the test client's handler only: the request through middleware, view and template.

    The client's own work (building the WSGI environ, cookies, copying the response) is
    left out, and so is Django's test-only template instrumentation (the template_rendered
    signal the client listens to), which would otherwise copy every template context.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.inner = getattr(client, "handler", None)
        self.elapsed = 0.0

    def __enter__(self) -> _ServerClock:
        if self.inner is not None:
            inner = self.inner

            def timed(environ: Any) -> Any:
                started = time.perf_counter()
                try:
                    return inner(environ)
                finally:
                    self.elapsed += time.perf_counter() - started

            self.client.handler = timed
        self._saved_render = _uninstrument_templates()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.inner is not None:
            self.client.handler = self.inner
        _restore_templates(self._saved_render)

    @property
    def timing_handler(self) -> bool:
        return self.inner is not None


class _SqlClock:
    """An execute wrapper adding up the time of every query (CaptureQueriesContext keeps
    each one's time to the millisecond only)."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.elapsed += time.perf_counter() - started


def _uninstrument_templates() -> dict[Any, Any]:
    """Put back the template rendering setup_test_environment() replaced; {} if it cannot."""
    from django.template import base
    from django.test import utils

    saved = getattr(getattr(utils, "_TestState", None), "saved_data", None)
    swapped: dict[Any, Any] = {}
    for cls_name, attr in (("Template", "template_render"), ("PartialTemplate", "partial_template_render")):
        cls = getattr(base, cls_name, None)
        original = getattr(saved, attr, None)
        if cls is not None and original is not None and cls._render is not original:
            swapped[cls] = cls._render
            cls._render = original
    return swapped


def _restore_templates(swapped: dict[Any, Any]) -> None:
    for cls, render in swapped.items():
        cls._render = render


def measure(
    client: Any,
    url: str,
    *,
    name: str | None = None,
    repeat: int = 100,
    warmup: int = 10,
    method: str = "get",
    data: Mapping[str, Any] | None = None,
    expect: int = 200,
    check: Callable[[Any], None] | None = None,
    before: Callable[[], None] | None = None,
    using: str = DEFAULT_DB_ALIAS,
    **extra: Any,
) -> Result:
    """Request `url` `warmup` + `repeat` times; time the last `repeat` requests.

    expect: the status every response must have (302 for a successful login POST).
    check:  called with every response, warm-up included; raise to fail the scenario.
            (Templates are not instrumented while timing, so use response.content, not
            response.context.)
    before: called (untimed) before every request, e.g. to drop the client's cookies.
    extra:  passed to the client call (headers=..., follow=..., content_type=...).
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    send = getattr(client, method.lower())
    connection = connections[using]
    timings: list[float] = []
    query_counts: list[int] = []
    sql_times: list[float] = []
    rest_times: list[float] = []
    sql: list[str] = []
    status = 0
    for i in range(warmup + repeat):
        if i == warmup:
            # Garbage left by earlier scenarios (or the data set) is collected now, not
            # charged to a timed request; collections the requests themselves cause still count.
            # What survives is frozen: a web worker does not hold the data set builder's and
            # pytest's objects, which every full collection would otherwise scan again.
            gc.collect()
            gc.freeze()
        if before is not None:
            before()
        clock_sql = _SqlClock()
        with (
            CaptureQueriesContext(connection) as captured,
            connection.execute_wrapper(clock_sql),
            _ServerClock(client) as clock,
        ):
            started = time.perf_counter()
            response = send(url, data, **extra) if data is not None else send(url, **extra)
            elapsed = clock.elapsed if clock.timing_handler else time.perf_counter() - started
        status = response.status_code
        if status != expect:
            raise BenchError(f"{name or url}: {method.upper()} {url} answered {status}, expected {expect}")
        if check is not None:
            check(response)
        if i >= warmup:
            timings.append(elapsed * 1000)
            query_counts.append(len(captured.captured_queries))
            sql = [q["sql"] for q in captured.captured_queries]
            in_sql = clock_sql.elapsed * 1000
            sql_times.append(in_sql)
            rest_times.append(elapsed * 1000 - in_sql)
    gc.unfreeze()  # the next scenario's garbage may include today's survivors
    return Result(
        name=name or f"{method.upper()} {url}",
        p50_ms=percentile(timings, 50),
        p95_ms=percentile(timings, 95),
        max_ms=max(timings),
        queries=max(query_counts),
        queries_min=min(query_counts),
        status=status,
        requests=repeat,
        sql=tuple(sql),
        sql_ms=percentile(sql_times, 50),
        python_ms=percentile(rest_times, 50),
    )


# --- The machine ----------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name, with family/model when a hypervisor shows only a vague one."""
    fields: dict[str, str] = {}
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if not key.strip():
            break  # the first processor is enough
        fields.setdefault(key.strip(), " ".join(value.split()))
    name = fields.get("model name") or fields.get("Hardware") or platform.processor() or platform.machine()
    details = []
    if "cpu family" in fields and "model" in fields:
        details.append(f"family {fields['cpu family']}, model {fields['model']}")
    if "hypervisor" in fields.get("flags", "").split():
        details.append("virtual machine")
    return f"{name} ({'; '.join(details)})" if details else (name or "unknown")


def ram_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev


def describe_machine(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """What the figures were measured on. Needs the database (for its version)."""
    import django

    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    try:
        import redis
        from django.conf import settings

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            redis_version = str(client.info("server").get("redis_version", "unknown"))
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - a description, not a check
        redis_version = f"unavailable ({type(exc).__name__})"
    cores_online = os.cpu_count() or 1
    cores = usable_cores()
    ram = ram_gib()
    return {
        "CPU": cpu_model(),
        "Cores": f"{cores}" if cores == cores_online else f"{cores} usable of {cores_online}",
        "RAM": f"{ram:.1f} GiB" if ram else "unknown",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": pg_version,
        "Redis": redis_version,
        "Commit": git_revision(),
    }


# --- The report -----------------------------------------------------------------------


@dataclass
class Section:
    title: str
    description: str = ""
    results: list[Result] = field(default_factory=list)


@dataclass
class Report:
    """Results of one bench session; `render()` gives the whole docs/benchmarks.md."""

    machine: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # what the data set holds, by kind
    settings: dict[str, str] = field(default_factory=dict)  # how it was measured
    sections: dict[str, Section] = field(default_factory=dict)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    notes: list[str] = field(default_factory=list)

    def section(self, key: str, title: str, description: str = "") -> Section:
        if key not in self.sections:
            self.sections[key] = Section(title=title, description=description)
        return self.sections[key]

    def add(self, key: str, result: Result, *, title: str | None = None) -> None:
        self.section(key, title or key).results.append(result)

    @property
    def has_results(self) -> bool:
        return any(s.results for s in self.sections.values())

    def render(self) -> str:
        lines = [
            "# Benchmarks",
            "",
            "<!-- Written by `make bench` (tests/bench/). Do not edit by hand: the next run rewrites this file. -->",
            "",
            "Server-side timings of the portal's main pages, requested through Django's test client:",
            "the time the request spends in Django (middleware, view, templates, database), with",
            "PostgreSQL and Redis local (embedded, unix sockets, fsync off). Network, browser and",
            "static files are not included. Each scenario makes its warm-up requests first, then the",
            "timed ones; *queries* is the number of SQL queries per request, *SQL ms* the median time",
            "a request spent in them (round trip included) and *Python ms* the median of the rest",
            "(middleware, view, templates). The figures are for comparing runs on the same machine,",
            "not promises: the benchmark reports them and fails only on errors (a wrong status or",
            "page), never on slowness.",
            "",
            "`make bench` (all sections, scale 10: 1,000,000 cases) writes this file; `make bench SCALE=1",
            "BENCH=cases,referrals` runs two sections on a tenth of the data. The data set is built once",
            "per generator and migration state and kept under var/bench (see the README).",
            "",
            "## Machine",
            "",
            "| | |",
            "|---|---|",
            f"| Date | {self.started:%Y-%m-%d %H:%M} UTC |",
            *(f"| {key} | {_cell(value)} |" for key, value in self.machine.items()),
            "",
        ]
        if self.settings:
            lines += [
                "## Run",
                "",
                "| | |",
                "|---|---|",
                *(f"| {key} | {_cell(value)} |" for key, value in self.settings.items()),
                "",
            ]
        lines += [
            "## Data set",
            "",
            "| | rows |",
            "|---|---:|",
            *(f"| {key} | {value:,} |" for key, value in self.sizes.items()),
            "",
        ]
        for note in self.notes:
            lines += [note, ""]
        for section in self.sections.values():
            if not section.results:
                continue
            lines += [f"## {section.title}", ""]
            if section.description:
                lines += [section.description, ""]
            lines += [
                "| scenario | p50 ms | p95 ms | max ms | queries | SQL ms | Python ms | requests |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for r in section.results:
                lines.append(
                    f"| {_cell(r.name)} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.max_ms:.1f} "
                    f"| {r.queries_label} | {_ms(r.sql_ms)} | {_ms(r.python_ms)} | {r.requests} |"
                )
            notes = [r for r in section.results if r.notes]
            if notes:
                lines.append("")
                lines += [f"- {_cell(r.name)}: {r.notes}" for r in notes]
            lines.append("")
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)

    def summary(self) -> list[str]:
        """Plain-text lines for the terminal."""
        out = []
        width = max((len(r.name) for s in self.sections.values() for r in s.results), default=10)
        for section in self.sections.values():
            if not section.results:
                continue
            out.append(f"{section.title}:")
            out.append(
                f"  {'scenario':<{width}}  {'p50':>8}  {'p95':>8}  {'max':>8}  {'queries':>7}  {'sql':>7}  "
                f"{'python':>7}  {'n':>5}"
            )
            for r in section.results:
                out.append(
                    f"  {r.name:<{width}}  {r.p50_ms:8.1f}  {r.p95_ms:8.1f}  {r.max_ms:8.1f}  "
                    f"{r.queries_label:>7}  {_ms(r.sql_ms):>7}  {_ms(r.python_ms):>7}  {r.requests:>5}"
                )
        return out


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
