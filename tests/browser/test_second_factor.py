"""A supervisor sets up an authenticator app on their phone, signs in with its code, and once
with a recovery code (which then no longer works). The pages before the second factor pass
the page harness at 390 px (they are not in its walk: the walk's people are verified)."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from atensi.testing.page_harness import PHONE, audit_page
from atensi.testing.second_factor import code_now
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def passes_the_harness(page, name: str) -> None:
    page.set_viewport_size(PHONE)
    audit = audit_page(page, name)
    page.set_viewport_size(DESKTOP)
    assert not audit.keys, audit.report()


def log_out(page) -> None:
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_test_id("logout").click()


def test_enrol_sign_in_with_the_code_and_a_recovery_code_once(page, org):
    member(organisation=org, role=Role.SUPERVISOR, username="supervisor.alyatama")
    password_step(page, "supervisor.alyatama")
    # The role requires it: the set-up comes before any page.
    page.wait_for_url("**/account/two-factor/setup/**")
    expect(page.get_by_test_id("second-factor-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("nav")).to_have_count(0)
    passes_the_harness(page, "second_factor_setup.required")
    # The phone: an app given the key shown under "cannot scan?".
    page.locator("summary").click()
    key = page.get_by_test_id("second-factor-key").inner_text().replace(" ", "")
    phone = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)), 30, 0, 6, 0)
    page.fill("input[name=code]", str(phone.token()).zfill(6))
    with page.expect_navigation():
        page.click("[data-testid=second-factor-setup-form] button[type=submit]")
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{10}", c) for c in codes)
    passes_the_harness(page, "second_factor_codes")
    with page.expect_navigation():
        page.get_by_role("link", name="Sudah saya simpan, lanjutkan").click()
    expect(page.get_by_test_id("nav")).to_be_visible()

    # The next sign-in asks for the code after the password.
    log_out(page)
    password_step(page, "supervisor.alyatama")
    page.wait_for_url("**/account/two-factor/verify/**")
    passes_the_harness(page, "second_factor_verify")
    page.fill("input[name=code]", "000000")
    with page.expect_navigation():
        page.click("[data-testid=second-factor-form] button[type=submit]")
    expect(page.locator(".invalid-feedback, .text-danger").first).to_contain_text("tidak benar")
    # A recovery code, with the phone left at home: in, with a warning of what is left.
    page.wait_for_timeout(1100)  # the throttle after the wrong code (1 second)
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():
        page.click("[data-testid=second-factor-form] button[type=submit]")
    expect(page.locator(".alert-warning").first).to_contain_text("9")
    expect(page.get_by_test_id("nav")).to_be_visible()

    # The same recovery code a second time: refused; the app's code works.
    log_out(page)
    password_step(page, "supervisor.alyatama")
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():
        page.click("[data-testid=second-factor-form] button[type=submit]")
    expect(page.locator(".invalid-feedback, .text-danger").first).to_contain_text("sudah pernah dipakai")
    page.wait_for_timeout(1100)
    device = TOTPDevice.objects.get(user__username="supervisor.alyatama")
    page.fill("input[name=code]", code_now(device))
    with page.expect_navigation():
        page.click("[data-testid=second-factor-form] button[type=submit]")
    expect(page.get_by_test_id("nav")).to_be_visible()
    assert page.csp_violations == []
