"""Core pages: the login page, logging in, the home page and the health check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import get_hasher
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Core: login and home page"
BENCH_DESCRIPTION = (
    "The anonymous login page; the login POST (cookies dropped before each one, so every "
    "request checks the password, creates a session and redirects home); the home page of a "
    "social worker with three memberships (one as supervisor, so the navigation offers the "
    "staff page); the load balancer's health check (a database and a Redis round trip)."
)

MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def password_hashed_with(hashers: list[str], user, password: str) -> Iterator[str]:
    """Hash `user`'s password with `hashers[0]` (rolled back with the test) and log in under them."""
    with override_settings(PASSWORD_HASHERS=hashers):
        user.set_password(password)
        user.save(update_fields=["password"])
        hasher = get_hasher()
        iterations = getattr(hasher, "iterations", None)
        yield f"{hasher.algorithm}, {iterations:,} iterations" if iterations else f"{hasher.algorithm}"


def _check_login_form(response) -> None:
    body = response.content.decode()
    if 'name="username"' not in body or "csrfmiddlewaretoken" not in body:
        raise AssertionError("the login page has no login form")


def _check_logged_in(response) -> None:
    if response["Location"] != reverse("home"):
        raise AssertionError(f"login redirected to {response['Location']}, not home: credentials refused?")


def _log_in(bench, client, data, *, name: str, hashers: list[str], notes: str, **kwargs) -> None:
    worker = data.social_worker
    with password_hashed_with(hashers, worker, data.password) as hasher:
        bench.measure(
            client,
            reverse("login"),
            name=name,
            method="post",
            data={"username": worker.username, "password": data.password},
            expect=302,
            check=_check_logged_in,
            before=client.cookies.clear,  # anonymous every time: a real login, not a session refresh
            notes=notes.format(hasher=hasher),
            **kwargs,
        )
    assert client.session["_auth_user_id"] == str(worker.pk)


def test_login_page(bench, client):
    bench.measure(client, reverse("login"), name="login page (GET)", check=_check_login_form)


def test_log_in(bench, client, bench_data):
    _log_in(
        bench,
        client,
        bench_data,
        name="log in (POST, credentials checked)",
        hashers=MD5,
        notes="password hasher {hasher} (as in the test settings): the portal's own cost, not the hash's.",
    )


def test_log_in_production_hasher(bench, client, bench_data):
    """The same POST with Django's default hashers, as production has them: the hash dominates."""
    _log_in(
        bench,
        client,
        bench_data,
        name="log in (POST, production password hasher)",
        hashers=global_settings.PASSWORD_HASHERS,
        notes="password hasher {hasher} (Django's default, used in production).",
        repeat=min(bench.repeat, 10),
        warmup=1,
    )


def test_home_page(bench, client, bench_data):
    client.force_login(bench_data.social_worker)

    def check(response) -> None:
        body = response.content.decode()
        memberships = body.split('data-testid="memberships"', 1)[-1].split("</ul>", 1)[0]
        if memberships.count('class="list-group-item') != 3:
            raise AssertionError("the home page does not list the worker's three memberships")
        if 'data-nav="staff"' not in body:
            raise AssertionError("the supervisor's staff link is missing from the navigation")

    bench.measure(client, reverse("home"), name="home page (logged in, social worker with memberships)", check=check)


def test_healthz(bench, client):
    def check(response) -> None:
        if json.loads(response.content)["status"] != "ok":
            raise AssertionError(f"healthz: {response.content!r}")

    bench.measure(client, reverse("healthz"), name="healthz", check=check)
