"""workforce_create / workforce_update: NIK checked part by part, one record per person and role."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from atensi.core.errors import ApplicationError
from stakeholders import services
from stakeholders.models import Region, WorkforceMember

pytestmark = pytest.mark.django_db

NIK = "1571014509900001"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def create(org, by, **kwargs):
    values = {"kind": "tksk", "name": " Siti Aminah ", "nik": "1571 0145 0990 0001"} | kwargs
    return services.workforce_create(organisation=org, by=by, **values)


def test_an_org_admin_registers_a_worker(org, org_admin):
    district = Region.objects.get(code="157101")
    member = create(
        org,
        org_admin,
        phone="0812 3456 7890",
        regions=[district],
        certificate_expires=datetime.date(2027, 12, 31),
    )
    member.refresh_from_db()
    assert (member.name, member.nik, member.organisation) == ("Siti Aminah", NIK, org)
    assert list(member.regions.all()) == [district]


def test_the_nik_message_says_which_part_is_wrong(org, org_admin):
    with pytest.raises(ApplicationError, match=r"Digits 7 to 12.*310290") as exc:
        create(org, org_admin, nik="1571013102900001")
    assert exc.value.field == "nik"
    with pytest.raises(ApplicationError, match="exactly 16 digits"):
        create(org, org_admin, nik="12345")
    assert not WorkforceMember.objects.exists()


def test_other_fields_are_checked_by_the_model(org, org_admin):
    with pytest.raises(ApplicationError) as exc:
        create(org, org_admin, phone="12")
    assert exc.value.field == "phone"
    with pytest.raises(ApplicationError) as exc:
        create(org, org_admin, kind="dukun")
    assert exc.value.field == "kind"
    assert not WorkforceMember.objects.exists()


def test_the_same_person_in_the_same_role_is_refused_but_another_role_is_fine(org, org_admin, other_org, outsider):
    create(org, org_admin)
    with pytest.raises(ApplicationError, match="already registered as"):
        create(other_org, outsider)
    create(org, org_admin, kind="psm")
    assert WorkforceMember.objects.filter(nik=NIK).count() == 2


def test_only_admins_of_the_organisation_write(org, owner, outsider, org_admin):
    with pytest.raises(ApplicationError, match="Only an administrator"):
        create(org, owner)
    member = create(org, org_admin)
    with pytest.raises(ApplicationError, match="Only an administrator"):
        services.workforce_update(member=member, by=outsider, name="Diganti")
    member.refresh_from_db()
    assert member.name == "Siti Aminah"


def test_update_changes_the_given_fields(org, org_admin):
    member = create(org, org_admin)
    village = Region.objects.get(code="1571011004")
    updated = services.workforce_update(
        member=member, by=org_admin, phone="0813 1111 2222", is_active=False, regions=[village]
    )
    member.refresh_from_db()
    assert (member.phone, member.is_active) == ("0813 1111 2222", False)
    assert list(updated.regions.all()) == [village]


def test_update_refuses_a_bad_nik_or_a_taken_role_and_changes_nothing(org, org_admin):
    member = create(org, org_admin)
    create(org, org_admin, kind="psm", nik="1571010101850002")
    with pytest.raises(ApplicationError, match="Digits 7 to 12"):
        services.workforce_update(member=member, by=org_admin, nik="1571013102900001")
    with pytest.raises(ApplicationError, match="already registered as"):
        services.workforce_update(member=member, by=org_admin, nik="1571010101850002", kind="psm")
    member.refresh_from_db()
    assert (member.nik, member.kind) == (NIK, "tksk")
    with pytest.raises(ValueError):
        services.workforce_update(member=member, by=org_admin, organisation=org)  # type: ignore[call-arg]  # refused at run time too
