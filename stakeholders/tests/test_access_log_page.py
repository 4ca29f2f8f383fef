"""The searchable access log (stakeholders/views/access_log.py): a supervisor searches the
entries about their organisations' records, a national administrator all of them; nobody
else reaches it; filters and pages work in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atensi.core.access import record_access
from atensi.core.models import AccessLog
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import OrganisationFactory, member, user

pytestmark = pytest.mark.django_db

URL = reverse("stakeholders:access_log")


def usernames(response) -> list[str]:
    return [row.user.username for row in response.context["rows"]]


def test_a_supervisor_sees_their_organisations_entries_only(client_for, org, other_org, owner, supervisor):
    mine = open_case(organisation=org, by=owner)
    theirs = open_case(organisation=other_org, by=member(organisation=other_org))
    record_access(user=owner, obj=mine, organisation_id=org.pk)
    stranger = member(organisation=other_org)
    record_access(user=stranger, obj=theirs, organisation_id=other_org.pk)
    response = client_for(supervisor).get(URL)
    assert response.status_code == 200
    assert usernames(response) == [owner.username]
    assert 'data-testid="access-log-link"' in response.content.decode()


def test_a_national_admin_sees_all_and_filters(client_for, org, other_org, owner):
    national = user()
    membership_add(
        organisation=OrganisationFactory(code="KEMENSOS-UJI", is_national=True), user=national, role=Role.NATIONAL_ADMIN
    )
    case = open_case(organisation=org, by=owner)
    record_access(user=owner, obj=case, organisation_id=org.pk)
    record_access(user=owner, obj=case, action="print", organisation_id=org.pk)
    stranger = member(organisation=other_org)
    AccessLog.objects.create(user=stranger, action="denied", target_type="cases.case", target_id=str(case.pk))
    client = client_for(national)
    assert len(client.get(URL).context["rows"]) == 3
    assert usernames(client.get(URL, {"action": "denied"})) == [stranger.username]
    assert len(client.get(URL, {"username": owner.username.upper(), "record_type": "cases.case"}).context["rows"]) == 2
    assert client.get(URL, {"record_id": "999999"}).context["rows"] == []


def test_nobody_else_reaches_it_and_bad_dates_are_a_message(client_for, owner, org_admin, supervisor):
    assert client_for(owner).get(URL).status_code == 404
    assert client_for(org_admin).get(URL).status_code == 404
    response = client_for(supervisor).get(URL, {"start": "2026-02-01", "end": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "The last day comes before the first" in response.content.decode()


def test_pages_of_fifty_in_a_fixed_number_of_queries(client_for, org, owner, supervisor, django_assert_max_num_queries):
    case = open_case(organisation=org, by=owner)
    for _ in range(55):
        record_access(user=owner, obj=case, organisation_id=org.pk)
    client = client_for(supervisor)
    client.get(URL)
    with django_assert_max_num_queries(8):
        first = client.get(URL)
    assert len(first.context["rows"]) == 50 and first.context["next_cursor"]
    second = client.get(URL, {"after": first.context["next_cursor"]})
    assert len(second.context["rows"]) == 5
