"""Login throttling (django-axes, stakeholders.signin, atensi.core.clientip): a username and
an address are counted together, in the database; the answer never tells whether an
account exists; behind the configured proxies the client's address is the proxies' word."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from atensi.core.clientip import client_ip
from atensi.testing.second_factor import Client
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
LIMIT = 5
A, B = "203.0.113.10", "198.51.100.20"


def attempt(username: str, password: str, *, ip: str = A, **meta: str):
    return Client().post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en", **meta
    )


def fail(username: str, times: int = LIMIT, **kwargs: str) -> None:
    for _ in range(times):
        response = attempt(username, "salah-sekali", **kwargs)
        # The form again ("wrong username or password"); the LIMIT-th failure is answered
        # with the cool-off already.
        assert response.status_code in (200, 429)


def locked(response) -> bool:
    return response.status_code == 429 and "Too many failed attempts" in response.content.decode()


def test_a_username_is_locked_from_one_address_only(org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    member(organisation=org, role=Role.SUPERVISOR, username="supervisor.uji")
    fail("peksos.uji")
    refused = attempt("peksos.uji", PASSWORD)
    assert locked(refused) and "_auth_user_id" not in refused.client.session
    assert "Wait 15 minutes" in refused.content.decode()
    assert 'value="peksos.uji"' in refused.content.decode() and PASSWORD not in refused.content.decode()
    # Nobody can lock a colleague out from elsewhere, nor lock a colleague at the same desk.
    assert attempt("peksos.uji", PASSWORD, ip=B).status_code == 302
    assert attempt("supervisor.uji", PASSWORD).status_code == 302


def test_the_answer_is_the_same_for_an_account_that_does_not_exist(org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    fail("peksos.uji")
    fail("tidak.ada")
    real, unknown = attempt("peksos.uji", "x"), attempt("tidak.ada", "x")
    assert locked(real) and locked(unknown)
    assert page(real).replace("peksos.uji", "U") == page(unknown).replace("tidak.ada", "U")


def page(response) -> str:
    """The page without what differs on every response (CSRF tokens, CSP nonces)."""
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]*', r"\1", response.content.decode())


def test_the_cool_off_ends_and_a_success_clears_the_count(org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    fail("peksos.uji", LIMIT - 1)
    assert attempt("peksos.uji", PASSWORD).status_code == 302  # clears the four failures
    fail("peksos.uji", LIMIT - 1)
    assert attempt("peksos.uji", PASSWORD).status_code == 302
    fail("peksos.uji")
    assert locked(attempt("peksos.uji", PASSWORD))
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert attempt("peksos.uji", PASSWORD).status_code == 302


def test_a_locked_admin_login_gets_the_same_answer(org, superuser):
    fail("root")
    response = Client().post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD}, REMOTE_ADDR=A, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert locked(response)


def test_the_message_is_in_indonesian_by_default(org):
    fail("peksos.uji")
    response = Client().post(LOGIN, {"username": "peksos.uji", "password": "x"}, REMOTE_ADDR=A)
    assert response.status_code == 429 and "Terlalu banyak" in response.content.decode()


# --- Behind the proxies -----------------------------------------------------------------------


@override_settings(ATENSI_TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_each_client_is_counted_by_its_own_address(org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    proxy = "10.0.0.2"
    # The client writes anything it likes on the left; the proxy appends the real address.
    for n in range(LIMIT):
        attempt("peksos.uji", "salah", ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, {A}")
    assert locked(attempt("peksos.uji", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=f"9.9.9.9, {A}"))
    assert attempt("peksos.uji", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=B).status_code == 302


def test_without_trusted_proxies_the_header_is_ignored(org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    for n in range(LIMIT):
        attempt("peksos.uji", "salah", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")  # rotating a header gains nothing
    assert locked(attempt("peksos.uji", PASSWORD, HTTP_X_FORWARDED_FOR="5.6.7.8"))


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, A, "1.1.1.1", A),
        (1, "10.0.0.2", f"1.1.1.1, {B}", B),
        (2, "10.0.0.3", f"1.1.1.1, {B}, 10.0.0.2", B),
        (2, "10.0.0.3", B, "10.0.0.3"),  # fewer hops than proxies: only the connection is known
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
        (0, "garbage", "", None),
    ],
)
def test_the_client_address(settings, proxies, remote, forwarded, expected):
    settings.ATENSI_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- Admin --------------------------------------------------------------------------------------


def test_lockouts_are_listed_and_cleared_in_admin(org, superuser, client_for):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    fail("peksos.uji")
    admin = client_for(superuser)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "peksos.uji" in listing.content.decode()
    from axes.models import AccessAttempt

    attempt_row = AccessAttempt.objects.get(username="peksos.uji")
    assert attempt_row.ip_address == A and attempt_row.failures_since_start == LIMIT
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt_row.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert attempt("peksos.uji", PASSWORD).status_code == 302


# --- Password reset ------------------------------------------------------------------------------


RESET = reverse("password_reset")


def reset(email: str, *, ip: str = A):
    return Client().post(RESET, {"email": email}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


def test_password_resets_are_limited_per_address_and_per_mailbox(org, settings, mailoutbox):
    settings.ATENSI_PASSWORD_RESET_PER_ADDRESS = 4
    settings.ATENSI_PASSWORD_RESET_PER_EMAIL = 2
    user = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    user.email = "peksos@example.test"
    user.save()
    # Two e-mails an hour to one mailbox; the third request looks the same and sends nothing.
    for _ in range(3):
        response = reset("Peksos@Example.test")
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 2
    # An unknown address is answered the same way (nothing reveals whether it is known).
    assert reset("tidak.ada@example.test")["Location"] == reverse("password_reset_done")
    # The address has used its four requests: a clear message, nothing sent.
    refused = reset("peksos@example.test")
    assert refused.status_code == 429 and "Too many password reset requests" in refused.content.decode()
    assert reset("peksos@example.test", ip=B).status_code == 302  # another address may ask
    assert len(mailoutbox) == 2  # ... but that mailbox's hour is used up
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        assert reset("peksos@example.test").status_code == 302
        assert len(mailoutbox) == 3
    from atensi.core.models import RateEvent

    assert not RateEvent.objects.filter(key__contains="peksos").exists()  # keyed hashes, never the address


def test_a_rate_limit_counts_only_its_window_and_is_cleaned_up(db):
    from atensi.core.models import RateEvent
    from atensi.core.ratelimit import KEEP, allow
    from atensi.core.retention import cleanup

    hour = datetime.timedelta(hours=1)
    start = timezone.now()
    assert [allow("uji", limit=2, window=hour, now=start) for _ in range(3)] == [True, True, False]
    assert allow("lain", limit=2, window=hour, now=start)  # another key, its own count
    assert allow("uji", limit=2, window=hour, now=start + hour + datetime.timedelta(seconds=1))
    assert RateEvent.objects.count() == 4  # the refused attempt is not counted
    assert cleanup(now=start + KEEP + 2 * hour)["rate_events"] == 4
