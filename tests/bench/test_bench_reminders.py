"""Reminders: a backlog of 100,000 due reminders swept and delivered through a real worker.

The reminders are bulk inserted (batches of 5,000, each committed), all due; a private
redis-server is the broker. Beat's sweep is run once in a process of its own (its time,
queries and memory); it claims a batch, queues their deliveries and, the batch being full,
the next sweep behind them, so the chain of sweeps in the worker — a real `celery worker`
with 2 pool processes, as `make run` starts — takes the rest. The run ends when the last
reminder is delivered; it fails if any was delivered twice or not at all.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis as redis_py
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atensi.core.models import Notification, Reminder, ReminderDelivery
from atensi.core.reminders import CLAIM_BATCH, deliver
from atensi.testing.processes import ROOT, celery_worker, process_env, redis_server
from cases.notification_kinds import NotificationKind
from stakeholders.models import Membership
from tests.bench.harness import BenchError, Result, percentile

pytestmark = pytest.mark.django_db

REMINDERS = int(os.environ.get("BENCH_REMINDERS", "100000"))  # the issue asks for 100,000
INSERT_BATCH = 5000
CONCURRENCY = 2
RECIPIENTS = 2000
PREFIX = "bench-reminder"
STALL_SECONDS = 180  # nothing delivered for this long: the run is broken, not slow
WORKER_SETTINGS = "tests.bench.worker_settings"
MIB = 1024 * 1024

BENCH_SECTION = f"Reminders: a backlog of {REMINDERS:,} due reminders through a real worker"
BENCH_DESCRIPTION = (
    f"{REMINDERS:,} follow-up reminders, all due, for {RECIPIENTS:,} users of the data set, bulk inserted "
    f"{INSERT_BATCH:,} a batch (each committed). A private redis-server is the broker; the worker is a real "
    f"`celery worker` with {CONCURRENCY} pool processes (prefork, `-l INFO`, as `make run` starts it), keeping "
    "its database connections between tasks as production does (tests/bench/worker_settings.py). Beat's sweep "
    f"runs once in a process of its own: it claims {CLAIM_BATCH} reminders, queues a delivery each and, its "
    "batch being full, the next sweep behind them; the chain of sweeps in the worker takes the rest. The rows "
    "*sweep* and *delivery* time each task in the worker from its log (the time in the pool process); "
    "*end to end* runs from the first sweep to the last reminder delivered, its notes give reminders per "
    "second and the peak memory (RSS, sampled every 0.2 s). Every reminder is checked delivered exactly once."
)

# Beat's sweep, in a process of its own: time, queries (the rules' apart) and memory.
FIRST_SWEEP = """
import json, threading, time
import django
django.setup()
import psutil
from django.db import connection
from django.test.utils import CaptureQueriesContext
from atensi.core import reminders
from atensi.core.tasks import reminders_sweep

me = psutil.Process()
peaks = {"sweep": 0, "rules": 0}
phase = ["rules"]
stop = threading.Event()

def sample():
    while not stop.is_set():
        rss = me.memory_info().rss
        peaks[phase[0]] = max(peaks[phase[0]], rss)
        peaks["sweep"] = max(peaks["sweep"], rss)
        stop.wait(0.005)

rules_queries, rules_seconds = [], []
run_rules = reminders.run_rules

def counted_rules(now):
    clock = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        run_rules(now)
    rules_seconds.append(time.perf_counter() - clock)
    phase[0] = "claim"
    peaks["claim"] = 0
    rules_queries.append(len(captured.captured_queries))

reminders.run_rules = counted_rules
before = me.memory_info().rss
sampler = threading.Thread(target=sample)
sampler.start()
with CaptureQueriesContext(connection) as captured:
    started, clock = time.time(), time.perf_counter()
    result = reminders_sweep()
    elapsed = time.perf_counter() - clock
stop.set()
sampler.join()
print(json.dumps({
    "started": started,
    "elapsed": elapsed,
    "queries": len(captured.captured_queries),
    "rules_queries": sum(rules_queries),
    "rules_seconds": sum(rules_seconds),
    "result": result,
    "rss_before": before,
    "peak_rss": max(peaks["sweep"], me.memory_info().rss),
    "peak_rss_rules": peaks["rules"],
}))
"""

_SUCCEEDED = re.compile(r"Task atensi\.(reminders_deliver|reminders_sweep)\[[^\]]+\] succeeded in ([0-9.e-]+)s: (.*)")


@dataclass
class Peaks:
    """The worker's peak resident memory, and Redis's, while the backlog drains."""

    main: int = 0
    pool: dict[int, int] = field(default_factory=dict)
    total: int = 0
    redis_memory: int = 0
    queue: int = 0
    worker_cpu: float = 0.0  # CPU seconds the worker's processes used (user + system)
    machine_busy: float = 0.0  # share of all the machine's CPU time that was not idle


@dataclass
class Run:
    inserted_in: float
    first_sweep: dict[str, Any]
    seconds: float
    others: int  # reminders the rules planned from the data set, delivered in the same run
    peaks: Peaks
    sweeps_ms: list[float]
    deliveries_ms: list[float]
    delivered_by_tasks: int
    delivery_queries: int
    emails: int


def _sample(worker_pid: int, redis_url: str, peaks: Peaks, stop: threading.Event) -> None:
    client = redis_py.Redis.from_url(redis_url)
    try:
        main = psutil.Process(worker_pid)
        while not stop.is_set():
            try:
                total = main_rss = main.memory_info().rss
                cpu = sum(main.cpu_times()[:2])
                for child in main.children():
                    try:
                        rss = child.memory_info().rss
                        cpu += sum(child.cpu_times()[:2])
                    except psutil.NoSuchProcess:
                        continue
                    peaks.pool[child.pid] = max(peaks.pool.get(child.pid, 0), rss)
                    total += rss
                peaks.worker_cpu = max(peaks.worker_cpu, cpu)
                peaks.main, peaks.total = max(peaks.main, main_rss), max(peaks.total, total)
                peaks.redis_memory = max(peaks.redis_memory, int(client.info("memory")["used_memory"]))
                peaks.queue = max(peaks.queue, int(client.llen("celery")))
            except (psutil.NoSuchProcess, redis_py.RedisError):
                pass
            stop.wait(0.2)
    finally:
        client.close()


def _busy(before: Any, after: Any) -> float:
    spent = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    return 1 - idle / spent if spent else 0.0


def _insert(due_at: datetime.datetime) -> float:
    pairs: dict[int, int] = {}
    for user_id, organisation_id in (
        Membership.objects.filter(is_active=True).order_by("pk").values_list("user_id", "organisation_id")
    ):
        pairs.setdefault(user_id, organisation_id)
        if len(pairs) == RECIPIENTS:
            break
    people = list(pairs.items())
    if not people:
        raise BenchError("the data set has no active memberships to remind")
    started = time.perf_counter()
    for offset in range(0, REMINDERS, INSERT_BATCH):
        rows = []
        for i in range(offset, min(offset + INSERT_BATCH, REMINDERS)):
            user_id, organisation_id = people[i % len(people)]
            rows.append(
                Reminder(
                    key=f"{PREFIX}:{i}:due:{user_id}",
                    kind=NotificationKind.FOLLOW_UP_DUE,
                    recipient_id=user_id,
                    organisation_id=organisation_id,
                    due_at=due_at,
                    link=f"/cases/{i + 1}/",
                    data={
                        "case_number": f"BA-BENCH/2026/{i + 1:06d}",
                        "due_on": "2026-11-23",
                        "follow_up_kind": "home_visit",
                    },
                )
            )
        Reminder.objects.bulk_create(rows)  # autocommit: each batch is committed
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE atensi_reminder")
    return elapsed


def _delivery_queries(due_at: datetime.datetime) -> int:
    """The queries of one delivery, counted here on a reminder of its own (not due: no sweep takes it)."""
    user_id = Membership.objects.filter(is_active=True).order_by("pk").values_list("user_id", flat=True).first()
    probe = Reminder.objects.create(
        key=f"{PREFIX}-probe:0:{user_id}",
        kind=NotificationKind.FOLLOW_UP_DUE,
        recipient_id=user_id,
        due_at=due_at + datetime.timedelta(days=365),
        data={"case_number": "BA-BENCH/2026/000000", "due_on": "2026-11-23", "follow_up_kind": "home_visit"},
    )
    with CaptureQueriesContext(connection) as captured:
        if not deliver(probe.pk):
            raise BenchError("the probe reminder was not delivered")
    return len(captured.captured_queries)


def _first_sweep(redis_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SWEEP],
        cwd=ROOT,
        env=process_env(REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE=WORKER_SETTINGS),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the first sweep failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _open() -> int:
    return Reminder.objects.filter(key__startswith=f"{PREFIX}:", delivered_at__isnull=True).count()


def _wait_for_every_delivery() -> None:
    remaining, changed = _open(), time.monotonic()
    while remaining:
        time.sleep(1)
        now_open = _open()
        if now_open != remaining:
            remaining, changed = now_open, time.monotonic()
        elif time.monotonic() - changed > STALL_SECONDS:
            raise BenchError(f"{remaining:,} reminders undelivered and none delivered for {STALL_SECONDS} s")


def _drained(redis_url: str) -> bool:
    client = redis_py.Redis.from_url(redis_url)
    try:
        return client.llen("celery") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def _check_once() -> int:
    """Every reminder delivered once in the portal, e-mailed at most once; the e-mails sent."""
    mine = Reminder.objects.filter(key__startswith=f"{PREFIX}:")
    deliveries = ReminderDelivery.objects.filter(reminder__key__startswith=f"{PREFIX}:")
    in_app = deliveries.filter(channel="app").count()
    notifications = Notification.objects.filter(key__startswith=f"reminder:{PREFIX}:")
    twice = mine.exclude(attempts=1).count()
    if (in_app, notifications.count(), twice) != (REMINDERS, REMINDERS, 0):
        raise BenchError(
            f"{REMINDERS:,} reminders: {in_app:,} in-app deliveries, {notifications.count():,} notifications, "
            f"{twice:,} delivered other than once"
        )
    emails = deliveries.filter(channel="email").count()
    if emails != notifications.filter(emailed_at__isnull=False).count():
        raise BenchError(f"{emails:,} e-mail deliveries recorded, but a different number of notifications e-mailed")
    return emails


def _run(tmp: Path) -> Run:
    due_at = timezone.now() - datetime.timedelta(minutes=1)
    inserted_in = _insert(due_at)
    delivery_queries = _delivery_queries(due_at)
    with redis_server(tmp) as server:
        env = {"REDIS_URL": server.url, "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS}
        with celery_worker(queue="celery", concurrency=CONCURRENCY, tmp_path=tmp, env=env) as worker:
            peaks, stop = Peaks(), threading.Event()
            sampler = threading.Thread(target=_sample, args=(worker.process.pid, server.url, peaks, stop), daemon=True)
            sampler.start()
            try:
                cpu_before = psutil.cpu_times()
                first = _first_sweep(server.url)
                _wait_for_every_delivery()
                peaks.machine_busy = _busy(cpu_before, psutil.cpu_times())
                deadline = time.monotonic() + 120
                while not _drained(server.url):  # the last sweep of the chain finds nothing
                    if time.monotonic() > deadline:
                        raise BenchError("the worker's queue did not drain")
                    time.sleep(0.5)
            finally:
                stop.set()
                sampler.join()
            log = worker.output()
    started = datetime.datetime.fromtimestamp(first["started"], tz=datetime.UTC)
    finished = Reminder.objects.filter(key__startswith=f"{PREFIX}:").aggregate(last=Max("delivered_at"))["last"]
    others = Reminder.objects.filter(delivered_at__gte=started).exclude(key__startswith=PREFIX).count()
    emails = _check_once()
    sweeps_ms, deliveries_ms, delivered_by_tasks = [], [], 0
    for task, seconds, value in _SUCCEEDED.findall(log):
        if task == "reminders_sweep":
            sweeps_ms.append(float(seconds) * 1000)
        else:
            deliveries_ms.append(float(seconds) * 1000)
            delivered_by_tasks += int(value.strip())
    return Run(
        inserted_in=inserted_in,
        first_sweep=first,
        seconds=(finished - started).total_seconds(),
        others=others,
        peaks=peaks,
        sweeps_ms=sweeps_ms,
        deliveries_ms=deliveries_ms,
        delivered_by_tasks=delivered_by_tasks,
        delivery_queries=delivery_queries,
        emails=emails,
    )


@pytest.fixture(scope="module")
def reminder_run(bench_data: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole run, committed (the worker is another process), and its rows deleted after."""
    with django_db_blocker.unblock():
        try:
            run = _run(tmp_path_factory.mktemp("reminders"))
        except BaseException:
            _clean_up()
            raise
    yield run
    with django_db_blocker.unblock():
        _clean_up()


def _clean_up() -> None:
    Notification.objects.filter(key__startswith=f"reminder:{PREFIX}").delete()
    Reminder.objects.filter(key__startswith=PREFIX).delete()


def _row(name: str, samples_ms: list[float], *, queries: int, notes: str) -> Result:
    return Result(
        name=name,
        p50_ms=percentile(samples_ms, 50),
        p95_ms=percentile(samples_ms, 95),
        max_ms=max(samples_ms),
        queries=queries,
        queries_min=queries,
        status=0,
        requests=len(samples_ms),
        notes=notes,
    )


def _mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"


def test_a_backlog_of_due_reminders_through_a_real_worker(bench: Any, reminder_run: Run) -> None:
    run, first = reminder_run, reminder_run.first_sweep
    claim_queries = first["queries"] - first["rules_queries"]
    bench.record(
        _row(
            f"sweep by beat: the rules, then a batch of {CLAIM_BATCH} claimed and queued",
            [first["elapsed"] * 1000],
            queries=first["queries"],
            notes=(
                f"in a process of its own: {first['result']['claimed']} claimed, {first['result']['queued']} queued "
                f"and the next sweep; the rules took {first['rules_seconds'] * 1000:,.0f} ms and "
                f"{first['rules_queries']} of its queries; RSS "
                f"{_mib(first['rss_before'])} before the sweep (Django loaded), at most "
                f"{_mib(first['peak_rss_rules'])} during the rules and {_mib(first['peak_rss'])} during the whole "
                "sweep (sampled every 5 ms)"
            ),
        )
    )
    bench.record(
        _row(
            f"sweep in the chain: a batch of {CLAIM_BATCH} claimed and queued, and the next sweep",
            run.sweeps_ms,
            queries=claim_queries,
            notes="in the worker's pool processes; the last one finds nothing left",
        )
    )
    bench.record(
        _row(
            "delivery of one reminder (in-app notification and e-mail)",
            run.deliveries_ms,
            queries=run.delivery_queries,
            notes=f"{run.delivered_by_tasks:,} tasks delivered, {len(run.deliveries_ms) - run.delivered_by_tasks:,} "
            f"found nothing to do; {run.emails:,} of the {REMINDERS:,} e-mailed (the rest: recipients inactive, "
            "without an address or with e-mail off); e-mail built and serialised, not sent (no mail server); "
            "queries counted on one delivery outside the worker",
        )
    )
    pool = ", ".join(_mib(rss) for rss in run.peaks.pool.values())
    total = REMINDERS + run.others
    bench.record(
        _row(
            f"end to end: {REMINDERS:,} due reminders, first sweep to last delivery",
            [run.seconds * 1000],
            queries=first["queries"]
            + claim_queries * len(run.sweeps_ms)
            + run.delivery_queries * len(run.deliveries_ms),
            notes=(
                f"**{total / run.seconds:,.0f} reminders per second** ({run.seconds:,.0f} s); peak RSS of the worker: "
                f"main process {_mib(run.peaks.main)}, pool processes {pool}, all together {_mib(run.peaks.total)}; "
                f"Redis at most {_mib(run.peaks.redis_memory)} used, {run.peaks.queue:,} messages queued; the "
                f"machine's {psutil.cpu_count()} CPUs {run.peaks.machine_busy:.0%} busy, "
                f"{run.peaks.worker_cpu:,.0f} CPU-seconds of it the worker's; "
                f"queries: the sum of the rows above; the {REMINDERS:,} inserted in {run.inserted_in:.1f} s"
                + (f"; the rules planned and delivered {run.others:,} more from the data set" if run.others else "")
            ),
        )
    )
