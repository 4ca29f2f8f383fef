"""A background export made by a real Celery worker process: asked for through the page,
queued through a real Redis, written by the worker, downloaded by its owner only."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from atensi.core.exports import ExportNotificationKind
from atensi.core.models import AccessLog, ExportJob, Notification
from atensi.testing.processes import broker_at, celery_worker, redis_server
from cases.tests.factories import open_case

# With the other tests that start worker processes: one xdist group, one after another.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    with redis_server(tmp_path) as server, broker_at(server.url):
        yield server


def _wait_for(job: ExportJob, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status == status:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"export still {job.status} after {timeout} s")
        time.sleep(0.2)


def test_a_large_xlsx_export_is_made_by_the_worker_and_downloaded_by_its_owner(
    broker, tmp_path, client_for, org, owner, supervisor, colleague, settings
):
    cases = [open_case(organisation=org, by=owner, case_manager=owner) for _ in range(4)]
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 2
    client = client_for(supervisor)
    with celery_worker(queue="celery", tmp_path=tmp_path, env={"REDIS_URL": broker.url}) as worker:
        response = client.get(reverse("cases:case_export_xlsx"), {"sort": "oldest"})
        assert response.status_code == 302 and response["Location"] == reverse("exports")
        job = ExportJob.objects.get(user=supervisor)
        _wait_for(job, "done")
        assert "atensi.export_run" in worker.output()
    assert (job.rows_total, job.rows_done) == (4, 4)
    assert Notification.objects.filter(recipient=supervisor, kind=ExportNotificationKind.EXPORT_READY).count() == 1
    assert sorted(AccessLog.objects.filter(user=supervisor, action="export").values_list("target_id", flat=True)) == (
        sorted(str(c.pk) for c in cases)
    )
    download = reverse("export_download", args=[job.pk])
    assert client_for(colleague).get(download).status_code == 404
    response = client.get(download)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [c.number for c in cases]


def test_the_worker_refuses_a_user_deactivated_meanwhile(broker, tmp_path, org, owner, supervisor):
    from atensi.core import exports

    open_case(organisation=org, by=owner)
    job = exports.export_request(user=supervisor, source="cases", params=[])  # queued on commit
    supervisor.is_active = False
    supervisor.save(update_fields=["is_active"])
    with celery_worker(queue="celery", tmp_path=tmp_path, env={"REDIS_URL": broker.url}):
        _wait_for(job, "failed")
    assert job.file_name == ""
    assert not AccessLog.objects.filter(action="export").exists()


def test_with_redis_down_a_large_export_fails_with_a_message_not_a_500(
    broker, client_for, org, owner, supervisor, settings
):
    for _ in range(2):
        open_case(organisation=org, by=owner)
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 1
    broker.stop()
    response = client_for(supervisor).get(reverse("cases:case_export_xlsx"), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    job = ExportJob.objects.get(user=supervisor)
    assert job.status == "failed" and "task queue is unavailable" in job.error
    assert 'data-testid="export-again"' in response.content.decode()
