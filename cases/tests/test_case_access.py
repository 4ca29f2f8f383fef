"""Who saw this child (cases.access_log): the case organisation's supervisors read every
access to the case, the child's record and the documents — views, search hits, refusals —
newest first, a page at a time; nobody else reaches the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atensi.core.access import record_access
from cases.models import Case
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


def url(case: Case, **query: str) -> str:
    base = reverse("cases:case_access", args=[case.pk])
    return base + (f"?after={query['after']}" if query else "")


def test_a_supervisor_reads_every_access_newest_first(client_for, org, other_org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    client_for(owner).get(reverse("cases:case_detail", args=[case.pk]))
    spy = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    client_for(spy).get(reverse("cases:beneficiary_detail", args=[case.beneficiary_id]))  # refused
    searcher = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    client_for(searcher).get(reverse("cases:beneficiary_search"), {"full_name": case.beneficiary.full_name})
    response = client_for(supervisor).get(url(case), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rows = response.context["page"].entries
    assert [(r.username, r.action) for r in rows][:3] == [
        (searcher.username, "found in a search"),
        (spy.username, "refused"),
        (owner.username, "viewed"),
    ]
    assert 'data-testid="case-access-tab"' in response.content.decode()


def test_only_the_organisations_supervisors_see_it(client_for, org, owner, colleague, outsider):
    case = open_case(organisation=org, by=owner)
    for person in (owner, colleague, outsider):
        assert client_for(person).get(url(case)).status_code == 404
    page = client_for(owner).get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="case-access-tab"' not in page


def test_pages_of_fifty_and_a_constant_number_of_queries(
    client_for, org, owner, supervisor, django_assert_max_num_queries
):
    case = open_case(organisation=org, by=owner)
    for _ in range(60):
        record_access(user=owner, obj=case)
    client = client_for(supervisor)
    client.get(url(case))
    with django_assert_max_num_queries(14):
        first = client.get(url(case))
    page = first.context["page"]
    assert len(page.entries) == 50 and page.next_cursor
    second = client.get(url(case, after=page.next_cursor)).context["page"]
    # 60 recorded and the page's own visits (logged after it reads): the second page has
    # what is older than the first page's last row, so not the visits after the warm-up.
    assert len(second.entries) == 60 + 1 - 50 and second.next_cursor is None
    assert client.get(url(case, after="not-a-cursor")).context["page"].is_first
