"""Reminders through a real Redis and real `celery worker` processes, the fault tests: a
due reminder is delivered once; a worker killed mid-batch loses nothing and sends nothing
twice; a Redis outage breaks neither saving a case nor the reminders; two sweeps at once
still deliver each reminder once.

Each test runs its own redis-server (`redis_server`, the devstack's binary) so it can stop
it, and kill workers, without disturbing the shared test Redis; the test process
(`broker_at`), its workers and sweepers all use that server. Effects are counted in the
database: one ReminderDelivery per (reminder, channel) and one Notification per
(recipient, key) — and one e-mail per reminder while the e-mail channel is registered
(`atensi.core.reminders.outside_channel`): the workers write e-mail to files here.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py
import time_machine
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from atensi.core import reminders
from atensi.core.email_channel import EMAIL_GROUP
from atensi.core.models import Notification, Reminder, ReminderDelivery
from atensi.core.reminders import Planned, plan
from atensi.core.tasks import reminder_deliver, reminders_deliver, reminders_sweep
from atensi.testing.processes import ROOT, broker_at, celery_worker, process_env, redis_server
from cases.models import RiskLevel
from cases.notification_kinds import NotificationKind
from cases.tests.factories import open_case
from stakeholders.tests.factories import member

# One xdist group: these tests start worker processes and kill them, and stop their own Redis
# (never the shared test Redis); under pytest-xdist they run one after another on one worker,
# so that two of them never compete for the CPU their timeouts assume.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]

QUEUE = "celery"  # the default queue: where the sweep sends its deliveries
PAST_RECLAIM = reminders.RECLAIM_AFTER + datetime.timedelta(seconds=1)
MAIL_SETTINGS = "tests.integration.settings_filemail"


# --- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    """A private Redis, this process's broker, result backend and cache for the test."""
    with redis_server(tmp_path) as server, broker_at(server.url):
        yield server


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def people(org: Any) -> list[Any]:
    return [member(organisation=org, role="social_worker", username=f"peksos{i}") for i in range(5)]


def worker_env(broker: Any, mail_dir: Path) -> dict[str, str]:
    # The workers' settings: the test settings with a file-based e-mail backend, so the
    # e-mail a worker sends (another process) can be counted here.
    return {"REDIS_URL": broker.url, "DJANGO_SETTINGS_MODULE": MAIL_SETTINGS, "ATENSI_TEST_MAIL_DIR": str(mail_dir)}


def due(
    prefix: str,
    people: list[Any],
    count: int,
    *,
    start: int = 0,
    due_at: Callable[[int], datetime.datetime] | None = None,
) -> list[Planned]:
    """`count` follow-up reminders due a minute ago (or at `due_at(i)`), spread over `people`."""
    moment = timezone.now() - datetime.timedelta(minutes=1)
    rows = []
    for i in range(start, start + count):
        person = people[i % len(people)]
        rows.append(
            Planned(
                key=f"{prefix}:{i}:due:{person.pk}",
                kind=NotificationKind.FOLLOW_UP_DUE,
                recipient_id=person.pk,
                organisation_id=person.memberships.first().organisation_id,
                due_at=due_at(i) if due_at else moment,
                link=f"/cases/{i + 1}/",
                data={
                    "case_number": f"BA-UJI/2026/{i + 1:04d}",
                    "due_on": "2026-11-23",
                    "follow_up_kind": "home_visit",
                },
            )
        )
    return rows


def delivered(prefix: str) -> int:
    return Reminder.objects.filter(key__startswith=f"{prefix}:", delivered_at__isnull=False).count()


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        time.sleep(interval)


def email_channel() -> bool:
    return "email" in reminders._CHANNELS


def emails_sent(mail_dir: Path) -> list[str]:
    """The e-mails the workers wrote (Django's file backend: each message ends with a rule)."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        messages += [m for m in path.read_text(errors="replace").split("-" * 79 + "\n") if m.strip()]
    return messages


def email_links(mail_dir: Path) -> list[tuple[str, str, str]]:
    """(Message-ID, recipient, portal path of the link) of every e-mail the workers wrote."""
    found = []
    for raw in emails_sent(mail_dir):
        message = email.message_from_string(raw.lstrip("\n"), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        link = re.search(r"https?://[^/\s]+(/\S*)", body.get_content())
        assert link is not None, body.get_content()
        found.append((str(message["Message-ID"]), str(message["To"]), link.group(1)))
    return found


def assert_delivered_once(prefix: str, count: int, mail_dir: Path, *, resent_at_most: int = 0) -> None:
    """Every one of the `count` reminders was delivered, each exactly once per channel.

    `resent_at_most`: e-mails a killed worker may have handed to the mail server without
    living to commit (one per pool process at the kill); each such re-send repeats the
    first one's Message-ID, so the reader's mail system holds one message per reminder."""
    rows = Reminder.objects.filter(key__startswith=f"{prefix}:")
    assert rows.count() == count
    assert rows.filter(delivered_at__isnull=True).count() == 0, "a reminder was lost"
    # attempts counts the deliveries that ran to their commit: a second one would be 2.
    assert set(rows.values_list("attempts", flat=True)) == {1}
    app_deliveries = ReminderDelivery.objects.filter(reminder__key__startswith=f"{prefix}:", channel="app")
    assert app_deliveries.count() == count
    assert not app_deliveries.values("reminder").annotate(n=Count("pk")).filter(n__gt=1).exists()
    notifications = Notification.objects.filter(key__startswith=f"reminder:{prefix}:")
    assert notifications.count() == count
    assert notifications.values("recipient", "key").distinct().count() == count
    # Each notification is the reminder's: same person, same key, same kind.
    assert not notifications.exclude(kind=NotificationKind.FOLLOW_UP_DUE).exists()
    assert set(notifications.values_list("recipient_id", "key")) == {
        (recipient, f"reminder:{key}") for recipient, key in rows.values_list("recipient_id", "key")
    }
    if email_channel():
        emailed = ReminderDelivery.objects.filter(reminder__key__startswith=f"{prefix}:", channel="email")
        assert emailed.count() == count
        # One e-mail per reminder, to its recipient with its link: none missing, none twice.
        expected = [(recipient, link) for recipient, link in rows.values_list("recipient__email", "link")]
        sent = email_links(mail_dir)
        messages = set(sent)
        assert sorted((to, link) for _message_id, to, link in messages) == sorted(expected)
        assert len({message_id for message_id, _to, _link in messages}) == count, "a Message-ID shared"
        assert len(sent) - len(messages) <= resent_at_most, f"{len(sent) - len(messages)} e-mails sent again"
    else:
        # E-MAIL: no channel "email" is registered in this tree yet (atensi.core.email_channel);
        # once it is, the branch above counts one e-mail per reminder (the workers write
        # them as files into mail_dir: tests/integration/settings_filemail.py).
        assert emails_sent(mail_dir) == []


def sweep_at(moment: datetime.datetime) -> dict[str, int]:
    """The sweep, run here as beat's next one would run it at `moment` (time-machine)."""
    with time_machine.travel(moment, tick=True):
        return reminders_sweep()


def held_unacked(broker: Any) -> list[tuple[str, str]]:
    """(task name, id) of the messages a consumer took and never acknowledged (kombu's
    Redis transport keeps them in the `unacked` hash until the visibility timeout)."""
    client = redis_py.Redis.from_url(broker.url)
    try:
        headers = [json.loads(raw)[0]["headers"] for raw in client.hvals("unacked")]
        return [(header["task"], header["id"]) for header in headers]
    finally:
        client.close()


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def drained(broker: Any) -> bool:
    """Nothing left on the queue, nothing taken and not yet acknowledged."""
    client = redis_py.Redis.from_url(broker.url)
    try:
        return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def restore_unacked(broker: Any) -> None:
    """What Redis does for a dead consumer's messages once the visibility timeout (an hour)
    has passed: put them back on their queue."""
    from atensi.celery import app

    with Connection(app.conf.broker_url, transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(num=10_000)


# --- 1. one due reminder ---------------------------------------------------------------


def test_a_due_reminder_is_delivered_once_through_the_real_worker(
    broker: Any, people: list[Any], mail_dir: Path, tmp_path: Path
) -> None:
    owner = people[0]
    plan(due("one", [owner], 1))
    reminder = Reminder.objects.get(key__startswith="one:")
    with celery_worker(queue=QUEUE, tmp_path=tmp_path, env=worker_env(broker, mail_dir)) as worker:
        # The sweep goes through the broker to the worker, as beat sends it.
        assert reminders_sweep.apply_async(ignore_result=False).get(timeout=30) == {"claimed": 1, "queued": 1}
        wait_until(lambda: delivered("one") == 1, timeout=30, what="the delivery")
        # A second beat, and the same delivery task again (a redelivered message): nothing more;
        # nor from a message of the release that delivered reminders one by one.
        assert reminders_sweep.apply_async(ignore_result=False).get(timeout=30) == {"claimed": 0, "queued": 0}
        assert reminders_deliver.apply_async(([reminder.pk],), ignore_result=False).get(timeout=30) == 0
        assert reminder_deliver.apply_async((reminder.pk,), ignore_result=False).get(timeout=30) is False
        log = worker.output()
    assert "raised unexpected" not in log, log[-3000:]
    assert_delivered_once("one", 1, mail_dir)
    notification = Notification.objects.get(recipient=owner)
    assert notification.link == "/cases/1/"
    assert notification.data["case_number"] == "BA-UJI/2026/0001"
    if email_channel():
        [message] = emails_sent(mail_dir)
        assert f"To: {owner.email}" in message
        assert notification.emailed_at is not None


# --- 2. a worker killed in the middle of a batch ---------------------------------------


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    broker: Any, people: list[Any], mail_dir: Path, tmp_path: Path
) -> None:
    total = 3 * reminders.DELIVERY_BATCH
    plan(due("crash", people, total))
    env = worker_env(broker, mail_dir)
    with celery_worker(queue=QUEUE, concurrency=2, tmp_path=tmp_path / "first", env=env) as first:
        reminders_sweep.delay()  # claims them all and queues their delivery, three batches
        # Killed while it holds messages it has not acknowledged: on a loaded machine it
        # may otherwise be caught between two fetches, holding none.
        wait_until(
            lambda: delivered("crash") >= 20 and bool(held_unacked(broker)),
            timeout=30,
            interval=0.005,
            what="the first deliveries, with messages held",
        )
        first.kill(signal.SIGKILL)  # the worker and its pool processes, mid-batch
    at_crash = delivered("crash")
    assert 0 < at_crash < total, f"{at_crash} delivered when the worker was killed"
    # What it had taken and not acknowledged stays in Redis until the visibility timeout.
    lost_with_worker = held_unacked(broker)
    assert lost_with_worker

    with celery_worker(queue=QUEUE, concurrency=2, tmp_path=tmp_path / "second", env=env) as second:
        # The new worker takes the deliveries still queued; the ones the dead worker held are
        # claimed again by beat's next sweep once their claim is older than RECLAIM_AFTER
        # (the deliveries still queued are then queued twice: the second finds them done).
        swept = sweep_at(timezone.now() + PAST_RECLAIM)
        assert 0 < swept["claimed"] == swept["queued"] <= total - at_crash
        wait_until(lambda: delivered("crash") == total, timeout=40, what="every reminder")
        # An hour later Redis hands the dead worker's messages out again: they find their
        # reminders delivered and do nothing.
        restore_unacked(broker)
        wait_until(lambda: drained(broker), timeout=30, what="the queue to drain")
        log = second.output()
    for name, task_id in lost_with_worker:
        # A delivery finds nothing left to do (False); a sweep finds nothing left to claim.
        done = {"atensi.reminders_deliver": "0", "atensi.reminders_sweep": "{'claimed': 0, 'queued': 0}"}[name]
        assert f"{name}[{task_id}] succeeded in " in log and re.search(
            rf"{re.escape(name)}\[{task_id}\] succeeded in [0-9.e-]+s: {re.escape(done)}", log
        ), (name, task_id)
    assert "raised unexpected" not in log, log[-3000:]
    assert "WorkerLostError" not in log
    # Each of the two pool processes had at most one group of e-mails between the mail
    # server's acceptance and its record.
    assert_delivered_once("crash", total, mail_dir, resent_at_most=2 * EMAIL_GROUP)


def test_a_delivery_whose_pool_process_dies_is_requeued_and_delivered_once(
    broker: Any, people: list[Any], mail_dir: Path, tmp_path: Path
) -> None:
    plan(due("lost", people, 1))
    [reminder_id] = reminders.claim_due()
    # Another connection holds the reminder's row: the delivery will wait on it, so the
    # pool process is known to be in the middle of the task when it is killed.
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with celery_worker(queue=QUEUE, concurrency=1, tmp_path=tmp_path, env=worker_env(broker, mail_dir)) as worker:
            holder.set_autocommit(False)
            with holder.cursor() as cursor:
                cursor.execute("SELECT id FROM atensi_reminder WHERE id = %s FOR UPDATE", [reminder_id])
            message = reminders_deliver.delay([reminder_id])
            wait_until(lambda: waiting_on_a_lock() == 1, timeout=30, what="the delivery to wait on the row")
            [pool_process] = worker.pool_pids()
            os.kill(pool_process, signal.SIGKILL)
            # acks_late + reject_on_worker_lost: the worker puts the message back on the queue.
            wait_until(
                lambda: "WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL)" in worker.output(),
                timeout=30,
                what="the worker to see its pool process die",
            )
            holder.rollback()  # the dead process's transaction never committed anything
            wait_until(lambda: delivered("lost") == 1, timeout=30, what="the delivery to run again")
            wait_until(lambda: drained(broker), timeout=20, what="the queue to drain")
            log = worker.output()
    finally:
        holder.close()
    # Taken twice, finished once, and that once delivered.
    received = log.count(f"reminders_deliver[{message.id}] received")
    outcomes = re.findall(rf"reminders_deliver\[{message.id}\] succeeded in [0-9.e-]+s: (\w+)", log)
    assert (received, outcomes) == (2, ["1"])
    assert_delivered_once("lost", 1, mail_dir)


# --- 3. Redis is down --------------------------------------------------------------------


def test_a_redis_outage_breaks_neither_saving_a_case_nor_the_reminders(
    broker: Any,
    people: list[Any],
    org: Any,
    mail_dir: Path,
    tmp_path: Path,
    client_for: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = people[0]
    plan(due("outage", people, 30))  # due before the outage
    with celery_worker(queue=QUEUE, concurrency=2, tmp_path=tmp_path, env=worker_env(broker, mail_dir)) as worker:
        broker.stop()
        # The web keeps working: a case is opened and then edited through its page.
        case = open_case(organisation=org, by=owner)
        response = client_for(owner).post(
            reverse("cases:case_edit", args=[case.pk]),
            {
                "risk_level": RiskLevel.HIGH,
                "basis": case.basis,
                "cluster": case.cluster_id,
                "summary": "Anak bekerja di pasar malam.",
                "case_manager": owner.pk,
                "supervisor": "",
                "expected_updated_at": case.updated_at.isoformat(),
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert (case.risk_level, case.summary) == (RiskLevel.HIGH, "Anak bekerja di pasar malam.")
        # More follow-ups come due; beat's sweep claims them all and cannot queue one:
        # it says so in the log and leaves the claims to expire.
        plan(due("outage", people, 30, start=30))
        with caplog.at_level(logging.WARNING, logger="atensi.core.tasks"):
            assert reminders_sweep() == {"claimed": 60, "queued": 0}
        assert "the broker refused a delivery; 60 left to a later sweep" in caplog.text
        assert delivered("outage") == 0
        assert not Reminder.objects.filter(key__startswith="outage:", claimed_at__isnull=True).exists()

        broker.start()
        # Right after, the claims are fresh: a sweep leaves them alone...
        assert reminders_sweep() == {"claimed": 0, "queued": 0}
        # ...until they are older than RECLAIM_AFTER; the worker, reconnected, delivers.
        assert sweep_at(timezone.now() + PAST_RECLAIM) == {"claimed": 60, "queued": 60}
        wait_until(lambda: delivered("outage") == 60, timeout=40, what="every reminder after the outage")
        wait_until(lambda: drained(broker), timeout=20, what="the queue to drain")
        log = worker.output()
    assert "raised unexpected" not in log, log[-3000:]
    assert_delivered_once("outage", 60, mail_dir)


# --- 4. two sweeps at once ---------------------------------------------------------------

# A sweeper: what one beat's sweeps do, in a process of its own. It sweeps every 20 ms from
# the moment the go file appears for `seconds`, and prints how many reminders each sweep claimed.
SWEEPER = """
import json, os, sys, time
import django
django.setup()
from atensi.core.tasks import reminders_sweep
go, seconds = sys.argv[1], float(sys.argv[2])
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
claimed, end = [], time.monotonic() + seconds
while time.monotonic() < end:
    claimed.append(reminders_sweep()["claimed"])
    time.sleep(0.02)
print(json.dumps(claimed), flush=True)
"""


def test_two_sweepers_at_once_deliver_each_reminder_once(
    broker: Any, people: list[Any], mail_dir: Path, tmp_path: Path
) -> None:
    total, waves, spacing = 300, 60, 0.05
    go = tmp_path / "go"
    env = process_env(REDIS_URL=broker.url)
    with celery_worker(queue=QUEUE, concurrency=2, tmp_path=tmp_path, env=worker_env(broker, mail_dir)) as worker:
        sweepers = [
            subprocess.Popen(
                [sys.executable, "-c", SWEEPER, str(go), str(waves * spacing + 1)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for sweeper in sweepers:
                assert sweeper.stdout is not None
                assert sweeper.stdout.readline().strip() == "ready", sweeper.stderr and sweeper.stderr.read()
            # The reminders come due in waves while both sweep, so they contend for each wave.
            start = timezone.now()
            plan(due("twice", people, total, due_at=lambda i: start + datetime.timedelta(seconds=i % waves * spacing)))
            go.touch()
            outputs = [sweeper.communicate(timeout=30) for sweeper in sweepers]
        finally:
            for sweeper in sweepers:
                if sweeper.poll() is None:
                    sweeper.kill()
        for sweeper, (_out, err) in zip(sweepers, outputs, strict=True):
            assert sweeper.returncode == 0, err[-3000:]
        claims = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
        # Every reminder was claimed by exactly one sweep (a second claim of the same row
        # would make the sum larger), and both sweepers took part.
        assert sum(map(sum, claims)) == total
        assert all(sum(mine) > 0 for mine in claims), claims
        wait_until(lambda: delivered("twice") == total, timeout=40, what="every reminder")
        wait_until(lambda: drained(broker), timeout=20, what="the queue to drain")
        log = worker.output()
    assert "raised unexpected" not in log, log[-3000:]
    assert_delivered_once("twice", total, mail_dir)
