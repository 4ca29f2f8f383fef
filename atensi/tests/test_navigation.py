"""Each role sees what it can do in the navigation, and nothing it cannot."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


def nav_keys(client) -> set[str]:
    html = client.get(reverse("home")).content.decode()
    return set(re.findall(r'data-nav="([a-z_]+)"', html))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.SOCIAL_WORKER, {"home", "cases", "referrals", "approvals", "report", "workforce", "agreements"}),
        (Role.COMMUNITY_REPORTER, {"home", "report", "my_reports", "workforce", "agreements"}),
        (Role.VIEWER, {"home", "dashboard", "agreements", "map", "monthly_report"}),
        (
            Role.SUPERVISOR,
            {
                "home",
                "dashboard",
                "cases",
                "referrals",
                "approvals",
                "intake",
                "report",
                "staff",
                "workforce",
                "agreements",
                "map",
                "monthly_report",
            },
        ),
        (
            Role.INTAKE_OFFICER,
            {"home", "cases", "referrals", "approvals", "intake", "report", "workforce", "agreements"},
        ),
        (
            Role.ORG_ADMIN,
            {"home", "dashboard", "approvals", "staff", "workforce", "agreements", "map", "monthly_report"},
        ),
    ],
)
def test_navigation_follows_the_role(client_for, org, role, expected):
    user = member(organisation=org, role=role)
    # Every signed-in user may look organisations, services and regions up, and has
    # their own notifications.
    assert nav_keys(client_for(user)) == expected | {"directory", "finder", "regions", "notifications"}


def test_superuser_sees_administration(client_for, superuser):
    assert {"admin", "dashboard"} <= nav_keys(client_for(superuser))


def test_every_role_of_a_dinas_sosial_or_a_national_body_has_its_dashboard(client_for, db):
    from stakeholders.models import OrganisationKind, Region
    from stakeholders.tests.factories import OrganisationFactory

    dinsos = OrganisationFactory(kind=OrganisationKind.DINSOS_PROVINSI)
    lksa = OrganisationFactory(kind=OrganisationKind.LKSA)
    national = OrganisationFactory(is_national=True)
    dinsos.coverage.set([Region.objects.get(code="15")])
    lksa.coverage.set([Region.objects.get(code="15")])
    assert "dashboard" in nav_keys(client_for(member(organisation=dinsos, role=Role.REFERRAL_OFFICER)))
    assert "dashboard" in nav_keys(client_for(member(organisation=national, role=Role.SOCIAL_WORKER)))
    assert "dashboard" not in nav_keys(client_for(member(organisation=lksa, role=Role.REFERRAL_OFFICER)))


def test_member_of_no_organisation_is_told_so(client_for, db):
    from stakeholders.tests.factories import UserFactory

    response = client_for(UserFactory()).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert "not yet a member of any organisation" in response.content.decode()


def test_home_page_query_count(client_for, org, django_assert_max_num_queries):
    user = member(organisation=org, role=Role.ORG_ADMIN)
    client = client_for(user)
    client.get(reverse("home"))
    with django_assert_max_num_queries(7):
        assert client.get(reverse("home")).status_code == 200


def test_intake_shows_how_many_reports_wait(client_for, org):
    from cases.tests.factories import report_for

    supervisor = member(organisation=org, role=Role.SUPERVISOR)
    report_for(organisation=org, by=supervisor)
    report_for(organisation=org, by=supervisor)
    html = client_for(supervisor).get(reverse("home")).content.decode()
    assert re.search(r'data-testid="nav-count-intake">2<', html)


def test_the_layout_prints_no_template_comments(client_for, org):
    # A multi-line {# #} is not a comment in Django: it is printed, and once it carried a
    # "<style>" into every page, which swallowed the rest of the document.
    html = client_for(member(organisation=org, role=Role.SOCIAL_WORKER)).get(reverse("home")).content.decode()
    assert "{#" not in html and "#}" not in html and "{% comment" not in html
