from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from cases.models import Assessment, Case, Consent, FamilyMember, Relation, Sex

# Service messages are asserted in English, whatever the Indonesian catalogue says.
from cases.tests.conftest import english as english  # an autouse fixture
from cases.tests.factories import BeneficiaryFactory, open_case, village
from stakeholders.models import OrganisationKind
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

# The child of the referral page's case.
FULL_NAME = "Budi Santoso Wijaya"
NIK = "1571011705150003"
ADDRESS = "Jl. Kenanga No. 12, RT 04"


@pytest.fixture
def private_storage(settings, tmp_path) -> Path:
    """Uploads go to a directory of this test alone (modules that upload use it throughout)."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def receiver_org(db):
    """The organisation the referral page's case is referred to."""
    return OrganisationFactory(code="LKSA-TERIMA", name="LKSA Kasih Terima", kind=OrganisationKind.LKSA)


@pytest.fixture
def officer(receiver_org):
    """The receiver's referral officer, who answers."""
    return member(organisation=receiver_org, role=Role.REFERRAL_OFFICER, username="officer")


@pytest.fixture
def manager(receiver_org):
    """A social worker of the receiver: the case manager a transfer is handed to."""
    return member(organisation=receiver_org, role=Role.SOCIAL_WORKER, username="newmanager")


@pytest.fixture
def case(org, owner, receiver_org) -> Case:
    """The referral page's case: a child with identity, family and an assessment, and consent
    to share with `receiver_org`. (Modules about other receivers define their own `case`.)"""
    child = BeneficiaryFactory(
        organisation=org,
        created_by=owner,
        full_name=FULL_NAME,
        nik=NIK,
        address=ADDRESS,
        sex=Sex.MALE,
        birth_date=datetime.date(2015, 5, 17),
        village=village("1571011004"),
        regency_code="1571",
    )
    case = open_case(organisation=org, by=owner, beneficiary=child)
    consent = Consent.objects.create(
        case=case, given_by_name="Ibu Sari", relation="mother", given_on=timezone.localdate(), recorded_by=owner
    )
    consent.share_with.set([receiver_org])
    FamilyMember.objects.create(beneficiary=child, relation=Relation.MOTHER, name="Sari Rahayu", phone="081234567890")
    Assessment.objects.create(
        case=case,
        assessed_on=timezone.localdate(),
        problems="Putus sekolah.",
        conclusion="Perlu konseling.",
        author=owner,
    )
    return case
