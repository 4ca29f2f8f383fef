"""The registration search stops being an oracle (cases.beneficiaries.screening): a child held
in a confidential case elsewhere is only "registered elsewhere", with a request for contact;
every search is in the access log without the NIK in clear; matches of other organisations'
children are limited per hour, own-organisation and empty searches are not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atensi.core.models import AccessLog, Notification
from atensi.core.ratelimit import keyed_hash
from cases.models import Case
from cases.tests.factories import BeneficiaryFactory, open_case
from cases.tests.test_beneficiaries import BOY_NIK, GIRL_NIK, errors_of, register
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:beneficiary_search")
CONTACT = reverse("cases:beneficiary_contact_request")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def hidden(other_org):
    """A child Balai Anak Lain holds in a confidential case."""
    worker = member(organisation=other_org)
    child = BeneficiaryFactory(organisation=other_org, created_by=worker, full_name="Putri Rahasia", nik=GIRL_NIK)
    case = open_case(organisation=other_org, by=worker, beneficiary=child)
    Case.objects.filter(pk=case.pk).update(is_confidential=True)
    return child


def test_a_confidential_child_elsewhere_is_only_registered_elsewhere_and_contact_reaches_the_holders(
    client_for, org, other_org, owner, hidden
):
    holder = member(organisation=other_org, role=Role.SUPERVISOR)
    client = client_for(owner)
    response = client.post(SEARCH, {"nik": GIRL_NIK}, **EN)
    text = response.content.decode()
    assert "A person with this NIK is already registered elsewhere" in text
    holder_page = reverse("stakeholders:organisation_detail", args=[other_org.pk])
    for secret in ("Putri Rahasia", "Balai Anak Lain", holder_page):
        assert secret not in text
    match = response.context["result"].nik_match
    assert match.confidential and match.organisation_name == "" and match.birth_year is None
    # The search is in the access log: the record it touched, whose it is, the NIK never in clear.
    logged = AccessLog.objects.get(action="search", user=owner)
    assert (logged.target_id, logged.organisation_id) == (str(hidden.pk), other_org.pk)
    assert logged.target_label == f"NIK {keyed_hash(GIRL_NIK)[:16]}" and GIRL_NIK not in logged.path
    assert not AccessLog.objects.filter(target_label__contains=GIRL_NIK).exists()

    asked = client.post(CONTACT, {"token": match.contact_token, "next": SEARCH}, follow=True, **EN)
    assert "asked to contact you" in asked.content.decode()
    bell = Notification.objects.get(kind="contact_requested")
    assert bell.recipient == holder and bell.organisation_id == other_org.pk
    assert bell.link == reverse("cases:beneficiary_detail", args=[hidden.pk])  # theirs to open
    contact = AccessLog.objects.get(action="contact", user=owner)
    assert (contact.target_id, contact.organisation_id) == (str(hidden.pk), other_org.pk)
    # Asked again the same day: the holders hear it once.
    client.post(CONTACT, {"token": match.contact_token})
    assert Notification.objects.filter(kind="contact_requested").count() == 1


def test_a_forged_token_asks_nobody(client_for, owner, other_org, hidden):
    member(organisation=other_org, role=Role.SUPERVISOR)
    response = client_for(owner).post(CONTACT, {"token": f"{hidden.pk}:forged"}, follow=True, **EN)
    assert "too old or not valid" in response.content.decode()
    assert not Notification.objects.filter(kind="contact_requested").exists()
    assert not AccessLog.objects.filter(action="contact").exists()


def test_a_name_search_shows_the_confidential_child_as_registered_elsewhere(client_for, owner, hidden):
    response = client_for(owner).get(SEARCH, {"full_name": "Putri Rahasia"}, **EN)
    text = response.content.decode()
    assert "Possible match registered elsewhere" in text and "Balai Anak Lain" not in text
    assert 'data-testid="request-contact"' in text


def test_registering_a_confidential_childs_nik_is_refused_without_naming_the_holder(client_for, org, owner, hidden):
    response = register(client_for(owner), org, nik=GIRL_NIK, full_name="Budi", sex="F")
    message = " ".join(errors_of(response)["nik"])
    assert "already registered elsewhere" in message and "Balai Anak Lain" not in message


def test_other_organisations_matches_are_limited_own_and_empty_searches_are_not(
    client_for, org, other_org, owner, settings
):
    settings.ATENSI_FOREIGN_MATCHES_PER_HOUR = 2
    elsewhere = member(organisation=other_org)
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Siti Lain", nik=GIRL_NIK)
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Sendiri", nik=BOY_NIK)
    client = client_for(owner)
    for _ in range(5):  # own children and nobody at all: as often as the work needs
        assert client.post(SEARCH, {"nik": BOY_NIK}, **EN).context["result"].nik_match.visible
        assert client.post(SEARCH, {"nik": "1571010101150009"}, **EN).context["result"].nik_match is None
    for _ in range(2):
        assert client.post(SEARCH, {"nik": GIRL_NIK}, **EN).context["result"].nik_match is not None
    third = client.post(SEARCH, {"nik": GIRL_NIK}, **EN)
    assert third.context["result"].nik_match is None and third.context["result"].limited
    assert "You reached the limit of 2 searches an hour" in third.content.decode()
    assert client.post(SEARCH, {"nik": BOY_NIK}, **EN).context["result"].nik_match.visible  # own: still shown
    # Every search is logged, the empty ones as one row with no record.
    assert AccessLog.objects.filter(action="search", user=owner, target_id="").count() == 5
