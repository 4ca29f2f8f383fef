"""Subject access (UU PDP Pasal 32): the register of requests an organisation receives for
the data it holds about a person, and the ZIP that answers one."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from atensi.core import exports
from atensi.core.access import record_access
from atensi.core.models import AccessLog, ExportJob, Notification, Reminder
from atensi.core.notifications import notification_text
from atensi.core.reminders import claim_due, deliver
from atensi.testing.files import pdf_bytes
from cases import documents as docs
from cases.beneficiaries.merge import beneficiary_merge
from cases.models import (
    Assessment,
    Beneficiary,
    Case,
    CaseNote,
    FamilyMember,
    Relation,
    SubjectAccessRequest,
    SubjectAccessStatus,
)
from cases.notification_kinds import NotificationKind
from cases.subject_access import services as svc
from cases.subject_access.reminders import plan_subject_access_reminders
from cases.subject_access.sections import WITHHELD_MODELS, sections
from cases.tests.factories import BeneficiaryFactory, open_case, report_for
from referrals.models import Referral
from referrals.services import referral_send
from stakeholders.models import Membership
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

CHILD = "Rizky Subjekdata"
MOTHER = "Sari Ibusubjek"
REPORTER = "Yusuf Pelaporrahasia"
PDF = pdf_bytes()


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def child(org, owner) -> Beneficiary:
    return BeneficiaryFactory(organisation=org, created_by=owner, full_name=CHILD, nik="1571011705150003")


@pytest.fixture
def case(org, owner, child) -> Case:
    report = report_for(organisation=org, by=owner, reporter_name=REPORTER, child_name=CHILD)
    case = open_case(organisation=org, by=owner, beneficiary=child, report=report)
    FamilyMember.objects.create(beneficiary=child, relation=Relation.MOTHER, name=MOTHER, phone="081234567890")
    Assessment.objects.create(
        case=case, assessed_on=timezone.localdate(), problems="Putus sekolah.", conclusion="Konseling.", author=owner
    )
    CaseNote.objects.create(
        case=case, kind="home_visit", occurred_on=timezone.localdate(), narrative="Kunjungan rumah.", author=owner
    )
    docs.document_upload(
        case=case,
        by=owner,
        kind="akta",
        title="Akta kelahiran",
        file=SimpleUploadedFile("akta rizky.pdf", PDF, content_type="application/pdf"),
    )
    return case


def record(by, child, org, **values) -> SubjectAccessRequest:
    values.setdefault("requester_name", MOTHER)
    values.setdefault("requester_relation", "mother")
    return svc.subject_access_record(by=by, beneficiary=child, organisation_id=org.pk, **values)


def made_zip(by, request) -> zipfile.ZipFile:
    job = svc.subject_access_bundle(by=by, request=request)
    assert exports.run_export(job.pk) == "done"
    job.refresh_from_db()
    response = exports.download_response(user=by, job_id=job.pk)
    assert response is not None
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith('.zip"')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


# --- The register ------------------------------------------------------------------------------


def test_a_supervisor_records_a_request_from_the_persons_page_with_its_legal_deadline(
    client_for, supervisor, child, case
):
    client = client_for(supervisor)
    page = client.get(reverse("cases:beneficiary_detail", args=[child.pk])).content.decode()
    assert 'data-testid="subject-access-record"' in page
    url = reverse("cases:subject_access_create", args=[child.pk])
    form = client.get(url)
    token = form.context["form"]["submission_token"].value()
    received = timezone.localtime() - datetime.timedelta(hours=5)
    data = {
        "organisation": case.organisation_id,
        "requester_name": MOTHER,
        "requester_relation": "mother",
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "notes": "KTP dan KK diperiksa.",
        "submission_token": token,
    }
    response = client.post(url, data)
    request = SubjectAccessRequest.objects.get()
    assert response["Location"] == reverse("cases:subject_access_detail", args=[request.pk])
    assert request.due_at - request.received_at == datetime.timedelta(hours=72)
    assert request.status == SubjectAccessStatus.OPEN and request.recorded_by == supervisor
    # A double click saves it once.
    client.post(url, data)
    assert SubjectAccessRequest.objects.count() == 1
    listing = client.get(reverse("cases:subject_access_list"))
    assert [r.pk for r in listing.context["open_requests"]] == [request.pk]
    assert 'data-testid="subject-access-overdue"' not in listing.content.decode()


def test_an_open_request_past_its_deadline_is_marked_overdue(client_for, supervisor, child, case, org):
    request = record(supervisor, child, org)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=73)):
        listing = client_for(supervisor).get(reverse("cases:subject_access_list")).content.decode()
        detail = client_for(supervisor).get(
            reverse("cases:subject_access_detail", args=[request.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert 'data-testid="subject-access-overdue"' in listing
    assert "Overdue" in detail.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"requester_name": "  "}, "requester_name", "This field is required."),
        ({"received_at": "besok"}, "received_at", "Enter a valid date/time."),
        ({"requester_relation": "cousin"}, "requester_relation", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_message_on_its_field_and_records_nothing(
    client_for, supervisor, child, case, change, field, message
):
    url = reverse("cases:subject_access_create", args=[child.pk])
    data = {
        "organisation": case.organisation_id,
        "requester_name": MOTHER,
        "requester_relation": "mother",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **change,
    }
    response = client_for(supervisor).post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not SubjectAccessRequest.objects.exists()


def test_a_request_from_the_future_or_from_long_ago_is_refused(supervisor, child, case, org):
    with pytest.raises(svc.ApplicationError, match="future"):
        record(supervisor, child, org, received_at=timezone.now() + datetime.timedelta(hours=2))
    with pytest.raises(svc.ApplicationError, match="30 days"):
        record(supervisor, child, org, received_at=timezone.now() - datetime.timedelta(days=31))
    assert not SubjectAccessRequest.objects.exists()


def test_only_an_organisation_that_holds_the_data_and_that_the_user_supervises(
    client_for, supervisor, child, case, other_org
):
    with pytest.raises(svc.ApplicationError, match="Choose an organisation"):
        record(supervisor, child, other_org)
    response = client_for(supervisor).post(
        reverse("cases:subject_access_create", args=[child.pk]),
        {
            "organisation": other_org.pk,
            "requester_name": MOTHER,
            "requester_relation": "mother",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200 and not SubjectAccessRequest.objects.exists()


def test_outsiders_and_case_workers_get_404_everywhere(client_for, supervisor, owner, outsider, child, case, org):
    request = record(supervisor, child, org)
    other_supervisor = member(organisation=outsider.memberships.get().organisation, role=Role.SUPERVISOR)
    urls = [
        reverse("cases:subject_access_detail", args=[request.pk]),
        reverse("cases:subject_access_create", args=[child.pk]),
    ]
    posts = [
        reverse("cases:subject_access_bundle", args=[request.pk]),
        reverse("cases:subject_access_close", args=[request.pk]),
    ]
    for person in (outsider, other_supervisor, owner):
        client = client_for(person)
        for url in urls:
            assert client.get(url).status_code == 404, (person, url)
        for url in posts:
            assert client.post(url, {"outcome": "answered", "answer": "x"}).status_code == 404, (person, url)
    assert client_for(owner).get(reverse("cases:subject_access_list")).status_code == 404
    # Another organisation's supervisor has a register of their own, without this request.
    own = client_for(other_supervisor).get(reverse("cases:subject_access_list"))
    assert own.status_code == 200 and not own.context["open_requests"]
    request.refresh_from_db()
    assert request.is_open and request.bundle is None


def test_the_register_is_a_constant_number_of_queries(
    client_for, supervisor, owner, org, django_assert_max_num_queries
):
    for n in range(6):
        person = BeneficiaryFactory(organisation=org, created_by=owner)
        open_case(organisation=org, by=owner, beneficiary=person)
        request = record(supervisor, person, org)
        if n % 2:
            svc.subject_access_answer(by=supervisor, request=request, answer="Diserahkan langsung.")
    client = client_for(supervisor)
    client.get(reverse("cases:subject_access_list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("cases:subject_access_list"))
    assert len(response.context["open_requests"]) == 3 and len(response.context["closed"].rows) == 3


# --- Closing -------------------------------------------------------------------------------------


def test_answered_or_refused_with_words_once(client_for, supervisor, child, case, org):
    request = record(supervisor, child, org)
    client = client_for(supervisor)
    url = reverse("cases:subject_access_close", args=[request.pk])
    empty = client.post(url, {"outcome": "refused", "answer": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "This field is required." in empty.content.decode()
    request.refresh_from_db()
    assert request.is_open
    client.post(url, {"outcome": "refused", "answer": "Pemohon bukan wali anak."})
    request.refresh_from_db()
    assert request.status == SubjectAccessStatus.REFUSED and request.answered_by == supervisor
    again = client.post(url, {"outcome": "answered", "answer": "Diserahkan."}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already been closed" in again.content.decode()
    request.refresh_from_db()
    assert request.status == SubjectAccessStatus.REFUSED and request.answer == "Pemohon bukan wali anak."
    with pytest.raises(svc.ApplicationError, match="already been closed"):
        svc.subject_access_bundle(by=supervisor, request=request)


# --- The file ------------------------------------------------------------------------------------


def test_the_file_holds_everything_the_organisation_keeps_and_says_what_was_withheld(
    supervisor, owner, child, case, org
):
    record_access(user=owner, obj=case)
    request = record(supervisor, child, org)
    bundle = made_zip(supervisor, request)
    names = bundle.namelist()
    assert {"data.xlsx", "data.json", "README.txt"} <= set(names)
    data = json.loads(bundle.read("data.json"))
    assert data["identity"][0]["full_name"] == CHILD and data["identity"][0]["nik"] == "1571011705150003"
    assert data["family"][0]["name"] == MOTHER
    # The relatives' own NIK and phone are theirs, not the child's.
    assert "phone" not in data["family"][0] and "081234567890" not in bundle.read("data.json").decode()
    assert [c["number"] for c in data["cases"]] == [case.number]
    assert data["assessments"][0]["problems"] == "Putus sekolah."
    assert data["notes"][0]["narrative"] == "Kunjungan rumah."
    assert data["timeline"], "the case's timeline"
    # The document itself, byte for byte, where its row says it is.
    document = data["documents"][0]
    assert document["file"].startswith("documents/") and bundle.read(document["file"]) == PDF
    # Whoever reported the child is not in it, and the letter says so.
    assert REPORTER not in bundle.read("data.json").decode()
    assert "reporter_name" not in data["reports"][0] and "reporter_kind" not in data["reports"][0]
    letter = bundle.read("README.txt").decode()
    assert "protect the reporter" in letter and CHILD in letter
    # The workbook: one sheet a section, headers in words.
    workbook = load_workbook(io.BytesIO(bundle.read("data.xlsx")), read_only=True)
    assert workbook.sheetnames[0] == "1. Identity"
    assert len(workbook.sheetnames) == len(sections()) and workbook.sheetnames[-1].endswith("Who accessed the data")
    identity = list(workbook["1. Identity"].iter_rows(values_only=True))
    assert "Full name" in identity[0] and CHILD in identity[1]
    # Who accessed the data: the owner's view of the case is in it.
    assert [(row["who"], row["what"]) for row in data["access_log"]] == [(owner.get_full_name(), "the case")]


def test_making_the_file_is_in_the_access_log_and_only_its_maker_downloads_it(client_for, supervisor, org, child, case):
    second = member(organisation=org, role=Role.SUPERVISOR, username="kepala2")
    request = record(supervisor, child, org)
    before = AccessLog.objects.count()
    made_zip(supervisor, request)
    exported = set(
        AccessLog.objects.filter(pk__gt=0, action=AccessLog.Action.EXPORT, user=supervisor).values_list(
            "target_type", "target_id"
        )
    )
    document = case.documents.get()
    assert exported == {
        ("cases.beneficiary", str(child.pk)),
        ("cases.case", str(case.pk)),
        ("cases.document", str(document.pk)),
    }
    assert AccessLog.objects.count() > before
    request.refresh_from_db()
    assert client_for(second).get(reverse("export_download", args=[request.bundle_id])).status_code == 404
    page = client_for(second).get(reverse("cases:subject_access_detail", args=[request.pk])).content.decode()
    assert 'data-testid="subject-access-file-other"' in page
    mine = client_for(supervisor).get(reverse("cases:subject_access_detail", args=[request.pk])).content.decode()
    assert reverse("export_download", args=[request.bundle_id]) in mine


def test_another_organisations_staff_are_named_by_their_organisation_not_their_names(
    supervisor, org, other_org, child, case
):
    officer = member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="petugas.lain")
    record_access(user=officer, obj=case, organisation_id=other_org.pk)
    data = json.loads(made_zip(supervisor, record(supervisor, child, org)).read("data.json"))
    assert [row["who"] for row in data["access_log"]] == [f"Staff of {other_org.name}"]
    assert "petugas.lain" not in json.dumps(data) and officer.get_full_name() not in json.dumps(data)


def test_another_organisations_case_of_the_same_child_is_not_in_it(supervisor, org, other_org, child, case):
    elsewhere = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    theirs = open_case(organisation=other_org, by=elsewhere, beneficiary=child, summary="Kasus lembaga lain.")
    data = json.loads(made_zip(supervisor, record(supervisor, child, org)).read("data.json"))
    assert [c["number"] for c in data["cases"]] == [case.number]
    assert theirs.number not in json.dumps(data)


def test_referrals_of_the_case_and_their_messages_are_in_it(supervisor, owner, org, other_org, child, case):
    from cases.models import Consent
    from referrals.messages import referral_message_send

    consent = Consent.objects.create(
        case=case, given_by_name=MOTHER, relation="mother", given_on=timezone.localdate(), recorded_by=owner
    )
    consent.share_with.set([other_org])
    referral = referral_send(case=case, by=owner, receiver=other_org, kind="transfer", reason="Pindah domisili.")
    referral_message_send(referral=referral, by=owner, body="Mohon segera dijawab.")
    data = json.loads(made_zip(supervisor, record(supervisor, child, org)).read("data.json"))
    assert [r["reason"] for r in data["referrals"]] == ["Pindah domisili."]
    assert [m["body"] for m in data["referral_messages"]] == ["Mohon segera dijawab."]
    assert Referral.objects.count() == 1


def test_a_request_about_a_record_merged_later_follows_the_merge(supervisor, owner, org, child, case):
    request = record(supervisor, child, org)
    twin = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rizky S.")
    twin_case = open_case(organisation=org, by=owner, beneficiary=twin)
    # One open case per child and organisation: the twin's was closed before the merge.
    Case.objects.filter(pk=twin_case.pk).update(stage="closed", closed_at=timezone.now(), closure_reason="goals_met")
    beneficiary_merge(survivor=twin, merged=child, by=supervisor, reason="Anak yang sama.")
    data = json.loads(made_zip(supervisor, request).read("data.json"))
    assert {c["number"] for c in data["cases"]} == {case.number, twin_case.number}
    assert {p["full_name"] for p in data["identity"]} == {CHILD, "Rizky S."}
    assert data["merges"], "the merge itself is in the file"


def test_a_supervisor_who_lost_the_role_before_the_worker_ran_gets_nothing(supervisor, org, child, case):
    request = record(supervisor, child, org)
    job = svc.subject_access_bundle(by=supervisor, request=request)
    Membership.objects.filter(user=supervisor).update(is_active=False)
    assert exports.run_export(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.file_name == ""
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_every_model_that_points_at_a_case_or_a_person_is_in_a_section_or_withheld_with_a_reason():
    """A model added later that holds data about a child must be put in the file, or its
    absence said: the law gives the person everything held about them."""
    targets = {"cases.case", "cases.beneficiary", "referrals.referral"}
    covered = {section.model._meta.label_lower for section in sections()} | {label.lower() for label in WITHHELD_MODELS}
    missing = []
    for model in apps.get_models():
        if model._meta.app_label.endswith("pghistory") or model.__name__.endswith("Event"):
            continue
        label = model._meta.label_lower
        points = any(
            (f.many_to_one or f.one_to_one) and f.related_model._meta.label_lower in targets
            for f in model._meta.concrete_fields
        )
        if points and label not in covered:
            missing.append(label)
    assert not missing, f"not in the subject access file nor withheld with a reason: {missing}"
    assert all(str(reason) for reason in WITHHELD_MODELS.values())


# --- The deadline reaches the supervisors ---------------------------------------------------------


def sweep(moment: datetime.datetime) -> list[Notification]:
    """At `moment`: run the rule as the minute sweep does, then deliver what is due."""
    with time_machine.travel(moment, tick=False):
        now = timezone.now()
        with transaction.atomic():
            plan_subject_access_reminders(now)
        before = set(Notification.objects.values_list("pk", flat=True))
        for reminder_id in claim_due(now=now):
            deliver(reminder_id, now=now)
        return list(Notification.objects.exclude(pk__in=before).order_by("pk"))


def test_the_other_supervisors_hear_of_a_request_at_once_without_the_childs_name(
    supervisor, org, child, case, django_capture_on_commit_callbacks
):
    second = member(organisation=org, role=Role.SUPERVISOR, username="kepala2")
    with django_capture_on_commit_callbacks(execute=True):
        request = record(supervisor, child, org)
    bell = Notification.objects.get()
    assert bell.recipient == second and bell.kind == NotificationKind.SUBJECT_ACCESS_RECORDED
    text = notification_text(bell)
    assert f"no. {request.pk}" in text and CHILD not in text
    assert bell.link == reverse("cases:subject_access_detail", args=[request.pk])
    # The e-mail goes out with the next sweep, once.
    sweep(timezone.now())
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert CHILD not in mail.outbox[0].body


def test_a_day_before_the_deadline_and_at_it_the_request_reminds_then_escalates(
    supervisor, org, org_admin, child, case
):
    request = record(supervisor, child, org)
    Notification.objects.all().delete()
    assert sweep(request.received_at + datetime.timedelta(hours=40)) == []
    due = sweep(request.received_at + datetime.timedelta(hours=49))
    assert [(n.recipient, n.kind) for n in due] == [(supervisor, NotificationKind.SUBJECT_ACCESS_DUE)]
    assert sweep(request.received_at + datetime.timedelta(hours=50)) == []  # once
    late = sweep(request.received_at + datetime.timedelta(hours=72, minutes=1))
    assert {(n.recipient, n.kind) for n in late} == {
        (supervisor, NotificationKind.SUBJECT_ACCESS_OVERDUE),
        (org_admin, NotificationKind.SUBJECT_ACCESS_OVERDUE),
    }
    assert "still open" in notification_text(late[0]) and CHILD not in notification_text(late[0])
    # The org admin cannot open the request: their alert links nowhere.
    assert {n.recipient: n.link for n in late}[org_admin] == ""


def test_a_request_answered_in_time_reminds_nobody(supervisor, org, org_admin, child, case):
    request = record(supervisor, child, org)
    Notification.objects.all().delete()
    sweep(request.received_at + datetime.timedelta(hours=49))
    svc.subject_access_answer(by=supervisor, request=request, answer="Diserahkan.")
    Notification.objects.all().delete()
    assert sweep(request.received_at + datetime.timedelta(hours=73)) == []
    assert not Reminder.objects.filter(delivered_at__isnull=True, cancelled_at__isnull=True).exists()


def test_parts_left_out_with_the_reason_the_letter_gives(client_for, supervisor, org, child, case):
    """UU PDP Pasal 33: a part that would endanger the child (where they now live, asked by
    a parent they were protected from) is left out, and the file says so and why."""
    request = record(supervisor, child, org)
    client = client_for(supervisor)
    url = reverse("cases:subject_access_bundle", args=[request.pk])
    refused = client.post(url, {"withhold": ["identity"]}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Say why these parts are left out" in refused.content.decode()
    request.refresh_from_db()
    assert request.bundle is None
    client.post(
        url,
        {"withhold": ["identity", "documents"], "reason": "Alamat baru anak dilindungi."},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    request.refresh_from_db()
    assert exports.run_export(request.bundle_id) == "done"
    response = exports.download_response(user=supervisor, job_id=request.bundle_id)
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(bundle.read("data.json"))
    assert "identity" not in data and "documents" not in data and data["cases"]
    assert not [name for name in bundle.namelist() if name.startswith("documents/")]
    letter = bundle.read("README.txt").decode()
    assert "Pasal 33" in letter and "Alamat baru anak dilindungi." in letter and "- Identity" in letter
    # Documents left out are not logged as exported.
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT, target_type="cases.document").exists()
    with pytest.raises(svc.ApplicationError, match="from the list"):
        svc.subject_access_bundle(by=supervisor, request=request, withhold=["nonsense"], reason="x")


def test_a_long_register_of_open_requests_is_cut_at_the_nearest_deadlines_and_says_so(
    client_for, supervisor, owner, org, monkeypatch
):
    from cases.views import subject_access as views

    monkeypatch.setattr(views, "OPEN_SHOWN", 2)
    made = []
    for hours in (30, 10, 20):
        person = BeneficiaryFactory(organisation=org, created_by=owner)
        open_case(organisation=org, by=owner, beneficiary=person)
        made.append(record(supervisor, person, org, received_at=timezone.now() - datetime.timedelta(hours=hours)))
    response = client_for(supervisor).get(reverse("cases:subject_access_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert [r.pk for r in response.context["open_requests"]] == [made[0].pk, made[2].pk]
    assert "Only the 2 with the nearest deadlines are shown." in response.content.decode()
