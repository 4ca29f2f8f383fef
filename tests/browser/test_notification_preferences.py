"""A social worker switches e-mail off, then chooses a daily digest, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from atensi.core.models import NotificationPreference
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _saved() -> tuple[bool, bool, int]:
    preference = NotificationPreference.objects.get(user__username="rina")
    return preference.email_enabled, preference.digest, preference.digest_hour


def test_a_worker_switches_email_off_then_chooses_a_daily_digest(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.goto("/notifications/")
    page.get_by_test_id("notification-preferences-link").click()
    page.wait_for_url("**/account/notifications/")
    form = page.get_by_test_id("notification-preferences")
    email, digest, hour = (
        form.locator("input[name=email_enabled]"),
        form.locator("input[name=digest]"),
        form.locator("select[name=digest_hour]"),
    )
    assert email.is_checked() and not digest.is_checked()
    assert hour.is_disabled()  # no digest: its hour does not matter
    # A digest is an e-mail: with e-mail off it cannot be chosen.
    digest.check()
    assert hour.is_enabled()
    email.uncheck()
    assert digest.is_disabled() and not digest.is_checked() and hour.is_disabled()
    page.get_by_test_id("notification-preferences-save").click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert _saved() == (False, False, 7)

    form = page.get_by_test_id("notification-preferences")
    form.locator("input[name=email_enabled]").check()
    form.locator("input[name=digest]").check()
    form.locator("select[name=digest_hour]").select_option("18")
    page.get_by_test_id("notification-preferences-save").click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert _saved() == (True, True, 18)
    assert page.get_by_test_id("notification-preferences").locator("select[name=digest_hour]").input_value() == "18"
    assert page.csp_violations == []
