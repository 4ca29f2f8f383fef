"""The case list's filter form is kept drawn for a minute (atensi.core.fragments): per
user, organisations, language and filters, so nobody is shown another's choices, and
the page works the same with Redis down."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stakeholders.roles import Role
from stakeholders.tests.factories import MembershipFactory, member

pytestmark = pytest.mark.django_db

LIST_URL = reverse("cases:case_list")


@pytest.fixture(autouse=True)
def kept(settings):
    settings.ATENSI_FRAGMENT_SECONDS = 60
    # Keys of this test's own: a test database recreated with the same ids must not meet
    # the fragments of an earlier run.
    prefix = f"panel-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}


def named(organisation, username, first, last):
    person = member(organisation=organisation, role=Role.SOCIAL_WORKER, username=username)
    person.first_name, person.last_name = first, last
    person.save(update_fields=["first_name", "last_name"])
    return person


def panel(response) -> str:
    html = response.content.decode()
    found = re.search(r'<form method="get".*?</form>', html, re.S)
    assert found, "no filter form"
    return found.group(0)


def managers(response) -> list[str]:
    select = re.search(r'<select name="case_manager".*?</select>', panel(response), re.S)
    assert select
    return re.findall(r">([^<]+)</option>", select.group(0))


def test_the_form_comes_back_the_same_without_asking_its_choices_again(client_for, org, owner):
    named(org, "ani", "Ani", "Lestari")
    client = client_for(owner)
    first = client.get(LIST_URL, {"status": "all"}, HTTP_ACCEPT_LANGUAGE="en")
    with CaptureQueriesContext(connection) as queries:
        second = client.get(LIST_URL, {"status": "all"}, HTTP_ACCEPT_LANGUAGE="en")
    assert panel(first) == panel(second)
    assert "Ani Lestari" in managers(second)
    assert not any("atensi_cluster" in q["sql"] or "atensi_ampkcategory" in q["sql"] for q in queries)
    # Another filter is another form: what was asked shows in it.
    other = client.get(LIST_URL, {"status": "closed"}, HTTP_ACCEPT_LANGUAGE="en")
    assert re.search(r'<option value="closed" selected>', panel(other))


def test_nobody_gets_anothers_form(client_for, org, other_org, owner):
    named(org, "ani", "Ani", "Lestari")
    named(other_org, "budi", "Budi", "Santoso")
    outsider = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="worker2")
    assert "Ani Lestari" in managers(client_for(owner).get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en"))
    theirs = managers(client_for(outsider).get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Budi Santoso" in theirs and "Ani Lestari" not in theirs


def test_a_new_organisation_shows_at_once(client_for, org, other_org, owner):
    named(other_org, "budi", "Budi", "Santoso")
    client = client_for(owner)
    assert "Budi Santoso" not in managers(client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en"))
    MembershipFactory(user=owner, organisation=other_org, role=Role.SOCIAL_WORKER)
    assert "Budi Santoso" in managers(client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en"))


def test_each_language_its_own_form(client_for, owner):
    client = client_for(owner)
    assert "Filter the cases" in panel(client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Filter the cases" not in panel(client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="id"))


def test_with_redis_down_the_form_is_drawn_every_time(client_for, owner, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client_for(owner).get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'data-testid="case-filters"' in panel(response)


def test_a_search_is_never_kept(client_for, org, owner):
    """The form of a search shows the text searched, maybe a child's name: not kept in Redis."""
    from django.core.cache import cache

    client = client_for(owner)
    client.get(LIST_URL, {"q": "Siti Aminah"}, HTTP_ACCEPT_LANGUAGE="en")
    # A name typed next to a NIK search that expired: the form shows it too.
    expired = client.get(LIST_URL, {"q": "Siti Aminah", "nik_ref": "expired-reference"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Siti Aminah" in panel(expired)
    client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en")
    kept = [key for key in cache._cache.get_client().scan_iter("*fragment*")]
    assert kept, "the list without a search is kept"
    assert not any(b"Siti Aminah" in (cache._cache.get_client().get(key) or b"") for key in kept)
