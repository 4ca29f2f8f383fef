"""A task goes through the real (embedded) Redis to a real worker process and back."""

from __future__ import annotations

import pytest

from atensi.core.tasks import ping
from atensi.testing.processes import celery_worker

# With the other tests that start worker processes (test_reminder_delivery.py): one xdist
# group, run one after another on one pytest-xdist worker.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]


def test_ping_round_trip_through_a_real_worker(tmp_path):
    with celery_worker(tmp_path=tmp_path) as worker:
        result = ping.apply_async(queue=worker.queue, ignore_result=False)
        reply = result.get(timeout=60)
    assert reply["pong"] == "ok"
    # The worker reached the test database, not just the broker.
    assert reply["database"] == "ok"


def test_task_settings_protect_against_lost_workers(settings):
    from atensi.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    # Sending a task must not wait on a result in Redis (a request would hang while Redis is down).
    assert app.conf.task_ignore_result is True
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit
    # A message is redelivered only after the visibility timeout: it must outlast the
    # longest retry delay plus the task's own time limit.
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > settings.CELERY_MAX_RETRY_DELAY + app.conf.task_time_limit
