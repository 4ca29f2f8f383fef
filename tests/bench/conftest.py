"""Fixtures and hooks of the benchmark (`make bench`).

- `bench_data` (session): the data set of tests/bench/dataset.py, built once per run
  in the test database, committed, and seen by every scenario.
- `bench` (function): times requests with harness.measure() and files each result under
  its module's section of the session's report (module attributes BENCH_SECTION and,
  optionally, BENCH_DESCRIPTION name the section).
- At the end of a passing run the report is written to docs/benchmarks.md (BENCH_OUTPUT
  overrides the path) and printed. A run with a failure or error writes nothing.

A new scenario file is a `test_bench_<area>.py` here with `pytestmark =
pytest.mark.django_db`, a BENCH_SECTION, and tests calling `bench.measure(...)`.

Environment: BENCH_SCALE (data-set multiplier, default 1), BENCH_REPEAT (timed
requests per scenario, default 100), BENCH_WARMUP (untimed ones first, default 10),
BENCH_OUTPUT (report path), BENCH_SHOW_QUERIES=1 (print each scenario's SQL).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher

from tests.bench import dataset
from tests.bench.harness import ROOT, Report, Result, describe_machine, measure

EXPECTED_SETTINGS = "atensi.settings.test"
REPORT_KEY = pytest.StashKey[Report]()
WRITTEN_KEY = pytest.StashKey[Path]()
DESELECTED_KEY = pytest.StashKey[int]()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0 or (name == "BENCH_REPEAT" and value < 1):
        raise pytest.UsageError(f"{name} is too small: {value}")
    return value


def output_path() -> Path:
    raw = os.environ.get("BENCH_OUTPUT", "")
    path = Path(raw) if raw else ROOT / "docs" / "benchmarks.md"
    return path if path.is_absolute() else ROOT / path


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORT_KEY] = Report()
    config.stash[DESELECTED_KEY] = 0


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[DESELECTED_KEY] = config.stash.get(DESELECTED_KEY, 0) + len(items)


@pytest.fixture(scope="session")
def bench_report(pytestconfig: pytest.Config) -> Report:
    return pytestconfig.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def bench_data(django_db_setup: Any, django_db_blocker: Any, bench_report: Report) -> dataset.DataSet:
    """The data set, committed to the test database (dropped with it at the end of the run)."""
    scale = dataset.scale_from_env()
    started = time.perf_counter()
    with django_db_blocker.unblock():
        data = dataset.build(scale)
        bench_report.machine = describe_machine()
    built_in = time.perf_counter() - started
    bench_report.sizes = data.sizes
    bench_report.settings = {
        "Settings": f"`{settings.SETTINGS_MODULE}`, password hasher {get_hasher().algorithm}",
        "BENCH_SCALE": f"{data.scale:g}",
        "Requests per scenario": f"{_env_int('BENCH_WARMUP', 10)} warm-up, then {_env_int('BENCH_REPEAT', 100)} timed"
        " (unless the scenario says otherwise)",
        "Data set built in": f"{built_in:.1f} s (bulk inserts, audit triggers on)",
    }
    if settings.SETTINGS_MODULE != EXPECTED_SETTINGS:
        bench_report.notes.append(
            f"**Note:** this run used `{settings.SETTINGS_MODULE}`, not `{EXPECTED_SETTINGS}` (pyproject.toml): "
            "DJANGO_SETTINGS_MODULE was already set in the environment, and pytest-django prefers it. "
            "The login rows pin their password hasher, so they compare either way."
        )
    return data


class Bench:
    """What a scenario uses: `bench.measure(client, url, name=..., ...)`."""

    def __init__(self, report: Report, module: Any, data: dataset.DataSet) -> None:
        self.report = report
        self.data = data
        self.key = module.__name__
        self.title = getattr(module, "BENCH_SECTION", self.key)
        self.description = getattr(module, "BENCH_DESCRIPTION", "")
        self.repeat = _env_int("BENCH_REPEAT", 100)
        self.warmup = _env_int("BENCH_WARMUP", 10)

    def measure(self, client: Any, url: str, *, name: str, notes: str = "", **kwargs: Any) -> Result:
        """harness.measure() with the run's repeat/warmup defaults; records the result."""
        kwargs.setdefault("repeat", self.repeat)
        kwargs.setdefault("warmup", self.warmup)
        result = measure(client, url, name=name, **kwargs)
        if notes:
            result = dataclasses.replace(result, notes=notes)
        self.record(result)
        return result

    def record(self, result: Result) -> None:
        self.report.section(self.key, self.title, self.description).results.append(result)


@pytest.fixture
def bench(request: pytest.FixtureRequest, bench_report: Report, bench_data: dataset.DataSet) -> Bench:
    return Bench(bench_report, request.module, bench_data)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = session.config.stash.get(REPORT_KEY, None)
    if report is None or not report.has_results or exitstatus != 0:
        return
    deselected = session.config.stash.get(DESELECTED_KEY, 0)
    if deselected:
        report.notes.append(f"Partial run: {deselected} scenario(s) were deselected.")
    path = output_path()
    report.write(path)
    session.config.stash[WRITTEN_KEY] = path


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(REPORT_KEY, None)
    if report is None or not report.has_results:
        return
    terminalreporter.section("benchmark (ms)")
    for line in report.summary():
        terminalreporter.write_line(line)
    for note in report.notes:
        terminalreporter.write_line(note.replace("**", ""))
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for section in report.sections.values():
            for result in section.results:
                terminalreporter.write_line(f"\n{result.name}: {len(result.sql)} queries")
                for number, sql in enumerate(result.sql, 1):
                    terminalreporter.write_line(f"  {number}. {sql}")
    written = config.stash.get(WRITTEN_KEY, None)
    if written is not None:
        terminalreporter.write_line(f"Report written to {written}")
    else:
        terminalreporter.write_line("Not written: the run had failures or errors.")
