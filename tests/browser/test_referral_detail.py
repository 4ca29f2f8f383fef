"""The referral page in a real browser: the receiver accepts a transfer naming the new case
manager (and then owns the case), declines a referral with a reason (refused first
without one), and the two sides exchange a message with an attached document."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import AccessLog, ServiceComponent
from atensi.testing.files import pdf_bytes
from cases import documents as docs
from cases.models import Case, Consent, DocumentKind, Sex
from cases.tests.factories import BeneficiaryFactory, open_case, village
from referrals.models import Referral, ReferralKind, ReferralMessage, ReferralStatus, SharedSection
from referrals.services import referral_accept, referral_send
from stakeholders.models import OrganisationKind
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, MembershipFactory, OrganisationFactory, UserFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINIMAL_PDF = pdf_bytes()


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def logout(page):
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")


@pytest.fixture
def lksa(db):
    return OrganisationFactory(code="LKSA-KASIH", name="LKSA Kasih Bunda Uji", kind=OrganisationKind.LKSA)


@pytest.fixture
def sender_worker(org):
    return member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")


@pytest.fixture
def officer(lksa):
    return member(organisation=lksa, role=Role.SOCIAL_WORKER, username="lksa.uji")


@pytest.fixture
def case(org, sender_worker, lksa) -> Case:
    child = BeneficiaryFactory(
        organisation=org,
        created_by=sender_worker,
        full_name="Rina Marlina Putri",
        nik="1571015705150002",
        sex=Sex.FEMALE,
        birth_date=datetime.date(2014, 3, 2),
        village=village("1571011004"),
        regency_code="1571",
    )
    case = open_case(organisation=org, by=sender_worker, beneficiary=child)
    consent = Consent.objects.create(
        case=case,
        given_by_name="Ibu Marlina",
        relation="mother",
        given_on=timezone.localdate(),
        recorded_by=sender_worker,
    )
    consent.share_with.set([lksa])
    return case


def test_receiver_accepts_a_transfer_naming_the_case_manager(page, case, sender_worker, lksa, officer):
    manager = UserFactory(username="lksa.manajer", first_name="Dewi", last_name="Anggraini")
    MembershipFactory(user=manager, organisation=lksa, role=Role.SOCIAL_WORKER)
    supervisor = member(organisation=lksa, role=Role.SUPERVISOR, username="lksa.supervisor")
    transfer = referral_send(
        case=case, by=sender_worker, receiver=lksa, kind=ReferralKind.TRANSFER, reason="Anak butuh pengasuhan LKSA."
    )

    login(page, supervisor.username, PASSWORD)
    page.goto(f"/referrals/{transfer.pk}/")
    child = page.get_by_test_id("referral-child")
    expect(child.get_by_test_id("referral-child-first-name")).to_have_text("Rina")
    expect(child).not_to_contain_text("Marlina")
    expect(page.locator("body")).not_to_contain_text("1571015705150002")
    expect(page.get_by_test_id("referral-status")).to_have_attribute("data-status", "sent")

    # Accepting a transfer without naming the case manager is refused; nothing changes.
    form = page.get_by_test_id("referral-accept-form")
    form.get_by_test_id("referral-accept").click()
    page.wait_for_load_state()
    expect(page.locator("#id_accept-case_manager.is-invalid, .invalid-feedback").first).to_be_visible()
    assert Referral.objects.get(pk=transfer.pk).status == ReferralStatus.SENT

    form = page.get_by_test_id("referral-accept-form")
    form.locator("select[name='accept-case_manager']").select_option(str(manager.pk))
    form.get_by_test_id("referral-accept").click()
    page.wait_for_url(f"**/referrals/{transfer.pk}/")
    expect(page.locator(".alert-success")).to_have_count(1)
    expect(page.get_by_test_id("referral-status")).to_have_attribute("data-status", "accepted")
    expect(page.get_by_test_id("referral-new-manager")).to_contain_text("Dewi Anggraini")
    expect(page.get_by_test_id("referral-child-name")).to_have_text("Rina Marlina Putri")

    # The case is the LKSA's now: its page opens from the referral.
    page.get_by_test_id("referral-case-link").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.get_by_test_id("case-child")).to_contain_text("Rina Marlina Putri")
    case.refresh_from_db()
    assert case.organisation == lksa and case.case_manager == manager
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_receiver_declines_with_a_reason_and_the_sender_can_resend(page, case, sender_worker, lksa, officer):
    referral = referral_send(
        case=case,
        by=sender_worker,
        receiver=lksa,
        kind=ReferralKind.SERVICE,
        reason="Butuh terapi psikososial.",
        components=[ServiceComponent.objects.get(code="terapi")],
    )

    login(page, officer.username, PASSWORD)
    page.goto(f"/referrals/{referral.pk}/")
    decline = page.get_by_test_id("referral-decline")
    decline.locator("summary").click()
    # "Other" without an explanation is refused next to the field; nothing changes.
    decline.locator("select[name='decline-reason']").select_option("other")
    decline.get_by_test_id("referral-decline-submit").click()
    page.wait_for_load_state()
    decline = page.get_by_test_id("referral-decline")
    expect(decline).to_have_attribute("open", "")
    expect(decline.locator(".invalid-feedback").first).to_be_visible()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT

    decline.locator("textarea[name='decline-note']").fill("Kuota terapi kami penuh sampai akhir bulan.")
    decline.get_by_test_id("referral-decline-submit").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(page.get_by_test_id("referral-status")).to_have_attribute("data-status", "declined")
    expect(page.get_by_test_id("referral-decline-reason")).to_contain_text("Kuota terapi kami penuh")
    expect(page.get_by_test_id("referral-resend")).to_have_count(0)
    expect(page.get_by_test_id("referral-thread-closed")).to_be_visible()
    referral.refresh_from_db()
    assert (referral.decline_reason, referral.answered_by) == ("other", officer)
    logout(page)

    login(page, sender_worker.username, PASSWORD)
    page.goto(f"/referrals/{referral.pk}/")
    expect(page.get_by_test_id("referral-decline-reason")).to_contain_text("Kuota terapi kami penuh")
    resend = page.get_by_test_id("referral-resend")
    expect(resend).to_have_attribute("href", f"/cases/{case.pk}/refer/?resend={referral.pk}")
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_a_message_with_an_attached_document(page, case, sender_worker, lksa, officer):
    akta = docs.document_upload(
        case=case,
        by=sender_worker,
        kind=DocumentKind.AKTA,
        title="Akta kelahiran Rina",
        file=SimpleUploadedFile("akta.pdf", MINIMAL_PDF, content_type="application/pdf"),
    )
    referral = referral_send(
        case=case,
        by=sender_worker,
        receiver=lksa,
        kind=ReferralKind.SERVICE,
        reason="Butuh terapi psikososial.",
        components=[ServiceComponent.objects.get(code="terapi")],
        shared_sections=[SharedSection.IDENTITY],
    )
    referral_accept(referral=referral, by=officer)

    login(page, sender_worker.username, PASSWORD)
    page.goto(f"/referrals/{referral.pk}/")
    form = page.get_by_test_id("referral-message-form")
    form.locator("textarea[name='message-body']").fill("Terlampir akta kelahiran untuk pendaftaran terapi.")
    form.locator(f"input[name='message-attachments'][value='{akta.pk}']").check()
    form.get_by_test_id("referral-message-send").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/#thread")
    message = page.get_by_test_id("referral-message")
    expect(message).to_have_count(1)
    expect(message.get_by_test_id("referral-message-body")).to_have_text(
        "Terlampir akta kelahiran untuk pendaftaran terapi."
    )
    expect(message.get_by_test_id("referral-attachment")).to_have_text("Akta kelahiran Rina")
    assert list(ReferralMessage.objects.get(referral=referral).attachments.all()) == [akta]
    logout(page)

    # The receiver reads it and downloads the document through the referral.
    login(page, officer.username, PASSWORD)
    page.goto(f"/referrals/{referral.pk}/")
    message = page.get_by_test_id("referral-message")
    expect(message).to_contain_text("Terlampir akta kelahiran")
    with page.expect_download() as info:
        message.get_by_test_id("referral-attachment").click()
    download = info.value
    assert download.suggested_filename == "akta.pdf"
    assert Path(download.path()).read_bytes() == MINIMAL_PDF
    assert AccessLog.objects.filter(user=officer, action="download", target_id=str(akta.pk)).exists()

    # It replies; the thread shows both sides in order.
    form = page.get_by_test_id("referral-message-form")
    form.locator("textarea[name='message-body']").fill("Terima kasih, jadwal terapi Senin depan.")
    form.get_by_test_id("referral-message-send").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/#thread")
    expect(page.get_by_test_id("referral-message")).to_have_count(2)
    expect(page.get_by_test_id("referral-message").nth(1)).to_contain_text("jadwal terapi Senin depan")
    assert page.csp_violations == []  # type: ignore[attr-defined]
