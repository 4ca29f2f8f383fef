"""The export policy (atensi.core.exports): streaming CSV, the XLSX threshold, background jobs
(one per request, two per person, expiry, owner-only download) and the access log."""

from __future__ import annotations

import csv
import datetime
import io
import threading
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from atensi.core import exports
from atensi.core.errors import ApplicationError
from atensi.core.exports import ExportNotificationKind
from atensi.core.models import AccessLog, ExportJob, Notification
from atensi.core.retention import cleanup
from atensi.core.spreadsheets import xlsx_bytes
from cases.exports import CASES
from cases.models import Case
from cases.tests.factories import BeneficiaryFactory, open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

CSV_URL = reverse("cases:case_export_csv")
XLSX_URL = reverse("cases:case_export_xlsx")
EXPORTS_URL = reverse("exports")


@pytest.fixture
def cases(org: Any, owner: Any) -> list[Case]:
    made = []
    for i, name in enumerate(["Adi Pratama", "Bunga Lestari", "=cmd|' /C calc'!A0", "Dewi Sartika", "Eko Putra"]):
        child = BeneficiaryFactory(organisation=org, created_by=owner, full_name=name, nik=f"15710100010{i:05d}")
        made.append(open_case(organisation=org, by=owner, beneficiary=child, case_manager=owner))
    return made


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def _params(**query: str) -> list[list[str]]:
    return sorted([k, v] for k, v in query.items())


# --- CSV -------------------------------------------------------------------------------------


def test_csv_streams_every_row_in_chunks_with_headers_and_bom(client_for, supervisor, cases, monkeypatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)  # five cases: three queries of two, two and one
    response = client_for(supervisor).get(CSV_URL, {"sort": "oldest"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.csv"'
    assert response["Cache-Control"] == "private, no-store"
    header, *rows = _csv(response)
    assert header[:4] == ["Case number", "Organisation", "Stage", "Child's name"]
    assert [r[0] for r in rows] == [c.number for c in cases]
    # A cell a spreadsheet would run is written as text.
    assert rows[2][3] == "'=cmd|' /C calc'!A0"


def test_chunks_are_keyed_not_offset_and_end_exactly(cases, supervisor) -> None:
    selection = exports.get_source(CASES).select(supervisor, exports.query_of(_params(sort="newest")))
    seen = [c.pk for chunk in exports.chunks(selection, size=2) for c in chunk]
    assert seen == [c.pk for c in reversed(cases)]
    sizes = [len(chunk) for chunk in exports.chunks(selection, size=5)]
    assert sizes == [5]  # a full last chunk asks once more and finds nothing: no empty chunk


def test_an_outsider_gets_404_and_another_organisations_worker_only_the_header(
    client_for, outsider, other_org, cases
) -> None:
    for url in (CSV_URL, XLSX_URL):
        assert client_for(outsider).get(url).status_code == 404
    elsewhere = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="peksos.lain")
    assert len(_csv(client_for(elsewhere).get(CSV_URL))) == 1
    assert not AccessLog.objects.filter(action="export").exists()


# --- The access log --------------------------------------------------------------------------


def test_the_access_log_gets_one_row_per_record_in_one_statement(supervisor, cases, django_assert_num_queries) -> None:
    export = exports.get_source(CASES)
    selection = export.select(supervisor, exports.query_of([]))
    with django_assert_num_queries(1) as captured:
        written = exports.log_export(user=supervisor, source=export, selection=selection, path="/cases/export.csv")
    assert captured.captured_queries[0]["sql"].startswith("INSERT INTO")
    assert written == 5
    logged = AccessLog.objects.filter(user=supervisor, action="export", target_type="cases.case")
    assert sorted(logged.values_list("target_id", "target_label")) == sorted((str(c.pk), c.number) for c in cases)
    assert set(logged.values_list("path", flat=True)) == {"/cases/export.csv"}


def test_the_access_log_holds_only_what_was_exported(client_for, owner, colleague, org, cases) -> None:
    other = open_case(organisation=org, by=colleague, case_manager=colleague)
    client_for(owner).get(CSV_URL, {"scope": "mine"})
    assert set(AccessLog.objects.filter(user=owner, action="export").values_list("target_id", flat=True)) == {
        str(c.pk) for c in cases
    }
    assert not AccessLog.objects.filter(target_id=str(other.pk), action="export").exists()


# --- XLSX: at once up to the threshold, in the background past it -------------------------------


def test_xlsx_up_to_the_threshold_is_made_at_once(client_for, supervisor, cases, settings) -> None:
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 5
    response = client_for(supervisor).get(XLSX_URL, {"sort": "oldest"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    _header, *rows = _xlsx(response.content)
    assert [r[0] for r in rows] == [c.number for c in cases]
    assert rows[2][3] == "'=cmd|' /C calc'!A0"
    assert not ExportJob.objects.exists()
    assert AccessLog.objects.filter(user=supervisor, action="export").count() == 5


def test_xlsx_past_the_threshold_becomes_a_background_export(
    client_for, supervisor, cases, settings, django_capture_on_commit_callbacks
) -> None:
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 4
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client_for(supervisor).get(XLSX_URL, {"sort": "oldest"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain == [(EXPORTS_URL, 302)]
    [job] = ExportJob.objects.all()
    assert (job.user, job.source, job.params, job.status) == (supervisor, CASES, _params(sort="oldest"), "queued")
    assert len(queued) == 1  # the task is queued once the job is committed
    text = response.content.decode()
    assert "More than 4 rows" in text and 'data-status="queued"' in text
    assert 'hx-trigger="every 2s"' in text  # the line polls its status while it is being made


def test_the_task_makes_the_file_notifies_and_logs(supervisor, cases, settings) -> None:
    job = exports.export_request(user=supervisor, source=CASES, params=_params(sort="oldest"))
    assert exports.run_export(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_done) == ("done", 5, 5)
    assert job.finished_at is not None
    assert job.expires_at == job.finished_at + datetime.timedelta(hours=settings.ATENSI_EXPORT_RETENTION_HOURS)
    with storages["default"].open(job.file_name, "rb") as made:
        _header, *rows = _xlsx(made.read())
    assert [r[0] for r in rows] == [c.number for c in cases]
    assert AccessLog.objects.filter(user=supervisor, action="export").count() == 5
    [note] = Notification.objects.filter(recipient=supervisor, kind=ExportNotificationKind.EXPORT_READY)
    assert note.link == EXPORTS_URL
    # A second delivery of the same task does nothing.
    assert exports.run_export(job.pk) == "skipped"
    assert AccessLog.objects.filter(user=supervisor, action="export").count() == 5


def test_a_user_deactivated_before_the_worker_runs_gets_nothing(supervisor, cases) -> None:
    job = exports.export_request(user=supervisor, source=CASES, params=[])
    supervisor.is_active = False
    supervisor.save(update_fields=["is_active"])
    assert exports.run_export(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.file_name == ""
    assert not AccessLog.objects.filter(action="export").exists()
    assert Notification.objects.filter(recipient=supervisor, kind=ExportNotificationKind.EXPORT_FAILED).exists()


def test_the_same_export_asked_twice_is_one_job(supervisor, cases) -> None:
    first = exports.export_request(user=supervisor, source=CASES, params=_params(status="all"))
    again = exports.export_request(user=supervisor, source=CASES, params=_params(status="all"))
    assert again.pk == first.pk
    assert ExportJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_export_asked_twice_at_once_is_one_job(supervisor, cases) -> None:
    barrier = threading.Barrier(2)
    made: list[int] = []

    def ask() -> None:
        try:
            barrier.wait()
            made.append(exports.export_request(user=supervisor, source=CASES, params=_params(status="all")).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 2 and made[0] == made[1]
    assert ExportJob.objects.count() == 1


def test_a_third_export_while_two_are_made_is_refused(client_for, supervisor, cases, settings) -> None:
    exports.export_request(user=supervisor, source=CASES, params=_params(status="all"))
    exports.export_request(user=supervisor, source=CASES, params=_params(status="closed"))
    # In English whatever ran before in this worker (the service speaks the active language).
    with translation.override("en"), pytest.raises(ApplicationError, match="Two of your exports are being made"):
        exports.export_request(user=supervisor, source=CASES, params=_params(status="open"))
    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 1
    response = client_for(supervisor).get(XLSX_URL, {"sort": "due"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Two of your exports are being made already" in response.content.decode()
    assert ExportJob.objects.count() == 2


# --- My exports: download, expiry, again ------------------------------------------------------


def _done(user: Any, *, hours_left: float = 1) -> ExportJob:
    job = exports.export_request(user=user, source=CASES, params=[])
    name = storages["default"].save(
        f"exports/test/{job.pk}-cases-20261207.xlsx",
        ContentFile(xlsx_bytes(sheet_title="x", headers=["a"], rows=[[1]])),
    )
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status="done",
        file_name=name,
        rows_total=1,
        finished_at=now,
        expires_at=now + datetime.timedelta(hours=hours_left),
    )
    job.refresh_from_db()
    return job


def test_the_owner_downloads_a_finished_export(client_for, supervisor) -> None:
    job = _done(supervisor)
    response = client_for(supervisor).get(reverse("export_download", args=[job.pk]))
    assert response.status_code == 200
    # Named after the local day it was made (Jakarta's: the test runs at any hour).
    made_on = timezone.localdate(job.finished_at)
    assert response["Content-Disposition"] == f'attachment; filename="cases-{made_on:%Y%m%d}.xlsx"'
    assert _xlsx(b"".join(response.streaming_content)) == [["a"], [1]]


def test_anyone_else_gets_404_for_an_export(client_for, supervisor, colleague, outsider) -> None:
    job = _done(supervisor)
    for person in (colleague, outsider):
        client = client_for(person)
        assert client.get(reverse("export_download", args=[job.pk])).status_code == 404
        assert client.get(reverse("export_status", args=[job.pk])).status_code == 404
        assert client.post(reverse("export_again", args=[job.pk])).status_code == 404
    assert ExportJob.objects.count() == 1


def test_an_expired_export_says_so_and_can_be_made_again(client_for, supervisor) -> None:
    job = _done(supervisor, hours_left=-1)
    name = job.file_name
    counts = cleanup()
    assert counts["exports"] == 1
    job.refresh_from_db()
    assert job.status == "expired" and job.file_name == ""
    assert not storages["default"].exists(name)
    client = client_for(supervisor)
    response = client.get(reverse("export_download", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    text = response.content.decode()
    assert "This export is no longer available" in text and 'data-testid="export-again"' in text
    assert client.get(reverse("export_again", args=[job.pk])).status_code == 405
    response = client.post(reverse("export_again", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "The export is being made again" in response.content.decode()
    assert ExportJob.objects.filter(user=supervisor, status="queued").count() == 1


def test_a_file_past_its_time_is_not_served_before_the_sweep(client_for, supervisor) -> None:
    job = _done(supervisor, hours_left=-1)
    response = client_for(supervisor).get(reverse("export_download", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == EXPORTS_URL


def test_my_exports_lists_only_mine_in_few_queries(
    client_for, supervisor, colleague, django_assert_max_num_queries
) -> None:
    mine = [_done(supervisor) for _ in range(3)]
    _done(colleague)
    client = client_for(supervisor)
    with django_assert_max_num_queries(8):
        response = client.get(EXPORTS_URL, HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert text.count('data-testid="export"') == 3
    for job in mine:
        assert reverse("export_download", args=[job.pk]) in text


def test_the_status_fragment_is_one_cheap_query(client_for, supervisor, cases, django_assert_max_num_queries) -> None:
    job = exports.export_request(user=supervisor, source=CASES, params=[])
    ExportJob.objects.filter(pk=job.pk).update(status="running", rows_total=4, rows_done=2)
    client = client_for(supervisor)
    client.get(EXPORTS_URL)  # the session and the user are loaded once like on every page
    # The session, the user, the job.
    with django_assert_max_num_queries(3):
        response = client.get(reverse("export_status", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert 'value="50"' in text and "2 rows written (50%)" in text
    assert "<html" not in text


def test_an_unknown_source_is_not_found(supervisor) -> None:
    # In English whatever ran before in this worker (the message speaks the active language).
    with translation.override("en"), pytest.raises(Exception, match="Not found"):
        exports.export_request(user=supervisor, source="nothing", params=[])


def test_old_finished_jobs_are_forgotten_and_active_ones_kept(supervisor, settings) -> None:
    old = timezone.now() - datetime.timedelta(days=settings.ATENSI_NOTIFICATION_RETENTION_DAYS + 1)
    expired = exports.export_request(user=supervisor, source=CASES, params=_params(status="closed"))
    waiting = exports.export_request(user=supervisor, source=CASES, params=_params(status="all"))
    ExportJob.objects.filter(pk=expired.pk).update(status="expired", created_at=old)
    ExportJob.objects.filter(pk=waiting.pk).update(created_at=old)
    cleanup()
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_a_job_lost_with_its_worker_is_taken_again_only_when_stale(supervisor, cases) -> None:
    job = exports.export_request(user=supervisor, source=CASES, params=[])
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    assert exports.run_export(job.pk) == "skipped"  # another worker is on it
    ExportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - exports.STALE_AFTER * 2)
    assert exports.run_export(job.pk) == "done"
