"""The URL sweep behind tests/test_url_scoping.py: every URL pattern of the portal and its
admin, filled with organisation A's records and requested by people who must see none of
them.

`routes()` walks the resolver. `build_world()` makes one record of every kind a pattern
can address, in organisation A (and a partner C), plus organisation B whose people are
the personas. `FILL` says, per portal pattern, which of A's records go into its
parameters; admin patterns take the record of their model from `ADMIN_OBJECTS`;
`ALLOWLIST` names the patterns that are public or global by design, each with its
reason. `check()` makes one request and returns what went wrong (an empty list when
nothing did): the parametrized test asserts it is empty, the meta-test that it is not.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from atensi.testing.files import pdf_bytes
from atensi.testing.second_factor import Client

# --- The patterns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name"; an unnamed admin redirect is "admin:<app>_<model>_redirect"
    route: str  # the pattern as written, for messages
    params: tuple[str, ...]
    admin: bool
    model_label: str | None  # the admin model this pattern belongs to, if any
    pattern: Any = field(default=None, compare=False, repr=False)  # the URLPattern itself


def _params(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return tuple(converters)
    return tuple(pattern.regex.groupindex)


def _admin_prefixes() -> dict[str, str]:
    """'admin/cases/case/' -> 'cases.case' for every registered ModelAdmin."""
    return {
        f"admin/{model._meta.app_label}/{model._meta.model_name}/": model._meta.label_lower
        for model in admin.site._registry
    }


def _walk(resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]) -> Iterator[tuple[str, str, Any]]:
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, text, namespaces + ((entry.namespace,) if entry.namespace else ()))
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            yield name, text, entry


def routes() -> list[Route]:
    """Every URL pattern, with namespaces, in resolver order."""
    prefixes = _admin_prefixes()
    found: list[Route] = []
    for name, text, entry in _walk(get_resolver(), "", ()):
        is_admin = text.startswith("admin/")
        model_label = next((label for p, label in prefixes.items() if text.startswith(p)), None)
        key = name
        if not key:
            if model_label and text.endswith("<path:object_id>/"):
                key = "admin:" + model_label.replace(".", "_") + "_redirect"
            else:
                key = "unnamed:" + text
        found.append(Route(key, text, _params(entry.pattern), is_admin, model_label, entry))
    return found


# --- The world ----------------------------------------------------------------------------

# Strings only organisation A's people may read. None of them may appear in a page an
# outsider gets. Plain letters, so HTML escaping cannot hide them.
SECRETS = {
    "confidential child": "Zulaikha Rahasiaputri",
    "child": "Bambang Sweepwijaya",
    "NIK": "1571011705150077",
    "family member": "Sumirah Keluargasweep",
    "note": "Catatan kunjungan sweepnarasi",
    "report": "Laporan masyarakat sweepcerita",
    "reported child": "Anak Pasar Sweeplapor",
    "referral message": "Pesan rujukan sweeppesan",
    "document title": "Akta sweepdokumen",
    "assessment": "Masalah asesmen sweepmasalah",
    "workforce NIK": "1571014509900002",  # other organisations see it masked
    # Staff names and roles are public (the directory); their contact details are not.
    "staff e-mail": "pekerja.sweep@balai-a.test",
    "staff phone": "081299990001",
    "import file": "sweepimpor.csv",
    "export file": "Ekspor sweepekspor",
    "subject access requester": "Ibu Sweeppemohon",
}

MINIMAL_PDF = pdf_bytes()


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# The world's records that belong to organisation A (or concern it, as the referral it received).
A_RECORDS = (
    "org_a",
    "worker",
    "chief",
    "a_admin",
    "membership",
    "beneficiary",
    "case",
    "consent",
    "assessment",
    "plan_item",
    "approval",
    "note",
    "follow_up",
    "document",
    "family_member",
    "referral_sent",
    "referral_message",
    "referral_received",
    "confidential_beneficiary",
    "confidential_case",
    "merge",
    "report",
    "notification",
    "import_batch",
    "agreement",
    "workforce",
    "access_log",
    "export_job",
    "subject_access",
    "erasure_run",
)


@dataclass
class World:
    objects: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    storage: Path | None = None
    a_records: set[tuple[str, str]] = field(default_factory=set)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_world(storage: Path) -> World:
    """Organisation A with one record of every kind, a partner C, and outsider B."""
    import pghistory.models
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as AxesAccessLog
    from django.contrib.auth.models import Group, Permission
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from atensi.core.access import record_access
    from atensi.core.models import (
        AccessLog,
        AmpkCategory,
        Cluster,
        ExportJob,
        Notification,
        PpksType,
        ServiceComponent,
    )
    from atensi.core.notifications import notify
    from cases import beneficiaries as beneficiary_services
    from cases import documents as docs
    from cases import workflow
    from cases.models import (
        ApprovalKind,
        CaseNote,
        Consent,
        DocumentKind,
        FamilyMember,
        FollowUp,
        FollowUpKind,
        NoteKind,
        Relation,
        Stage,
    )
    from cases.notification_kinds import NotificationKind
    from cases.tests.factories import BeneficiaryFactory, open_case, report_for, village
    from cases.tests.workflow_helpers import assess, plan_item
    from referrals.messages import referral_message_send
    from referrals.models import ReferralKind, ResponseDeadline, SharedSection
    from referrals.services import referral_accept, referral_send
    from stakeholders import imports
    from stakeholders import services as org_services
    from stakeholders.models import ImportKind, Membership, OrganisationKind, ReachTarget, WorkforceKind
    from stakeholders.roles import Role
    from stakeholders.tests.factories import OrganisationFactory, UserFactory, member

    o: dict[str, Any] = {}
    today = timezone.localdate()
    o["org_a"] = a = OrganisationFactory(code="SWEEP-A", name="Balai Sweep A")
    o["org_b"] = b = OrganisationFactory(code="SWEEP-B", name="Balai Sweep B")
    o["org_c"] = c = OrganisationFactory(code="SWEEP-C", name="LKSA Sweep C", kind=OrganisationKind.LKSA)

    worker = o["worker"] = member(organisation=a, role=Role.SOCIAL_WORKER, username="sweep.worker")
    worker.email, worker.phone = SECRETS["staff e-mail"], SECRETS["staff phone"]
    worker.save(update_fields=["email", "phone"])
    chief = o["chief"] = member(organisation=a, role=Role.SUPERVISOR, username="sweep.chief")
    a_admin = o["a_admin"] = member(organisation=a, role=Role.ORG_ADMIN, username="sweep.a_admin")
    o["colleague"] = member(organisation=a, role=Role.SOCIAL_WORKER, username="sweep.colleague")
    c_worker = member(organisation=c, role=Role.SOCIAL_WORKER, username="sweep.c_worker")
    member(organisation=c, role=Role.REFERRAL_OFFICER, username="sweep.c_officer")
    o["membership"] = Membership.objects.get(user=worker, organisation=a)
    # A's insider for the control test: every role in A, so each record opens for them.
    for role in (Role.ORG_ADMIN, Role.REFERRAL_OFFICER, Role.INTAKE_OFFICER):
        Membership.objects.create(user=chief, organisation=a, role=role)
    o["root"] = UserFactory(username="sweep.root", is_staff=True, is_superuser=True)

    # The rich case: consent, assessment, a plan with a pending approval, a note, a
    # follow-up, a document, a family member with the child's photo, a referral each way.
    child = BeneficiaryFactory(
        organisation=a,
        created_by=worker,
        full_name=SECRETS["child"],
        nik=SECRETS["NIK"],
        village=village(),
        regency_code="1571",
    )
    o["beneficiary"] = child
    case = o["case"] = open_case(organisation=a, by=worker, beneficiary=child, supervisor=chief)
    consent = o["consent"] = Consent.objects.create(
        case=case, given_by_name="Ibu Sari", relation=Relation.MOTHER, given_on=today, recorded_by=worker
    )
    consent.share_with.set([c])
    workflow.case_stage_move(case=case, by=worker, to_stage=Stage.ASESMEN, note="")
    o["assessment"] = assess(case, worker)
    o["assessment"].problems = SECRETS["assessment"]
    o["assessment"].save(update_fields=["problems"])
    workflow.case_stage_move(case=case, by=worker, to_stage=Stage.PERENCANAAN, note="")
    o["plan_item"] = plan_item(case, worker)
    o["approval"] = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=worker)
    o["note"] = CaseNote.objects.create(
        case=case, kind=NoteKind.HOME_VISIT, occurred_on=today, narrative=SECRETS["note"], author=worker
    )
    o["follow_up"] = FollowUp.objects.create(
        case=case,
        kind=FollowUpKind.HOME_VISIT,
        due_on=today + datetime.timedelta(days=7),
        assignee=worker,
        created_by=worker,
    )
    o["document"] = docs.document_upload(
        case=case,
        by=worker,
        kind=DocumentKind.AKTA,
        title=SECRETS["document title"],
        file=SimpleUploadedFile("akta.pdf", MINIMAL_PDF, content_type="application/pdf"),
    )
    o["family_member"] = FamilyMember.objects.create(
        beneficiary=child, relation=Relation.MOTHER, name=SECRETS["family member"], phone="081234567890"
    )
    beneficiary_services.beneficiary_photo_set(
        beneficiary=child, by=worker, file=SimpleUploadedFile("anak.png", _png(), content_type="image/png")
    )
    terapi = ServiceComponent.objects.get(code="terapi")
    o["referral_sent"] = referral_send(
        case=case,
        by=worker,
        receiver=c,
        kind=ReferralKind.SERVICE,
        reason="Butuh terapi psikososial.",
        components=[terapi],
        shared_sections=[SharedSection.IDENTITY],
        shared_documents=[o["document"]],
    )
    o["referral_message"] = referral_message_send(
        referral=o["referral_sent"], by=worker, body=SECRETS["referral message"]
    )
    c_case = open_case(organisation=c, by=c_worker)
    c_consent = Consent.objects.create(
        case=c_case, given_by_name="Pak Budi", relation=Relation.FATHER, given_on=today, recorded_by=c_worker
    )
    c_consent.share_with.set([a])
    o["c_document"] = docs.document_upload(
        case=c_case,
        by=c_worker,
        kind=DocumentKind.AKTA,
        title="Akta dari C",
        file=SimpleUploadedFile("akta-c.pdf", MINIMAL_PDF, content_type="application/pdf"),
    )
    received = referral_send(
        case=c_case,
        by=c_worker,
        receiver=a,
        kind=ReferralKind.SERVICE,
        reason="Mohon layanan.",
        components=[terapi],
        shared_sections=[SharedSection.IDENTITY],
        shared_documents=[o["c_document"]],
    )
    # Accepted, so A reads what C shared (the control test opens it as A).
    o["referral_received"] = referral_accept(referral=received, by=chief)

    # The confidential case: only its case manager and A's supervisors know who the child is.
    hidden = BeneficiaryFactory(
        organisation=a, created_by=worker, full_name=SECRETS["confidential child"], village=village()
    )
    o["confidential_beneficiary"] = hidden
    o["confidential_case"] = open_case(organisation=a, by=worker, beneficiary=hidden, is_confidential=True)
    beneficiary_services.beneficiary_photo_set(
        beneficiary=hidden, by=worker, file=SimpleUploadedFile("rahasia.png", _png(), content_type="image/png")
    )

    # Two records of one child, merged by A's supervisor.
    first = BeneficiaryFactory(organisation=a, created_by=worker, full_name="Anak Kembar Sweep")
    second = BeneficiaryFactory(organisation=a, created_by=worker, full_name="Anak Kembar Sweep")
    o["merge"] = beneficiary_services.beneficiary_merge(survivor=first, merged=second, by=chief, reason="Sama")

    o["report"] = report_for(
        organisation=a, by=worker, narrative=SECRETS["report"], child_name=SECRETS["reported child"]
    )
    notify(
        recipients=[worker],
        kind=NotificationKind.FOLLOW_UP_DUE,
        link=reverse("cases:case_detail", args=[case.pk]),
        organisation=a,
        case_number=case.number,
    )
    o["notification"] = Notification.objects.get(recipient=worker)
    upload = SimpleUploadedFile(
        SECRETS["import file"],
        b"nama,nik,jenis,telepon,wilayah,sertifikat berlaku sampai,aktif\nSiti Impor,1571014509900003,TKSK,,,,ya\n",
        content_type="text/csv",
    )
    o["import_batch"] = imports.import_preview(organisation=a, by=a_admin, kind=ImportKind.WORKFORCE, upload=upload)
    o["agreement"] = org_services.agreement_create(
        by=a_admin,
        number="PKS/SWEEP/1",
        title="Perjanjian sweep",  # the directory shows that an agreement exists, by design
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        parties=[a, c],
        document=SimpleUploadedFile("pks.pdf", MINIMAL_PDF, content_type="application/pdf"),
    )
    o["workforce"] = org_services.workforce_create(
        organisation=a, by=None, kind=WorkforceKind.values[0], name="Pekerja Sweep", nik=SECRETS["workforce NIK"]
    )
    record_access(user=worker, obj=case, action="view")
    o["access_log"] = AccessLog.objects.filter(user=worker).latest("pk")
    o["export_job"] = ExportJob.objects.create(
        user=worker,
        source="cases",
        params=[],
        params_key="sweep",
        status=ExportJob.Status.DONE,
        rows_total=1,
        rows_done=1,
        file_name=storages["default"].save("exports/sweep/cases.xlsx", ContentFile(SECRETS["export file"].encode())),
        finished_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    from atensi.core.models import ErasureRun
    from cases.subject_access.services import subject_access_record

    # A retention run that anonymised A's child: its ids are A's (superusers only in admin).
    o["erasure_run"] = ErasureRun.objects.create(
        trigger=ErasureRun.Trigger.COMMAND,
        status=ErasureRun.Status.DONE,
        finished_at=timezone.now(),
        counts={"cases.beneficiary": 1},
        beneficiaries=1,
        beneficiary_ids=[child.pk],
    )

    o["subject_access"] = subject_access_record(
        by=chief,
        beneficiary=child,
        organisation_id=a.pk,
        requester_name=SECRETS["subject access requester"],
        requester_relation="mother",
    )

    # Organisation B: the outsiders' own records, for patterns that pair a parent with a child.
    b_admin = o["b_org_admin"] = member(organisation=b, role=Role.ORG_ADMIN, username="sweep.b_admin")
    # "b_supervisor" holds every case-working role in B (a community reporter's too), so
    # every page that any of them may open is asked for A's records.
    b_chief = o["b_supervisor"] = member(organisation=b, role=Role.SUPERVISOR, username="sweep.b_chief")
    for role in (Role.INTAKE_OFFICER, Role.REFERRAL_OFFICER, Role.SOCIAL_WORKER, Role.COMMUNITY_REPORTER):
        Membership.objects.create(user=b_chief, organisation=b, role=role)
    # B's admin user holds every working role there and, by hand, every permission of the
    # portal's own apps: the scoping, not a missing permission, must refuse A's records.
    b_staff = o["b_staff"] = member(organisation=b, role=Role.ORG_ADMIN, username="sweep.b_staff")
    for role in (Role.SUPERVISOR, Role.INTAKE_OFFICER, Role.REFERRAL_OFFICER, Role.SOCIAL_WORKER):
        Membership.objects.create(user=b_staff, organisation=b, role=role)
    b_staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=("atensi", "stakeholders", "cases", "referrals"))
    )
    b_staff.is_staff = True
    b_staff.save(update_fields=["is_staff"])
    o["b_case"] = open_case(organisation=b, by=b_chief)
    o["b_beneficiary"] = o["b_case"].beneficiary
    o["b_admin_membership"] = Membership.objects.get(user=b_admin, organisation=b)

    # Records that belong to no organisation, for the admin pages of reference data.
    o["group"] = Group.objects.order_by("pk").first()
    o["cluster"] = Cluster.objects.order_by("pk").first()
    o["component"] = terapi
    o["ampk"] = AmpkCategory.objects.order_by("pk").first()
    o["ppks"] = PpksType.objects.order_by("pk").first()
    # A migration seeds the deadlines, but a transactional test's flush in a reused test
    # database may have emptied the table: make sure there is one to ask for.
    o["deadline"] = ResponseDeadline.objects.get_or_create(urgency="normal", defaults={"hours": 168})[0]
    interval = o["interval"] = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    o["crontab"] = CrontabSchedule.objects.create(minute="5")
    o["solar"] = SolarSchedule.objects.create(event="sunrise", latitude=0, longitude=0)
    o["clocked"] = ClockedSchedule.objects.create(clocked_time=timezone.now())
    o["periodic_task"] = PeriodicTask.objects.create(name="sweep", task="sweep.task", interval=interval)
    o["region"] = village()
    o["reach_target"] = ReachTarget.objects.create(organisation=a, year=today.year, target=50)
    o["event"] = pghistory.models.Events.objects.order_by("pgh_created_at").first()
    # Login throttling's records (django-axes), listed in admin.
    seen = {"username": "tidak.ada", "ip_address": "203.0.113.9", "user_agent": "uji", "http_accept": "*/*"}
    seen["path_info"] = "/accounts/login/"
    o["axes_attempt"] = AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    o["axes_log"] = AxesAccessLog.objects.create(**seen)
    o["axes_failure"] = AccessFailureLog.objects.create(**seen, locked_out=False)

    world = World(objects=o, storage=storage)
    world.a_records = {(o[k]._meta.label_lower, str(o[k].pk)) for k in A_RECORDS}
    world.clients = {persona: _client(o.get(USERS[persona])) for persona in USERS}
    return world


# --- Personas -----------------------------------------------------------------------------

# persona -> the world key of its user (None: anonymous)
USERS: dict[str, str | None] = {
    "b_org_admin": "b_org_admin",
    "b_supervisor": "b_supervisor",
    "b_admin_staff": "b_staff",
    "anonymous": None,
    "a_colleague": "colleague",
    # Not swept: the control test's people, for whom A's records must open.
    "a_insider": "chief",
    "a_worker": "worker",
    "superuser": "root",
}
PORTAL_PERSONAS = ("b_org_admin", "b_supervisor", "anonymous")
# A's social worker who does not manage the confidential case: asked only for the
# confidential case and child, whose identity is for the case manager and A's supervisors.
COLLEAGUE_VARIANTS = ("confidential case", "confidential child")
ADMIN_PERSONAS = ("b_admin_staff", "anonymous")


def _client(user: Any) -> Client:
    """A client that checks CSRF like a browser does, holding a real token from the login page."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("login"))
    assert settings.CSRF_COOKIE_NAME in response.cookies, "the login page set no CSRF cookie"
    return client


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW while sweeping: a refused token is a status no check accepts,
    so a broken token cannot pass for a 403 from the view."""
    return HttpResponse(f"CSRF failure: {reason}", status=419)


# --- What each pattern's parameters are ---------------------------------------------------

Filler = Callable[[World], dict[str, Any]]


def _case(w: World) -> dict[str, Any]:
    return {"pk": w.case.pk}


def _confidential(w: World) -> dict[str, Any]:
    return {"pk": w.confidential_case.pk}


def _child(w: World) -> dict[str, Any]:
    return {"pk": w.beneficiary.pk}


def _hidden_child(w: World) -> dict[str, Any]:
    return {"pk": w.confidential_beneficiary.pk}


def _org(w: World) -> dict[str, Any]:
    return {"organisation_id": w.org_a.pk}


def _sent(w: World) -> dict[str, Any]:
    return {"pk": w.referral_sent.pk}


def _received(w: World) -> dict[str, Any]:
    return {"pk": w.referral_received.pk}


def _report(w: World) -> dict[str, Any]:
    return {"public_id": w.report.public_id}


CASE = {"case": _case, "confidential case": _confidential}
CHILD = {"child": _child, "confidential child": _hidden_child}
REFERRAL = {"sent by A": _sent, "received by A": _received}


def _in_case(param: str, record: str) -> dict[str, Filler]:
    """A's record under A's case, and under the outsider's own case (the record must still
    be 404: it is looked up within the case, not by its id alone)."""
    return {
        "A's": lambda w: {"pk": w.case.pk, param: w.objects[record].pk},
        "under B's own": lambda w: {"pk": w.b_case.pk, param: w.objects[record].pk},
    }


# Portal pattern -> {variant: parameters}. A pattern with parameters that is missing here
# and not allowlisted fails the sweep.
FILL: dict[str, dict[str, Filler]] = {
    "notification_open": {"A's": lambda w: {"pk": w.notification.pk}},
    "export_status": {"A's": lambda w: {"pk": w.export_job.pk}},
    "export_download": {"A's": lambda w: {"pk": w.export_job.pk}},
    "export_again": {"A's": lambda w: {"pk": w.export_job.pk}},
    "stakeholders:staff_list": {"A": _org},
    "stakeholders:second_factor_reset": {"A's": lambda w: {"user_id": w.membership.user_id}},
    "stakeholders:person_detail": {"A's": lambda w: {"user_id": w.membership.user_id}},
    "stakeholders:person_end_sessions": {"A's": lambda w: {"user_id": w.membership.user_id}},
    "stakeholders:staff_invite": {"A": _org},
    "stakeholders:membership_set_active": {
        "A's": lambda w: {"organisation_id": w.org_a.pk, "membership_id": w.membership.pk},
        "under B's own": lambda w: {"organisation_id": w.org_b.pk, "membership_id": w.membership.pk},
    },
    "stakeholders:agreement_edit": {"A's": lambda w: {"agreement_id": w.agreement.pk}},
    "stakeholders:agreement_document": {"A's": lambda w: {"agreement_id": w.agreement.pk}},
    "stakeholders:agreement_create": {"A": _org},
    "stakeholders:organisation_edit": {"A": _org},
    "stakeholders:import_new": {"A": _org},
    **{
        f"stakeholders:{name}": {
            "A's": lambda w: {"organisation_id": w.org_a.pk, "batch_id": w.import_batch.pk},
            "under B's own": lambda w: {"organisation_id": w.org_b.pk, "batch_id": w.import_batch.pk},
        }
        for name in ("import_preview", "import_confirm", "import_discard")
    },
    **{
        f"cases:{name}": {"A's": _report}
        for name in ("report_detail", "report_pass", "report_dismiss", "report_triage")
    },
    **{
        f"cases:{name}": CHILD
        for name in (
            "beneficiary_detail",
            "beneficiary_edit",
            "beneficiary_photo",
            "family_add",
            "case_create",
            "subject_access_create",
        )
    },
    "cases:family_edit": {
        "A's": lambda w: {"pk": w.beneficiary.pk, "member_pk": w.family_member.pk},
        "under B's own": lambda w: {"pk": w.b_beneficiary.pk, "member_pk": w.family_member.pk},
    },
    **{
        f"cases:{name}": CASE
        for name in (
            "case_detail",
            "case_access",
            "case_summary",
            "case_stage",
            "case_edit",
            "approval_request",
            "case_reopen",
            "case_assessments",
            "assessment_create",
            "case_plan",
            "plan_item_create",
            "case_notes",
            "note_create",
            "follow_up_create",
            "case_documents",
            "document_upload",
            "case_consent",
            "consent_create",
            "sharing_override_create",
        )
    },
    **{
        f"cases:{name}": {"A's": lambda w: {"pk": w.subject_access.pk}}
        for name in ("subject_access_detail", "subject_access_bundle", "subject_access_close")
    },
    "cases:approval_decide": _in_case("approval_pk", "approval"),
    "cases:approval_queue_decide": {"A's": lambda w: {"approval_pk": w.approval.pk}},
    "cases:assessment_edit": _in_case("assessment_pk", "assessment"),
    "cases:plan_item_edit": _in_case("item_pk", "plan_item"),
    "cases:follow_up_update": _in_case("follow_up_pk", "follow_up"),
    "cases:document_download": _in_case("document_pk", "document"),
    "cases:consent_withdraw": _in_case("consent_pk", "consent"),
    **{f"referrals:{name}": CASE for name in ("case_referrals", "send", "send_suggestions")},
    **{
        f"referrals:{name}": REFERRAL
        for name in ("detail", "accept", "decline", "complete", "cancel", "message_create")
    },
    "referrals:section": {
        "sent by A": lambda w: {"pk": w.referral_sent.pk, "section": "identity"},
        "received by A": lambda w: {"pk": w.referral_received.pk, "section": "identity"},
    },
    "referrals:document": {
        "sent by A": lambda w: {"pk": w.referral_sent.pk, "document_pk": w.document.pk},
        "received by A": lambda w: {"pk": w.referral_received.pk, "document_pk": w.c_document.pk},
    },
    "dashboard_organisation": {"A": _org},
    "dashboard_organisation_download": {
        "A's": lambda w: {"organisation_id": w.org_a.pk, "table": "stage", "fmt": "csv"}
    },
    "dashboard_region": {"A's province": lambda w: {"code": "15"}, "A's kab/kota": lambda w: {"code": "1571"}},
    "dashboard_region_download": {"A's province": lambda w: {"code": "15", "table": "regions", "fmt": "xlsx"}},
    "dashboard_national_download": {"Indonesia": lambda w: {"table": "regions", "fmt": "csv"}},
    "admin:view_on_site": {
        "A's confidential case": lambda w: {
            "content_type_id": _content_type_id(w.confidential_case),
            "object_id": w.confidential_case.pk,
        }
    },
}


def _content_type_id(obj: Any) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


# Admin model -> the record of A (or the reference record) its object pages are asked for.
ADMIN_OBJECTS: dict[str, Callable[[World], Any]] = {
    "auth.group": lambda w: w.group,
    "django_celery_beat.periodictask": lambda w: w.periodic_task,
    "django_celery_beat.clockedschedule": lambda w: w.clocked,
    "django_celery_beat.crontabschedule": lambda w: w.crontab,
    "django_celery_beat.solarschedule": lambda w: w.solar,
    "django_celery_beat.intervalschedule": lambda w: w.interval,
    "atensi.cluster": lambda w: w.cluster,
    "atensi.servicecomponent": lambda w: w.component,
    "atensi.ampkcategory": lambda w: w.ampk,
    "atensi.ppkstype": lambda w: w.ppks,
    "atensi.accesslog": lambda w: w.access_log,
    "cases.subjectaccessrequest": lambda w: w.subject_access,
    "atensi.erasurerun": lambda w: w.erasure_run,
    "stakeholders.user": lambda w: w.worker,
    "stakeholders.region": lambda w: w.region,
    "stakeholders.organisation": lambda w: w.org_a,
    "stakeholders.membership": lambda w: w.membership,
    "stakeholders.workforcemember": lambda w: w.workforce,
    "stakeholders.agreement": lambda w: w.agreement,
    "stakeholders.importbatch": lambda w: w.import_batch,
    "stakeholders.reachtarget": lambda w: w.reach_target,
    "cases.case": lambda w: w.confidential_case,
    "cases.beneficiary": lambda w: w.beneficiary,
    "cases.report": lambda w: w.report,
    "cases.beneficiarymerge": lambda w: w.merge,
    "referrals.responsedeadline": lambda w: w.deadline,
    "referrals.referral": lambda w: w.referral_sent,
    "pghistory.events": lambda w: w.event,
    "axes.accessattempt": lambda w: w.axes_attempt,
    "axes.accesslog": lambda w: w.axes_log,
    "axes.accessfailurelog": lambda w: w.axes_failure,
}


@dataclass(frozen=True)
class Allowed:
    reason: str
    fill: Filler | None = None  # parameters for a pattern that has some
    public: bool = False  # served without a login
    writes: tuple[str, ...] = ()  # tables a request may change (the persona's own rows)
    status: int | None = None  # what a GET by an outsider must answer, where it is one thing


def _fixed(**kwargs: Any) -> Filler:
    return lambda w: kwargs


ALLOWLIST: dict[str, Allowed] = {
    "healthz": Allowed("load balancer probe: no data, no login", public=True),
    "login": Allowed("the login page", public=True),
    "logout": Allowed("logging out", public=True),
    "password_reset": Allowed("asking for a reset link by e-mail", public=True),
    "password_reset_done": Allowed("'check your e-mail'", public=True),
    "password_reset_confirm": Allowed(
        "a signed one-time link; a bad token shows the 'invalid link' page",
        fill=_fixed(uidb64="MQ", token="set-password"),
        public=True,
    ),
    "password_reset_complete": Allowed("'your password was set'", public=True),
    "set_language": Allowed("the language switch must work on the login page too", public=True),
    "admin:login": Allowed("the admin login page", public=True),
    "admin:logout": Allowed("logging out of admin", public=True),
    "stakeholders:second_factor_new_codes": Allowed(
        "new recovery codes for the persona's own second factor",
        writes=("otp_static_staticdevice", "otp_static_statictoken"),
    ),
    "stakeholders:end_other_sessions": Allowed(
        "signing the persona's own other sessions out: raises their own session version",
        writes=("stakeholders_user", "stakeholders_userevent", "pghistory_context"),
    ),
    "stakeholders:import_template": Allowed(
        "a blank import template, the same file for everyone",
        fill=_fixed(kind="workforce", fmt="csv"),
        status=200,
    ),
    "stakeholders:workforce_list": Allowed(
        "the workforce registry is national by design (coordination between organisations); "
        "other organisations' NIKs are masked",
        status=200,
    ),
    "stakeholders:workforce_export": Allowed(
        "the workforce registry's export, national by design; the export is logged, NIKs masked",
        writes=("atensi_accesslog",),
        status=200,
    ),
    "stakeholders:workforce_export_xlsx": Allowed(
        "the workforce registry's Excel export, national by design; the export is logged, NIKs masked",
        writes=("atensi_accesslog",),
        status=200,
    ),
    "stakeholders:organisation_detail": Allowed(
        "the organisation directory is national by design: profile, public staff, agreements' existence",
        fill=_org,
        status=200,
    ),
    "unnamed:admin/(?P<url>.*)$": Allowed(
        "admin's catch-all: a 404 (a login redirect when logged out) for any other path",
        fill=_fixed(url="cases/nothing/"),
        status=404,
    ),
    "admin:app_list": Allowed(
        "an admin app index, listing what the persona may open", fill=_fixed(app_label="cases"), status=200
    ),
}

# The control test opens each filled pattern as A's insider (every role in A) or, in admin,
# as the superuser; these answer 404 to them too, by design.
CONTROL_PERSONA = {
    "notification_open": "a_worker",  # a notification opens for its recipient only
    # An export opens for whoever asked for it.
    "export_status": "a_worker",
    "export_download": "a_worker",
    "export_again": "a_worker",
    # A is a balai covering no region: regional and national figures are the superuser's here.
    "dashboard_region": "superuser",
    "dashboard_region_download": "superuser",
    "dashboard_national_download": "superuser",
    # The people directory is national: A's org admin does not open an account page there.
    "stakeholders:person_detail": "superuser",
}
CONTROL_EXEMPT = {
    ("referrals:section", "sent by A"): "the sender reads its own case file, not the copy it shared",
    ("referrals:document", "sent by A"): "the sender downloads its document from the case, not the referral",
    ("admin:view_on_site", "A's confidential case"): "no model has get_absolute_url: 404 for everyone",
}

# Admin object pages that answer 200 to any staff member by design.
ADMIN_PUBLIC_MODELS = {"stakeholders.region": "regions are public reference data (read-only to every admin user)"}


# Query (GET) and form (POST) data that name A's records where a page takes them from
# the request rather than from its path. A search is for a part of a secret name (the
# search box repeats what was typed): the page must not complete it.
def _merge_form(w: World) -> dict[str, Any]:
    return {
        "first": w.beneficiary.pk,
        "second": w.confidential_beneficiary.pk,
        "survivor": w.beneficiary.pk,
        "reason": "Sama",
        "submission_token": "6f1c2f5e-0b8a-4b55-9a53-1f2d3c4b5a69",
    }


QUERIES: dict[str, Filler] = {
    "cases:beneficiary_merge": _merge_form,
    "cases:beneficiary_search": lambda w: {"full_name": "Sweepwijaya"},
    "cases:case_list": lambda w: {"q": "Rahasiaputri", "status": "all"},
    # The people directory is for national administrators only: nobody of B finds A's worker.
    "stakeholders:people_list": lambda w: {"q": w.worker.username},
    "cases:case_export_csv": lambda w: {"q": "Rahasiaputri", "status": "all"},
    # A's monthly report, asked for by name: not found for anyone outside A.
    "monthly_report": lambda w: {"organisation": w.org_a.pk},
    "monthly_report_xlsx": lambda w: {"organisation": w.org_a.pk},
    "admin:cases_case_changelist": lambda w: {"q": "Rahasiaputri"},
    "admin:cases_beneficiary_changelist": lambda w: {"q": "Sweepwijaya"},
    "admin:stakeholders_membership_changelist": lambda w: {"organisation__id__exact": w.org_a.pk},
    # The map's panel of the kab/kota where A's children live: B's people read B's figures only.
    "figures_map": lambda w: {"region": w.beneficiary.regency_code or "1571"},
    "figures_map_region": lambda w: {"code": w.beneficiary.regency_code or "1571"},
}


def _reassign_form(w: World) -> dict[str, Any]:
    # A's cases (the confidential one too) to A's colleague, and all of A's worker's open cases.
    return {
        "cases": [w.case.pk, w.confidential_case.pk],
        "from_worker": w.worker.pk,
        "to": w.colleague.pk,
        "submission_token": "0b8a6f1c-2f5e-4b55-9a53-1f2d3c4b5a70",
    }


FORMS: dict[str, Filler] = {
    "cases:beneficiary_merge": _merge_form,
    "cases:case_reassign": _reassign_form,
    # A's child's NIK, POSTed to the case list's "find by NIK": the list it leads to is B's own.
    "cases:case_list_nik": lambda w: {"nik": SECRETS["NIK"]},
}


# --- Writes -------------------------------------------------------------------------------


def _tables() -> frozenset[str]:
    names = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.proxy and meta.managed and meta.db_table != "django_session":
            names.add(meta.db_table)
    return frozenset(names)


def snapshot() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table of every
    installed app (domain, pghistory events and context, admin log, auth, beat; not the
    sessions). One query: PostgreSQL keeps the counters for the open transaction."""
    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE schemaname = current_schema()"
        )
        return {name: count for name, count in cursor.fetchall() if name in tables}


def _last_access_log() -> int:
    from atensi.core.models import AccessLog

    return AccessLog.objects.aggregate(last=Max("pk"))["last"] or 0


def _access_actions_since(pk: int) -> list[str]:
    from atensi.core.models import AccessLog

    return list(AccessLog.objects.filter(pk__gt=pk).order_by("pk").values_list("action", flat=True))


def _access_logged_since(pk: int) -> set[tuple[str, str]]:
    """The records the persona opened since: a denial (refused) or a search hit (found, not
    shown) opens nothing."""
    from atensi.core.models import AccessLog

    rows = AccessLog.objects.filter(pk__gt=pk).exclude(action__in=["denied", "search"])
    return set(rows.values_list("target_type", "target_id"))


# The registration search logs what it touched (cases.beneficiaries.screening) and counts
# searches that find other organisations' children towards an hourly limit.
SEARCH_WRITES: dict[str, tuple[str, ...]] = {"cases:beneficiary_search": ("atensi_accesslog", "atensi_rateevent")}


def _files(root: Path | None) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file()) if root and root.exists() else 0


# --- One request --------------------------------------------------------------------------

# Admin forms submitted as if confirmed: delete, save, and the changelist's bulk delete of A's record.
ADMIN_POST_DATA = {"post": "yes", "action": "delete_selected", "_save": "Save"}


def payload(world: World, route: Route) -> dict[str, Any]:
    if route.key in FORMS:
        return FORMS[route.key](world)
    if not route.admin:
        return {}
    data: dict[str, Any] = dict(ADMIN_POST_DATA)
    if route.key.endswith("_changelist") and route.model_label in ADMIN_OBJECTS:
        data["_selected_action"] = [str(ADMIN_OBJECTS[route.model_label](world).pk)]
    return data


def kwargs_for(world: World, route: Route, variant: str) -> dict[str, Any] | None:
    if route.key in ALLOWLIST and ALLOWLIST[route.key].fill is not None:
        return ALLOWLIST[route.key].fill(world)  # type: ignore[misc]
    if route.key in FILL:
        return FILL[route.key][variant](world)
    if route.admin and route.model_label and route.params:
        obj = ADMIN_OBJECTS[route.model_label](world)
        return {name: str(obj.pk) for name in route.params}
    if not route.params:
        return {}
    return None


def variants(route: Route) -> list[str]:
    if route.key in FILL and route.key not in ALLOWLIST:
        return list(FILL[route.key])
    return ["-"]


def url_for(route: Route, kwargs: dict[str, Any]) -> str:
    if route.key.startswith("unnamed:") or route.key.endswith("_redirect"):
        # No name to reverse: put the values into the pattern's text.
        def value(match: re.Match[str]) -> str:
            return str(kwargs[match.group("name")])

        path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", value, route.route)
        path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, path)
        return "/" + path.replace("^", "").replace("$", "")
    return reverse(route.key, kwargs=kwargs)


def _body(response: Any) -> str:
    # The test client closes the response itself (a streaming one once read to the end);
    # closing it again would signal request_finished and close the test's connection.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def expectation(route: Route, persona: str) -> str:
    """What the persona must get: 'login' (a redirect to log in), 'refused' (404, or 405 for
    a method the view does not take; 403 or admin's redirect in admin), or 'no secrets'
    (any answer but a server error, without A's private data)."""
    allowed = ALLOWLIST.get(route.key)
    if persona == "a_colleague":
        return "refused"
    if persona == "anonymous":
        return "no secrets" if allowed and allowed.public else "login"
    if allowed is not None:
        return "no secrets"
    if route.admin and route.model_label in ADMIN_PUBLIC_MODELS and route.params:
        return "no secrets"
    return "refused" if route.params else "no secrets"


def _logins() -> tuple[str, str]:
    # LoginRequiredMiddleware sends admin URLs to the portal's login page too.
    return (resolve_url(settings.LOGIN_URL), reverse("admin:login"))


def client_for(world: World, persona: str) -> Client:
    """A fresh client with the persona's cookies: logging out or switching the language
    must not change the next request's persona."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    for name, morsel in world.clients[persona].cookies.items():
        client.cookies[name] = morsel.value
    return client


def reach(world: World, route: Route, variant: str, persona: str) -> tuple[int, str]:
    """Status and body of a GET of the pattern filled with A's records (with its query),
    for the control tests."""
    kwargs = kwargs_for(world, route, variant)
    assert kwargs is not None, route.key
    query = QUERIES[route.key](world) if route.key in QUERIES else None
    response = client_for(world, persona).get(url_for(route, kwargs), query)
    return response.status_code, _body(response)


def check(world: World, route: Route, variant: str, persona: str, method: str, *, csrf: str = "") -> list[str]:
    """Make one request; return what went wrong (empty when nothing did). `csrf` replaces
    the persona's real token (for the test that a refused token is noticed)."""
    kwargs = kwargs_for(world, route, variant)
    if kwargs is None:
        return [
            f"add a factory or an allowlist entry for {route.key} ({route.route}, parameters {route.params}):"
            " A's record in tests/url_sweep.py FILL (ADMIN_OBJECTS for an admin model), or an ALLOWLIST reason"
        ]
    url = url_for(route, kwargs)
    client = client_for(world, persona)
    token = csrf or client.cookies[settings.CSRF_COOKIE_NAME].value
    data = payload(world, route)
    before, files, outbox = snapshot(), _files(world.storage), len(mail.outbox)
    last_log = _last_access_log()
    if method == "GET":
        response = client.get(url, QUERIES[route.key](world) if route.key in QUERIES else None)
    else:
        response = client.post(url, data, HTTP_X_CSRFTOKEN=token)
    status = response.status_code
    location = response.get("Location", "")
    body = _body(response)
    after = snapshot()

    where = f"{method} {url} as {persona}"
    failures: list[str] = []
    expected = expectation(route, persona)
    if status == 419:
        failures.append(f"{where}: the CSRF token was refused, so the view was never asked")
    elif expected == "login":
        if status != 302 or not location.startswith(_logins()):
            failures.append(f"{where}: expected a redirect to log in, got {status} {location}")
    elif expected == "refused":
        ok = status == 404 or status == 405
        if route.admin:
            ok = ok or status == 403
            ok = ok or (status == 302 and (location.rstrip("/") == reverse("admin:index").rstrip("/")))
            if route.key.endswith("_redirect"):
                ok = ok or (status == 302 and location.endswith("/change/"))
        if not ok:
            failures.append(f"{where}: an outsider must get 404, got {status} {location}")
    elif status >= 500:
        failures.append(f"{where}: server error {status}")
    elif method == "GET" and route.key in ALLOWLIST and ALLOWLIST[route.key].status not in (None, status):
        failures.append(f"{where}: by design this answers {ALLOWLIST[route.key].status}, got {status}")
    public = route.key in ALLOWLIST and ALLOWLIST[route.key].public
    if persona != "anonymous" and status == 302 and location.startswith(_logins()) and not public:
        failures.append(f"{where}: the persona was sent to log in, so the view was never asked")

    # A colleague in A may read A's other records; the confidential child's identity is not theirs.
    secrets = {"confidential child": SECRETS["confidential child"]} if persona == "a_colleague" else SECRETS
    leaked = [label for label, secret in secrets.items() if secret in body]
    if leaked:
        failures.append(f"{where}: the response shows A's {', '.join(leaked)}")
    allowed_writes = set(ALLOWLIST[route.key].writes) if route.key in ALLOWLIST else set()
    written = sorted(t for t in after if after[t] != before.get(t, 0) and t not in allowed_writes)
    # A refusal of a record that exists is one denial row in the access log (stakeholders.denials),
    # and a denial is written for nothing else.
    actions = _access_actions_since(last_log)
    if "denied" in actions:
        if status != 404:
            failures.append(f"{where}: a denial was logged for a request that was not refused ({status})")
        elif actions.count("denied") > 1:
            failures.append(f"{where}: one refused request wrote {actions.count('denied')} denials")
        elif expected == "refused" and actions != ["denied"] and not variant.startswith("under B's own"):
            # (Under B's own record, the view may log that record before refusing A's.)
            failures.append(f"{where}: a refused request wrote {actions} to the access log, not one denial")
        elif "atensi_accesslog" in written and set(actions) == {"denied"}:
            written.remove("atensi_accesslog")
    if route.key in SEARCH_WRITES:
        written = [table for table in written if table not in SEARCH_WRITES[route.key]]
    if "atensi_accesslog" in written and (expected == "no secrets" or variant.startswith("under B's own")):
        # The persona may log reading its own records (B's case on the way to A's note, an
        # export of B's cases); a log line about one of A's records means A's was shown.
        about_a = _access_logged_since(last_log) & world.a_records
        if about_a:
            failures.append(f"{where}: the access log says it opened A's {sorted(about_a)}")
        written.remove("atensi_accesslog")
    if written:
        failures.append(f"{where}: rows were written in {', '.join(written)}")
    if _files(world.storage) != files:
        failures.append(f"{where}: a file was stored")
    if len(mail.outbox) != outbox:
        failures.append(f"{where}: an e-mail was sent")
    return failures


def cases() -> list[tuple[Route, str, str, str]]:
    """(route, variant, persona, method) for every request the sweep makes."""
    out = []
    for route in routes():
        personas = ADMIN_PERSONAS if route.admin else PORTAL_PERSONAS
        for variant in variants(route):
            extra = ("a_colleague",) if variant in COLLEAGUE_VARIANTS else ()
            for persona in (*personas, *extra):
                for method in ("GET", "POST"):
                    out.append((route, variant, persona, method))
    return out
