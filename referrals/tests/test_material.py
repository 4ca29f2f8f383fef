"""What a referral opens of a child's file (referrals/material.py). From the security review:

- a withdrawn consent closes the receiver's shared material (sections, documents,
  attachments), and the page says why;
- after an accepted transfer, the thread's attachments open only to those of the new
  owner who may read the case;
- a file shown as it was at a cut-off shows the child and family the case had then, not
  the record (and family, address) a later merge brought in from another organisation.
"""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from atensi.core.models import AccessLog
from atensi.testing.files import pdf_bytes
from cases import documents as docs
from cases.beneficiaries import beneficiary_merge
from cases.models import Case, Consent, FamilyMember, Relation, SharingOverride
from cases.tests.factories import BeneficiaryFactory, open_case
from referrals import material
from referrals.messages import referral_message_send
from referrals.models import Referral, ReferralKind, SharedSection
from referrals.services import referral_accept, referral_complete
from referrals.tests.conftest import ADDRESS, FULL_NAME, NIK
from referrals.tests.test_detail_views import EN, add_document, send, url
from stakeholders.roles import Role
from stakeholders.tests.factories import member

# The referral page's fixtures (conftest.py): the case with consent for the receiver, the
# receiver, its referral officer and its social worker; uploads in a directory of the test's own.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

CLOSED = "consent to share with LKSA Kasih Terima was withdrawn; the shared material is closed."


def withdraw(case_obj: Case, by) -> None:
    consent = Consent.objects.get(case=case_obj)
    docs.consent_withdraw(consent=consent, by=by, withdrawn_on=timezone.localdate(), reason="Ibu menarik izin.")


@pytest.fixture
def shared(case, owner, receiver_org, officer):
    """An accepted service referral sharing every section and a document, with an
    attachment in its thread."""
    akta = add_document(case, owner, "Akta kelahiran")
    rapor = add_document(case, owner, "Rapor sekolah", pdf_bytes())
    referral = send(case, owner, receiver_org, shared_sections=list(SharedSection.values), shared_documents=[akta])
    referral_accept(referral=referral, by=officer)
    referral_message_send(referral=referral, by=owner, body="Terlampir rapor.", attachments=[rapor])
    return referral, akta, rapor


def assert_closed(client, referral: Referral, *documents) -> None:
    response = client.get(url("detail", referral), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert CLOSED in html and 'data-testid="referral-sharing-withdrawn"' in html
    assert 'data-testid="referral-material"' not in html
    assert FULL_NAME not in html and NIK not in html
    for section in SharedSection.values:
        assert url("section", referral, section) not in html
        assert client.get(url("section", referral, section)).status_code == 404, section
    for document in documents:
        assert url("document", referral, document.pk) not in html
        assert client.get(url("document", referral, document.pk)).status_code == 404, document.title


# --- (p1) A withdrawn consent closes the shared material ------------------------------------


def test_withdrawn_consent_closes_a_live_referral(client_for, shared, case, owner, officer):
    referral, akta, rapor = shared
    client = client_for(officer)
    # While the consent holds, everything shared is open.
    assert NIK in client.get(url("section", referral, "identity")).content.decode()
    assert client.get(url("document", referral, akta.pk)).status_code == 200
    assert client.get(url("document", referral, rapor.pk)).status_code == 200

    withdraw(case, owner)
    access = material.referral_access(user=officer, referral=referral)
    assert access.sharing_withdrawn
    assert (access.sections, access.documents, access.attachments, access.has_material) == ((), False, False, False)
    logged = AccessLog.objects.count()
    assert_closed(client, referral, akta, rapor)
    # Only the page itself was logged: nothing of the child's file was opened (the refused
    # document is a denial, stakeholders.denials).
    opened = AccessLog.objects.order_by("pk")[logged:]
    assert {row.target_type for row in opened if row.action != "denied"} == {"referrals.referral"}

    # The sender is not told the receiver's sentence and keeps its own case.
    html = client_for(owner).get(url("detail", referral), **EN).content.decode()
    assert CLOSED not in html and FULL_NAME in html
    assert not material.referral_access(user=owner, referral=referral).sharing_withdrawn


def test_a_consent_that_no_longer_names_the_receiver_closes_it_too(client_for, shared, case, officer):
    referral, akta, rapor = shared
    Consent.objects.get(case=case).share_with.clear()
    assert_closed(client_for(officer), referral, akta, rapor)


def test_withdrawn_consent_closes_a_completed_referral_too(client_for, shared, case, owner, officer):
    referral, akta, rapor = shared
    referral_complete(referral=referral, by=officer, outcome="Konseling selesai.")
    referral.refresh_from_db()
    assert "Putus sekolah." in client_for(officer).get(url("section", referral, "assessments")).content.decode()
    withdraw(case, owner)
    assert_closed(client_for(officer), referral, akta, rapor)


def test_an_emergency_decision_keeps_the_material_open(
    client_for, shared, case, owner, supervisor, receiver_org, officer
):
    referral, akta, _rapor = shared
    SharingOverride.objects.create(
        case=case, organisation=receiver_org, reason="Anak dalam bahaya, ibu tak terhubungi.", decided_by=supervisor
    )
    withdraw(case, owner)
    access = material.referral_access(user=officer, referral=referral)
    assert not access.sharing_withdrawn and access.sections == tuple(SharedSection.values)
    client = client_for(officer)
    html = client.get(url("detail", referral), **EN).content.decode()
    assert CLOSED not in html and url("document", referral, akta.pk) in html
    assert NIK in client.get(url("section", referral, "identity")).content.decode()
    assert client.get(url("document", referral, akta.pk)).status_code == 200


def test_the_closed_page_keeps_a_bounded_number_of_queries(
    client_for, shared, case, owner, officer, django_assert_max_num_queries
):
    referral, _akta, _rapor = shared
    withdraw(case, owner)
    client = client_for(officer)
    client.get(url("detail", referral))  # warm the session
    with django_assert_max_num_queries(17):
        assert client.get(url("detail", referral)).status_code == 200


@pytest.fixture
def b_super(receiver_org):
    """The receiver's supervisor: accepts a transfer and chooses its case manager."""
    return member(organisation=receiver_org, role=Role.SUPERVISOR, username="bsuper")


# --- (p4/p5) After a transfer, attachments only to those who may read the case --------------


def test_attachments_of_a_transferred_confidential_case_only_for_its_readers(
    client_for, case, owner, receiver_org, b_super, manager
):
    Case.objects.filter(pk=case.pk).update(is_confidential=True)
    akta = add_document(case, owner, "Akta kelahiran")
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=b_super, case_manager=manager)
    referral_message_send(referral=transfer, by=owner, body="Terlampir akta.", attachments=[akta])
    transfer.refresh_from_db()

    colleague = member(organisation=receiver_org, role=Role.SOCIAL_WORKER, username="bcolleague")
    assert client_for(colleague).get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    access = material.referral_access(user=colleague, referral=transfer)
    assert not access.case_readable
    assert (access.attachments, access.has_material) == (False, False)
    with pytest.raises(Http404):
        material.document_get_for_access(access, akta.pk)
    # Through the web: 404 (the page itself may be closed to them too).
    assert client_for(colleague).get(url("document", transfer, akta.pk)).status_code == 404
    assert not AccessLog.objects.filter(user=colleague, action="download").exists()

    # The new case manager reads the case, so the attachment too.
    access = material.referral_access(user=manager, referral=transfer)
    assert access.case_readable and access.attachments
    response = client_for(manager).get(url("document", transfer, akta.pk))
    assert response.status_code == 200


# --- (p7) The file at a cut-off is the child the case had then --------------------------------


@pytest.fixture
def other_record(receiver_org, b_super):
    """The same child, registered separately by the receiver, with its own family and address."""
    keep = BeneficiaryFactory(
        organisation=receiver_org,
        created_by=b_super,
        full_name="Budi S. Wijaya",
        nik="",
        address="Alamat catatan LKSA",
        birth_date=datetime.date(2015, 5, 17),
    )
    FamilyMember.objects.create(
        beneficiary=keep, relation=Relation.UNCLE_AUNT, name="Paman Rahasia LKSA", phone="089999999999"
    )
    return keep, b_super


def test_a_merge_after_the_handover_does_not_rewrite_the_senders_file(
    client_for, case, owner, receiver_org, manager, other_record
):
    keep, b_super = other_record
    old_child = case.beneficiary
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=b_super, case_manager=manager)
    transfer.refresh_from_db()
    # After the handover the new owner edits the family and adds a member ...
    mother = FamilyMember.objects.get(beneficiary=old_child, name="Sari Rahayu")
    mother.phone = "087700000000"
    mother.save()
    FamilyMember.objects.create(beneficiary=old_child, relation=Relation.SIBLING, name="Adik Baru LKSA")
    # ... and merges the child's record into the one it had registered itself.
    beneficiary_merge(survivor=keep, merged=old_child, by=b_super, reason="Orang yang sama.")
    case.refresh_from_db()
    assert case.beneficiary_id == keep.pk
    assert set(keep.family.values_list("name", flat=True)) == {"Paman Rahasia LKSA", "Sari Rahayu", "Adik Baru LKSA"}

    access = material.referral_access(user=owner, referral=transfer)
    assert access.handover and access.beneficiary_id == old_child.pk
    members = material.family_section(access)
    assert [(m.name, m.phone) for m in members] == [("Sari Rahayu", "081234567890")]

    client = client_for(owner)
    family = client.get(url("section", transfer, "family"), **EN).content.decode()
    assert "Sari Rahayu" in family and "081234567890" in family
    for later in ("Paman Rahasia LKSA", "089999999999", "Adik Baru LKSA", "087700000000"):
        assert later not in family, later
    identity = client.get(url("section", transfer, "identity"), **EN).content.decode()
    assert FULL_NAME in identity and NIK in identity and "Jl. Kenanga" in identity
    assert "Alamat catatan LKSA" not in identity and "Budi S. Wijaya" not in identity
    page = client.get(url("detail", transfer), **EN).content.decode()
    assert FULL_NAME in page and "Budi S. Wijaya" not in page


def test_a_merge_after_completion_does_not_rewrite_the_receivers_file(
    client_for, case, owner, org, receiver_org, officer, supervisor, other_record
):
    keep, _b_super = other_record
    old_child = case.beneficiary
    referral = send(case, owner, receiver_org, shared_sections=[SharedSection.IDENTITY, SharedSection.FAMILY])
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Konseling selesai.")
    referral.refresh_from_db()
    # The sender's supervisor has a (closed) case of its own for the receiver's record of
    # the same child, and merges the referred child's record into it.
    other_case = open_case(organisation=org, by=owner, beneficiary=keep)
    Case.objects.filter(pk=other_case.pk).update(stage="closed", closed_at=timezone.now(), closure_reason="goals_met")
    beneficiary_merge(survivor=keep, merged=old_child, by=supervisor, reason="Orang yang sama.")
    assert Case.objects.get(pk=case.pk).beneficiary_id == keep.pk

    access = material.referral_access(user=officer, referral=referral)
    assert access.cutoff == referral.completed_at and access.beneficiary_id == old_child.pk
    client = client_for(officer)
    family = client.get(url("section", referral, "family"), **EN).content.decode()
    assert "Sari Rahayu" in family and "Paman Rahasia LKSA" not in family
    identity = client.get(url("section", referral, "identity"), **EN).content.decode()
    assert NIK in identity and ADDRESS in identity and "Alamat catatan LKSA" not in identity


def test_a_live_file_follows_the_case(case, owner, receiver_org, officer):
    """Without a cut-off the case's current child is shown (no audit-trail look-ups)."""
    referral = send(case, owner, receiver_org, shared_sections=[SharedSection.FAMILY])
    referral_accept(referral=referral, by=officer)
    access = material.referral_access(user=officer, referral=referral)
    assert access.cutoff is None and access.beneficiary_id == case.beneficiary_id
    FamilyMember.objects.create(beneficiary=case.beneficiary, relation=Relation.SIBLING, name="Adik")
    assert {m.name for m in material.family_section(access)} == {"Sari Rahayu", "Adik"}
