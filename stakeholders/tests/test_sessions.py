"""Session lifetimes (stakeholders.sessions): 30 minutes idle, 12 hours at most, activity
written at most once a minute and never by polling; a user's sessions all end at once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atensi.testing.second_factor import Client
from stakeholders.roles import Role
from stakeholders.services import membership_set_active
from stakeholders.sessions import LAST_SEEN
from stakeholders.tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db

HOME = reverse("home")
STATUS = reverse("stakeholders:session_status")
MINUTE = datetime.timedelta(minutes=1)
POLL = {"HTTP_X_ATENSI_POLL": "1"}


def signed_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.fixture
def worker(org):
    return member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")


def test_thirty_idle_minutes_sign_out_with_a_message(worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in("peksos.uji")
        clock.shift(29 * MINUTE)
        assert client.get(HOME).status_code == 200  # activity: the clock starts again
        clock.shift(29 * MINUTE)
        assert client.get(HOME).status_code == 200
        clock.shift(31 * MINUTE)
        response = client.get(HOME)
        assert signed_out(response)
        page = client.get(response["Location"])
        assert "signed out after 30 minutes without activity" in page.content.decode()
        assert signed_out(client.get(HOME))  # and it stays so


def test_polling_is_not_activity_and_activity_is_written_once_a_minute(worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in("peksos.uji")
        key = client.session.session_key
        clock.shift(datetime.timedelta(seconds=30))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
        clock.shift(datetime.timedelta(seconds=40))
        client.get(HOME)  # a minute after the last write: written again
        seen = Session.objects.get(session_key=key).get_decoded()[LAST_SEEN]
        assert seen == int((start + datetime.timedelta(seconds=70)).timestamp())
        # A progress bar polling every two seconds for half an hour keeps nobody signed in.
        for _ in range(3):
            clock.shift(9 * MINUTE)
            assert client.get(STATUS, **POLL).status_code == 200
        clock.shift(9 * MINUTE)
        assert client.get(STATUS, **POLL).status_code == 401  # the warning's check: sent to login
        page = client.get(reverse("login"))
        assert "signed out after 30 minutes without activity" in page.content.decode()


def test_twelve_hours_end_even_a_busy_session(worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in("peksos.uji")
        for _ in range(35):
            clock.shift(20 * MINUTE)
            assert client.get(HOME).status_code == 200
        clock.shift(25 * MINUTE)  # 12 h 5 min after signing in, 25 minutes after the last page
        response = client.get(HOME)
        assert signed_out(response)
        assert "maximum length" in client.get(response["Location"]).content.decode()


def test_the_status_says_what_is_left_and_staying_signed_in_counts(worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in("peksos.uji")
        clock.shift(25 * MINUTE)
        assert client.get(STATUS, **POLL).json() == {"remaining": 5 * 60}
        assert client.post(STATUS).json() == {"remaining": 30 * 60}  # "stay signed in"
        clock.shift(20 * MINUTE)
        assert client.get(HOME).status_code == 200


def test_an_htmx_request_after_the_timeout_sends_the_whole_page_to_login(worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in("peksos.uji")
        clock.shift(31 * MINUTE)
        response = client.get(reverse("notifications"), HTTP_HX_REQUEST="true")
        assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login"))


def test_losing_the_last_role_ends_every_session_of_that_person(org, worker, org_admin):
    phone, laptop = signed_in("peksos.uji"), signed_in("peksos.uji")
    membership = worker.memberships.get()
    membership_set_active(membership=membership, by=org_admin, active=False)
    assert signed_out(phone.get(HOME)) and signed_out(laptop.get(HOME))
    membership_set_active(membership=membership, by=org_admin, active=True)
    assert signed_in("peksos.uji").get(HOME).status_code == 200  # a new login works again


def test_a_role_kept_elsewhere_keeps_the_session(org, other_org, worker, org_admin):
    from stakeholders.tests.factories import MembershipFactory

    MembershipFactory(user=worker, organisation=other_org, role=Role.SOCIAL_WORKER)
    client = signed_in("peksos.uji")
    membership_set_active(membership=worker.memberships.get(organisation=org), by=org_admin, active=False)
    assert client.get(HOME).status_code == 200


def test_deactivating_the_account_ends_its_sessions(worker):
    client = signed_in("peksos.uji")
    worker.is_active = False
    worker.save()
    assert signed_out(client.get(HOME))


def test_sign_out_of_every_other_device(worker):
    here, there = signed_in("peksos.uji"), signed_in("peksos.uji")
    response = here.post(reverse("stakeholders:end_other_sessions"), follow=True)
    assert "signed out of every other device" in response.content.decode()
    assert here.get(HOME).status_code == 200
    assert signed_out(there.get(HOME))
    assert here.get(reverse("stakeholders:end_other_sessions")).status_code == 405


def test_an_admin_ends_a_users_sessions(worker, superuser, client_for):
    there = signed_in("peksos.uji")
    admin = client_for(superuser)
    response = admin.post(
        reverse("admin:stakeholders_user_changelist"),
        {"action": "end_user_sessions", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert signed_out(there.get(HOME))
    assert worker.events.order_by("-pk").first().session_version == 1  # in the user's history


def test_sessions_from_before_the_version_stay_valid(worker):
    # Version 0 hashes as Django does: deploying this signed nobody out.
    from django.contrib.auth.base_user import AbstractBaseUser

    assert worker.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(worker)
