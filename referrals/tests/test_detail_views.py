"""The referral page and its actions through the web: what each side sees (the receiver
only the minimum before accepting; shared material after; the sender's file at the
handover of a transfer), who may do what, bad input changes nothing, outsiders get 404 on
every URL, POST-only URLs refuse GET, the thread, downloads, access logs and queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog, ServiceComponent
from atensi.testing.files import pdf_bytes
from cases import documents as docs
from cases.models import (
    Assessment,
    Case,
    CaseNote,
    Consent,
    Document,
    DocumentKind,
    PlanItem,
)
from cases.tests.factories import open_case
from referrals import material
from referrals.messages import referral_message_send
from referrals.models import Referral, ReferralKind, ReferralMessage, ReferralStatus, SharedSection
from referrals.services import referral_accept, referral_cancel, referral_complete, referral_decline, referral_send
from referrals.tests.conftest import FULL_NAME, NIK
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

# The fixtures of the referral page (the case, the receiver, its officer) are in conftest.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MINIMAL_PDF = pdf_bytes()


# --- Set-up -------------------------------------------------------------------------------


def message_texts(response: Any) -> list[str]:
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)
    return texts


def url(name: str, referral: Referral, *args: Any) -> str:
    return reverse(f"referrals:{name}", args=[referral.pk, *args])


@pytest.fixture
def third_worker(db):
    """A case worker of a third organisation: a party to nothing here."""
    third = OrganisationFactory(code="BA-KETIGA", name="Balai Ketiga")
    return member(organisation=third, role=Role.SOCIAL_WORKER, username="third")


def add_document(case: Case, by: Any, title: str = "Akta kelahiran", content: bytes = MINIMAL_PDF) -> Document:
    return docs.document_upload(
        case=case,
        by=by,
        kind=DocumentKind.AKTA,
        title=title,
        file=SimpleUploadedFile(f"{title}.pdf", content, content_type="application/pdf"),
    )


def send(case: Case, by: Any, receiver: Any, **kwargs: Any) -> Referral:
    kwargs.setdefault("kind", ReferralKind.SERVICE)
    kwargs.setdefault("reason", "Butuh terapi psikososial.")
    if kwargs["kind"] == ReferralKind.SERVICE:
        kwargs.setdefault("components", [ServiceComponent.objects.get(code="terapi")])
    return referral_send(case=case, by=by, receiver=receiver, **kwargs)


@pytest.fixture
def referral(case, owner, receiver_org) -> Referral:
    return send(case, owner, receiver_org, shared_sections=[SharedSection.IDENTITY])


def status_of(referral: Referral) -> str:
    referral.refresh_from_db()
    return referral.status


# --- The page: who sees what --------------------------------------------------------------


def test_receiver_sees_only_the_minimum_before_answering(client_for, referral, officer):
    response = client_for(officer).get(url("detail", referral), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="referral-child-first-name">Budi<' in html
    assert f"{material.age_on(datetime.date(2015, 5, 17), timezone.localdate())} years" in html
    assert "Male" in html and "Kota Jambi" in html
    assert "Butuh terapi psikososial." in html
    # Never who the child is, where they live, their family or their records.
    for secret in (
        "Santoso",
        "Wijaya",
        NIK,
        "Jl. Kenanga",
        "Telanaipura",
        "Sari Rahayu",
        "Putus sekolah",
        referral.case.number,
    ):
        assert secret not in html, secret
    assert 'data-testid="referral-case-link"' not in html
    assert 'data-testid="referral-accept-form"' in html and 'data-testid="referral-decline-form"' in html
    assert 'data-testid="referral-cancel-form"' not in html
    # The receiver is told what opens after accepting.
    assert "The child&#x27;s full identity" in html
    assert (
        AccessLog.objects.filter(user=officer, target_type="referrals.referral", target_id=str(referral.pk)).count()
        == 1
    )


def test_receiver_still_sees_the_minimum_after_declining(client_for, referral, officer):
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    html = client_for(officer).get(url("detail", referral), **EN).content.decode()
    assert "Budi" in html and "Santoso" not in html and NIK not in html
    assert "No capacity" in html
    assert client_for(officer).get(url("section", referral, "identity")).status_code == 404


def test_sender_sees_the_child_the_case_link_and_what_is_shared(client_for, referral, owner):
    html = client_for(owner).get(url("detail", referral), **EN).content.decode()
    assert FULL_NAME in html
    assert reverse("cases:case_detail", args=[referral.case_id]) in html
    assert 'data-testid="referral-cancel-form"' in html
    assert 'data-testid="referral-accept-form"' not in html
    assert 'data-testid="referral-sharing"' in html
    # Waiting for an answer, the thread is open but attachments wait for acceptance.
    assert 'data-testid="referral-message-form"' in html
    assert "Documents can be attached once the referral is accepted." in html


def test_an_overdue_referral_is_marked(client_for, referral, officer):
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=9), respond_by=timezone.now() - datetime.timedelta(days=2)
    )
    html = client_for(officer).get(url("detail", referral), **EN).content.decode()
    assert 'data-testid="referral-overdue"' in html
    assert "overdue by 2" in html


def test_after_accepting_the_receiver_opens_shared_sections_and_documents(
    client_for, case, owner, receiver_org, officer
):
    shared = add_document(case, owner, "Akta kelahiran")
    unshared = add_document(case, owner, "Laporan asesmen", MINIMAL_PDF + b"% other\n")
    referral = send(case, owner, receiver_org, shared_sections=[SharedSection.IDENTITY], shared_documents=[shared])
    client = client_for(officer)
    # Before accepting: nothing of it.
    assert client.get(url("section", referral, "identity")).status_code == 404
    assert client.get(url("document", referral, shared.pk)).status_code == 404
    referral_accept(referral=referral, by=officer)

    html = client.get(url("detail", referral), **EN).content.decode()
    assert url("section", referral, "identity") in html
    assert url("document", referral, shared.pk) in html
    assert url("document", referral, unshared.pk) not in html
    assert url("section", referral, "assessments") not in html

    response = client.get(url("section", referral, "identity"), **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert FULL_NAME in page and NIK in page and "Jl. Kenanga" in page and "Telanaipura" in page
    assert AccessLog.objects.filter(user=officer, target_type="cases.case", target_id=str(case.pk)).count() == 1

    # What was not shared is not there.
    for section in ("family", "assessments", "plan", "notes", "nonsense"):
        assert client.get(url("section", referral, section)).status_code == 404, section
    assert client.get(url("document", referral, unshared.pk)).status_code == 404
    assert client.get(url("document", referral, 999999)).status_code == 404


def test_shared_document_download_is_checked_and_logged(client_for, case, owner, receiver_org, officer):
    shared = add_document(case, owner, "Akta kelahiran")
    referral = send(case, owner, receiver_org, shared_documents=[shared])
    referral_accept(referral=referral, by=officer)
    response = client_for(officer).get(url("document", referral, shared.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get(user=officer, action="download")
    assert (log.target_type, log.target_id, log.organisation_id) == (
        "cases.document",
        str(shared.pk),
        case.organisation_id,
    )


def test_every_section_renders_for_the_receiver(client_for, case, owner, receiver_org, officer):
    component = ServiceComponent.objects.get(code="terapi")
    PlanItem.objects.create(
        case=case,
        component=component,
        service="Konseling mingguan",
        start_date=timezone.localdate(),
        target_date=timezone.localdate() + datetime.timedelta(days=30),
        created_by=owner,
    )
    CaseNote.objects.create(
        case=case, kind="home_visit", occurred_on=timezone.localdate(), narrative="Kunjungan rumah.", author=owner
    )
    referral = send(case, owner, receiver_org, shared_sections=list(SharedSection.values))
    referral_accept(referral=referral, by=officer)
    client = client_for(officer)
    expected = {
        "identity": NIK,
        "family": "Sari Rahayu",
        "assessments": "Putus sekolah.",
        "plan": "Konseling mingguan",
        "notes": "Kunjungan rumah.",
    }
    for section, text in expected.items():
        response = client.get(url("section", referral, section), **EN)
        assert response.status_code == 200, section
        assert text in response.content.decode(), section


def test_after_completion_nothing_new_is_shown(client_for, case, owner, receiver_org, officer):
    referral = send(case, owner, receiver_org, shared_sections=[SharedSection.ASSESSMENTS, SharedSection.IDENTITY])
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Konseling selesai.")
    # The sender goes on working on the case: a new assessment, an edited one, a new address.
    Assessment.objects.create(
        case=case, assessed_on=timezone.localdate(), problems="Masalah baru.", conclusion="Baru.", author=owner
    )
    old = Assessment.objects.get(problems="Putus sekolah.")
    old.problems = "Sudah kembali sekolah."
    old.save()
    child = case.beneficiary
    child.address = "Alamat baru yang rahasia"
    child.save()

    client = client_for(officer)
    assessments = client.get(url("section", referral, "assessments"), **EN).content.decode()
    assert "Putus sekolah." in assessments
    assert "Masalah baru." not in assessments and "Sudah kembali sekolah." not in assessments
    identity = client.get(url("section", referral, "identity"), **EN).content.decode()
    assert "Jl. Kenanga" in identity and "Alamat baru" not in identity
    assert "as it was when the referral ended" in identity


# --- A transfer ---------------------------------------------------------------------------


@pytest.fixture
def transfer(case, owner, receiver_org) -> Referral:
    return send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)


def test_a_transfer_is_accepted_with_the_case_manager_chosen(client_for, transfer, officer, manager, receiver_org):
    client = client_for(officer)
    html = client.get(url("detail", transfer), **EN).content.decode()
    assert 'name="accept-case_manager"' in html and f'value="{manager.pk}"' in html
    # An officer cannot manage cases: not offered.
    assert f'<option value="{officer.pk}"' not in html

    response = client.post(url("accept", transfer), {"accept-case_manager": ""}, **EN)
    assert response.status_code == 200
    assert "Choose who will manage the case." in response.content.decode()
    assert status_of(transfer) == ReferralStatus.SENT

    response = client.post(url("accept", transfer), {"accept-case_manager": str(officer.pk)}, **EN)
    assert "Choose a social worker or supervisor from the list." in response.content.decode()
    assert status_of(transfer) == ReferralStatus.SENT

    response = client.post(url("accept", transfer), {"accept-case_manager": str(manager.pk)}, **EN)
    assert response.status_code == 302 and response["Location"] == url("detail", transfer)
    assert any("the case now belongs to LKSA Kasih Terima" in m for m in message_texts(response))
    case = Case.objects.get(pk=transfer.case_id)
    assert case.organisation == receiver_org and case.case_manager == manager
    html = client_for(manager).get(url("detail", transfer), **EN).content.decode()
    assert FULL_NAME in html and reverse("cases:case_detail", args=[case.pk]) in html
    # The new owner reads the case through its own pages, not the referral's.
    assert client_for(manager).get(url("section", transfer, "identity")).status_code == 404


def test_after_a_transfer_the_sender_keeps_the_file_as_it_was(client_for, case, transfer, owner, officer, manager):
    before = add_document(case, owner, "Akta kelahiran")
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    case.refresh_from_db()
    # The new owner works on: a new note, a new document, an edited assessment and identity.
    CaseNote.objects.create(
        case=case, kind="note", occurred_on=timezone.localdate(), narrative="Catatan baru LKSA.", author=manager
    )
    after = add_document(case, manager, "Rapor sekolah", MINIMAL_PDF + b"% rapor\n")
    assessment = Assessment.objects.get(case=case)
    assessment.conclusion = "Kesimpulan baru LKSA."
    assessment.save()
    case.beneficiary.address = "Alamat di LKSA"
    case.beneficiary.save()

    client = client_for(owner)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    html = client.get(url("detail", transfer), **EN).content.decode()
    assert "The case file at the handover" in html
    for section in SharedSection.values:
        assert url("section", transfer, section) in html
    assert url("document", transfer, before.pk) in html and url("document", transfer, after.pk) not in html

    identity = client.get(url("section", transfer, "identity"), **EN).content.decode()
    assert "Jl. Kenanga" in identity and "Alamat di LKSA" not in identity
    assessments = client.get(url("section", transfer, "assessments"), **EN).content.decode()
    assert "Perlu konseling." in assessments and "Kesimpulan baru LKSA." not in assessments
    notes = client.get(url("section", transfer, "notes"), **EN).content.decode()
    assert "Catatan baru LKSA." not in notes
    assert client.get(url("document", transfer, before.pk)).status_code == 200
    assert client.get(url("document", transfer, after.pk)).status_code == 404


def test_an_accepted_transfer_cannot_be_cancelled(client_for, transfer, owner, officer, manager):
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    client = client_for(owner)
    assert 'data-testid="referral-cancel-form"' not in client.get(url("detail", transfer)).content.decode()
    response = client.post(url("cancel", transfer), {"cancel-reason": "Salah kirim."}, **EN)
    assert response.status_code == 302
    assert any("cannot be cancelled" in m for m in message_texts(response))
    assert status_of(transfer) == ReferralStatus.ACCEPTED


def test_the_officer_is_told_a_supervisor_accepts_a_transfer(client_for, case, owner, receiver_org, officer):
    """Security review: where the receiver has a supervisor, the officer cannot accept a transfer."""
    member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    page = client_for(officer).get(url("detail", transfer), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="referral-transfer-supervisor"' in page
    assert 'data-testid="referral-accept-form"' not in page
    assert 'data-testid="referral-decline"' in page


def test_after_a_transfer_the_plan_shows_only_the_new_owners_referrals(client_for, case, owner, receiver_org, officer):
    """Security review: the case's plan links only the referrals its present owner sent."""
    third = OrganisationFactory(code="LKSA-KETIGA", name="LKSA Ketiga")
    Consent.objects.get(case=case).share_with.add(third)
    today = timezone.localdate()
    item = PlanItem.objects.create(
        case=case,
        provider=third,
        component=ServiceComponent.objects.get(code="vokasional"),
        service="Kursus menjahit",
        start_date=today,
        target_date=today,
        created_by=owner,
    )
    service = send(case, owner, third, plan_item=item)
    boss = member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    referral_accept(referral=send(case, owner, receiver_org, kind=ReferralKind.TRANSFER), by=boss, case_manager=boss)
    page = client_for(boss).get(reverse("cases:case_plan", args=[case.pk])).content.decode()
    assert reverse("referrals:detail", args=[service.pk]) not in page
    assert "Kursus menjahit" in page


# --- Answers and bad input ----------------------------------------------------------------


def test_receiver_accepts(client_for, referral, officer):
    response = client_for(officer).post(url("accept", referral), **EN)
    assert response.status_code == 302
    assert any("You accepted the referral" in m for m in message_texts(response))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.answered_by == officer
    assert referral.new_case_manager is None


def test_decline_needs_a_reason_and_other_needs_words(client_for, referral, officer, owner):
    client = client_for(officer)
    response = client.post(url("decline", referral), {"decline-reason": "", "decline-note": ""}, **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose the reason for declining." in html
    assert 'open data-testid="referral-decline"' in html
    assert status_of(referral) == ReferralStatus.SENT

    response = client.post(url("decline", referral), {"decline-reason": "other", "decline-note": "  "}, **EN)
    assert "Explain why the referral is declined." in response.content.decode()
    assert status_of(referral) == ReferralStatus.SENT

    response = client.post(url("decline", referral), {"decline-reason": "bogus"}, **EN)
    assert response.status_code == 200 and status_of(referral) == ReferralStatus.SENT

    response = client.post(
        url("decline", referral), {"decline-reason": "other", "decline-note": "Anak di luar usia layanan kami."}, **EN
    )
    assert response.status_code == 302
    assert any("You declined the referral" in m for m in message_texts(response))
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason) == (ReferralStatus.DECLINED, "other")
    assert referral.decline_note == "Anak di luar usia layanan kami."

    # The sender sees why, and may re-send it elsewhere from here.
    html = client_for(owner).get(url("detail", referral), **EN).content.decode()
    assert "Anak di luar usia layanan kami." in html
    resend = reverse("referrals:send", args=[referral.case_id]) + f"?resend={referral.pk}"
    assert resend in html
    # ... the receiver does not get that link, and the thread is closed.
    html = client.get(url("detail", referral), **EN).content.decode()
    assert "?resend=" not in html and 'data-testid="referral-thread-closed"' in html


def test_a_resent_referral_names_the_first_answer_only_to_the_sender(client_for, referral, case, owner, officer):
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    second_org = OrganisationFactory(code="LKSA-KEDUA", name="LKSA Kedua")
    Consent.objects.get(case=case).share_with.add(second_org)
    second_officer = member(organisation=second_org, role=Role.REFERRAL_OFFICER)
    resent = send(case, owner, second_org, resent_from=referral)
    sender_html = client_for(owner).get(url("detail", resent), **EN).content.decode()
    assert "a referral declined by LKSA Kasih Terima" in sender_html
    # The first referral's history points to the new one, for the sender only.
    first_html = client_for(owner).get(url("detail", referral), **EN).content.decode()
    assert url("detail", resent) in first_html and "Re-sent to LKSA Kedua" in first_html
    receiver_html = client_for(second_officer).get(url("detail", resent), **EN).content.decode()
    assert "LKSA Kasih Terima" not in receiver_html
    # The first receiver does not learn where the child went next.
    assert "LKSA Kedua" not in client_for(officer).get(url("detail", referral), **EN).content.decode()


def test_complete_needs_an_outcome(client_for, referral, officer):
    referral_accept(referral=referral, by=officer)
    client = client_for(officer)
    response = client.post(url("complete", referral), {"complete-outcome": "   "}, **EN)
    assert response.status_code == 200
    assert "Report the outcome" in response.content.decode()
    assert status_of(referral) == ReferralStatus.ACCEPTED

    response = client.post(url("complete", referral), {"complete-outcome": "Enam sesi konseling selesai."}, **EN)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED and referral.outcome == "Enam sesi konseling selesai."


def test_answering_a_cancelled_referral_says_so_and_changes_nothing(client_for, referral, officer, owner):
    client = client_for(officer)
    assert 'data-testid="referral-accept-form"' in client.get(url("detail", referral)).content.decode()
    # Meanwhile the sender cancels; the receiver's page still shows the buttons.
    referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    for action, data in (
        ("accept", {}),
        ("decline", {"decline-reason": "no_capacity"}),
        ("complete", {"complete-outcome": "Selesai."}),
    ):
        response = client.post(url(action, referral), data, **EN)
        assert response.status_code == 302, action
        texts = message_texts(response)
        assert texts and ("already answered" in texts[0] or "it is now: Cancelled" in texts[0]), (action, texts)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED and referral.answered_by is None and referral.outcome == ""


def test_a_second_answer_gets_the_first_ones_result(client_for, referral, officer, receiver_org):
    other_officer = member(organisation=receiver_org, role=Role.SUPERVISOR)
    referral_accept(referral=referral, by=other_officer)
    response = client_for(officer).post(url("decline", referral), {"decline-reason": "no_capacity"}, **EN)
    assert response.status_code == 302
    assert any("already answered meanwhile (it is now: Accepted)" in m for m in message_texts(response))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.answered_by == other_officer


def test_cancel_needs_a_reason_and_the_receiver_cannot_cancel(client_for, referral, owner, officer):
    response = client_for(officer).post(url("cancel", referral), {"cancel-reason": "Tidak mau."}, **EN)
    assert response.status_code == 302
    refusal = "Only the worker who sent this referral, the case manager or a supervisor of Balai Anak Uji can cancel"
    assert any(refusal in m for m in message_texts(response))
    assert status_of(referral) == ReferralStatus.SENT

    client = client_for(owner)
    response = client.post(url("cancel", referral), {"cancel-reason": " "}, **EN)
    assert response.status_code == 200
    assert "Say why the referral is cancelled." in response.content.decode()
    assert status_of(referral) == ReferralStatus.SENT

    response = client.post(url("cancel", referral), {"cancel-reason": "Keluarga pindah ke Padang."}, **EN)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED and referral.cancel_reason == "Keluarga pindah ke Padang."
    html = client.get(url("detail", referral), **EN).content.decode()
    assert "Keluarga pindah ke Padang." in html and 'data-testid="referral-cancel-form"' not in html


def test_the_sender_cannot_answer(client_for, referral, owner):
    response = client_for(owner).post(url("accept", referral), **EN)
    assert response.status_code == 302
    refusal = "Only the referral officers and supervisors of LKSA Kasih Terima can answer"
    assert any(refusal in m for m in message_texts(response))
    assert status_of(referral) == ReferralStatus.SENT


@pytest.mark.parametrize("name", ["accept", "decline", "complete", "cancel", "message_create"])
def test_post_only_urls_refuse_get(client_for, referral, officer, name):
    assert client_for(officer).get(url(name, referral)).status_code == 405
    assert status_of(referral) == ReferralStatus.SENT


# --- Outsiders ----------------------------------------------------------------------------


@pytest.fixture
def outsiders(outsider, third_worker, receiver_org):
    receiver_admin = member(organisation=receiver_org, role=Role.ORG_ADMIN, username="receiveradmin")
    return {"other org admin": outsider, "third org worker": third_worker, "receiver's org admin": receiver_admin}


def test_outsiders_get_404_on_every_url(client_for, case, owner, receiver_org, officer, outsiders):
    shared = add_document(case, owner)
    referral = send(case, owner, receiver_org, shared_sections=list(SharedSection.values), shared_documents=[shared])
    referral_accept(referral=referral, by=officer)
    referral_message_send(referral=referral, by=owner, body="Terlampir akta.", attachments=[shared])
    gets = [url("detail", referral), url("document", referral, shared.pk)]
    gets += [url("section", referral, s) for s in SharedSection.values]
    posts = {
        url("accept", referral): {},
        url("decline", referral): {"decline-reason": "no_capacity"},
        url("complete", referral): {"complete-outcome": "Selesai."},
        url("cancel", referral): {"cancel-reason": "Batal."},
        url("message_create", referral): {"message-body": "Halo?"},
    }
    for who, user in outsiders.items():
        client = client_for(user)
        for address in gets:
            assert client.get(address).status_code == 404, (who, address)
        for address, data in posts.items():
            assert client.post(address, data).status_code == 404, (who, address)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.messages.count() == 1
    # Refused: denials in the log (stakeholders.denials), nothing shown.
    assert not AccessLog.objects.filter(user__in=outsiders.values()).exclude(action="denied").exists()


# --- Messages -----------------------------------------------------------------------------


def test_both_sides_write_and_the_receiver_downloads_an_attachment(client_for, case, owner, receiver_org, officer):
    akta = add_document(case, owner, "Akta kelahiran")
    referral = send(case, owner, receiver_org)
    referral_accept(referral=referral, by=officer)
    sender = client_for(owner)
    html = sender.get(url("detail", referral), **EN).content.decode()
    assert 'name="message-attachments"' in html and f'value="{akta.pk}"' in html
    token = "2b0f4a3e-1c55-4a53-9a3e-9c1de0e1a001"
    data = {
        "message-body": "Terlampir akta kelahiran.",
        "message-attachments": [str(akta.pk)],
        "message-submission_token": token,
    }
    response = sender.post(url("message_create", referral), data, **EN)
    assert response.status_code == 302 and response["Location"].endswith("#thread")
    # A double click is saved once.
    response = sender.post(url("message_create", referral), data, **EN)
    assert any("already saved" in m for m in message_texts(response))
    message = ReferralMessage.objects.get(referral=referral)
    assert (message.author, message.organisation_id) == (owner, case.organisation_id)
    assert list(message.attachments.all()) == [akta]

    receiver = client_for(officer)
    html = receiver.get(url("detail", referral), **EN).content.decode()
    assert "Terlampir akta kelahiran." in html
    assert url("document", referral, akta.pk) in html
    response = receiver.get(url("document", referral, akta.pk))
    assert response.status_code == 200 and b"".join(response.streaming_content) == MINIMAL_PDF
    assert AccessLog.objects.filter(user=officer, action="download", target_id=str(akta.pk)).exists()

    # The receiver answers; it may attach only what was shared with it (nothing here).
    html = receiver.get(url("detail", referral), **EN).content.decode()
    assert f'value="{akta.pk}"' not in html
    response = receiver.post(
        url("message_create", referral), {"message-body": "Diterima.", "message-attachments": [str(akta.pk)]}, **EN
    )
    assert response.status_code == 200 and "Attach only documents from the list." in response.content.decode()
    response = receiver.post(url("message_create", referral), {"message-body": "Terima kasih, diterima."}, **EN)
    assert response.status_code == 302
    reply = ReferralMessage.objects.filter(referral=referral).latest("pk")
    assert reply.organisation_id == receiver_org.pk and not reply.attachments.exists()


def test_the_sender_attaches_only_documents_of_the_case(client_for, referral, case, org, owner, officer):
    add_document(case, owner)
    foreign = add_document(open_case(organisation=org, by=owner), owner, "Berkas anak lain")
    referral_accept(referral=referral, by=officer)
    data = {"message-body": "Lihat berkas.", "message-attachments": [str(foreign.pk)]}
    response = client_for(owner).post(url("message_create", referral), data, **EN)
    assert response.status_code == 200
    assert "Attach only documents from the list." in response.content.decode()
    assert not ReferralMessage.objects.exists()


def test_a_message_needs_words(client_for, referral, owner):
    response = client_for(owner).post(url("message_create", referral), {"message-body": "  "}, **EN)
    assert response.status_code == 200
    assert "Write your message." in response.content.decode()
    assert not ReferralMessage.objects.exists()


def test_no_attachments_before_acceptance(referral, case, owner):
    akta = add_document(case, owner)
    with pytest.raises(ApplicationError, match="once LKSA Kasih Terima has accepted"):
        referral_message_send(referral=referral, by=owner, body="Lihat akta.", attachments=[akta])
    assert not ReferralMessage.objects.exists()


def test_no_attachments_without_consent_any_more(referral, case, owner, officer):
    akta = add_document(case, owner)
    referral_accept(referral=referral, by=officer)
    Consent.objects.filter(case=case).update(withdrawn_on=timezone.localdate(), withdrawal_reason="Ditarik.")
    with pytest.raises(ApplicationError, match="no longer consent"):
        referral_message_send(referral=referral, by=owner, body="Lihat akta.", attachments=[akta])
    assert not ReferralMessage.objects.exists()


def test_an_attachment_of_another_case_is_refused(referral, org, owner, officer):
    other_case = open_case(organisation=org, by=owner)
    foreign = add_document(other_case, owner)
    referral_accept(referral=referral, by=officer)
    with pytest.raises(ApplicationError, match="Attach only documents of this case"):
        referral_message_send(referral=referral, by=owner, body="Salah berkas.", attachments=[foreign])
    assert not ReferralMessage.objects.exists()


def test_the_thread_closes_when_the_referral_ends(client_for, referral, owner, officer):
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Selesai.")
    client = client_for(owner)
    html = client.get(url("detail", referral), **EN).content.decode()
    assert 'data-testid="referral-message-form"' not in html and 'data-testid="referral-thread-closed"' in html
    response = client.post(url("message_create", referral), {"message-body": "Satu lagi?"}, **EN)
    assert response.status_code == 302
    assert any("its conversation is closed" in m for m in message_texts(response))
    assert not ReferralMessage.objects.exists()


def test_only_parties_write(referral, third_worker):
    with pytest.raises(ApplicationError, match="Only the staff of"):
        referral_message_send(referral=referral, by=third_worker, body="Halo.")
    assert not ReferralMessage.objects.exists()


def test_the_history_lists_steps_and_messages_in_order(client_for, referral, owner, officer):
    referral_message_send(referral=referral, by=officer, body="Berapa usia pastinya?")
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Selesai dengan baik.")
    html = client_for(owner).get(url("detail", referral), **EN).content.decode()
    positions = [
        html.index('data-kind="sent"'),
        html.index("Berapa usia pastinya?"),
        html.index('data-kind="accepted"'),
        html.index('data-kind="completed"'),
    ]
    assert positions == sorted(positions)
    assert "Selesai dengan baik." in html


# --- Queries ------------------------------------------------------------------------------


def test_the_page_has_a_bounded_number_of_queries(
    client_for, case, owner, receiver_org, officer, django_assert_max_num_queries
):
    documents = [add_document(case, owner, f"Berkas {n}", MINIMAL_PDF + f"% {n}\n".encode()) for n in range(5)]
    referral = send(case, owner, receiver_org, shared_sections=list(SharedSection.values), shared_documents=documents)
    referral_accept(referral=referral, by=officer)
    for n in range(30):
        author = owner if n % 2 else member(organisation=receiver_org, role=Role.SOCIAL_WORKER)
        attachments = documents[: n % 3] if author == owner else []
        referral_message_send(referral=referral, by=author, body=f"Pesan {n}", attachments=attachments)
    for user in (owner, officer):
        client = client_for(user)
        client.get(url("detail", referral))  # warm the session
        with django_assert_max_num_queries(17):
            response = client.get(url("detail", referral))
        assert response.status_code == 200
        assert response.content.decode().count('data-testid="referral-message"') == 30


def test_access_rules_in_one_place(case, owner, receiver_org, officer, manager):
    """material.referral_access, side by side for the kinds and statuses."""
    service = send(case, owner, receiver_org, shared_sections=[SharedSection.PLAN])
    access = material.referral_access(user=officer, referral=service)
    assert (access.side, access.sections, access.documents, access.case_readable) == ("receiver", (), False, False)
    referral_accept(referral=service, by=officer)
    access = material.referral_access(user=officer, referral=service)
    assert (access.sections, access.documents, access.cutoff) == (("plan",), True, None)
    referral_cancel(referral=service, by=owner, reason="Selesai di tempat lain.")
    service.refresh_from_db()
    access = material.referral_access(user=officer, referral=service)
    assert access.sections == ("plan",) and access.cutoff == service.cancelled_at
    sender_access = material.referral_access(user=owner, referral=service)
    assert (sender_access.side, sender_access.sections, sender_access.case_readable) == ("sender", (), True)
