"""Case documents (upload checked by content, private storage, audited download) and consent
(UU PDP Pasal 25: give, withdraw, share) with the supervisor's emergency sharing override."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog
from atensi.testing.files import jpeg_bytes, pdf_bytes, png_bytes
from cases import documents as docs
from cases.models import (
    Consent,
    Document,
    DocumentKind,
    FamilyMember,
    Relation,
    SharingOverride,
    TimelineEntry,
)
from cases.tests.factories import BeneficiaryFactory, open_case
from stakeholders.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MB = 1024 * 1024
TODAY = timezone.localdate

# --- Files ------------------------------------------------------------------------------

MINIMAL_PDF = pdf_bytes()
JPEG = jpeg_bytes()


def docx_bytes(*, word: bool = True) -> bytes:
    """A minimal real DOCX (a zip with the content types and a Word document), or without
    `word`, a zip that is no Word document at all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if word:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/word/document.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            )
            archive.writestr(
                "word/document.xml",
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                "<w:body><w:p><w:r><w:t>Laporan asesmen</w:t></w:r></w:p></w:body></w:document>",
            )
        else:
            archive.writestr("notes.txt", "just a zip")
    return buffer.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    """Uploaded documents go to this test's own directory."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def case(org, owner):
    return open_case(organisation=org, by=owner)


def add_document(case, by, *, name="akta.pdf", content=MINIMAL_PDF, kind=DocumentKind.AKTA, title="Akta kelahiran"):
    return docs.document_upload(case=case, by=by, kind=kind, title=title, file=upload(name, content))


# --- Upload -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "kind"),
    [
        ("Akta Kelahiran.pdf", MINIMAL_PDF, "application/pdf", DocumentKind.AKTA),
        ("foto rumah.JPG", JPEG, "image/jpeg", DocumentKind.PHOTO),
        ("kk.png", png_bytes(), "image/png", DocumentKind.KK),
        (
            "laporan asesmen.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DocumentKind.ASSESSMENT_REPORT,
        ),
    ],
    ids=["pdf", "jpeg", "png", "docx"],
)
def test_it_stores_pdf_jpeg_png_and_docx(case, owner, private_storage, name, content, content_type, kind):
    document = docs.document_upload(case=case, by=owner, kind=kind, title="  Berkas  ", file=upload(name, content))
    document.refresh_from_db()
    assert document.title == "Berkas"
    assert document.content_type == content_type
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_name == name
    assert document.uploaded_by == owner
    # A random name in private storage, never the uploaded one.
    stored = document.file.name or ""
    assert stored.startswith("case-documents/")
    assert name.split(".")[0] not in stored
    assert [p.read_bytes() for p in stored_files(private_storage)] == [content]
    entry = TimelineEntry.objects.get(case=case, kind="document")
    assert entry.object_id == document.pk
    assert entry.data == {"title": "Berkas", "doc_kind": kind}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("program.pdf", EXE, "not a real PDF"),
        ("program.exe", EXE, "not accepted"),
        ("laporan.docx", docx_bytes(word=False), "not a real DOCX"),
        ("gambar.pdf", png_bytes(), "not a real PDF"),
        ("scan.png", MINIMAL_PDF, "not a real PNG"),
        ("kosong.pdf", b"", "The file is empty."),
    ],
    ids=["exe-named-pdf", "exe", "zip-named-docx", "png-named-pdf", "pdf-named-png", "empty"],
)
def test_a_file_that_lies_or_is_empty_is_refused(case, owner, private_storage, name, content, message):
    with pytest.raises(ApplicationError, match=message) as excinfo:
        add_document(case, owner, name=name, content=content)
    assert excinfo.value.field == "file"
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []
    assert not TimelineEntry.objects.filter(kind="document").exists()


def test_a_photo_must_be_an_image(case, owner, private_storage):
    with pytest.raises(ApplicationError, match="A photo must be a JPEG or PNG image"):
        add_document(case, owner, kind=DocumentKind.PHOTO)
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []


def test_a_file_of_exactly_10_mb_is_accepted(case, owner):
    content = pdf_bytes(size=10 * MB)
    document = add_document(case, owner, content=content)
    assert document.size == 10 * MB


def test_a_file_over_10_mb_is_refused_with_a_message_not_an_error_page(client_for, case, owner, private_storage):
    content = b"%PDF-1.7\n" + b"0" * (10 * MB + 1 - 9)
    response = client_for(owner).post(
        reverse("cases:document_upload", args=[case.pk]),
        {"kind": DocumentKind.COURT_DECISION, "title": "Putusan", "file": upload("putusan.pdf", content)},
        **EN,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert "The file is 10.1 MB; the limit is 10.0 MB." in str(errors)
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []


def test_the_same_file_twice_on_a_case_is_refused_with_its_title(case, owner, org, private_storage):
    first = add_document(case, owner, title="Akta kelahiran")
    with pytest.raises(ApplicationError, match="already on the case as “Akta kelahiran”"):
        add_document(case, owner, name="akta (1).pdf", title="Akta lagi")
    assert list(Document.objects.all()) == [first]
    assert len(stored_files(private_storage)) == 1
    # The same bytes on another case of the child's organisation are a different document.
    other = open_case(organisation=org, by=owner)
    assert add_document(other, owner).case == other


def test_the_database_keeps_one_copy_when_two_uploads_race(case, owner, private_storage, monkeypatch):
    first = add_document(case, owner, title="Akta kelahiran")
    real_check = docs._already_on_case
    calls = []

    def late_check(**kwargs):
        # The first look finds nothing, as when the other upload has not committed yet.
        calls.append(kwargs)
        return None if len(calls) == 1 else real_check(**kwargs)

    monkeypatch.setattr(docs, "_already_on_case", late_check)
    with pytest.raises(ApplicationError, match="already on the case as “Akta kelahiran”"):
        add_document(case, owner, title="Akta lagi")
    assert list(Document.objects.all()) == [first]
    # The second copy's file was removed again: no orphan in private storage.
    assert len(stored_files(private_storage)) == 1


def test_a_large_upload_streamed_to_a_temporary_file_is_stored_whole(client_for, case, owner, private_storage):
    # Above FILE_UPLOAD_MAX_MEMORY_SIZE (2 MB) Django spools the upload to disk.
    content = pdf_bytes(size=3 * MB)
    response = client_for(owner).post(
        reverse("cases:document_upload", args=[case.pk]),
        {"kind": DocumentKind.ASSESSMENT_REPORT, "title": "Laporan", "file": upload("laporan.pdf", content)},
        **EN,
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.size, document.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    assert [p.read_bytes() for p in stored_files(private_storage)] == [content]


def test_a_double_clicked_upload_is_saved_once(client_for, case, owner, private_storage):
    client = client_for(owner)
    url = reverse("cases:document_upload", args=[case.pk])
    token = "6f1c1f9e-7c39-4d55-9a53-2f3b5a4c0e11"
    data = {"kind": DocumentKind.AKTA, "title": "Akta", "submission_token": token}
    assert client.post(url, {**data, "file": upload("akta.pdf", MINIMAL_PDF)}, **EN).status_code == 302
    second = client.post(url, {**data, "file": upload("akta.pdf", MINIMAL_PDF)}, follow=True, **EN)
    assert second.status_code == 200
    assert "already saved" in second.content.decode()
    # Without the token (an old page), the database constraint's message says which document it is.
    third = client.post(url, {"kind": DocumentKind.AKTA, "title": "x", "file": upload("akta.pdf", MINIMAL_PDF)}, **EN)
    assert "already on the case as “Akta”" in str(third.context["form"].errors["file"])
    assert Document.objects.count() == 1
    assert len(stored_files(private_storage)) == 1


def test_upload_page_saves_and_redirects_to_the_list(client_for, case, owner):
    client = client_for(owner)
    url = reverse("cases:document_upload", args=[case.pk])
    page = client.get(url, **EN)
    assert page.status_code == 200
    assert page.context["tab"] == "documents"
    response = client.post(
        url, {"kind": DocumentKind.AKTA, "title": "Akta", "file": upload("akta.pdf", MINIMAL_PDF)}, **EN
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_documents", args=[case.pk])
    assert Document.objects.get().title == "Akta"


def test_upload_with_missing_fields_says_what_is_missing(client_for, case, owner):
    response = client_for(owner).post(reverse("cases:document_upload", args=[case.pk]), {"kind": "passport"}, **EN)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"kind", "title", "file"}
    assert "Choose the file to upload." in str(errors["file"])
    assert not Document.objects.exists()


def test_a_colleague_who_only_reads_the_case_cannot_upload(client_for, case, colleague, private_storage):
    with pytest.raises(ApplicationError, match="Only the case manager or a supervisor"):
        add_document(case, colleague)
    response = client_for(colleague).post(
        reverse("cases:document_upload", args=[case.pk]),
        {"kind": DocumentKind.AKTA, "title": "Akta", "file": upload("akta.pdf", MINIMAL_PDF)},
        **EN,
    )
    assert response.status_code == 302
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []
    # ...but reads the list.
    assert client_for(colleague).get(reverse("cases:case_documents", args=[case.pk])).status_code == 200


def test_supervisor_uploads_on_a_case_managed_by_someone_else(case, supervisor):
    assert add_document(case, supervisor).uploaded_by == supervisor


# --- List and download ------------------------------------------------------------------


def test_documents_list_newest_first_with_kind_filter_and_few_queries(
    client_for, case, owner, supervisor, django_assert_max_num_queries
):
    for i in range(8):
        add_document(case, owner if i % 2 else supervisor, name=f"d{i}.pdf", content=MINIMAL_PDF + bytes([i]))
    photo = add_document(case, owner, name="foto.png", content=png_bytes(), kind=DocumentKind.PHOTO, title="Foto")
    client = client_for(owner)
    url = reverse("cases:case_documents", args=[case.pk])
    with django_assert_max_num_queries(10):
        response = client.get(url, **EN)
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert len(rows) == 9
    assert rows[0] == photo
    assert [d.pk for d in rows] == sorted((d.pk for d in rows), reverse=True)
    body = response.content.decode()
    assert reverse("cases:document_download", args=[case.pk, photo.pk]) in body
    filtered = client.get(url, {"kind": DocumentKind.PHOTO}, **EN)
    assert list(filtered.context["page"]) == [photo]
    # An unknown kind is ignored rather than an error.
    assert client.get(url, {"kind": "nonsense"}, **EN).status_code == 200
    assert AccessLog.objects.filter(user=owner, target_type="cases.case", target_id=str(case.pk)).exists()


def test_download_is_an_attachment_with_safe_headers_and_is_logged(client_for, case, owner):
    document = add_document(case, owner, name="Akta Kelahiran.pdf")
    response = client_for(owner).get(reverse("cases:document_download", args=[case.pk, document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Akta Kelahiran.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    log = AccessLog.objects.get(action="download")
    assert (log.user, log.target_type, log.target_id) == (owner, "cases.document", str(document.pk))
    assert log.organisation_id == case.organisation_id


def test_download_name_is_cleaned_and_matches_the_type():
    document = Document(original_name='..\\..\\bad"na\r\nme;.pdf', content_type="application/pdf", title="x")
    assert docs.document_download_name(document) == "badname.pdf"
    document = Document(original_name="scan", content_type="image/png", title="x")
    assert docs.document_download_name(document) == "scan.png"
    document = Document(original_name="", content_type="image/jpeg", title="Foto rumah")
    assert docs.document_download_name(document) == "Foto rumah.jpg"
    assert docs.clean_file_name("/etc/passwd") == "passwd"
    assert len(docs.clean_file_name("a" * 300 + ".pdf")) == 255
    assert docs.clean_file_name("a" * 300 + ".pdf").endswith(".pdf")


def test_outsider_gets_404_on_every_document_url(client_for, case, owner, outsider, private_storage):
    document = add_document(case, owner)
    client = client_for(outsider)
    assert client.get(reverse("cases:case_documents", args=[case.pk])).status_code == 404
    assert client.get(reverse("cases:document_upload", args=[case.pk])).status_code == 404
    response = client.post(
        reverse("cases:document_upload", args=[case.pk]),
        {"kind": DocumentKind.AKTA, "title": "x", "file": upload("x.pdf", MINIMAL_PDF + b"x")},
    )
    assert response.status_code == 404
    assert client.get(reverse("cases:document_download", args=[case.pk, document.pk])).status_code == 404
    assert list(Document.objects.all()) == [document]
    assert len(stored_files(private_storage)) == 1
    # Refused: denials in the log (stakeholders.denials), nothing shown or downloaded.
    assert not AccessLog.objects.filter(user=outsider).exclude(action="denied").exists()


def test_a_document_of_another_case_is_404_through_this_case(client_for, org, case, owner, outsider, other_org):
    other_case = open_case(organisation=org, by=owner)
    elsewhere = open_case(organisation=other_org, by=outsider_worker(other_org))
    mine = add_document(other_case, owner)
    foreign = add_document(elsewhere, elsewhere.case_manager, content=MINIMAL_PDF + b"y")
    client = client_for(owner)
    assert client.get(reverse("cases:document_download", args=[case.pk, mine.pk])).status_code == 404
    assert client.get(reverse("cases:document_download", args=[case.pk, foreign.pk])).status_code == 404
    assert client.get(reverse("cases:document_download", args=[case.pk, 999999])).status_code == 404
    assert client.get(reverse("cases:document_download", args=[other_case.pk, mine.pk])).status_code == 200
    assert not AccessLog.objects.filter(action="download", target_id=str(foreign.pk)).exists()


def outsider_worker(organisation):
    from stakeholders.tests.factories import member

    return member(organisation=organisation, role="social_worker")


def test_a_colleague_gets_404_on_a_confidential_case_document(client_for, org, owner, colleague, supervisor):
    case = open_case(organisation=org, by=owner, is_confidential=True)
    document = add_document(case, owner)
    url = reverse("cases:document_download", args=[case.pk, document.pk])
    assert client_for(colleague).get(url).status_code == 404
    assert client_for(colleague).get(reverse("cases:case_documents", args=[case.pk])).status_code == 404
    assert client_for(supervisor).get(url).status_code == 200
    assert not AccessLog.objects.filter(user=colleague).exclude(action="denied").exists()


def test_a_missing_stored_file_is_404_not_500(client_for, case, owner):
    document = add_document(case, owner)
    document.file.delete(save=False)
    assert client_for(owner).get(reverse("cases:document_download", args=[case.pk, document.pk])).status_code == 404


# --- Consent ----------------------------------------------------------------------------


@pytest.fixture
def mother(case):
    return FamilyMember.objects.create(
        beneficiary=case.beneficiary, relation=Relation.MOTHER, name="Siti Aminah", is_legal_guardian=True
    )


def give(case, by, **kwargs):
    kwargs.setdefault("given_on", TODAY() - datetime.timedelta(days=3))
    if "given_by" not in kwargs:
        kwargs.setdefault("given_by_name", "Pak Budi")
        kwargs.setdefault("relation", Relation.UNCLE_AUNT)
    return docs.consent_create(case=case, by=by, **kwargs)


def test_consent_from_a_family_member_takes_their_name_and_relation(case, owner, mother, other_org):
    consent = give(case, owner, given_by=mother, given_by_name="ignored", allows_photos=True, share_with=[other_org])
    consent.refresh_from_db()
    assert (consent.given_by, consent.given_by_name, consent.relation) == (mother, "Siti Aminah", Relation.MOTHER)
    assert consent.allows_processing and consent.allows_photos
    assert list(consent.share_with.all()) == [other_org]
    assert consent.recorded_by == owner
    entry = TimelineEntry.objects.get(case=case, kind="consent")
    assert entry.object_id == consent.pk
    assert entry.data["action"] == "given"
    assert entry.data["given_by_name"] == "Siti Aminah"
    assert docs.consent_for_processing(case) == consent


def test_consent_with_a_typed_name_and_relation(case, owner):
    consent = give(case, owner, given_by_name="  Pak   Budi ", relation=Relation.UNCLE_AUNT)
    assert (consent.given_by, consent.given_by_name, consent.relation) == (None, "Pak Budi", Relation.UNCLE_AUNT)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_on": TODAY() + datetime.timedelta(days=1)}, "given_on", "cannot be in the future"),
        ({"given_on": datetime.date(2015, 5, 16)}, "given_on", "before Anak"),
        ({"given_by_name": "  "}, "given_by_name", "Choose the family member who gave consent"),
        ({"relation": ""}, "relation", "Choose how Pak Budi is related"),
        ({"allows_processing": False, "allows_photos": True}, "allows_processing", "at least allow processing"),
    ],
    ids=["future", "before-birth", "no-name", "no-relation", "no-processing"],
)
def test_bad_consent_is_refused_at_its_field(case, owner, changes, field, message):
    with pytest.raises(ApplicationError, match=message) as excinfo:
        give(case, owner, **changes)
    assert excinfo.value.field == field
    assert not Consent.objects.exists()
    assert not TimelineEntry.objects.filter(kind="consent").exists()


def test_consent_is_given_by_this_childs_family_only(case, owner, org):
    other_child = BeneficiaryFactory(organisation=org, created_by=owner)
    stranger = FamilyMember.objects.create(beneficiary=other_child, relation=Relation.FATHER, name="Ayah Lain")
    with pytest.raises(ApplicationError, match="not in the family of") as excinfo:
        give(case, owner, given_by=stranger)
    assert excinfo.value.field == "given_by"
    assert not Consent.objects.exists()


def test_sharing_needs_active_organisations_other_than_the_owner(case, owner, org):
    closed = OrganisationFactory(code="LKSA-TUTUP", name="LKSA Tutup", is_active=False)
    for orgs, message in (([org], "owns this case"), ([closed], "no longer active")):
        with pytest.raises(ApplicationError, match=message) as excinfo:
            give(case, owner, share_with=orgs)
        assert excinfo.value.field == "share_with"
    assert not Consent.objects.exists()


def test_the_signed_form_must_be_a_consent_form_of_this_case(case, owner, org):
    akta = add_document(case, owner)
    other_case = open_case(organisation=org, by=owner)
    foreign_form = add_document(other_case, owner, kind=DocumentKind.CONSENT_FORM, content=MINIMAL_PDF + b"f")
    for document in (akta, foreign_form):
        with pytest.raises(ApplicationError, match="Choose a consent form uploaded to this case"):
            give(case, owner, form_document=document)
    signed = add_document(case, owner, kind=DocumentKind.CONSENT_FORM, content=MINIMAL_PDF + b"s", title="Form")
    assert give(case, owner, form_document=signed).form == signed


def test_a_colleague_who_only_reads_cannot_record_consent(case, colleague):
    with pytest.raises(ApplicationError, match="Only the case manager"):
        give(case, colleague)
    assert not Consent.objects.exists()


def test_withdrawal_needs_a_reason_and_a_sensible_date(case, owner):
    consent = give(case, owner, given_on=TODAY() - datetime.timedelta(days=10))
    attempts = [
        ({"withdrawn_on": TODAY(), "reason": "   "}, "reason", "Write why the consent was withdrawn"),
        ({"withdrawn_on": TODAY() + datetime.timedelta(days=1), "reason": "x"}, "withdrawn_on", "in the future"),
        ({"withdrawn_on": TODAY() - datetime.timedelta(days=11), "reason": "x"}, "withdrawn_on", "before it was given"),
    ]
    for kwargs, field, message in attempts:
        with pytest.raises(ApplicationError, match=message) as excinfo:
            docs.consent_withdraw(consent=consent, by=owner, **kwargs)
        assert excinfo.value.field == field
        consent.refresh_from_db()
        assert consent.withdrawn_on is None and consent.withdrawal_reason == ""


def test_consent_is_withdrawn_once(case, owner):
    consent = give(case, owner)
    docs.consent_withdraw(consent=consent, by=owner, withdrawn_on=TODAY(), reason="Ibu menelepon, tidak setuju lagi.")
    consent.refresh_from_db()
    assert (consent.withdrawn_on, consent.withdrawn_by) == (TODAY(), owner)
    assert not consent.is_active
    assert docs.consent_for_processing(case) is None
    entry = TimelineEntry.objects.filter(case=case, kind="consent").first()
    assert entry is not None and entry.data["action"] == "withdrawn"
    with pytest.raises(ApplicationError, match="already withdrawn"):
        docs.consent_withdraw(consent=consent, by=owner, withdrawn_on=TODAY(), reason="lagi")
    consent.refresh_from_db()
    assert consent.withdrawal_reason == "Ibu menelepon, tidak setuju lagi."


# --- Sharing ----------------------------------------------------------------------------


def test_sharing_allowed_by_consent_withdrawn_consent_and_override(case, owner, supervisor, other_org):
    third = OrganisationFactory(code="LKSA-3", name="LKSA Tiga")
    assert docs.sharing_allowed(case=case, organisation=other_org) is None
    consent = give(case, owner, share_with=[other_org])
    basis = docs.sharing_allowed(case=case, organisation=other_org)
    assert basis is not None and basis.kind == "consent" and basis.consent == consent
    assert docs.sharing_allowed(case=case, organisation=third) is None
    docs.consent_withdraw(consent=consent, by=owner, withdrawn_on=TODAY(), reason="Dicabut")
    assert docs.sharing_allowed(case=case, organisation=other_org) is None
    override = docs.sharing_override_create(
        case=case, by=supervisor, organisation=other_org, reason="Anak dalam bahaya; rumah aman perlu data."
    )
    basis = docs.sharing_allowed(case=case, organisation=other_org)
    assert basis is not None and basis.kind == "override" and basis.override == override
    assert docs.sharing_allowed(case=case, organisation=third) is None


def test_override_is_for_supervisors_and_needs_a_reason(case, owner, supervisor, other_org):
    with pytest.raises(ApplicationError, match="Only a supervisor"):
        docs.sharing_override_create(case=case, by=owner, organisation=other_org, reason="Darurat")
    with pytest.raises(ApplicationError, match="Write the emergency") as excinfo:
        docs.sharing_override_create(case=case, by=supervisor, organisation=other_org, reason="  ")
    assert excinfo.value.field == "reason"
    with pytest.raises(ApplicationError, match="Choose the organisation"):
        docs.sharing_override_create(case=case, by=supervisor, organisation=None, reason="Darurat")
    assert not SharingOverride.objects.exists()
    override = docs.sharing_override_create(case=case, by=supervisor, organisation=other_org, reason=" Darurat ")
    assert (override.reason, override.decided_by) == ("Darurat", supervisor)
    entry = TimelineEntry.objects.get(case=case, kind="consent")
    assert entry.data == {"action": "override", "given_by_name": "", "organisation": other_org.name}
    assert entry.object_id == override.pk
    with pytest.raises(ApplicationError, match="already recorded"):
        docs.sharing_override_create(case=case, by=supervisor, organisation=other_org, reason="lagi")
    assert SharingOverride.objects.count() == 1


def test_no_override_where_consent_already_allows_sharing(case, owner, supervisor, other_org):
    give(case, owner, share_with=[other_org])
    with pytest.raises(ApplicationError, match="no override is needed"):
        docs.sharing_override_create(case=case, by=supervisor, organisation=other_org, reason="Darurat")
    assert not SharingOverride.objects.exists()


# --- Consent pages ----------------------------------------------------------------------


def test_worker_records_consent_on_the_page_once(client_for, case, owner, mother, other_org):
    client = client_for(owner)
    url = reverse("cases:consent_create", args=[case.pk])
    page = client.get(url, **EN)
    assert page.status_code == 200
    assert list(page.context["form"].fields["given_by"].queryset) == [mother]
    data = {
        "given_by": mother.pk,
        "given_on": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        "allows_processing": "on",
        "share_with": [other_org.pk],
        "submission_token": "0d4c8a4e-3f57-4d7f-8d43-3c4b8c61f0aa",
    }
    response = client.post(url, data, **EN)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_consent", args=[case.pk])
    again = client.post(url, data, follow=True, **EN)
    assert "already saved" in again.content.decode()
    consent = Consent.objects.get()
    assert (consent.given_by_name, consent.relation) == ("Siti Aminah", Relation.MOTHER)
    assert list(consent.share_with.all()) == [other_org]


def test_consent_form_shows_errors_and_saves_nothing(client_for, case, owner, org):
    other_child = BeneficiaryFactory(organisation=org, created_by=owner)
    stranger = FamilyMember.objects.create(beneficiary=other_child, relation=Relation.FATHER, name="Ayah Lain")
    url = reverse("cases:consent_create", args=[case.pk])
    client = client_for(owner)
    response = client.post(url, {"given_by": stranger.pk, "given_on": ""}, **EN)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Choose someone from the family list." in str(errors["given_by"])
    assert "Enter the date the consent was given." in str(errors["given_on"])
    response = client.post(
        url,
        {
            "given_by_name": "Pak Budi",
            "relation": Relation.UNCLE_AUNT,
            "given_on": "2099-01-01",
            "allows_processing": "on",
        },
        **EN,
    )
    assert "cannot be in the future" in str(response.context["form"].errors["given_on"])
    response = client.post(
        url, {"given_by_name": "Pak Budi", "relation": Relation.UNCLE_AUNT, "given_on": "2025-01-01"}, **EN
    )
    assert "at least allow processing" in str(response.context["form"].errors["allows_processing"])
    response = client.post(url, {"given_by_name": "Pak Budi", "given_on": "2025-01-01"}, **EN)
    assert "Choose how this person is related" in str(response.context["form"].errors["relation"])
    assert not Consent.objects.exists()


def test_consent_page_shows_consents_sharing_and_overrides_in_few_queries(
    client_for, case, owner, supervisor, other_org, django_assert_max_num_queries
):
    orgs = [OrganisationFactory(code=f"LKSA-{i}", name=f"LKSA {i}") for i in range(4)]
    for i in range(5):
        consent = give(case, owner, given_by_name=f"Wali {i}", share_with=orgs[: i % 4 + 1])
        if i % 2:
            docs.consent_withdraw(consent=consent, by=owner, withdrawn_on=TODAY(), reason=f"alasan {i}")
    docs.sharing_override_create(case=case, by=supervisor, organisation=other_org, reason="Darurat medis")
    client = client_for(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("cases:case_consent", args=[case.pk]), **EN)
    assert response.status_code == 200
    ctx = response.context
    assert len(ctx["active"]) == 3 and len(ctx["withdrawn"]) == 2
    assert {row.organisation for row in ctx["shared"]} == {*orgs[:3], other_org}
    body = response.content.decode()
    assert "Darurat medis" in body
    assert 'data-testid="override-form"' in body
    assert 'data-testid="consent-withdraw-form"' in body
    # The case manager (not a supervisor) sees no override form.
    colleague_view = client_for(owner).get(reverse("cases:case_consent", args=[case.pk]), **EN)
    assert 'data-testid="override-form"' not in colleague_view.content.decode()


def test_withdrawal_on_the_page_with_bad_input_and_twice(client_for, case, owner):
    consent = give(case, owner)
    client = client_for(owner)
    url = reverse("cases:consent_withdraw", args=[case.pk, consent.pk])
    response = client.post(url, {"withdrawn_on": TODAY().isoformat(), "reason": ""}, **EN)
    assert response.status_code == 200
    assert response.context["withdraw_for"] == consent.pk
    assert "Write why the consent was withdrawn" in response.content.decode()
    response = client.post(url, {"withdrawn_on": "2099-01-01", "reason": "x"}, **EN)
    assert "cannot be in the future" in response.content.decode()
    consent.refresh_from_db()
    assert consent.is_active
    assert client.post(url, {"withdrawn_on": TODAY().isoformat(), "reason": "Dicabut lisan"}, **EN).status_code == 302
    second = client.post(url, {"withdrawn_on": TODAY().isoformat(), "reason": "lagi"}, follow=True, **EN)
    assert "already withdrawn" in second.content.decode()
    consent.refresh_from_db()
    assert consent.withdrawal_reason == "Dicabut lisan"


def test_override_on_the_page_by_a_non_supervisor_is_refused(client_for, case, owner, supervisor, other_org):
    url = reverse("cases:sharing_override_create", args=[case.pk])
    response = client_for(owner).post(url, {"organisation": other_org.pk, "reason": "Darurat"}, follow=True, **EN)
    assert "Only a supervisor" in response.content.decode()
    assert not SharingOverride.objects.exists()
    missing = client_for(supervisor).post(url, {"organisation": other_org.pk, "reason": ""}, **EN)
    assert missing.status_code == 200
    assert missing.context["override_open"]
    assert "Write the emergency" in missing.content.decode()
    assert not SharingOverride.objects.exists()
    done = client_for(supervisor).post(url, {"organisation": other_org.pk, "reason": "Anak hilang"}, **EN)
    assert done.status_code == 302
    assert SharingOverride.objects.get().organisation == other_org


def test_post_only_urls_refuse_get(client_for, case, owner, supervisor):
    consent = give(case, owner)
    assert client_for(owner).get(reverse("cases:consent_withdraw", args=[case.pk, consent.pk])).status_code == 405
    assert client_for(supervisor).get(reverse("cases:sharing_override_create", args=[case.pk])).status_code == 405
    consent.refresh_from_db()
    assert consent.is_active


def test_outsider_gets_404_on_every_consent_url(client_for, case, owner, outsider, other_org):
    consent = give(case, owner)
    client = client_for(outsider)
    assert client.get(reverse("cases:case_consent", args=[case.pk])).status_code == 404
    assert client.get(reverse("cases:consent_create", args=[case.pk])).status_code == 404
    assert (
        client.post(
            reverse("cases:consent_create", args=[case.pk]),
            {"given_by_name": "X", "relation": "other", "given_on": TODAY().isoformat(), "allows_processing": "on"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("cases:consent_withdraw", args=[case.pk, consent.pk]),
            {"withdrawn_on": TODAY().isoformat(), "reason": "x"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("cases:sharing_override_create", args=[case.pk]), {"organisation": other_org.pk, "reason": "x"}
        ).status_code
        == 404
    )
    consent.refresh_from_db()
    assert consent.is_active
    assert Consent.objects.count() == 1
    assert not SharingOverride.objects.exists()


def test_a_consent_of_another_case_is_404_through_this_case(client_for, org, case, owner):
    other_case = open_case(organisation=org, by=owner)
    consent = give(other_case, owner)
    response = client_for(owner).post(
        reverse("cases:consent_withdraw", args=[case.pk, consent.pk]),
        {"withdrawn_on": TODAY().isoformat(), "reason": "x"},
    )
    assert response.status_code == 404
    consent.refresh_from_db()
    assert consent.is_active


def test_a_50_mb_file_is_refused_with_the_message(client_for, case, owner, private_storage):
    # Far past DATA_UPLOAD_MAX_MEMORY_SIZE: that limit counts only the non-file fields, so
    # the upload reaches the check and gets its message instead of a 400 page.
    content = b"%PDF-1.7\n" + b"0" * (50 * MB)
    response = client_for(owner).post(
        reverse("cases:document_upload", args=[case.pk]),
        {"kind": DocumentKind.OTHER, "title": "Besar", "file": upload("besar.pdf", content)},
        **EN,
    )
    assert response.status_code == 200
    assert "The file is 50.1 MB; the limit is 10.0 MB." in str(response.context["form"].errors["file"])
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []
