"""A social worker records the guardian's consent and uploads a document (a lying file is
refused first), downloads it again; a social worker of another organisation gets 404."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import AccessLog
from atensi.testing.files import pdf_bytes
from cases.documents import document_upload
from cases.models import Consent, Document, DocumentKind, FamilyMember, Relation, TimelineEntry
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINIMAL_PDF = pdf_bytes()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def test_worker_records_consent_and_uploads_and_downloads_a_document(page, org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    case = open_case(organisation=org, by=worker)
    mother = FamilyMember.objects.create(
        beneficiary=case.beneficiary, relation=Relation.MOTHER, name="Siti Aminah", is_legal_guardian=True
    )
    partner = OrganisationFactory(code="LKSA-MITRA", name="LKSA Mitra Jambi")
    OrganisationFactory(code="LKSA-LAIN", name="LKSA Harapan Lain")
    given_on = timezone.localdate() - datetime.timedelta(days=2)

    login(page, "peksos.uji", PASSWORD)

    # Consent from the guardian, chosen from the family; sharing with one partner found by typing.
    page.goto(f"/cases/{case.pk}/consent/")
    expect(page.get_by_test_id("consent-none")).to_be_visible()
    page.get_by_test_id("consent-new").click()
    form = page.get_by_test_id("consent-form")
    form.locator("select[name=given_by]").select_option(str(mother.pk))
    form.locator("input[name=given_on]").fill(given_on.isoformat())
    expect(form.locator("input[name=allows_processing]")).to_be_checked()
    form.locator("#share-search").fill("Mitra")
    expect(form.locator(f"select[name=share_with] option[value='{partner.pk}']")).to_be_visible()
    form.locator("select[name=share_with]").select_option([str(partner.pk)])
    page.get_by_test_id("consent-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/consent/")
    expect(page.get_by_test_id("consent-active")).to_contain_text("Siti Aminah")
    expect(page.get_by_test_id("sharing-table")).to_contain_text("LKSA Mitra Jambi")
    expect(page.get_by_test_id("sharing-table")).not_to_contain_text("LKSA Harapan Lain")
    consent = Consent.objects.get(case=case)
    assert (consent.given_by, consent.relation, consent.given_on) == (mother, Relation.MOTHER, given_on)

    # A program renamed .pdf is refused with a message at the file; nothing is stored.
    page.get_by_test_id("case-tabs").locator(f"a[href='/cases/{case.pk}/documents/']").click()
    page.wait_for_url(f"**/cases/{case.pk}/documents/")
    expect(page.get_by_test_id("document-empty")).to_be_visible()
    page.get_by_test_id("document-upload").click()
    upload_form = page.get_by_test_id("document-upload-form")
    upload_form.locator("select[name=kind]").select_option(DocumentKind.CONSENT_FORM)
    upload_form.locator("input[name=title]").fill("Formulir persetujuan")
    upload_form.locator("input[name=file]").set_input_files(
        files=[{"name": "persetujuan.pdf", "mimeType": "application/pdf", "buffer": EXE}]
    )
    page.get_by_test_id("document-upload-save").click()
    expect(page.locator("#id_file_error, .invalid-feedback").first).to_be_visible()
    assert not Document.objects.exists()

    # The real PDF is stored and listed; its link downloads the same bytes.
    upload_form = page.get_by_test_id("document-upload-form")
    upload_form.locator("input[name=title]").fill("Formulir persetujuan")
    upload_form.locator("input[name=file]").set_input_files(
        files=[{"name": "persetujuan.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}]
    )
    page.get_by_test_id("document-upload-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/documents/")
    row = page.get_by_test_id("document-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Formulir persetujuan")
    with page.expect_download() as info:
        row.get_by_test_id("document-download").click()
    download = info.value
    assert download.suggested_filename == "persetujuan.pdf"
    assert Path(download.path()).read_bytes() == MINIMAL_PDF
    document = Document.objects.get(case=case)
    assert AccessLog.objects.filter(action="download", target_id=str(document.pk), user=worker).exists()
    assert set(TimelineEntry.objects.filter(case=case).values_list("kind", flat=True)) == {
        "opened",
        "consent",
        "document",
    }
    assert page.csp_violations == []


def test_peksos_of_another_organisation_gets_404_on_the_document(page, org, other_org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    case = open_case(organisation=org, by=worker)
    document = document_upload(
        case=case,
        by=worker,
        kind=DocumentKind.AKTA,
        title="Akta kelahiran",
        file=SimpleUploadedFile("akta.pdf", MINIMAL_PDF, content_type="application/pdf"),
    )
    member(organisation=other_org, role=Role.SOCIAL_WORKER, username="peksos.lain")

    login(page, "peksos.lain", PASSWORD)
    for url in (
        f"/cases/{case.pk}/documents/{document.pk}/download/",
        f"/cases/{case.pk}/documents/",
        f"/cases/{case.pk}/consent/",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
    assert not AccessLog.objects.filter(action="download").exists()
