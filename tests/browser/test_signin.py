"""A social worker who keeps mistyping the password waits; the supervisor at the next desk
(the same address) logs in as usual."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_repeated_wrong_passwords_lock_that_username_here_only(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.alyatama")
    member(organisation=org, role=Role.SUPERVISOR, username="supervisor.alyatama")
    page.goto("/accounts/login/")
    for _ in range(5):
        page.fill("input[name=username]", "peksos.alyatama")
        page.fill("input[name=password]", "salah-lagi")
        with page.expect_navigation():
            page.click("button[type=submit]")
        expect(page.locator(".alert").first).to_be_visible()
    page.fill("input[name=username]", "peksos.alyatama")
    page.fill("input[name=password]", PASSWORD)  # the right one, too late
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator(".alert").first).to_contain_text("Terlalu banyak")
    assert "/accounts/login/" in page.url
    assert page.input_value("input[name=username]") == "peksos.alyatama"
    assert page.input_value("input[name=password]") == ""
    login(page, "supervisor.alyatama", PASSWORD)
    expect(page.get_by_test_id("nav")).to_be_visible()
    assert page.csp_violations == []


def test_an_idle_session_is_warned_then_signed_out(page, org, settings):
    # Twenty idle seconds instead of thirty minutes: the warning comes ten seconds before.
    settings.ATENSI_SESSION_IDLE_SECONDS = 20
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.alyatama")
    login(page, "peksos.alyatama", PASSWORD)
    warning = page.get_by_test_id("session-warning")
    expect(warning).to_be_visible(timeout=15_000)
    page.get_by_test_id("session-stay").click()  # staying signed in hides it again
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=15_000)
    page.wait_for_url("**/accounts/login/**", timeout=20_000)
    expect(page.locator(".alert-info").first).to_contain_text("tanpa aktivitas")
    assert page.csp_violations == []
