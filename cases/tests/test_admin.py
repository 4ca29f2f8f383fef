"""Case admin: read-only, scoped like the portal, and every record view logged."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from atensi.core.models import AccessLog
from cases.tests.factories import BeneficiaryFactory, logged_in, open_case
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


def test_superuser_reads_a_case_and_the_view_is_logged(org, owner, superuser, client_for):
    case = open_case(organisation=org, by=owner)
    response = client_for(superuser).get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    assert AccessLog.objects.filter(user=superuser, target_type="cases.case", target_id=str(case.pk)).exists()


def test_case_admin_is_read_only(org, owner, superuser, client_for):
    case = open_case(organisation=org, by=owner)
    client = client_for(superuser)
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), {"risk_level": "low"})
    assert response.status_code == 403
    assert client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code == 403
    case.refresh_from_db()
    assert case.risk_level == "medium"


def test_staff_outsider_sees_no_case(org, owner, outsider, client_for):
    case = open_case(organisation=org, by=owner)
    outsider.is_staff = True
    outsider.save()
    client = client_for(outsider)
    assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code in (302, 403, 404)
    assert not AccessLog.objects.filter(target_type="cases.case").exists()


def test_admin_does_not_name_records_confirmed_different(org, other_org, owner):
    """Security review: a record confirmed different from one of another organisation does not name it."""
    stranger = member(organisation=other_org, username="stranger")
    theirs = BeneficiaryFactory.create(organisation=other_org, created_by=stranger, full_name="Dewi Orang Lain")
    mine = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Dewi Orang")
    mine.distinct_from.add(theirs)
    staff = member(organisation=org, role="supervisor", username="staffsup")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_beneficiary"))
    client = logged_in(staff)
    assert client.get(reverse("admin:cases_beneficiary_change", args=[theirs.pk])).status_code in (302, 404)
    response = client.get(reverse("admin:cases_beneficiary_change", args=[mine.pk]))
    assert response.status_code == 200 and "Dewi Orang Lain" not in response.content.decode()
