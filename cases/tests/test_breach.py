"""Breach support (cases.breach): for an account and a window, the children whose data it
reached and the roles it held then, as a workbook only national administrators make."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from atensi.core.access import record_access
from atensi.core.models import AccessLog
from cases.breach import children_reached, memberships_in_window
from cases.tests.factories import open_case
from stakeholders.models import Membership
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import OrganisationFactory, user

pytestmark = pytest.mark.django_db

URL = reverse("cases:breach_report")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def national(db):
    person = user(username="nasional.uji")
    directorate = OrganisationFactory(code="KEMENSOS-UJI", is_national=True)
    membership_add(organisation=directorate, user=person, role=Role.NATIONAL_ADMIN)
    return person


def test_the_children_reached_in_the_window_and_the_roles_then(org, other_org, owner):
    now = timezone.now()
    inside = open_case(organisation=org, by=owner)
    also = open_case(organisation=org, by=owner)
    outside = open_case(organisation=org, by=owner)
    with time_machine.travel(now - 10 * DAY):
        record_access(user=owner, obj=outside)  # before the window
    membership_add(organisation=other_org, user=owner, role=Role.SOCIAL_WORKER)
    with time_machine.travel(now - 3 * DAY):
        record_access(user=owner, obj=inside)
        record_access(user=owner, obj=inside.beneficiary, action="download")
        record_access(user=owner, obj=also)
    children = children_reached(account=owner, start=now - 5 * DAY, end=now)
    assert {c.beneficiary.pk for c in children} == {inside.beneficiary_id, also.beneficiary_id}
    mine = next(c for c in children if c.beneficiary.pk == inside.beneficiary_id)
    assert mine.times == 2 and len(mine.actions) == 2
    roles = memberships_in_window(account=owner, start=now - 5 * DAY, end=now + DAY)
    assert {m.organisation_id for m in roles} == {org.pk, other_org.pk}


def test_a_role_revoked_before_the_window_is_not_listed(org, other_org, owner):
    # The history's times are the database's own (its triggers), so the window is after them.
    role = membership_add(organisation=other_org, user=owner, role=Role.SOCIAL_WORKER)
    Membership.objects.filter(pk=role.pk).update(is_active=False)
    now = timezone.now()
    roles = memberships_in_window(account=owner, start=now + DAY, end=now + 2 * DAY)
    assert {m.organisation_id for m in roles} == {org.pk}


def test_only_national_admins_download_it_and_it_is_an_export(client_for, org, owner, org_admin, national):
    case = open_case(organisation=org, by=owner)
    record_access(user=owner, obj=case)
    assert client_for(org_admin).get(URL).status_code == 404
    today = timezone.localdate()
    query = {"username": owner.username, "start": (today - DAY).isoformat(), "end": today.isoformat()}
    response = client_for(national).get(URL, query)
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    children = list(book.worksheets[0].iter_rows(values_only=True))
    assert children[1][0] == case.beneficiary.full_name and children[1][2] == org.name
    assert AccessLog.objects.filter(user=national, action="export", target_id=str(case.beneficiary_id)).exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"username": "tidak.ada", "start": "2026-01-01", "end": "2026-01-02"}, "No account has this username"),
        ({"username": "owner", "start": "2026-02-01", "end": "2026-01-02"}, "The last day comes before the first"),
        ({"username": "owner", "start": "2025-01-01", "end": "2026-01-02"}, "Choose at most 92 days"),
        ({"username": "owner", "start": "31/02/2026", "end": "2026-01-02"}, "Enter a valid date"),
    ],
)
def test_bad_input_is_a_message(client_for, owner, national, query, message):
    response = client_for(national).get(URL, query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and message in response.content.decode()
