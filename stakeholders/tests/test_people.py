"""The people directory (stakeholders/views/people.py, stakeholders.people): national
administrators and superusers search every account and act on a person (reset the second
factor through the existing reset, end every session); everyone else gets 404; the list
costs a fixed number of queries and can use the user table's trigram indexes."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as PlainClient
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog
from atensi.testing.second_factor import authenticator
from stakeholders import people
from stakeholders.models import User
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import OrganisationFactory, member, user

pytestmark = pytest.mark.django_db

LIST = reverse("stakeholders:people_list")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def detail(person: User) -> str:
    return reverse("stakeholders:person_detail", args=[person.pk])


def end_url(person: User) -> str:
    return reverse("stakeholders:person_end_sessions", args=[person.pk])


@pytest.fixture
def national(db) -> User:
    person = user(username="nasional.admin", first_name="Nadia", last_name="Nasional")
    membership_add(
        organisation=OrganisationFactory(code="KEMENSOS-UJI", is_national=True), user=person, role=Role.NATIONAL_ADMIN
    )
    return person


@pytest.fixture
def far_away(other_org) -> User:
    """A supervisor of another organisation, with an authenticator and recovery codes."""
    person = member(organisation=other_org, role=Role.SUPERVISOR, username="sri.jauh")
    User.objects.filter(pk=person.pk).update(first_name="Sri", last_name="Wahyuningsih", email="sri@jauh.test")
    person.refresh_from_db()
    authenticator(person)
    StaticDevice.objects.create(user=person, name="recovery", confirmed=True).token_set.create(token="abcdefghjk")
    return person


def usernames(response) -> list[str]:
    return [row.username for row in response.context["page"].rows]


def test_a_national_admin_finds_a_person_of_another_organisation(client_for, national, far_away, other_org):
    response = client_for(national).get(LIST, {"q": "wahyu"}, **EN)
    assert response.status_code == 200
    assert usernames(response) == ["sri.jauh"]
    row = response.context["page"].rows[0]
    assert row.has_second_factor and row.email == "sri@jauh.test"
    assert [(h.organisation_name, h.role) for h in row.holdings] == [(other_org.name, Role.SUPERVISOR)]
    html = response.content.decode()
    assert detail(far_away) in html and "Second factor set up" in html and other_org.name in html
    # The link in the user menu.
    assert f'href="{LIST}"' in html and 'data-testid="people-link"' in html


@pytest.mark.parametrize("query", ["SRI.JAUH", "sri@jauh", "Sri Wahyu", "wahyuningsih sri"])
def test_every_word_is_in_a_name_the_username_or_the_e_mail(client_for, national, far_away, query):
    assert usernames(client_for(national).get(LIST, {"q": query})) == ["sri.jauh"]


def test_a_superuser_finds_people_too(client_for, superuser, far_away, owner):
    client = client_for(superuser)
    assert usernames(client.get(LIST, {"q": "jauh"})) == ["sri.jauh"]
    page = client.get(detail(far_away), **EN)
    assert page.status_code == 200 and 'data-testid="person-reset-second-factor"' in page.content.decode()


def test_a_short_search_lists_nobody_and_asks_for_more(client_for, national, far_away):
    client = client_for(national)
    for params in ({}, {"q": "sr"}, {"q": "  s  "}):
        response = client.get(LIST, params, **EN)
        assert response.status_code == 200
        assert response.context["page"].rows == [] and not response.context["page"].searched
    assert "Type at least 3 characters" in client.get(LIST, {"q": "sr"}, **EN).content.decode()
    assert "Search for a person by name" in client.get(LIST, **EN).content.decode()


def test_a_search_that_finds_nobody_says_so(client_for, national, far_away):
    response = client_for(national).get(LIST, {"q": "tidakada"}, **EN)
    assert response.context["page"].searched and response.context["page"].rows == []
    assert "Nobody matches this search" in response.content.decode()
    # A wildcard typed in the box is a literal character.
    assert usernames(client_for(national).get(LIST, {"q": "%%%"})) == []


def test_nobody_else_reaches_the_directory(client_for, org_admin, supervisor, owner, far_away):
    for person in (org_admin, supervisor, owner):
        client = client_for(person)
        assert client.get(LIST, {"q": "jauh"}).status_code == 404
        assert client.get(detail(far_away)).status_code == 404
        assert 'data-testid="people-link"' not in client.get(reverse("home")).content.decode()
    # A refused person page is a record that exists: one denial in the access log.
    assert AccessLog.objects.filter(action="denied", target_type="stakeholders.user").count() == 3


def test_anonymous_is_sent_to_log_in(far_away):
    client = PlainClient()
    for url in (LIST, detail(far_away)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_pages_of_fifty_in_a_fixed_number_of_queries(client_for, national, org, django_assert_max_num_queries):
    for n in range(55):
        member(organisation=org, role=Role.SOCIAL_WORKER, username=f"petugas{n:02d}")
    client = client_for(national)
    client.get(LIST, {"q": "petugas"})
    with django_assert_max_num_queries(9):
        first = client.get(LIST, {"q": "petugas"})
    assert len(first.context["page"].rows) == 50 and first.context["page"].next_cursor
    assert all(row.holdings for row in first.context["page"].rows)
    with django_assert_max_num_queries(9):
        second = client.get(LIST, {"q": "petugas", "after": first.context["page"].next_cursor})
    assert usernames(second) == [f"petugas{n:02d}" for n in range(50, 55)]
    # A cursor that does not decode is the first page.
    assert usernames(client.get(LIST, {"q": "petugas", "after": "rusak"}))[0] == "petugas00"


def test_the_search_can_use_the_trigram_indexes(national):
    qs = people.people_visible_to(national).filter(people._matching("wahyu")).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    for index in ("user_first_name_trgm", "user_last_name_trgm", "user_username_trgm", "user_email_trgm"):
        assert index in plan


def test_the_person_page_and_its_reset(client_for, national, far_away, django_capture_on_commit_callbacks):
    session = client_for(far_away)
    assert session.get(reverse("home")).status_code == 200
    client = client_for(national)
    page = client.get(detail(far_away), **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Authenticator app set up" in html and "sri@jauh.test" in html
    reset = reverse("stakeholders:second_factor_reset", args=[far_away.pk])
    assert f'action="{reset}"' in html
    # The view of the account is in the access log, as an organisation's staff page is.
    assert AccessLog.objects.filter(user=national, target_type="stakeholders.user", target_id=str(far_away.pk))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset, {"next": detail(far_away)}, **EN)
    assert response.status_code == 302 and response["Location"] == detail(far_away)
    assert not TOTPDevice.objects.filter(user=far_away).exists()
    assert not StaticDevice.objects.filter(user=far_away).exists()
    assert mail.outbox[-1].to == ["sri@jauh.test"]
    far_away.refresh_from_db()
    assert far_away.second_factor_reset_at is not None
    assert session.get(reverse("home")).status_code == 302  # signed out
    after = client.get(detail(far_away), **EN).content.decode()
    assert "was reset" in after and "Not set up" in after


def test_end_all_sessions_from_the_person_page(client_for, national, far_away):
    session = client_for(far_away)
    assert session.get(reverse("home")).status_code == 200
    client = client_for(national)
    assert 'data-testid="person-end-sessions"' in client.get(detail(far_away)).content.decode()
    response = client.post(end_url(far_away), {"next": detail(far_away)}, follow=True, **EN)
    assert response.status_code == 200 and "was signed out everywhere" in response.content.decode()
    assert session.get(reverse("home")).status_code == 302 and "_auth_user_id" not in session.session
    far_away.refresh_from_db()
    assert far_away.session_version == 1
    # In the person's history, with who did it.
    event = far_away.events.order_by("-pk").first()  # type: ignore[attr-defined]
    assert event.session_version == 1 and event.pgh_context.metadata["user"] == national.pk
    # The national admin's own session goes on.
    assert client.get(LIST).status_code == 200


def test_org_admins_end_their_own_peoples_sessions_only(client_for, org, org_admin, owner, far_away):
    assert client_for(org_admin).post(end_url(owner)).status_code == 302
    owner.refresh_from_db()
    assert owner.session_version == 1
    assert client_for(org_admin).post(end_url(far_away)).status_code == 404
    far_away.refresh_from_db()
    assert far_away.session_version == 0


def test_nobody_ends_sessions_by_get_or_for_themselves(client_for, national, owner, supervisor):
    assert client_for(national).get(end_url(owner)).status_code == 405
    with pytest.raises(ApplicationError):
        people.person_sessions_end(by=national, user=national)
    with pytest.raises(ApplicationError):
        people.person_sessions_end(by=supervisor, user=owner)
    owner.refresh_from_db()
    assert owner.session_version == 0
    # Their own page shows why there is no button, and nothing is done from it.
    html = client_for(national).get(detail(national), **EN).content.decode()
    assert "Sign out of every other device" in html and 'data-testid="person-end-sessions"' not in html
    assert client_for(national).post(end_url(national)).status_code == 404
