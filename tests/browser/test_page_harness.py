"""Every page the portal serves, on a 390 px phone, through the page harness.

The harness (atensi/testing/page_harness.py) asserts no sideways scroll and no serious or
critical axe-core violation; the pages that fail today are in page_baseline.toml with
their failures. The walk below visits each page as the person who uses it, on the demo
data plus what the demo lacks (a community report, an assessment, a plan item, a
document, a family member, an accepted referral, an import preview, an org admin).

A new URL pattern gets a line in PAGES (or in NOT_PAGES, with the reason it serves no
page): a test fails until it has one, and a new page must pass without a baseline entry.
`ATENSI_PAGE_BASELINE=print` prints every finding of the walk; `=write` rewrites the
baseline from them (for a failure accepted on purpose; the goal is an empty file).
"""

from __future__ import annotations

import datetime
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from atensi.testing.page_harness import (
    BASELINE_PATH,
    PHONE,
    PageAudit,
    audit_page,
    baseline_toml,
    check_page,
    compare,
    load_baseline,
)

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS = ""
ORG_ADMIN = "admin.dinsos"  # the demo has no org admin; the walk adds one at Dinas Sosial


@dataclass(frozen=True)
class World:
    """The ids the page paths need."""

    case: int  # Rizky's case at Balai Anak "Alyatama": assessed, planned, a document
    beneficiary: int  # Rizky
    family_member: int
    assessment: int
    plan_item: int
    new_child: int  # registered, no case yet
    report: str  # a community report waiting in Alyatama's and Dinas Sosial's queues
    waiting_referral: int  # LKSA -> Dinas Sosial, overdue
    accepted_referral: int  # Alyatama -> PKH, accepted
    alyatama: int
    dinsos: int
    agreement: int  # one of Dinas Sosial's
    import_batch: int  # an LKSA list with an error, at Dinas Sosial
    subject_access: int  # Rizky's mother asked Alyatama for his data; the file is made
    peksos: int  # the account of peksos.alyatama (the people directory's person page)


@dataclass(frozen=True)
class Visit:
    name: str
    user: str
    path: Callable[[World], str]
    status: int = 200


def _p(path: str) -> Callable[[World], str]:
    return lambda w: path.format(**w.__dict__)


# Every page a person can reach, as the person who uses it. Fragments (htmx partials,
# the region search), downloads and POST-only URLs are not pages.
PAGES: list[Visit] = [
    Visit("login", ANONYMOUS, _p("/accounts/login/")),
    Visit("password_reset", ANONYMOUS, _p("/accounts/password_reset/")),
    Visit("password_reset_done", ANONYMOUS, _p("/accounts/password_reset/done/")),
    Visit("password_reset_confirm.invalid_link", ANONYMOUS, _p("/accounts/reset/MQ/tautan-kedaluwarsa/")),
    Visit("password_reset_complete", ANONYMOUS, _p("/accounts/reset/done/")),
    # A social worker: her cases, their tabs and forms, the children, her referrals.
    Visit("home.social_worker", "peksos.alyatama", _p("/")),
    Visit("second_factor_security", "supervisor.alyatama", _p("/account/two-factor/")),
    Visit("case_access", "supervisor.alyatama", _p("/cases/{case}/access/")),
    Visit("breach_report", "admin", _p("/reports/breach/")),
    Visit("access_log", "supervisor.alyatama", _p("/access-log/")),
    Visit("subject_access_list", "supervisor.alyatama", _p("/subject-access/")),
    Visit("subject_access_detail", "supervisor.alyatama", _p("/subject-access/{subject_access}/")),
    Visit("subject_access_create", "supervisor.alyatama", _p("/cases/beneficiaries/{beneficiary}/subject-access/")),
    Visit("people_list", "admin", _p("/people/")),
    Visit("people_list.results", "admin", _p("/people/?q=alyatama")),
    Visit("person_detail", "admin", _p("/people/{peksos}/")),
    Visit("second_factor_setup", "peksos.alyatama", _p("/account/two-factor/setup/")),
    Visit("case_list", "peksos.alyatama", _p("/cases/")),
    Visit("case_detail", "peksos.alyatama", _p("/cases/{case}/")),
    Visit("case_edit", "peksos.alyatama", _p("/cases/{case}/edit/")),
    Visit("case_summary", "peksos.alyatama", _p("/cases/{case}/summary/")),
    Visit("case_assessments", "peksos.alyatama", _p("/cases/{case}/assessments/")),
    Visit("assessment_create", "peksos.alyatama", _p("/cases/{case}/assessments/new/")),
    Visit("assessment_edit", "peksos.alyatama", _p("/cases/{case}/assessments/{assessment}/edit/")),
    Visit("case_plan", "peksos.alyatama", _p("/cases/{case}/plan/")),
    Visit("plan_item_create", "peksos.alyatama", _p("/cases/{case}/plan/new/")),
    Visit("plan_item_edit", "peksos.alyatama", _p("/cases/{case}/plan/{plan_item}/edit/")),
    Visit("case_notes", "peksos.alyatama", _p("/cases/{case}/notes/")),
    Visit("note_create", "peksos.alyatama", _p("/cases/{case}/notes/new/")),
    Visit("follow_up_create", "peksos.alyatama", _p("/cases/{case}/follow-ups/new/")),
    Visit("case_documents", "peksos.alyatama", _p("/cases/{case}/documents/")),
    Visit("document_upload", "peksos.alyatama", _p("/cases/{case}/documents/upload/")),
    Visit("case_consent", "peksos.alyatama", _p("/cases/{case}/consent/")),
    Visit("consent_create", "peksos.alyatama", _p("/cases/{case}/consent/new/")),
    Visit("case_referrals", "peksos.alyatama", _p("/cases/{case}/referrals/")),
    Visit("referral_send", "peksos.alyatama", _p("/cases/{case}/refer/")),
    Visit("beneficiary_search", "peksos.alyatama", _p("/cases/beneficiaries/")),
    Visit("beneficiary_search.results", "peksos.alyatama", _p("/cases/beneficiaries/?full_name=Putri")),
    Visit("beneficiary_create", "peksos.alyatama", _p("/cases/beneficiaries/new/")),
    Visit("beneficiary_detail", "peksos.alyatama", _p("/cases/beneficiaries/{beneficiary}/")),
    Visit("beneficiary_edit", "peksos.alyatama", _p("/cases/beneficiaries/{beneficiary}/edit/")),
    Visit("family_add", "peksos.alyatama", _p("/cases/beneficiaries/{beneficiary}/family/add/")),
    Visit("family_edit", "peksos.alyatama", _p("/cases/beneficiaries/{beneficiary}/family/{family_member}/edit/")),
    Visit("case_create", "peksos.alyatama", _p("/cases/beneficiaries/{new_child}/open-case/")),
    Visit("referral_outbox", "peksos.alyatama", _p("/referrals/sent/")),
    Visit("referral_detail.sender", "peksos.alyatama", _p("/referrals/{accepted_referral}/")),
    Visit("notifications", "peksos.alyatama", _p("/notifications/")),
    Visit("notification_preferences", "peksos.alyatama", _p("/account/notifications/")),
    Visit("organisation_list", "peksos.alyatama", _p("/organisations/")),
    Visit("organisation_detail", "peksos.alyatama", _p("/organisations/{alyatama}/")),
    Visit("finder", "peksos.alyatama", _p("/finder/")),
    Visit("finder.results", "peksos.alyatama", _p("/finder/?village=1571011004")),
    Visit("workforce_list", "peksos.alyatama", _p("/workforce/")),
    Visit("region_lookup", "peksos.alyatama", _p("/regions/")),
    Visit("password_change", "peksos.alyatama", _p("/accounts/password_change/")),
    Visit("password_change_done", "peksos.alyatama", _p("/accounts/password_change/done/")),
    Visit("not_found", "peksos.alyatama", _p("/cases/999999/"), status=404),
    # A supervisor: the intake queue, triage, merging, the staff list.
    Visit("home.supervisor", "supervisor.alyatama", _p("/")),
    Visit("report_queue", "supervisor.alyatama", _p("/intake/")),
    Visit("approval_queue", "supervisor.alyatama", _p("/approvals/")),
    Visit("report_detail.queue", "supervisor.alyatama", _p("/reports/{report}/")),
    Visit("report_triage", "supervisor.alyatama", _p("/reports/{report}/triage/")),
    Visit("beneficiary_merge", "supervisor.alyatama", _p("/cases/beneficiaries/merge/")),
    # The case list with the handover checkboxes and the dashboards' filters unfolded.
    Visit("case_list.supervisor", "supervisor.alyatama", _p("/cases/?opened_from=2020-01-01&basis=keluarga")),
    Visit("staff_list", "supervisor.alyatama", _p("/organisations/{alyatama}/staff/")),
    Visit("dashboard_organisation", "supervisor.alyatama", _p("/dashboard/organisation/{alyatama}/")),
    # A supervisor of Dinas Sosial: its own figures and Jambi's, so a choice.
    Visit("dashboard.chooser", "kabid.jambi", _p("/dashboard/")),
    Visit("exports", "supervisor.alyatama", _p("/exports/")),
    Visit("monthly_report", "supervisor.alyatama", _p("/reports/monthly/")),
    Visit("monthly_report.org_admin", ORG_ADMIN, _p("/reports/monthly/?organisation={dinsos}")),
    Visit("monthly_report.region", "viewer.nasional", _p("/reports/monthly/?region=15")),
    # A referral officer: the inbox and a referral waiting for an answer.
    Visit("home.referral_officer", "dinsos.jambi", _p("/")),
    Visit("referral_inbox", "dinsos.jambi", _p("/referrals/")),
    Visit("referral_detail.waiting", "dinsos.jambi", _p("/referrals/{waiting_referral}/")),
    Visit("dashboard_region", "dinsos.jambi", _p("/dashboard/region/15/")),
    # The receiver of an accepted referral reads what was shared.
    Visit("referral_detail.accepted", "pkh.jambi", _p("/referrals/{accepted_referral}/")),
    Visit("referral_section", "pkh.jambi", _p("/referrals/{accepted_referral}/shared/identity/")),
    # A community reporter on a phone.
    Visit("home.community_reporter", "psm.jambi", _p("/")),
    Visit("report_create", "psm.jambi", _p("/reports/new/")),
    Visit("report_mine", "psm.jambi", _p("/reports/mine/")),
    Visit("report_detail.reporter", "psm.jambi", _p("/reports/{report}/")),
    # An organisation admin: profile, staff, agreements, imports.
    Visit("organisation_detail.admin", ORG_ADMIN, _p("/organisations/{dinsos}/")),
    Visit("organisation_edit", ORG_ADMIN, _p("/organisations/{dinsos}/edit/")),
    Visit("staff_list.admin", ORG_ADMIN, _p("/organisations/{dinsos}/staff/")),
    Visit("staff_invite", ORG_ADMIN, _p("/organisations/{dinsos}/staff/add/")),
    Visit("agreement_list", ORG_ADMIN, _p("/agreements/")),
    Visit("agreement_create", ORG_ADMIN, _p("/organisations/{dinsos}/agreements/new/")),
    Visit("agreement_edit", ORG_ADMIN, _p("/agreements/{agreement}/edit/")),
    Visit("import_new", ORG_ADMIN, _p("/organisations/{dinsos}/imports/new/")),
    Visit("import_preview", ORG_ADMIN, _p("/organisations/{dinsos}/imports/{import_batch}/")),
    Visit("dashboard_organisation.aggregate", ORG_ADMIN, _p("/dashboard/organisation/{dinsos}/")),
    # A national viewer: aggregate figures only.
    Visit("home.viewer", "viewer.nasional", _p("/")),
    Visit("figures_map", "viewer.nasional", _p("/map/")),
    Visit("figures_map.region", "viewer.nasional", _p("/map/?region=1571")),
    Visit("dashboard_national", "viewer.nasional", _p("/dashboard/national/")),
    # The superuser in Django admin.
    Visit("admin_index", "admin", _p("/admin/")),
    Visit("admin_changelist", "admin", _p("/admin/cases/case/")),
    Visit("admin_change", "admin", _p("/admin/cases/case/{case}/change/")),
]

# URL patterns that serve no page of their own, each with its reason. Every other
# pattern of the portal must be visited above (Django admin is sampled, not walked).
NOT_PAGES: dict[str, str] = {
    "healthz": "JSON for the load balancer",
    "logout": "POST only",
    "set_language": "POST only",
    "notification_open": "marks read and redirects to what it is about",
    "notifications_read_all": "POST only",
    "stakeholders:end_other_sessions": "POST only",
    "stakeholders:session_status": "JSON for the idle warning",
    "stakeholders:second_factor_verify": "before the second factor: audited in tests/browser/test_second_factor.py",
    "stakeholders:second_factor_codes": "shown once after enrolment: audited in tests/browser/test_second_factor.py",
    "stakeholders:second_factor_new_codes": "POST only",
    "cases:beneficiary_contact_request": "POST only",
    "cases:subject_access_bundle": "POST only",
    "cases:subject_access_close": "POST only",
    "cases:case_list_nik": "POST only (redirects to the case list filtered by a reference to the NIK)",
    "stakeholders:second_factor_off": "POST only",
    "stakeholders:second_factor_reset": "POST only",
    "stakeholders:person_end_sessions": "POST only",
    "export_status": "an htmx fragment of the exports page (one export's line)",
    "export_download": "a download",
    "export_again": "POST only",
    "monthly_report_xlsx": "a download",
    "cases:case_export_csv": "a download",
    "cases:case_export_xlsx": "a download",
    "cases:beneficiary_photo": "the photo itself (GET); POST replaces it from the beneficiary page",
    "cases:document_download": "a download",
    "cases:case_stage": "POST only",
    "cases:case_reassign": "POST only (the handover form is on the case list)",
    "cases:case_reopen": "POST only",
    "cases:approval_request": "POST only",
    "cases:approval_decide": "POST only",
    "cases:approval_queue_decide": "POST only",
    "cases:consent_withdraw": "POST only",
    "cases:sharing_override_create": "POST only",
    "cases:follow_up_update": "POST only",
    "cases:report_pass": "POST only",
    "cases:report_dismiss": "POST only",
    "referrals:accept": "POST only",
    "referrals:decline": "POST only",
    "referrals:complete": "POST only",
    "referrals:cancel": "POST only",
    "referrals:message_create": "POST only",
    "referrals:document": "a download",
    "referrals:figures": "an htmx fragment, audited inside the inbox",
    "referrals:send_suggestions": "an htmx fragment of the send form",
    "stakeholders:agreement_document": "the agreement PDF",
    "stakeholders:organisation_export_csv": "a download",
    "stakeholders:organisation_export_xlsx": "a download",
    "stakeholders:workforce_export": "a download",
    "stakeholders:workforce_export_xlsx": "a download",
    "stakeholders:import_template": "a download",
    "stakeholders:import_confirm": "POST only",
    "stakeholders:import_discard": "POST only",
    "stakeholders:membership_set_active": "POST only",
    "stakeholders:region_search": "an htmx fragment of the region picker",
    "stakeholders:region_children": "an htmx fragment of the region picker",
    "figures_map_data": "the map page's JSON",
    "figures_map_csv": "a download",
    "figures_map_region": "an htmx fragment of the map page (the page shows it with ?region=)",
    "dashboard_organisation_download": "a download",
    "dashboard_region_download": "a download",
    "dashboard_national_download": "a download",
}


def build_world() -> World:
    """The demo, and through the services what the demo does not have."""
    from atensi.core import exports
    from atensi.core.models import ExportJob, ServiceComponent
    from atensi.demo import DEMO_PDF
    from cases.beneficiaries import family_member_add
    from cases.documents import document_upload
    from cases.intake import report_create
    from cases.models import Case, Stage
    from cases.records import assessment_create, plan_item_create
    from cases.tests.factories import BeneficiaryFactory
    from cases.workflow import approval_request
    from referrals.models import Referral
    from referrals.services import referral_accept
    from stakeholders.imports import import_preview
    from stakeholders.models import Agreement, Organisation, Region, User
    from stakeholders.roles import Role
    from stakeholders.tests.factories import member

    call_command("load_demo")
    today = timezone.localdate()
    users = {u.username: u for u in User.objects.all()}
    alyatama = Organisation.objects.get(code="BA-ALYATAMA")
    dinsos = Organisation.objects.get(code="DINSOS-JAMBI")
    peksos = users["peksos.alyatama"]

    case = Case.objects.select_related("beneficiary").get(beneficiary__full_name="Muhammad Rizky Pratama")
    Case.objects.filter(pk=case.pk).update(stage=Stage.PERENCANAAN)
    family_support = ServiceComponent.objects.get(code="dukungan_keluarga")
    assessment = assessment_create(
        case=case,
        by=peksos,
        assessed_on=today,
        problems="Putus sekolah, bekerja di pasar malam.",
        conclusion="Perlu dukungan keluarga dan kembali sekolah.",
        needs={family_support.code: "Konseling keluarga."},
    )
    plan_item = plan_item_create(
        case=case,
        by=peksos,
        component=family_support,
        service="Konseling keluarga bersama nenek",
        start_date=today,
        target_date=today + datetime.timedelta(days=30),
        responsible=peksos,
    )
    document_upload(
        case=case,
        by=peksos,
        kind="other",
        title="Surat keterangan sekolah",
        file=SimpleUploadedFile("surat.pdf", DEMO_PDF, content_type="application/pdf"),
    )
    relative = family_member_add(
        beneficiary=case.beneficiary, by=peksos, name="Rusmini", relation="grandparent", occupation="Pedagang"
    )
    new_child = BeneficiaryFactory(
        organisation=alyatama,
        created_by=peksos,
        full_name="Bayu Pratama",
        village=Region.objects.get(code="1571011004"),
        regency_code="1571",
    )
    report = report_create(
        recorded_by=users["psm.jambi"],
        village=Region.objects.get(code="1571011004"),
        narrative="Seorang anak tidur di emperan toko dekat Pasar Angso Duo setiap malam.",
        reporter_kind="psm",
        reporter_name="Yusuf Hidayat",
        child_name="Dodi",
        concern="Tidur di jalan, tidak sekolah.",
    )
    fajar = Referral.objects.get(case__beneficiary__full_name="Fajar Ramadhan")
    referral_accept(referral=fajar, by=users["pkh.jambi"])
    waiting = Referral.objects.get(case__beneficiary__full_name="Putri Maharani")

    # A plan of another child waiting for the supervisor: the approvals queue has a row.
    waiting_plan = Case.objects.get(beneficiary__full_name="Fajar Ramadhan")
    Case.objects.filter(pk=waiting_plan.pk).update(stage=Stage.PERENCANAAN)
    plan_item_create(
        case=waiting_plan,
        by=peksos,
        component=family_support,
        service="Pendampingan belajar",
        start_date=today,
        target_date=today + datetime.timedelta(days=60),
        responsible=peksos,
    )
    approval_request(case=waiting_plan, kind="plan", by=peksos, note="Mohon ditinjau.")

    admin = member(organisation=dinsos, role=Role.ORG_ADMIN, username=ORG_ADMIN)
    admin.set_password(settings.ATENSI_DEMO_PASSWORD)
    admin.save(update_fields=["password"])
    # An LKSA list with a bad phone number in its second row: the preview shows the error.
    csv = (
        b"kode,nama,jenis,kab/kota,desa/kelurahan,telepon\n"
        b"LKSA-KASIH-IBU,LKSA Kasih Ibu,LKSA,Kota Jambi,Telanaipura,0741 123456\n"
        b"LKSA-HARAPAN,LKSA Harapan,LKSA,Kota Jambi,15.71.01.1001,12-34\n"
    )
    batch = import_preview(
        organisation=dinsos,
        by=admin,
        kind="organisations",
        upload=SimpleUploadedFile("lksa.csv", csv, content_type="text/csv"),
    )
    # The supervisor's exports: one ready, one expired, one waiting for the worker.
    supervisor = users["supervisor.alyatama"]
    ready = exports.export_request(user=supervisor, source="cases", params=[["status", "all"]])
    exports.run_export(ready.pk)
    expired = exports.export_request(user=supervisor, source="cases", params=[["status", "closed"]])
    exports.run_export(expired.pk)
    ExportJob.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    exports.expire_exports(timezone.now(), 100)
    exports.export_request(user=supervisor, source="cases", params=[["status", "open"]])
    from cases.subject_access.services import subject_access_bundle, subject_access_record

    asked = subject_access_record(
        by=supervisor,
        beneficiary=case.beneficiary,
        organisation_id=alyatama.pk,
        requester_name="Siti Aminah",
        requester_relation="mother",
        notes="Datang ke kantor dengan KTP dan KK.",
    )
    exports.run_export(subject_access_bundle(by=supervisor, request=asked).pk)
    return World(
        case=case.pk,
        beneficiary=case.beneficiary_id,
        family_member=relative.pk,
        assessment=assessment.pk,
        plan_item=plan_item.item.pk,
        new_child=new_child.pk,
        report=str(report.public_id),
        waiting_referral=waiting.pk,
        accepted_referral=fajar.pk,
        alyatama=alyatama.pk,
        dinsos=dinsos.pk,
        agreement=Agreement.objects.filter(parties=dinsos).order_by("pk").first().pk,
        import_batch=batch.pk,
        subject_access=asked.pk,
        peksos=User.objects.get(username="peksos.alyatama").pk,
    )


def test_every_page_passes_the_harness_or_has_exactly_its_baseline_failures(
    devices: Devices, browser: Any, live_server: Any
) -> None:
    world = build_world()
    devices.password = settings.ATENSI_DEMO_PASSWORD
    anonymous = browser.new_context(base_url=live_server.url, locale="id-ID", viewport=PHONE)
    anonymous.set_default_timeout(15_000)
    stranger = anonymous.new_page()
    audits: list[PageAudit] = []
    errors: list[str] = []
    started = time.monotonic()
    try:
        for visit in PAGES:
            page = devices(visit.user) if visit.user else stranger
            page.set_viewport_size(PHONE)
            path = visit.path(world)
            reports = len(devices.csp_violations)
            response = page.goto(path)
            if response is None or response.status != visit.status or page.url.split(live_server.url, 1)[-1] != path:
                status = response.status if response else None
                errors.append(f"{visit.name}: {path} as {visit.user or 'anonymous'} gave {status}, {page.url}")
                continue
            audits.append(audit_page(page, visit.name))
            # Django admin's change form sets inline styles from its own scripts; every
            # other page, audit included, must leave no CSP report.
            if not path.startswith("/admin/"):
                errors += [f"{visit.name}: {report}" for report in devices.csp_violations[reports:]]
    finally:
        anonymous.close()
    elapsed = time.monotonic() - started

    if os.environ.get("ATENSI_PAGE_BASELINE") == "write":
        BASELINE_PATH.write_text(baseline_toml(audits), encoding="utf-8")
    baseline = load_baseline()
    problems = [problem for audit in audits for problem in compare(audit, baseline)]
    visited = {visit.name for visit in PAGES}
    problems += [f"{name}: in the baseline but not a page of the walk; remove it" for name in set(baseline) - visited]
    passing = sum(1 for audit in audits if not audit.keys)
    print(f"\npage harness: {len(audits)} pages audited in {elapsed:.0f} s, {passing} pass")
    if os.environ.get("ATENSI_PAGE_BASELINE") == "print":
        print("\n".join(f"{a.name} {a.url}\n{a.report()}" for a in audits if a.keys))
    assert not errors, "\n".join(errors)
    assert not problems, "\n".join(problems)


WIDE_AND_UNLABELLED = """<!doctype html><html lang="id"><head><title>Uji</title></head><body>
<main><h1>Uji</h1>
<div id="wide" style="width: 600px">Terlalu lebar</div>
<div class="table-responsive" style="overflow-x: auto"><table><tr><td style="min-width: 900px">A</td></tr></table></div>
<div id="escape" style="overflow-x: auto"><span style="position: absolute; left: 700px">Lolos</span></div>
<img src="data:image/png;base64,{PIXEL}">
</main></body></html>""".replace(
    "{PIXEL}", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def test_the_harness_reports_sideways_scroll_and_serious_violations(page: Any) -> None:
    page.set_viewport_size(PHONE)
    page.set_content(WIDE_AND_UNLABELLED)
    audit = audit_page(page, "made-up")
    assert audit.keys == {
        "overflow:document",
        "overflow:div#wide",
        "overflow:div.table-responsive",
        "overflow:div#escape span",  # positioned out of its scroller: not clipped by it
        "axe:image-alt",
    }
    assert "scrolls sideways" in audit.report({"overflow:div.table-responsive"})

    # Not in the baseline: every failure is new. In it with one failure fixed: stale.
    assert "has new failures" in compare(audit, {})[0]
    stale = compare(audit, {"made-up": audit.keys | {"axe:color-contrast"}})
    assert stale == [f"made-up: stale baseline entries, remove them from {BASELINE_PATH.name}: axe:color-contrast"]
    assert compare(audit, {"made-up": audit.keys}) == []
    with pytest.raises(AssertionError, match="image-alt"):
        check_page(page, "made-up", baseline={})


def test_axe_runs_under_the_portals_csp_without_a_report(page: Any) -> None:
    page.set_viewport_size(PHONE)
    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    audit = check_page(page, "login")
    assert audit.keys == frozenset()
    assert page.evaluate("() => typeof window.axe.run") == "function"
    assert page.csp_violations == []


def _url_names(patterns: list[Any], namespace: str = "") -> set[str]:
    from django.urls import URLResolver

    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names |= _url_names(pattern.url_patterns, inner)
        else:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_the_walk_visits_every_page_of_the_portal() -> None:
    from django.urls import get_resolver, resolve

    placeholder = World(**{name: 1 for name in World.__dataclass_fields__} | {"report": str(uuid.uuid4())})
    walked = {resolve(visit.path(placeholder).partition("?")[0]).view_name for visit in PAGES}
    missing = _url_names(get_resolver().url_patterns) - walked - set(NOT_PAGES)
    assert not missing, f"URL patterns neither in PAGES nor in NOT_PAGES: {sorted(missing)}"
    assert not walked & set(NOT_PAGES)
    assert len({visit.name for visit in PAGES}) == len(PAGES)
