"""The acceptance journey of the case file, from a community report to closure, in one browser run.

A PSM of Dinas Sosial Provinsi Jambi reports a girl in Telanaipura, Kota Jambi. The
supervisor of Balai Anak "Alyatama" sees the report in the intake queue and triages it
into a case: search before registering, a possible duplicate registered by another
organisation (shown without its name) confirmed to be another child, the girl
registered with a valid NIK, the case opened with the social worker as case manager.
The social worker adds the mother to the family, records her consent, assesses, plans
and asks for the plan's approval; the supervisor approves; the worker starts the
intervention, logs a home visit, uploads a document, moves through monitoring to
termination (aftercare visits are scheduled) and asks to close the case; the supervisor
approves the closure. The timeline shows every step. A social worker of Balai Anak
"Rumbai" (another province) gets 404 on every URL of the case, the document included.

Each person uses their own browser context, as on their own device.
"""

from __future__ import annotations

import datetime
import re
import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import AmpkCategory, ServiceComponent
from atensi.testing.files import pdf_bytes
from cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Assessment,
    Beneficiary,
    Case,
    CaseNote,
    ClosureReason,
    Consent,
    Document,
    FamilyMember,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PlanItem,
    Report,
    ReportStatus,
    Sex,
    Stage,
    TimelineEntry,
)
from cases.tests.factories import BeneficiaryFactory, village
from stakeholders.models import Organisation, OrganisationKind, Region, User, WorkforceMember
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TELANAIPURA = "1571011004"
# Female (day + 40), born 17 May 2015, kecamatan Telanaipura (15.71.01).
BIRTH_DATE = datetime.date(2015, 5, 17)
NIK = "1571015705150001"
MINIMAL_PDF = pdf_bytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A real 1x1 grey PNG, so the photo also renders in the browser.
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    + _png_chunk(b"IEND", b"")
)


@pytest.fixture(autouse=True)
def private_storage(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@dataclass
class Jambi:
    alyatama: Organisation
    dinsos: Organisation
    rumbai: Organisation
    lksa: Organisation
    peksos: User
    supervisor: User
    psm: User
    peksos_rumbai: User
    lookalike: Beneficiary


def _person(organisation: Organisation, role: str, username: str, first: str, last: str) -> User:
    user = member(organisation=organisation, role=role, username=username)
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def _regions(*codes: str) -> list[Region]:
    return list(Region.objects.filter(code__in=codes))


@pytest.fixture
def jambi(db: Any) -> Jambi:
    """The people and organisations of the demo (atensi/demo.py) that the journey needs."""
    alyatama = OrganisationFactory(
        code="BA-ALYATAMA",
        name='Balai Anak "Alyatama" Jambi',
        kind=OrganisationKind.BALAI,
        home_region=Region.objects.get(code="1571"),
    )
    alyatama.coverage.set(_regions("15", "16", "17", "19"))
    dinsos = OrganisationFactory(
        code="DINSOS-JAMBI",
        name="Dinas Sosial Provinsi Jambi",
        kind=OrganisationKind.DINSOS_PROVINSI,
        home_region=Region.objects.get(code="15"),
    )
    dinsos.coverage.set(_regions("15"))
    rumbai = OrganisationFactory(
        code="BA-RUMBAI",
        name='Balai Anak "Rumbai" Pekanbaru',
        kind=OrganisationKind.BALAI,
        home_region=Region.objects.get(code="1471"),
    )
    rumbai.coverage.set(_regions("14", "13", "21"))
    lksa = OrganisationFactory(code="LKSA-KASIHBUNDA", name="LKSA Kasih Bunda", kind=OrganisationKind.LKSA)

    peksos = _person(alyatama, Role.SOCIAL_WORKER, "peksos.alyatama", "Rina", "Pekerja Sosial")
    supervisor = _person(alyatama, Role.SUPERVISOR, "supervisor.alyatama", "Budi", "Koordinator")
    psm = _person(dinsos, Role.COMMUNITY_REPORTER, "psm.jambi", "Yusuf", "PSM")
    WorkforceMember.objects.create(
        kind="psm", name="Yusuf Hidayat", nik="1571011208790002", phone="081211208790", organisation=dinsos, user=psm
    )
    peksos_rumbai = _person(rumbai, Role.SOCIAL_WORKER, "peksos.rumbai", "Andi", "Pekerja Sosial")

    # Another girl with a similar name, born the same year in Kota Jambi, registered by an
    # LKSA: the fuzzy duplicate the registration must warn about.
    lksa_worker = member(organisation=lksa, role=Role.SOCIAL_WORKER)
    lookalike = BeneficiaryFactory(
        organisation=lksa,
        created_by=lksa_worker,
        full_name="Shinta Maharani",
        sex=Sex.FEMALE,
        birth_date=datetime.date(2015, 2, 3),
        village=village(TELANAIPURA),
        regency_code="1571",
    )
    return Jambi(alyatama, dinsos, rumbai, lksa, peksos, supervisor, psm, peksos_rumbai, lookalike)


def case_url_re(suffix: str = "") -> re.Pattern[str]:
    return re.compile(rf"/cases/\d+/{suffix}$")


def go_to_tab(page: Any, case: Case, path: str) -> None:
    """Follow a tab of the case page (path "" is the overview)."""
    url = f"/cases/{case.pk}/{path}"
    page.get_by_test_id("case-tabs").locator(f"a[href='{url}']").click()
    page.wait_for_url(f"**{url}")


def current_stage(page: Any) -> str | None:
    return page.locator("[data-testid=stage-bar] [aria-current=step]").get_attribute("data-stage")


def move_forward(page: Any, case: Case, to: str) -> None:
    expect(page.get_by_test_id("stage-forward")).to_be_enabled()
    page.get_by_test_id("stage-forward").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.locator(f"[data-testid=stage-bar] [aria-current=step][data-stage={to}]")).to_have_count(1)


def test_from_a_community_report_to_a_closed_case(devices: Devices, jambi: Jambi) -> None:
    today = timezone.localdate()

    # --- 1. The PSM reports a girl in Telanaipura, Kota Jambi. ----------------------------------
    psm = devices("psm.jambi")
    psm.locator("[data-nav=report]").click()
    psm.wait_for_url("**/reports/new/")
    form = psm.get_by_test_id("report-form")
    psm.locator("#id_village").press_sequentially("Telanaipura", delay=20)
    psm.locator(f"#id_village_listbox [data-code='{TELANAIPURA}']").click()
    expect(psm.get_by_test_id("region-picker-code")).to_have_text("15.71.01.1004")
    psm.fill("#id_child_name", "Sinta Maharani")
    form.locator("input[name=child_sex][value=F]").check()
    psm.fill("#id_child_age", str(today.year - BIRTH_DATE.year))
    neglect = AmpkCategory.objects.order_by("pk").first()
    assert neglect is not None
    form.locator(f"input[name=ampk_categories][value='{neglect.pk}']").check()
    form.locator("input[name=urgency][value=high]").check()
    psm.fill("#id_narrative", "Sinta tidak sekolah dan sering ditinggal sendiri di rumah sampai malam.")
    expect(psm.get_by_test_id("reporter-fields")).to_contain_text("Yusuf Hidayat")
    psm.get_by_test_id("report-submit").click()
    psm.wait_for_url("**/reports/*-*/")
    expect(psm.get_by_test_id("report-status")).to_have_attribute("data-status", "new")
    expect(psm.get_by_test_id("report-outcome")).to_contain_text(jambi.alyatama.name)
    report = Report.objects.get()
    assert report.reporter_name == "Yusuf Hidayat"
    assert set(report.recipients.values_list("organisation__code", flat=True)) == {"BA-ALYATAMA", "DINSOS-JAMBI"}

    # --- 2. The supervisor triages it: search, register the child, open the case. --------------
    boss = devices("supervisor.alyatama")
    expect(boss.get_by_test_id("nav-count-intake")).to_have_text("1")
    boss.locator("[data-nav=intake]").click()
    boss.wait_for_url("**/intake/")
    expect(boss.get_by_test_id("queue-count")).to_have_text("1")
    row = boss.get_by_test_id("queue-row")
    expect(row).to_contain_text("Sinta Maharani")
    expect(row.get_by_test_id("report-urgency")).to_have_attribute("data-urgency", "high")
    row.get_by_test_id("queue-open").click()
    boss.wait_for_url(f"**/reports/{report.public_id}/")
    boss.get_by_test_id("triage-open-case").click()
    boss.wait_for_url(f"**/reports/{report.public_id}/triage/")
    # Nobody by that name among the Balai's own children...
    expect(boss.get_by_test_id("triage-none")).to_be_visible()
    boss.get_by_test_id("triage-new-child").click()
    boss.wait_for_url("**/cases/beneficiaries/?report=*")
    # ...but the search before registering finds a similar girl registered elsewhere,
    # without showing her name.
    matches = boss.get_by_test_id("possible-match")
    expect(matches).to_have_count(1)
    expect(matches.first).to_contain_text(jambi.lksa.name)
    assert "Shinta" not in boss.get_by_test_id("search-results").inner_text()
    boss.get_by_test_id("register-new").click()
    boss.wait_for_url("**/cases/beneficiaries/new/?*")

    # The registration form starts from the report.
    expect(boss.get_by_test_id("create-report")).to_be_visible()
    expect(boss.locator("#id_full_name")).to_have_value("Sinta Maharani")
    expect(boss.locator("input[name=sex][value=F]")).to_be_checked()
    expect(boss.locator("#id_village_value")).to_have_value(TELANAIPURA)
    boss.fill("#id_birth_date", BIRTH_DATE.isoformat())
    boss.fill("#id_approximate_age", "")  # the exact birth date replaces the reporter's guess
    boss.fill("#id_nik", "1571 0157 0515 0001")
    boss.get_by_test_id("beneficiary-save").click()
    # The server runs the duplicate search again: "not the same child" must be confirmed.
    candidates = boss.get_by_test_id("duplicate-candidate")
    expect(candidates).to_have_count(1)
    expect(candidates.first).to_contain_text(jambi.lksa.name)
    assert "Shinta" not in boss.get_by_test_id("duplicate-candidates").inner_text()
    assert Beneficiary.objects.count() == 1
    candidates.first.locator("input[name=not_same]").check()
    boss.get_by_test_id("beneficiary-save").click()

    # Registered: on to opening the case, from the report.
    boss.wait_for_url(re.compile(r"/cases/beneficiaries/\d+/open-case/\?report="))
    child = Beneficiary.objects.get(nik=NIK)
    assert (child.full_name, child.sex, child.birth_date, child.village_id, child.organisation) == (
        "Sinta Maharani",
        Sex.FEMALE,
        BIRTH_DATE,
        TELANAIPURA,
        jambi.alyatama,
    )
    assert list(child.distinct_from.all()) == [jambi.lookalike]
    expect(boss.get_by_test_id("case-report")).to_be_visible()
    expect(boss.locator("#id_supervisor")).to_have_value(str(jambi.supervisor.pk))
    expect(boss.locator("#id_source")).to_have_value("community_report")
    boss.select_option("#id_case_manager", str(jambi.peksos.pk))
    boss.get_by_test_id("case-open").click()
    boss.wait_for_url(case_url_re())
    case = Case.objects.get()
    expect(boss.get_by_test_id("case-number")).to_have_text(case.number)
    expect(boss.get_by_test_id("case-manager")).to_have_text("Rina Pekerja Sosial")
    assert re.fullmatch(rf"BA-ALYATAMA/{today.year}/0*1", case.number), case.number
    assert (case.beneficiary, case.case_manager, case.supervisor, case.report) == (
        child,
        jambi.peksos,
        jambi.supervisor,
        report,
    )
    report.refresh_from_db()
    assert (report.status, report.triaged_for) == (ReportStatus.CASE_OPENED, jambi.alyatama)
    # The report has left the queue.
    boss.locator("[data-nav=intake]").click()
    boss.wait_for_url("**/intake/")
    expect(boss.get_by_test_id("queue-empty")).to_be_visible()
    expect(boss.get_by_test_id("nav-count-intake")).to_have_count(0)

    # The PSM sees the outcome of the report.
    psm.reload()
    expect(psm.get_by_test_id("report-status")).to_have_attribute("data-status", "case_opened")
    expect(psm.get_by_test_id("report-outcome")).to_contain_text(jambi.alyatama.name)

    # --- 3. The social worker: family, consent, assessment, plan, approval request. ------------
    worker = devices("peksos.alyatama")
    worker.goto(f"/cases/{case.pk}/")
    assert current_stage(worker) == Stage.PENDEKATAN_AWAL
    # No assessment before consent: the button is off and says why.
    expect(worker.get_by_test_id("stage-forward")).to_be_disabled()
    expect(worker.get_by_test_id("next-problem")).to_be_visible()

    # The mother, the legal guardian, joins the family on the child's page; and a photo.
    worker.get_by_test_id("case-tabs").locator(f"a[href='/cases/beneficiaries/{child.pk}/']").click()
    worker.wait_for_url(f"**/cases/beneficiaries/{child.pk}/")
    worker.get_by_test_id("family-add").click()
    family = worker.get_by_test_id("family-form")
    family.locator("select[name=relation]").select_option("mother")
    family.locator("input[name=name]").fill("Nurhayati")
    family.locator("input[name=phone]").fill("081377712345")
    family.locator("input[name=is_legal_guardian]").check()
    worker.get_by_test_id("family-save").click()
    worker.wait_for_url(f"**/cases/beneficiaries/{child.pk}/")
    expect(worker.get_by_test_id("family-row")).to_have_count(1)
    expect(worker.get_by_test_id("family-row")).to_contain_text("Nurhayati")
    mother = FamilyMember.objects.get(beneficiary=child)
    assert mother.is_legal_guardian
    photo_form = worker.get_by_test_id("photo-form")
    photo_form.locator("input[name=photo]").set_input_files(
        files=[{"name": "sinta.png", "mimeType": "image/png", "buffer": TINY_PNG}]
    )
    photo_form.locator("button[type=submit]").click()
    worker.wait_for_url(f"**/cases/beneficiaries/{child.pk}/")
    expect(worker.get_by_test_id("beneficiary-photo")).to_be_visible()
    assert worker.get_by_test_id("beneficiary-photo").evaluate("img => img.naturalWidth") == 1
    worker.get_by_test_id("beneficiary-cases").get_by_role("link", name=case.number).click()
    worker.wait_for_url(f"**/cases/{case.pk}/")

    # Consent from the mother, chosen from the family.
    go_to_tab(worker, case, "consent/")
    worker.get_by_test_id("consent-new").click()
    consent_form = worker.get_by_test_id("consent-form")
    consent_form.locator("select[name=given_by]").select_option(str(mother.pk))
    consent_form.locator("input[name=given_on]").fill(today.isoformat())
    expect(consent_form.locator("input[name=allows_processing]")).to_be_checked()
    worker.get_by_test_id("consent-save").click()
    worker.wait_for_url(f"**/cases/{case.pk}/consent/")
    expect(worker.get_by_test_id("consent-active")).to_contain_text("Nurhayati")
    consent = Consent.objects.get(case=case)
    assert (consent.given_by, consent.relation, consent.allows_processing) == (mother, "mother", True)

    go_to_tab(worker, case, "")
    move_forward(worker, case, Stage.ASESMEN)

    go_to_tab(worker, case, "assessments/")
    worker.get_by_test_id("assessment-new").click()
    assessment_form = worker.get_by_test_id("assessment-form")
    assessment_form.locator("textarea[name=problems]").fill("Putus sekolah sejak kelas 3; sering ditinggal sendiri.")
    assessment_form.locator("textarea[name=need_dukungan_keluarga]").fill("Pendampingan ibu dalam pengasuhan.")
    assessment_form.locator("input[name=identity_documents][value=kk]").check()
    assessment_form.locator("textarea[name=conclusion]").fill("Perlu kembali sekolah dan dukungan keluarga.")
    worker.get_by_test_id("assessment-save").click()
    worker.wait_for_url(f"**/cases/{case.pk}/assessments/")
    expect(worker.get_by_test_id("assessment")).to_have_count(1)
    assessment = Assessment.objects.get(case=case)

    go_to_tab(worker, case, "")
    move_forward(worker, case, Stage.PERENCANAAN)

    go_to_tab(worker, case, "plan/")
    worker.get_by_test_id("plan-item-new").click()
    keluarga = ServiceComponent.objects.get(code="dukungan_keluarga")
    worker.select_option("select[name=component]", str(keluarga.pk))
    worker.fill("input[name=service]", "Pendampingan pengasuhan di rumah, dua minggu sekali")
    worker.fill("input[name=target_date]", (today + datetime.timedelta(days=90)).isoformat())
    worker.get_by_test_id("plan-item-save").click()
    worker.wait_for_url(f"**/cases/{case.pk}/plan/")
    expect(worker.get_by_test_id("plan-item")).to_have_count(1)
    plan_item = PlanItem.objects.get(case=case)

    go_to_tab(worker, case, "")
    # No intervention without an approved plan.
    expect(worker.get_by_test_id("stage-forward")).to_be_disabled()
    plan_request = worker.get_by_test_id("plan-request")
    plan_request.locator("summary").click()
    plan_request.locator("textarea[name=note]").fill("Mohon persetujuan rencana intervensi.")
    plan_request.locator("button[type=submit]").click()
    worker.wait_for_url(f"**/cases/{case.pk}/")
    expect(worker.locator("[data-testid=pending-approvals] [data-testid=approval][data-kind=plan]")).to_have_count(1)

    # --- 4. The supervisor approves the plan. ---------------------------------------------------
    boss.goto(f"/cases/{case.pk}/")
    decision = boss.locator("[data-testid=pending-approvals] [data-testid=approval][data-kind=plan]")
    expect(decision).to_contain_text("Mohon persetujuan rencana intervensi.")
    decision.locator("textarea[name=comment]").fill("Rencana sesuai hasil asesmen.")
    decision.locator("button[name=decision][value=approve]").click()
    boss.wait_for_url(f"**/cases/{case.pk}/")
    expect(boss.get_by_test_id("pending-approvals")).to_have_count(0)
    plan_approval = Approval.objects.get(case=case, kind=ApprovalKind.PLAN)
    assert (plan_approval.status, plan_approval.decided_by) == (ApprovalStatus.APPROVED, jambi.supervisor)

    # --- 5. The worker: intervention, a home visit, a document, termination, closure request. --
    worker.reload()
    move_forward(worker, case, Stage.INTERVENSI)

    go_to_tab(worker, case, "notes/")
    worker.get_by_test_id("note-new").click()
    worker.select_option("select[name=kind]", "home_visit")
    worker.fill("input[name=participants]", "Sinta, Ibu Nurhayati")
    worker.fill("textarea[name=narrative]", "Sinta di rumah; ibu setuju mendaftarkan Sinta kembali ke sekolah.")
    worker.fill("textarea[name=next_step]", "Menemui kepala SD di Telanaipura.")
    worker.get_by_test_id("note-save").click()
    worker.wait_for_url(f"**/cases/{case.pk}/notes/")
    expect(worker.get_by_test_id("note")).to_have_count(1)
    note = CaseNote.objects.get(case=case)
    assert note.kind == "home_visit"

    go_to_tab(worker, case, "documents/")
    worker.get_by_test_id("document-upload").click()
    upload = worker.get_by_test_id("document-upload-form")
    upload.locator("select[name=kind]").select_option("assessment_report")
    upload.locator("input[name=title]").fill("Laporan asesmen Sinta")
    upload.locator("input[name=file]").set_input_files(
        files=[{"name": "asesmen-sinta.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}]
    )
    worker.get_by_test_id("document-upload-save").click()
    worker.wait_for_url(f"**/cases/{case.pk}/documents/")
    expect(worker.get_by_test_id("document-row")).to_have_count(1)
    document = Document.objects.get(case=case)
    with worker.expect_download() as info:
        worker.get_by_test_id("document-download").click()
    assert Path(info.value.path()).read_bytes() == MINIMAL_PDF

    go_to_tab(worker, case, "")
    move_forward(worker, case, Stage.MONITORING_EVALUASI)
    move_forward(worker, case, Stage.TERMINASI)
    # Termination schedules the aftercare visits.
    expect(worker.get_by_test_id("follow-ups").get_by_test_id("follow-up")).to_have_count(3)
    closure = worker.get_by_test_id("closure-request")
    closure.locator("summary").click()
    closure.locator("select[name=closure_reason]").select_option(ClosureReason.GOALS_MET)
    closure.locator("textarea[name=closure_summary]").fill(
        "Sinta kembali bersekolah di kelas 4; ibu mendampingi dengan baik."
    )
    closure.locator("button[type=submit]").click()
    worker.wait_for_url(f"**/cases/{case.pk}/")
    expect(worker.locator("[data-testid=pending-approvals] [data-testid=approval][data-kind=closure]")).to_have_count(1)

    # --- 6. The supervisor approves the closure: the case is closed. ---------------------------
    boss.goto(f"/cases/{case.pk}/")
    decision = boss.locator("[data-testid=pending-approvals] [data-testid=approval][data-kind=closure]")
    expect(decision).to_contain_text("Sinta kembali bersekolah")
    decision.locator("button[name=decision][value=approve]").click()
    boss.wait_for_url(f"**/cases/{case.pk}/")
    expect(boss.locator("[data-testid=stage-bar] [aria-current=step][data-stage=closed]")).to_have_count(1)
    case.refresh_from_db()
    assert (case.stage, case.closure_reason) == (Stage.CLOSED, ClosureReason.GOALS_MET)
    assert case.closed_at is not None
    # Goals met: the aftercare visits stay planned.
    aftercare = list(FollowUp.objects.filter(case=case, kind=FollowUpKind.AFTERCARE).order_by("due_on"))
    assert [f.status for f in aftercare] == [FollowUpStatus.PENDING] * 3
    assert all(f.assignee == jambi.peksos for f in aftercare)

    # --- 7. The timeline shows all of it, newest first. -----------------------------------------
    expected = Counter(
        opened=1,
        consent=1,
        stage=6,  # asesmen, perencanaan, intervensi, monitoring, terminasi, closed
        assessment=1,
        plan_item=1,
        approval_requested=2,
        approval_decided=2,
        note=1,
        document=1,
        follow_up=3,
    )
    for reader in (worker, boss):
        reader.goto(f"/cases/{case.pk}/")
        entries = reader.get_by_test_id("timeline-entry")
        expect(entries).to_have_count(sum(expected.values()))
        kinds = entries.evaluate_all("items => items.map(i => i.dataset.kind)")
        assert Counter(kinds) == expected
        assert kinds[:2] == ["stage", "approval_decided"]  # the closure, on top
        assert kinds[-1] == "opened"
    assert Counter(TimelineEntry.objects.filter(case=case).values_list("kind", flat=True)) == expected
    decided = boss.locator("[data-testid=timeline-entry][data-kind=approval_decided]")
    expect(decided.filter(has_text="Rencana sesuai hasil asesmen.")).to_have_count(1)
    expect(decided.first).to_contain_text("Budi Koordinator")
    expect(boss.locator("[data-testid=timeline-entry][data-kind=document]")).to_contain_text("Laporan asesmen Sinta")
    expect(boss.locator("[data-testid=timeline-entry][data-kind=consent]")).to_contain_text("Nurhayati")

    # --- 8. A social worker of another Balai gets 404 on every URL of the case. -----------------
    aftercare_visit = aftercare[0]
    case_urls = [
        f"/cases/{case.pk}/",
        f"/cases/{case.pk}/edit/",
        f"/cases/{case.pk}/consent/",
        f"/cases/{case.pk}/consent/new/",
        f"/cases/{case.pk}/assessments/",
        f"/cases/{case.pk}/assessments/new/",
        f"/cases/{case.pk}/assessments/{assessment.pk}/edit/",
        f"/cases/{case.pk}/plan/",
        f"/cases/{case.pk}/plan/new/",
        f"/cases/{case.pk}/plan/{plan_item.pk}/edit/",
        f"/cases/{case.pk}/notes/",
        f"/cases/{case.pk}/notes/new/",
        f"/cases/{case.pk}/follow-ups/new/",
        f"/cases/{case.pk}/documents/",
        f"/cases/{case.pk}/documents/upload/",
        f"/cases/{case.pk}/documents/{document.pk}/download/",
        f"/cases/beneficiaries/{child.pk}/",
        f"/cases/beneficiaries/{child.pk}/edit/",
        f"/cases/beneficiaries/{child.pk}/photo/",
        f"/cases/beneficiaries/{child.pk}/family/add/",
        f"/cases/beneficiaries/{child.pk}/family/{mother.pk}/edit/",
        f"/cases/beneficiaries/{child.pk}/open-case/",
        f"/reports/{report.public_id}/",
        f"/reports/{report.public_id}/triage/",
    ]
    # The same pages answer the case's own worker, so the 404s below are about who asks.
    for url in (f"/cases/{case.pk}/documents/{document.pk}/download/", f"/cases/beneficiaries/{child.pk}/photo/"):
        assert worker.request.get(url).status == 200, url
    outsider = devices("peksos.rumbai")
    for url in case_urls:
        response = outsider.goto(url)
        assert response is not None and response.status == 404, url
    # And every action on it, with a valid CSRF token.
    token = next(c["value"] for c in outsider.context.cookies() if c["name"] == "csrftoken")
    posts = {
        f"/cases/{case.pk}/stage/": {"to_stage": Stage.ASESMEN, "note": "x"},
        f"/cases/{case.pk}/reopen/": {"reason": "Dibuka lagi"},
        f"/cases/{case.pk}/approvals/": {"kind": ApprovalKind.PLAN},
        f"/cases/{case.pk}/approvals/{plan_approval.pk}/": {"decision": "approve"},
        f"/cases/{case.pk}/consent/{consent.pk}/withdraw/": {"reason": "x"},
        f"/cases/{case.pk}/consent/override/": {"reason": "x"},
        f"/cases/{case.pk}/notes/new/": {"narrative": "x"},
        f"/cases/{case.pk}/follow-ups/{aftercare_visit.pk}/": {"outcome": "done"},
        f"/cases/{case.pk}/documents/upload/": {"title": "x"},
        f"/cases/beneficiaries/{child.pk}/photo/": {"remove": "1"},
        f"/cases/beneficiaries/{child.pk}/family/add/": {"relation": "father", "name": "x"},
    }
    for url, data in posts.items():
        response = outsider.request.post(url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)
        assert response.status == 404, (url, response.status)
    case.refresh_from_db()
    child.refresh_from_db()
    aftercare_visit.refresh_from_db()
    assert (case.stage, aftercare_visit.status, bool(child.photo)) == (Stage.CLOSED, FollowUpStatus.PENDING, True)
    assert Consent.objects.get(pk=consent.pk).withdrawn_on is None
    assert devices.csp_violations == []
