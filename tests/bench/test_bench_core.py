"""Core pages: the login page, logging in, the home page and the health check."""

from __future__ import annotations

import json

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Core: login and home page"
BENCH_DESCRIPTION = (
    "Anonymous login page, the login POST (a fresh client each time, so every request "
    "authenticates, creates a session and redirects), the home page of a social worker "
    "with three memberships (one as supervisor, so the navigation offers the staff page), "
    "and the load balancer's health check (database and Redis round trips)."
)


def _check_login_form(response):
    body = response.content.decode()
    if 'name="username"' not in body or "csrfmiddlewaretoken" not in body:
        raise AssertionError("the login page has no login form")


def _check_logged_in(response):
    if response["Location"] != reverse("home"):
        raise AssertionError(f"login redirected to {response['Location']}, not home: credentials refused?")


def test_login_page(bench, client):
    bench.measure(client, reverse("login"), name="login page (GET)", check=_check_login_form)


def test_log_in(bench, client, bench_data):
    credentials = {"username": bench_data.social_worker.username, "password": bench_data.password}
    bench.measure(
        client,
        reverse("login"),
        name="log in (POST, credentials checked)",
        method="post",
        data=credentials,
        expect=302,
        check=_check_logged_in,
        before=client.cookies.clear,  # anonymous every time: a real login, not a session refresh
        notes="with the test settings' MD5 password hasher, so this is the portal's own cost.",
    )
    assert client.session["_auth_user_id"] == str(bench_data.social_worker.pk)


def test_log_in_production_hasher(bench, client, bench_data):
    """The same POST with Django's default (production) hashers: the hash dominates."""
    worker = bench_data.social_worker
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        worker.set_password(bench_data.password)  # rolled back with the test's transaction
        worker.save(update_fields=["password"])
        hasher = identify_hasher(worker.password)
        iterations = getattr(hasher, "iterations", None)
        bench.measure(
            client,
            reverse("login"),
            name="log in (POST, production password hasher)",
            method="post",
            data={"username": worker.username, "password": bench_data.password},
            expect=302,
            check=_check_logged_in,
            before=client.cookies.clear,
            repeat=min(bench.repeat, 10),
            warmup=1,
            notes=f"{hasher.algorithm}" + (f" with {iterations:,} iterations" if iterations else "")
            + ", Django's default and what production uses.",
        )


def test_home_page(bench, client, bench_data):
    worker = bench_data.social_worker
    client.force_login(worker)

    def check(response):
        body = response.content.decode()
        if body.count('class="list-group-item') != 3:
            raise AssertionError("the home page does not list the worker's three memberships")
        if 'data-nav="staff"' not in body:
            raise AssertionError("the supervisor's staff link is missing from the navigation")

    bench.measure(client, reverse("home"), name="home page (logged in, social worker with memberships)", check=check)


def test_healthz(bench, client):
    def check(response):
        if json.loads(response.content)["status"] != "ok":
            raise AssertionError(f"healthz: {response.content!r}")

    bench.measure(client, reverse("healthz"), name="healthz", check=check)
