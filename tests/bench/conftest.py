"""Fixtures and hooks of the benchmark (`make bench`).

- `django_db_setup` (session): the bench's own database, kept between runs and reused
  while the generator and the migrations are the ones that built it (tests/bench/store.py).
- `bench_data` (session): the data set of tests/bench/dataset.py: the layers the
  collected sections need (their BENCH_NEEDS), built on first use and committed.
- `bench` (function): times requests with harness.measure() and files each result under
  its module's section of the session's report (module attributes BENCH_SECTION and,
  optionally, BENCH_DESCRIPTION name the section).
- At the end of a passing run the report is written to docs/benchmarks.md (BENCH_OUTPUT
  overrides the path) and printed. A run with a failure or error writes nothing.

A new scenario file is a `test_bench_<area>.py` here with `pytestmark =
pytest.mark.django_db`, a BENCH_SECTION, and tests calling `bench.measure(...)`.

Environment: BENCH (sections to run, comma-separated: `cases,referrals` runs
test_bench_cases.py and test_bench_referrals.py; empty: all), BENCH_SCALE (data-set
multiplier; `make bench` passes SCALE, default 10), BENCH_REBUILD=1 (build the data set
again even though the kept one matches), BENCH_NOTE (a line for the report,
e.g. that the machine was busy), BENCH_REPEAT (timed
requests per scenario, default 100), BENCH_WARMUP (untimed ones first, default 10),
BENCH_OUTPUT (report path), BENCH_SHOW_QUERIES=1 (print each scenario's SQL).
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher

from tests.bench import dataset, store
from tests.bench.harness import ROOT, Report, Result, describe_machine, measure

EXPECTED_SETTINGS = "tests.bench.settings"
STARTED_KEY = pytest.StashKey[float]()
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


def sections() -> dict[str, Path]:
    """The bench's sections: name -> module file (test_bench_<name>.py)."""
    here = Path(__file__).parent
    return {path.stem.removeprefix("test_bench_"): path for path in sorted(here.glob("test_bench_*.py"))}


def selected_sections() -> set[str]:
    raw = os.environ.get("BENCH", "").strip()
    if not raw or raw == "all":
        return set(sections())
    chosen = {name.strip() for name in re.split(r"[,\s]+", raw) if name.strip()}
    unknown = chosen - set(sections())
    if unknown:
        raise pytest.UsageError(
            f"BENCH: no section {', '.join(sorted(unknown))}; the sections are {', '.join(sections())}"
        )
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORT_KEY] = Report()
    config.stash[DESELECTED_KEY] = 0
    config.stash[STARTED_KEY] = time.perf_counter()
    selected_sections()  # a wrong name fails before anything is built


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Sections left out of BENCH are not even imported."""
    name = collection_path.name
    if name.startswith("test_bench_") and name.endswith(".py"):
        return name.removeprefix("test_bench_").removesuffix(".py") not in selected_sections() or None
    return None


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[DESELECTED_KEY] = config.stash.get(DESELECTED_KEY, 0) + len(items)


@pytest.fixture(scope="session")
def bench_report(pytestconfig: pytest.Config) -> Report:
    return pytestconfig.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def django_db_setup(request: pytest.FixtureRequest, django_test_environment: Any, django_db_blocker: Any) -> Any:
    """The bench database, kept (never torn down) and reused when its stamp matches."""
    with django_db_blocker.unblock():
        stamp, how = store.open_database(dataset.scale_from_env(), verbosity=request.config.option.verbose)
    request.config.stash[DATABASE_KEY] = (stamp, how)


DATABASE_KEY = pytest.StashKey[tuple[dict[str, Any], str]]()


def _needs(session: pytest.Session) -> set[str]:
    """The data-set layers the collected sections read (module attribute BENCH_NEEDS)."""
    needs: set[str] = set()
    for item in session.items:
        module = getattr(item, "module", None)
        needs.update(getattr(module, "BENCH_NEEDS", ("core",)))
    return needs or {"core"}


@pytest.fixture(scope="session")
def bench_data(
    request: pytest.FixtureRequest, django_db_setup: Any, django_db_blocker: Any, bench_report: Report
) -> dataset.DataSet:
    """The data set, committed to the bench database (kept for the next run)."""
    stamp, how = request.config.stash[DATABASE_KEY]
    scale = stamp["scale"]
    with django_db_blocker.unblock():
        stamp, built = store.ensure_layers(stamp, _needs(request.session))
        data = dataset.load(scale, stamp["layers"], stamp["sizes"])
        bench_report.machine = describe_machine()
    ready = time.perf_counter() - request.config.stash[STARTED_KEY]
    bench_report.sizes = data.sizes
    seconds = stamp.get("seconds", {})
    layers = ", ".join(f"{layer} {seconds.get(layer, 0):.1f} s" for layer in stamp["layers"])
    reused = [layer for layer in stamp["layers"] if layer not in built]
    parts = []
    if built:
        parts.append(f"built in this run: {', '.join(built)} (database {how})")
    if reused:
        parts.append(f"reused: {', '.join(reused)}")
    state = "; ".join(parts) + f"; build times {layers}"
    bench_report.settings = {
        "Settings": f"`{settings.SETTINGS_MODULE}` (DEBUG off, cached templates, CONN_MAX_AGE "
        f"{settings.DATABASES['default'].get('CONN_MAX_AGE')}), password hasher {get_hasher().algorithm}",
        "BENCH_SCALE": f"{data.scale:g}",
        "Sections": ", ".join(sorted(selected_sections())),
        "Requests per scenario": f"{_env_int('BENCH_WARMUP', 10)} warm-up, then {_env_int('BENCH_REPEAT', 100)} timed"
        " (unless the scenario says otherwise)",
        "Data set": f"{state}; fingerprint {stamp['fingerprint']}",
        "Ready to measure after": f"{ready:.1f} s (from the start of pytest)",
    }
    left_out = sorted(set(sections()) - selected_sections())
    if left_out:
        bench_report.notes.append(
            f"Sections run: {', '.join(sorted(selected_sections()))} (BENCH). Not run this time: "
            f"{', '.join(left_out)}; their last figures are in this file's history (git log -p docs/benchmarks.md)."
        )
    if os.environ.get("BENCH_NOTE"):
        bench_report.notes.append(f"**Note:** {os.environ['BENCH_NOTE']}")
    if settings.SETTINGS_MODULE != EXPECTED_SETTINGS:
        bench_report.notes.append(
            f"**Note:** this run used `{settings.SETTINGS_MODULE}`, not `{EXPECTED_SETTINGS}` (the Makefile's --ds): "
            "DJANGO_SETTINGS_MODULE was already set in the environment, and pytest-django prefers it."
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
def client() -> Any:
    """Signed-in sessions as after the second factor (the roles measured here need one)."""
    from atensi.testing.second_factor import Client

    return Client()


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
