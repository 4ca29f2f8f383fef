"""The one export policy of the portal: every CSV/XLSX download of records goes through here.

An app plugs an export in by registering an `ExportSource` (its name, who may use it, the
scoped and filtered queryset with the columns it is keyed on, headers, and the rows of a
chunk of records):

    exports.register(ExportSource(
        name="cases", title=lambda: _("Cases"), filename="cases",
        refusal=list_cases_refusal, select=lambda user, params: Selection(qs, keys),
        headers=export_headers, rows=lambda user, cases: export_rows(user=user, cases=cases),
        log_label="number"))

and its views answer with `csv_response(...)` / `xlsx_response(...)`. Then:

- CSV streams at any size: the rows are read in chunks of CHUNK keyed on the selection's
  own sort columns (atensi.core.keyset), each chunk one short query — no server-side
  cursor, which a transaction-mode connection pooler (PgBouncer) would break.
- XLSX of up to ATENSI_EXPORT_XLSX_MAX_ROWS rows is made at once in the request; a larger
  one becomes an `ExportJob` made by a Celery task (`atensi.export_run`), with its progress
  on the "my exports" page and a notification when ready. At most MAX_ACTIVE jobs a person
  at a time; the same export asked for again while one is being made is that one job.
- The worker asks the source again, as the user, when it runs: a person deactivated or
  moved out of the organisation in the meantime gets nothing.
- Files go through Django's storage API (the private default storage, never a public URL),
  only their owner may download them, and the daily retention sweep deletes them
  ATENSI_EXPORT_RETENTION_HOURS after they were made.

The access log: one row per exported record, written by ONE `INSERT … SELECT` from the
same filtered queryset the file is made from (`log_export`). Per record, not one row per
export with a description of the filter, because the access log answers "who has seen
this child's record?" (its index starts with the record), and a filter description cannot
answer that once the data has changed: "all open cases of Kota Jambi" named other children
last month. The statement runs inside the database — no rows travel to Python — so even a
1,000,000-row export costs one index-maintained bulk insert, of the order of the export
itself; a source whose rows are no personal data (the public organisation directory) sets
no `log_label` and is not logged.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from . import keyset, notifications
from .clientip import client_ip
from .errors import ApplicationError
from .models import AccessLog, ExportJob
from .notification_kinds import register_kinds
from .retention import delete_in_batches, sweep
from .spreadsheets import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Sheet, csv_lines, write_xlsx

logger = logging.getLogger(__name__)

CHUNK = 2000  # records read per query
MAX_ACTIVE = 2  # background exports one person may have waiting or running
# A job still "running" this long after it started was lost with its worker: it may be
# claimed again (the task's hard time limit is well below it).
STALE_AFTER = datetime.timedelta(hours=1)
# Query-string parameters that are not part of what is exported.
_IGNORED_PARAMS = frozenset({"cursor", "page"})
Status = ExportJob.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)


@register_kinds
class ExportNotificationKind(models.TextChoices):
    EXPORT_READY = "export_ready", gettext_lazy("Export ready")
    EXPORT_FAILED = "export_failed", gettext_lazy("Export failed")


@notifications.register(ExportNotificationKind.EXPORT_READY)
def _ready_text(data: dict[str, Any]) -> str:
    return _("Your export “%(title)s” is ready to download.") % {"title": _source_title(data["source"])}


@notifications.register(ExportNotificationKind.EXPORT_FAILED)
def _failed_text(data: dict[str, Any]) -> str:
    return _("Your export “%(title)s” could not be made.") % {"title": _source_title(data["source"])}


# --- Export sources ----------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What an export writes: the scoped, filtered queryset (with the key columns annotated)
    and the keyset order it is read in, (column, descending) pairs ending with ("id", ...)."""

    queryset: QuerySet[Any]
    keys: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class ExportSource[U: AbstractUser]:
    name: str
    title: Callable[[], str]
    filename: str  # the file's name before the date, e.g. "cases" -> cases-20261207.csv
    # Why `user` may not use the export at all (None: they may); shown as "not found".
    refusal: Callable[[U], str | None]
    # The records `user` may export, filtered by the request's parameters: built from the
    # model family's one scoping function (cases_visible_to, ...).
    select: Callable[[U, QueryDict], Selection]
    headers: Callable[[], Sequence[str]]
    # The rows of one chunk of records, in the selection's order, spreadsheet-safe.
    rows: Callable[[U, list[Any]], Iterable[Sequence[object]]]
    # The column that names a record in the access log; None: the rows are no personal data.
    log_label: str | None = None


@dataclass(frozen=True)
class BundleSource[U: AbstractUser]:
    """A file that is not a table of records (a subject's whole file as a ZIP): made only in
    the background, under the same policy as a large spreadsheet — queued per person,
    asked again as the user when it runs, private, short-lived, notified when ready."""

    name: str
    title: Callable[[], str]
    filename: str
    refusal: Callable[[U], str | None]
    # Writes the file at `path` for `user` from the job's parameters (reporting progress as
    # done, total) and returns the access-log rows of the records it put in, unsaved: they
    # are written with the finished file, in one transaction. Raises ApplicationError with
    # a message for the owner when the user may no longer have it.
    build: Callable[[U, QueryDict, str, Callable[[int, int | None], None]], list[AccessLog]]
    extension: str = "zip"
    content_type: str = "application/zip"


AnySource = ExportSource[Any] | BundleSource[Any]
_SOURCES: dict[str, ExportSource[Any]] = {}
_BUNDLES: dict[str, BundleSource[Any]] = {}


def register(source: ExportSource[Any]) -> ExportSource[Any]:
    if source.name in _BUNDLES or _SOURCES.setdefault(source.name, source) is not source:
        raise ValueError(f"export source {source.name!r} is registered twice")
    return source


def register_bundle(source: BundleSource[Any]) -> BundleSource[Any]:
    if source.name in _SOURCES or _BUNDLES.setdefault(source.name, source) is not source:
        raise ValueError(f"export source {source.name!r} is registered twice")
    return source


def get_source(name: str) -> ExportSource[Any]:
    try:
        return _SOURCES[name]
    except KeyError:
        raise Http404(_("Not found.")) from None


def _any_source(name: str) -> AnySource | None:
    return _SOURCES.get(name) or _BUNDLES.get(name)


def _source_title(name: str) -> str:
    source = _any_source(name)
    return source.title() if source is not None else name


def source_refusal(source: AnySource, user: AbstractUser) -> str | None:
    if not user.is_active:
        return _("Your account is no longer active.")
    return source.refusal(user)


# --- Parameters ----------------------------------------------------------------------------

Params = list[list[str]]


def params_of(query: QueryDict) -> Params:
    """The export's filter as sorted [name, value] pairs (paging parameters left out)."""
    return sorted([name, value] for name, values in query.lists() if name not in _IGNORED_PARAMS for value in values)


def query_of(params: Params) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in params:
        query.appendlist(name, value)
    query._mutable = False
    return query


def params_key(source: str, params: Params) -> str:
    return hashlib.sha256(json.dumps([source, params], separators=(",", ":")).encode()).hexdigest()


# --- Reading in chunks -------------------------------------------------------------------


def chunks(selection: Selection, *, size: int = CHUNK) -> Iterator[list[Any]]:
    """The selection's records, `size` at a time, each chunk one query keyed on where the
    last one ended (never an OFFSET, never a server-side cursor)."""
    keys = selection.keys
    if keys[-1][0] != "id":
        raise ValueError("an export's keyset must end with the id")
    ordered = selection.queryset.order_by(*(f"-{name}" if desc else name for name, desc in keys))
    after: tuple[list[Any], int] | None = None
    while True:
        page = ordered if after is None else ordered.filter(keyset.rows_after(keys, *after))
        found = list(page[:size])
        if found:
            yield found
        if len(found) < size:
            return
        last = found[-1]
        after = ([getattr(last, name) for name, _desc in keys[:-1]], last.pk)


def rows_of(
    source: ExportSource[Any],
    user: AbstractUser,
    selection: Selection,
    *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Sequence[object]]:
    done = 0
    for records in chunks(selection):
        yield from source.rows(user, records)
        done += len(records)
        if progress is not None:
            progress(done)


def capped_count(selection: Selection, cap: int) -> int:
    """How many records, counted up to `cap` + 1 only (an index scan that stops early)."""
    return selection.queryset.order_by().values("pk")[: cap + 1].count()


# --- The access log ----------------------------------------------------------------------


def log_export(
    *, user: AbstractUser, source: ExportSource[Any], selection: Selection, path: str = "", ip: str | None = None
) -> int:
    """One access-log row per exported record, in ONE `INSERT … SELECT` from the export's own
    queryset (see the module's docstring for why per record). Returns the rows written."""
    if source.log_label is None:
        return 0
    queryset = selection.queryset.order_by().values_list("pk", source.log_label)
    select_sql, select_params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    # The table name is the model's, the SELECT is the ORM's own SQL with its parameters.
    columns = "at, user_id, action, target_type, target_id, target_label, organisation_id, path, ip_address"
    values = "%s, %s, %s, %s, exported.id::text, LEFT(COALESCE(exported.label::text, ''), 200), NULL, %s, %s"
    sql = f"INSERT INTO {table} ({columns}) SELECT {values} FROM ({select_sql}) AS exported(id, label)"  # noqa: S608
    params = [
        timezone.now(),
        user.pk,
        AccessLog.Action.EXPORT,
        queryset.model._meta.label_lower,
        path[:300],
        ip,
        *select_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


# --- Answers to a request ----------------------------------------------------------------


def export_filename(source: AnySource, extension: str, today: datetime.date | None = None) -> str:
    return f"{source.filename}-{today or timezone.localdate():%Y%m%d}.{extension}"


def _attachment[R: HttpResponse | StreamingHttpResponse | FileResponse](response: R, filename: str) -> R:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: no shared or browser cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response


def _allowed_source(name: str, user: AbstractUser) -> ExportSource[Any]:
    source = get_source(name)
    if source_refusal(source, user) is not None:
        # Whoever may not use the export does not learn what it would hold: not found.
        raise Http404(_("Not found."))
    return source


def csv_response(request: HttpRequest, *, user: AbstractUser, source: str) -> StreamingHttpResponse:
    """The request's filtered records as a CSV file, streamed as it is read."""
    export = _allowed_source(source, user)
    selection = export.select(user, query_of(params_of(request.GET)))
    log_export(user=user, source=export, selection=selection, path=request.get_full_path(), ip=client_ip(request))
    language = get_language()

    def lines() -> Iterator[str]:
        # The rows are produced while streaming, after the view returned: keep its language.
        with override(language):
            yield from csv_lines(export.headers(), rows_of(export, user, selection))

    response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
    return _attachment(response, export_filename(export, "csv"))


def xlsx_response(request: HttpRequest, *, user: AbstractUser, source: str) -> HttpResponse:
    """The filtered records as an XLSX file made now, or — past ATENSI_EXPORT_XLSX_MAX_ROWS
    rows — a background export and a redirect to "my exports", with a message either way."""
    from django.contrib import messages
    from django.shortcuts import redirect

    export = _allowed_source(source, user)
    params = params_of(request.GET)
    selection = export.select(user, query_of(params))
    limit = settings.ATENSI_EXPORT_XLSX_MAX_ROWS
    if capped_count(selection, limit) > limit:
        try:
            job = export_request(user=user, source=source, params=params)
        except ApplicationError as error:
            messages.error(request, str(error))
        else:
            messages.info(
                request,
                _(
                    "More than %(max)s rows: the file “%(title)s” is being made (no. %(job)s). "
                    "You will be notified when it is ready to download here."
                )
                % {"max": f"{limit:,}", "title": export.title(), "job": job.pk},
            )
        return redirect("exports")
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    log_export(user=user, source=export, selection=selection, path=request.get_full_path(), ip=client_ip(request))
    write_xlsx(buffer, [Sheet(title=export.title(), headers=export.headers(), rows=rows_of(export, user, selection))])
    buffer.seek(0)
    response = HttpResponse(buffer.read(), content_type=XLSX_CONTENT_TYPE)
    return _attachment(response, export_filename(export, "xlsx"))


def sheets_response(sheets: Sequence[Sheet], *, filename: str) -> HttpResponse:
    """A small workbook of several sheets made at once (a report's tables, no records):
    the same writer and the same private, uncached attachment as every export."""
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_xlsx(buffer, sheets)
    buffer.seek(0)
    return _attachment(HttpResponse(buffer.read(), content_type=XLSX_CONTENT_TYPE), filename)


# --- Background exports --------------------------------------------------------------------


def exports_of(user: AbstractUser) -> QuerySet[ExportJob]:
    """A person's own exports — nobody sees anyone else's."""
    return ExportJob.objects.filter(user_id=user.pk)


def export_get(*, user: AbstractUser, job_id: int | str) -> ExportJob:
    from .access import get_or_404

    return get_or_404(exports_of(user), pk=job_id)


@transaction.atomic
def export_request(*, user: AbstractUser, source: str, params: Params) -> ExportJob:
    """Queue a background export (an XLSX, or a bundle) for `user`; the same one already
    waiting or running is returned as it is. Refused past MAX_ACTIVE at a time."""
    export = _any_source(source)
    if export is None:
        raise Http404(_("Not found."))
    refusal = source_refusal(export, user)
    if refusal is not None:
        raise ApplicationError(refusal)
    # One request at a time per person, so two clicks at once make one job and the limit
    # holds: the person's own row is the lock.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    key = params_key(source, params)
    active = exports_of(user).filter(status__in=ACTIVE)
    existing = active.filter(source=source, params_key=key).first()
    if existing is not None:
        return existing
    if active.count() >= MAX_ACTIVE:
        raise ApplicationError(
            _(
                "Two of your exports are being made already. Wait until one of them is ready "
                "(you will be notified), then ask again."
            )
        )
    job = ExportJob(user_id=user.pk, source=source, params=params, params_key=key, language=get_language() or "")
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    from .tasks import export_run

    try:
        export_run.delay(job_id)
    except BrokerError:
        # The broker is down: say so on "my exports" (with "make it again") rather than
        # leave the job waiting for a task that was never queued.
        logger.warning("exports: the broker refused export %s", job_id)
        ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.FAILED,
            error=_("The export could not be started (the task queue is unavailable). Ask for it again later."),
            finished_at=timezone.now(),
        )


# The filter digest of an export the retention run stopped (atensi.erasure): its filter was
# emptied, so it is never made again (that would be a wider export, not the same one).
ERASED_PREFIX = "erased-"


def _erased(job: ExportJob) -> bool:
    return job.params_key.startswith(ERASED_PREFIX)


def erased_message() -> str:
    return _("Removed: it held the data of a child whose retention period ended.")


def export_again(*, user: AbstractUser, job_id: int | str) -> ExportJob:
    """The same export as an earlier one (expired or failed), made anew."""
    job = export_get(user=user, job_id=job_id)
    if _erased(job):
        raise ApplicationError(erased_message())
    return export_request(user=user, source=job.source, params=job.params)


def _claim(job_id: int, now: datetime.datetime) -> bool:
    stale = now - STALE_AFTER
    return bool(
        ExportJob.objects.filter(
            Q(status=Status.QUEUED) | Q(status=Status.RUNNING, started_at__lt=stale), pk=job_id
        ).update(status=Status.RUNNING, started_at=now, rows_done=0)
    )


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status=Status.FAILED, error=message[:300], finished_at=timezone.now())
    notifications.notify(
        recipients=[job.user],
        kind=ExportNotificationKind.EXPORT_FAILED,
        link=reverse("exports"),
        key=f"export:{job.pk}:failed",
        source=job.source,
    )


class _Stopped(Exception):
    def __init__(self, file_name: str) -> None:
        super().__init__(file_name)
        self.file_name = file_name


def run_export(job_id: int) -> str:
    """The task's body: make the job's file as its user, now. Returns the job's status."""
    now = timezone.now()
    if not _claim(job_id, now):
        return "skipped"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    user = job.user
    with override(job.language or settings.LANGUAGE_CODE):
        export = _any_source(job.source)
        refusal = _("This export no longer exists.") if export is None else source_refusal(export, user)
        if export is None or refusal is not None:
            _fail(job, refusal or "")
            return Status.FAILED
        extension = export.extension if isinstance(export, BundleSource) else "xlsx"
        handle, path = tempfile.mkstemp(suffix=f".{extension}")
        os.close(handle)

        def progress(done: int, total: int | None = None) -> None:
            changes: dict[str, int] = {"rows_done": done}
            if total is not None:
                changes["rows_total"] = total
            ExportJob.objects.filter(pk=job.pk).update(**changes)

        try:
            # Made outside the transaction, so the progress it writes is seen as it goes.
            if isinstance(export, BundleSource):
                logged = export.build(user, query_of(job.params), path, progress)
            else:
                selection = _write_sheet(export, user, job, path, progress)
            with transaction.atomic():
                if isinstance(export, BundleSource):
                    AccessLog.objects.bulk_create(logged, batch_size=CHUNK)
                else:
                    log_export(user=user, source=export, selection=selection, path=reverse("exports"))
                with open(path, "rb") as made:
                    name = storages["default"].save(
                        f"exports/{job.user_id}/{job.pk}-{export_filename(export, extension)}", File(made)
                    )
                finished = timezone.now()
                finished_now = ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
                    status=Status.DONE,
                    file_name=name,
                    finished_at=finished,
                    expires_at=finished + datetime.timedelta(hours=settings.ATENSI_EXPORT_RETENTION_HOURS),
                )
                if not finished_now:
                    raise _Stopped(name)
                notifications.notify(
                    recipients=[user],
                    kind=ExportNotificationKind.EXPORT_READY,
                    link=reverse("exports"),
                    key=f"export:{job.pk}:ready",
                    source=job.source,
                )
        except _Stopped as stopped:
            # Stopped while it was made (the retention run took the child it holds): the
            # access-log rows roll back, the file goes, nobody is told it is ready.
            storages["default"].delete(stopped.file_name)
            return "stopped"
        except ApplicationError as refused:
            _fail(job, str(refused))
            return Status.FAILED
        except Exception:
            logger.exception("export %s failed", job.pk)
            _fail(job, _("The export could not be made. Ask for it again; if it fails again, tell the administrator."))
            return Status.FAILED
        finally:
            os.unlink(path)
    return Status.DONE


def _write_sheet(
    export: ExportSource[Any], user: AbstractUser, job: ExportJob, path: str, progress: Callable[[int], None]
) -> Selection:
    selection = export.select(user, query_of(job.params))
    total = selection.queryset.order_by().count()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
    sheet = Sheet(
        title=export.title(), headers=export.headers(), rows=rows_of(export, user, selection, progress=progress)
    )
    write_xlsx(path, [sheet])
    return selection


def download_response(*, user: AbstractUser, job_id: int | str) -> FileResponse | None:
    """The finished file of the user's own export; None when it is not (or no longer) there.
    Anyone else's export is not found."""
    job = export_get(user=user, job_id=job_id)
    if job.status != Status.DONE or job.expires_at is None or job.expires_at <= timezone.now():
        return None
    storage = storages["default"]
    if not storage.exists(job.file_name):
        return None
    source = _any_source(job.source)
    bundle = source if isinstance(source, BundleSource) else None
    extension = bundle.extension if bundle is not None else "xlsx"
    content_type = bundle.content_type if bundle is not None else XLSX_CONTENT_TYPE
    response = FileResponse(storage.open(job.file_name, "rb"), content_type=content_type)
    made_on = timezone.localdate(job.finished_at or job.created_at)
    filename = (
        export_filename(source, extension, made_on) if source is not None else f"export-{made_on:%Y%m%d}.{extension}"
    )
    return _attachment(response, filename)


@dataclass(frozen=True)
class JobRow:
    """One line of "my exports", as the page shows it."""

    pk: int
    title: str
    status: str
    status_label: str
    created_at: datetime.datetime
    rows_total: int | None
    rows_done: int
    percent: int
    expires_at: datetime.datetime | None
    error: str
    erased: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def ready(self) -> bool:
        return self.status == Status.DONE

    @property
    def again(self) -> bool:
        return self.status in (Status.EXPIRED, Status.FAILED) and not self.erased


def job_row(job: ExportJob, *, now: datetime.datetime | None = None) -> JobRow:
    now = now or timezone.now()
    status = job.status
    if status == Status.DONE and (job.expires_at is None or job.expires_at <= now):
        status = Status.EXPIRED  # the sweep has not come by yet
    total = job.rows_total or 0
    percent = 100 if status == Status.DONE else (min(99, job.rows_done * 100 // total) if total else 0)
    return JobRow(
        pk=job.pk,
        title=_source_title(job.source),
        status=status,
        status_label=str(Status(status).label),
        created_at=job.created_at,
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        percent=percent,
        expires_at=job.expires_at,
        error=erased_message() if _erased(job) else job.error,
        erased=_erased(job),
    )


def job_rows(user: AbstractUser, *, limit: int = 50) -> list[JobRow]:
    now = timezone.now()
    return [job_row(job, now=now) for job in exports_of(user).order_by("-created_at", "-pk")[:limit]]


# --- Retention ---------------------------------------------------------------------------


@sweep("exports")
def expire_exports(now: datetime.datetime, batch: int) -> int:
    """Delete the files of exports past their time (ATENSI_EXPORT_RETENTION_HOURS), and the
    rows of exports older than the notifications' retention."""
    storage = storages["default"]
    expired = 0
    while True:
        with transaction.atomic():
            jobs = list(
                ExportJob.objects.select_for_update(skip_locked=True)
                .filter(status=Status.DONE, expires_at__lte=now)
                .order_by("expires_at")[:batch]
            )
            if not jobs:
                break
            for job in jobs:
                storage.delete(job.file_name)
            ExportJob.objects.filter(pk__in=[j.pk for j in jobs]).update(status=Status.EXPIRED, file_name="")
        expired += len(jobs)
    forgotten_before = now - datetime.timedelta(days=settings.ATENSI_NOTIFICATION_RETENTION_DAYS)
    delete_in_batches(
        ExportJob.objects.filter(created_at__lt=forgotten_before).exclude(status__in=[*ACTIVE, Status.DONE]),
        batch=batch,
    )
    return expired
