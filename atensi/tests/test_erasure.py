"""Retention: the children whose purpose ended are anonymised, every copy of their data goes,
the history is scrubbed, the statistics stay, and the run is accounted for."""

from __future__ import annotations

import datetime
import io
import threading
from typing import Any

import pghistory.models
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone, translation

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog, ErasureRun
from atensi.dashboards.compose import _organisation_raw
from atensi.dashboards.periods import year_of
from atensi.erasure.eligibility import due_for_anonymisation
from atensi.erasure.run import LOCK_KEY, erasure_run
from atensi.reports.monthly import Month, monthly_report, organisation_scope
from atensi.tasks import erase_expired
from cases.models import Beneficiary, BeneficiaryMerge, Case, Document, FamilyMember, TimelineEntry
from cases.tests.factories import BeneficiaryFactory, open_case
from referrals.models import Referral

from .erasure_data import KK, NAME, NEEDLES, NIK, child, close

pytestmark = pytest.mark.django_db

CLOSED = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)
ELEVEN_YEARS_LATER = datetime.datetime(2037, 4, 1, 9, 0, tzinfo=datetime.UTC)
NINE_YEARS_LATER = datetime.datetime(2035, 4, 1, 9, 0, tzinfo=datetime.UTC)


def run(*, dry_run: bool = False, at: datetime.datetime = ELEVEN_YEARS_LATER) -> ErasureRun:
    with time_machine.travel(at, tick=False):
        return erasure_run(dry_run=dry_run, trigger=ErasureRun.Trigger.COMMAND)


def due(at: datetime.datetime = ELEVEN_YEARS_LATER) -> list[int]:
    with time_machine.travel(at, tick=False):
        return list(due_for_anonymisation().values_list("pk", flat=True))


def closed_child(org: Any, owner: Any, **kwargs: Any) -> Beneficiary:
    case = open_case(
        organisation=org, by=owner, beneficiary=BeneficiaryFactory.create(organisation=org, created_by=owner, **kwargs)
    )
    close(case, CLOSED)
    return case.beneficiary


def columns_holding(needle: str) -> list[str]:
    """Every text or JSON column of every table of the database holding `needle`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')"
        )
        found = []
        for table, column in cursor.fetchall():
            query = f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1'
            cursor.execute(query, [f"%{needle}%"])
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


# --- Who is due ------------------------------------------------------------------------------


def test_a_child_is_due_only_after_the_retention_period(org: Any, owner: Any) -> None:
    b = closed_child(org, owner)
    assert due(NINE_YEARS_LATER) == []
    assert due() == [b.pk]


def test_a_child_is_due_only_once_adult_plus_the_margin(org: Any, owner: Any, settings: Any) -> None:
    settings.ATENSI_RETENTION_YEARS = 1
    young = closed_child(org, owner, birth_date=datetime.date(2022, 1, 1))
    adult = closed_child(org, owner, birth_date=datetime.date(2006, 1, 1))
    # 2028: the younger one is 6, the other 22 (past 18 + 2).
    assert due(datetime.datetime(2028, 1, 1, tzinfo=datetime.UTC)) == [adult.pk]
    # 2041: the younger one turned 19: not yet; 2042: 20.
    assert young.pk not in due(datetime.datetime(2041, 6, 1, tzinfo=datetime.UTC))
    assert young.pk in due(datetime.datetime(2042, 1, 2, tzinfo=datetime.UTC))


def test_without_a_birth_date_the_closure_alone_decides(org: Any, owner: Any, settings: Any) -> None:
    settings.ATENSI_RETENTION_YEARS = 1
    b = closed_child(org, owner, birth_date=None)
    assert due(datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC)) == []
    assert due(datetime.datetime(2027, 3, 11, tzinfo=datetime.UTC)) == [b.pk]


def test_an_open_case_anywhere_keeps_the_child(org: Any, owner: Any, other_org: Any, outsider: Any) -> None:
    from stakeholders.tests.factories import member

    b = closed_child(org, owner)
    elsewhere = member(organisation=other_org, username="worker.elsewhere")
    other_case = open_case(organisation=other_org, by=elsewhere, beneficiary=b)
    assert due() == []
    close(other_case, CLOSED + datetime.timedelta(days=400))
    # Every organisation's case closed: the last closure counts.
    assert due(datetime.datetime(2037, 3, 20, tzinfo=datetime.UTC)) == []
    assert due(datetime.datetime(2038, 5, 1, tzinfo=datetime.UTC)) == [b.pk]


def test_a_child_registered_without_a_case_is_due_the_period_after_registration(org: Any, owner: Any) -> None:
    with time_machine.travel(CLOSED, tick=False):
        b = BeneficiaryFactory.create(organisation=org, created_by=owner)
    assert due(NINE_YEARS_LATER) == []
    assert due() == [b.pk]


def test_a_report_no_case_came_from_is_anonymised_after_the_period(org: Any, owner: Any) -> None:
    from cases.models import Report
    from cases.tests.factories import report_for

    with time_machine.travel(CLOSED, tick=False):
        old = report_for(
            organisation=org,
            by=owner,
            reporter_name="Pak Pelapor",
            reporter_phone="081233334444",
            child_name="Anak Tanpakasus",
            narrative="Anak Tanpakasus tidur di pasar.",
        )
    with time_machine.travel(datetime.datetime(2030, 6, 1, tzinfo=datetime.UTC), tick=False):
        recent = report_for(organisation=org, by=owner, reporter_name="Bu Baru", narrative="Laporan baru.")
    assert run(dry_run=True).counts.get("cases.report") == 1
    assert Report.objects.get(pk=old.pk).reporter_name == "Pak Pelapor"  # a dry run changes nothing
    record = run()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.anonymised_at is not None and old.reporter_phone == "" and old.child_name == ""
    assert "Tanpakasus" not in old.narrative + old.reporter_name
    assert recent.reporter_name == "Bu Baru" and recent.anonymised_at is None
    assert record.counts["cases.report"] == 1
    for needle in ("Tanpakasus", "081233334444", "Pak Pelapor"):
        assert columns_holding(needle) == [], needle
    assert run().counts.get("cases.report") is None  # once
    # Nobody writes into it again (a later run would not take it).
    from cases.intake import report_dismiss
    from stakeholders.tests.factories import member

    triager = member(organisation=org, role="intake_officer", username="petugas.anon")
    with translation.override("en"), pytest.raises(ApplicationError, match="anonymised"):
        report_dismiss(report=old, by=triager, reason="Bukan anak.")


def test_merged_records_follow_the_merge(org: Any, owner: Any, other_org: Any) -> None:
    survivor = closed_child(org, owner, full_name="Budi Santoso")
    merged = closed_child(org, owner, full_name="Budi Santosa")
    Beneficiary.objects.filter(pk=merged.pk).update(merged_into=survivor)
    assert due() == [survivor.pk]
    # A case left on the merged record (an old merge moved none) counts for the survivor.
    Case.objects.filter(beneficiary=merged).update(stage="asesmen", closed_at=None, closure_reason="")
    assert due() == []
    Case.objects.filter(beneficiary=merged).update(stage="closed", closed_at=CLOSED, closure_reason="goals_met")
    record = run()
    assert sorted(record.beneficiary_ids) == sorted([survivor.pk, merged.pk])
    names = dict(Beneficiary.objects.values_list("pk", "full_name"))
    assert names[survivor.pk] == f"Anonim {survivor.pk}"
    assert names[merged.pk] == f"Anonim {merged.pk}"


def test_an_anonymised_child_is_not_counted_again(org: Any, owner: Any) -> None:
    closed_child(org, owner)
    assert run().beneficiaries == 1
    second = run()
    assert second.beneficiaries == 0
    assert second.counts == {}


# --- The dry run -----------------------------------------------------------------------------


def test_a_dry_run_lists_and_changes_nothing(org: Any, owner: Any, other_org: Any) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    close(c.case, CLOSED)
    before = columns_holding("Rahmawati")
    record = run(dry_run=True)
    assert record.dry_run and record.status == ErasureRun.Status.DONE
    assert record.beneficiary_ids == [c.beneficiary.pk]
    assert record.counts["cases.beneficiary"] == 1
    assert record.counts["cases.familymember"] == 1
    assert record.counts["storage.files"] == 2
    assert columns_holding("Rahmawati") == before
    c.beneficiary.refresh_from_db()
    assert c.beneficiary.full_name == NAME and c.beneficiary.anonymised_at is None
    assert c.document.file.storage.exists(c.document.file.name)


def test_a_dry_run_on_an_empty_database_says_so() -> None:
    out = io.StringIO()
    with time_machine.travel(ELEVEN_YEARS_LATER, tick=False):
        call_command("erase_expired", "--dry-run", stdout=out)
    assert "No beneficiary is due for anonymisation." in out.getvalue()
    record = ErasureRun.objects.get()
    assert record.dry_run and record.status == ErasureRun.Status.DONE and record.counts == {}


# --- The run ---------------------------------------------------------------------------------


def test_the_run_removes_every_copy_of_the_childs_data(
    org: Any, owner: Any, other_org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    kept = child(org=org, by=owner, receiver=other_org, name="Dewi Lestari Anggraini", nik="1571015705150009")
    close(c.case, CLOSED)
    photo = c.beneficiary.photo.name
    document_file = c.document.file.name
    storage = c.document.file.storage
    for needle in NEEDLES:
        assert columns_holding(needle), needle  # the data set really holds each of them

    # The files leave storage once the child's transaction has committed.
    with django_capture_on_commit_callbacks(execute=True):
        record = run()

    assert record.beneficiary_ids == [c.beneficiary.pk]
    for needle in NEEDLES:
        assert columns_holding(needle) == [], needle
    assert not storage.exists(photo) and not storage.exists(document_file)
    b = Beneficiary.objects.get(pk=c.beneficiary.pk)
    assert (b.full_name, b.nik, b.kk_number, b.address, b.village_id, b.photo.name) == (
        f"Anonim {b.pk}",
        "",
        "",
        "",
        None,
        "",
    )
    # What the statistics read stays; the birth date keeps its year.
    assert (b.sex, b.regency_code, b.birth_date, b.birth_date_estimated) == (
        "F",
        "1571",
        datetime.date(2015, 7, 1),
        True,
    )
    assert b.anonymised_at is not None
    assert not FamilyMember.objects.filter(pk=c.family.pk).exists()
    assert not Document.objects.filter(pk=c.document.pk).exists()
    summary = Referral.objects.get(pk=c.referral.pk).child_summary
    assert summary == {
        "full_name": f"Anonim {b.pk}",
        "sex": "F",
        "birth_date": "2015-07-01",
        "birth_date_estimated": True,
        "regency_code": "1571",
    }
    merge_line = TimelineEntry.objects.get(case=c.case, kind="merge")
    assert merge_line.data == {"merged_id": 1}
    # The other child is untouched, her files too.
    assert columns_holding("Anggraini")
    assert storage.exists(kept.document.file.name)
    kept.beneficiary.refresh_from_db()
    assert kept.beneficiary.full_name == "Dewi Lestari Anggraini" and kept.beneficiary.nik == "1571015705150009"
    # The search log no longer names her NIK's hash; her access rows stay, unlabelled.
    assert AccessLog.objects.filter(target_type="cases.beneficiary", target_id=str(b.pk)).exists()
    assert not AccessLog.objects.filter(target_id=str(b.pk)).exclude(target_label="").exists()
    assert NIK not in str(list(AccessLog.objects.values_list("target_label", flat=True)))
    assert KK not in str(list(BeneficiaryMerge.objects.values_list("moved", flat=True)))


def test_the_history_is_scrubbed_and_its_urls_cleared(org: Any, owner: Any, other_org: Any) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    close(c.case, CLOSED)
    events = pghistory.models.Events.objects.tracks(c.beneficiary)  # type: ignore[no-untyped-call]
    contexts = set(events.values_list("pgh_context_id", flat=True))
    assert pghistory.models.Context.objects.filter(pk__in=contexts, metadata__has_key="url").exists()

    record = run()

    # Every history row of hers, the deletions' included, holds no name.
    for row in pghistory.models.Events.objects.tracks(c.beneficiary).values_list("pgh_data", flat=True):  # type: ignore[no-untyped-call]
        assert "Rahmawati" not in str(row)
    family_events = FamilyMember.pgh_event_models  # type: ignore[attr-defined]
    for model in family_events.values():
        assert model.objects.filter(pgh_obj_id=c.family.pk, pgh_label="delete").exists()
        for name in model.objects.filter(pgh_obj_id=c.family.pk).values_list("name", flat=True):
            assert "Zulkarnaen" not in name
    assert not pghistory.models.Context.objects.filter(pk__in=contexts, metadata__has_key="url").exists()
    assert record.counts["cases.beneficiaryevent"] >= 2
    assert record.counts["pghistory.context"] >= 1
    # The history stays append-only after the run.
    from django.db import InternalError, transaction

    event_model = next(iter(family_events.values()))
    with pytest.raises(InternalError), transaction.atomic():
        event_model.objects.filter(pgh_obj_id=c.family.pk).update(name="x")


def test_the_run_is_recorded_with_counts_and_ids(org: Any, owner: Any, other_org: Any) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    close(c.case, CLOSED)
    record = run()
    record.refresh_from_db()
    assert record.status == ErasureRun.Status.DONE and not record.dry_run
    assert record.trigger == ErasureRun.Trigger.COMMAND and record.triggered_by is None
    assert record.finished_at is not None
    assert record.beneficiaries == 1 and record.beneficiary_ids == [c.beneficiary.pk]
    for table in ("cases.beneficiary", "cases.case", "cases.document", "referrals.referral", "core.accesslog"):
        assert table.replace("core.", "atensi.") in record.counts or table in record.counts, table
    assert record.counts["cases.familymember"] == 1
    assert record.counts["storage.files"] == 2
    assert NAME not in str(record.counts) and NIK not in str(record.beneficiary_ids)
    # The run's own writes carry its id in the history context.
    run_contexts = pghistory.models.Context.objects.filter(metadata__erasure_run=str(record.pk))
    assert run_contexts.exists()


def test_the_statistics_are_the_same_after_a_run(org: Any, owner: Any, other_org: Any) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    close(c.case, CLOSED)
    child(org=org, by=owner, receiver=other_org, name="Dewi Lestari", nik="1571015705150009")
    period = year_of(datetime.date(2026, 1, 1))

    def figures() -> tuple[Any, ...]:
        raw = _organisation_raw(org, period, ELEVEN_YEARS_LATER)
        month = monthly_report(
            scope=organisation_scope(org), month=Month(datetime.date(2026, 3, 1)), now=ELEVEN_YEARS_LATER
        )
        return raw.figures, raw.referrals, month

    before = figures()
    assert run().beneficiaries == 1
    assert figures() == before


# --- Bad input -------------------------------------------------------------------------------


@translation.override("en")
def test_a_run_while_another_holds_the_lock_says_so_and_does_nothing(org: Any, owner: Any) -> None:
    b = closed_child(org, owner)
    other = connection.copy()  # another session on this test's database
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(ApplicationError, match="already in progress"):
            run()
        out = io.StringIO()
        with pytest.raises(CommandError, match="already in progress"), time_machine.travel(ELEVEN_YEARS_LATER):
            call_command("erase_expired", stdout=out)
        assert erase_expired() == 0
    finally:
        # Released before closing: a closed session's locks go when its server process has
        # exited, a moment after the client closed, and the next run could come first.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        other.close()
    assert not ErasureRun.objects.exists()
    b.refresh_from_db()
    assert b.anonymised_at is None
    assert run().beneficiary_ids == [b.pk]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_one_run(org: Any, owner: Any) -> None:
    for _ in range(3):
        closed_child(org, owner)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        try:
            barrier.wait()
            with time_machine.travel(ELEVEN_YEARS_LATER, tick=True):
                erasure_run(dry_run=False, trigger=ErasureRun.Trigger.COMMAND)
            outcomes.append("ran")
        except ApplicationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Either the second found the first running, or came after it and found nothing due.
    runs = ErasureRun.objects.filter(beneficiaries__gt=0)
    assert runs.count() == 1 and runs.get().beneficiaries == 3
    assert "ran" in outcomes
    assert Beneficiary.objects.filter(anonymised_at__isnull=False).count() == 3


def test_a_run_that_died_is_marked_interrupted_and_the_next_finishes(org: Any, owner: Any) -> None:
    b = closed_child(org, owner)
    ErasureRun.objects.create(trigger=ErasureRun.Trigger.BEAT, started_at=timezone.now())
    record = run()
    assert ErasureRun.objects.exclude(pk=record.pk).get().status == ErasureRun.Status.INTERRUPTED
    assert record.beneficiary_ids == [b.pk]


# --- Entry points ----------------------------------------------------------------------------


def test_the_command_prints_counts_and_ids_never_names(org: Any, owner: Any, other_org: Any) -> None:
    c = child(org=org, by=owner, receiver=other_org)
    close(c.case, CLOSED)
    out = io.StringIO()
    with time_machine.travel(ELEVEN_YEARS_LATER, tick=False):
        call_command("erase_expired", "--dry-run", stdout=out)
        text = out.getvalue()
        assert "dry run: nothing changed" in text and str(c.beneficiary.pk) in text
        assert "cases.beneficiary" in text and NAME not in text
        out = io.StringIO()
        call_command("erase_expired", stdout=out)
    assert f"1 beneficiary records anonymised (ids): {c.beneficiary.pk}" in out.getvalue()
    assert "Rahmawati" not in out.getvalue()


def test_the_monthly_task_runs_the_retention(org: Any, owner: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    from atensi.core.schedules import ERASE_EXPIRED

    b = closed_child(org, owner)
    schedule = PeriodicTask.objects.get(task=ERASE_EXPIRED)
    assert schedule.enabled and schedule.crontab.day_of_month == "1"
    with time_machine.travel(ELEVEN_YEARS_LATER, tick=False):
        assert erase_expired() == 1
    record = ErasureRun.objects.get()
    assert record.trigger == ErasureRun.Trigger.BEAT and record.beneficiary_ids == [b.pk]


def test_admin_lists_the_runs_read_only_for_superusers(
    org: Any, owner: Any, superuser: Any, supervisor: Any, client_for: Any
) -> None:
    closed_child(org, owner)
    record = run()
    admin = client_for(superuser)
    listing = admin.get("/admin/atensi/erasurerun/")
    assert listing.status_code == 200 and str(record.beneficiaries) in listing.content.decode()
    page = admin.get(f"/admin/atensi/erasurerun/{record.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin.post(f"/admin/atensi/erasurerun/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/atensi/erasurerun/add/").status_code == 403
    assert ErasureRun.objects.filter(pk=record.pk).exists()


def test_an_open_request_for_the_childs_data_comes_first(org: Any, owner: Any) -> None:
    from cases.models import SubjectAccessRequest

    b = closed_child(org, owner)
    asked = SubjectAccessRequest.objects.create(
        organisation=org,
        beneficiary=b,
        requester_name="Ibu Sari",
        requester_relation="mother",
        received_at=ELEVEN_YEARS_LATER,
        due_at=ELEVEN_YEARS_LATER + datetime.timedelta(hours=72),
        recorded_by=owner,
    )
    assert due() == []
    SubjectAccessRequest.objects.filter(pk=asked.pk).update(
        status="answered", answer="Diserahkan.", answered_at=ELEVEN_YEARS_LATER, answered_by=owner
    )
    assert due() == [b.pk]


def test_exports_holding_the_child_are_stopped_and_their_files_deleted_never_widened(
    org: Any, owner: Any, settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from atensi.core import exports
    from atensi.core.models import ExportJob
    from cases.models import SubjectAccessRequest

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    b = closed_child(org, owner, full_name="Sekar Hilangwati", alias="Ani")
    waiting = ExportJob.objects.create(user=owner, source="cases", params=[["q", "Sekar Hilangwati"]], params_key="w")
    # "Ani" is in "organisation" and in another child's name: neither is a search for her.
    others = [
        ExportJob.objects.create(user=owner, source="cases", params=[["organisation", "12"]], params_key="o"),
        ExportJob.objects.create(user=owner, source="cases", params=[["q", "Anita Lain"]], params_key="q"),
    ]
    storage = storages["default"]
    made = storage.save("exports/x/bundle.zip", ContentFile(b"Sekar Hilangwati"))
    request = SubjectAccessRequest.objects.create(
        organisation=org,
        beneficiary=b,
        requester_name="Ibu",
        requester_relation="mother",
        received_at=CLOSED,
        due_at=CLOSED + datetime.timedelta(hours=72),
        recorded_by=owner,
        status="answered",
        answer="Diserahkan.",
        answered_at=CLOSED,
        answered_by=owner,
    )
    bundle = ExportJob.objects.create(
        user=owner,
        source="subject_access",
        params=[["request", str(request.pk)]],
        params_key="b",
        status=ExportJob.Status.DONE,
        file_name=made,
        finished_at=ELEVEN_YEARS_LATER,
        expires_at=ELEVEN_YEARS_LATER + datetime.timedelta(hours=24),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run()
    waiting.refresh_from_db()
    bundle.refresh_from_db()
    # The waiting search is failed, not run with an emptied (every case) filter.
    assert waiting.status == ExportJob.Status.FAILED and waiting.params == []
    assert exports.run_export(waiting.pk) == "skipped"
    assert bundle.status == ExportJob.Status.EXPIRED and bundle.file_name == "" and not storage.exists(made)
    assert "Sekar" not in waiting.params_key + bundle.params_key
    for other in others:
        other.refresh_from_db()
        assert other.status == ExportJob.Status.QUEUED and other.params != []
    # An export the run stopped is never made again: it would be a wider one.
    with translation.override("en"), pytest.raises(ApplicationError, match="retention period"):
        exports.export_again(user=owner, job_id=waiting.pk)
    assert exports.job_row(waiting).again is False


@translation.override("en")
def test_an_anonymised_record_cannot_be_filled_again(org: Any, owner: Any) -> None:
    """The run takes a record once: a new case, an edit or a merge into it would keep what
    it brought for ever. The child is registered again as a new person instead."""
    from cases.beneficiaries import services as beneficiary_services
    from cases.beneficiaries.merge import beneficiary_merge
    from stakeholders.tests.factories import member

    b = closed_child(org, owner)
    run()
    b.refresh_from_db()
    boss = member(organisation=org, role="supervisor", username="kepala.anon")
    with pytest.raises(ApplicationError, match="anonymised"):
        open_case(organisation=org, by=owner, beneficiary=b)
    from cases.workflow import case_reopen

    with pytest.raises(ApplicationError, match="anonymised"):
        case_reopen(case=b.cases.get(), by=owner, reason="Kembali lagi.")
    with pytest.raises(ApplicationError, match="anonymised"):
        beneficiary_services.beneficiary_update(beneficiary=b, by=owner, expected_updated_at=None, address="Jl. Baru 1")
    newcomer = BeneficiaryFactory.create(organisation=org, created_by=owner, nik="1571011705150099")
    with pytest.raises(ApplicationError, match="anonymised"):
        beneficiary_merge(survivor=b, merged=newcomer, by=boss, reason="Sama.")
    b.refresh_from_db()
    assert b.nik == "" and b.address == ""
