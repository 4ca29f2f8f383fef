"""Log in, find your way by role, switch language, manage staff, log out: in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from stakeholders.models import Membership, User
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_social_worker_logs_in_switches_language_and_logs_out(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    page.goto("/")
    assert "/accounts/login/" in page.url  # every page needs a login
    assert page.locator("h1").inner_text().startswith("Masuk")
    login(page, "rina", PASSWORD)
    assert "Balai Anak Uji" in page.get_by_test_id("memberships").inner_text()
    nav = page.get_by_test_id("nav")
    assert nav.locator("[data-nav=staff]").count() == 0  # not a supervisor or org admin
    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    expect(page.get_by_test_id("nav").locator("[data-nav=home]")).to_have_text("Home")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert page.csp_violations == []


def test_wrong_password_is_explained(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "rina")
    page.fill("input[name=password]", "salah-sekali")
    page.click("button[type=submit]")
    assert "nama pengguna" in page.locator(".alert, .invalid-feedback, .errorlist").first.inner_text().lower()
    assert "/accounts/login/" in page.url


def test_org_admin_adds_a_colleague_and_revokes_a_role(page, org):
    member(organisation=org, role=Role.ORG_ADMIN, username="admin.org")
    member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.lama")
    login(page, "admin.org", PASSWORD)
    page.get_by_test_id("nav").locator("[data-nav=staff]").click()
    page.get_by_role("link", name="Tambah rekan kerja").click()
    page.fill("input[name=first_name]", "Siti")
    page.fill("input[name=username]", "peksos.baru")
    page.fill("input[name=email]", "tidak-valid")
    page.select_option("select[name=role]", "referral_officer")
    page.get_by_role("button", name="Tambahkan").click()
    # Bad input: a clear message at the field, nothing saved.
    expect(page.locator("#id_email_error, .invalid-feedback").first).to_be_visible()
    assert not User.objects.filter(username="peksos.baru").exists()
    page.fill("input[name=email]", "siti@example.test")
    page.get_by_role("button", name="Tambahkan").click()
    page.wait_for_url(f"**/organisations/{org.pk}/staff/")
    assert "peksos.baru" in page.get_by_test_id("staff-table").inner_text()
    row = page.get_by_test_id("staff-table").locator("tr", has_text="peksos.lama")
    row.get_by_role("button", name="Cabut peran").click()
    page.wait_for_url(f"**/organisations/{org.pk}/staff/")
    assert not Membership.objects.get(user__username="peksos.lama").is_active
    # A colleague's lost phone: reset from the same page, which comes back with a message.
    row = page.get_by_test_id("staff-table").locator("tr", has_text="peksos.baru")
    row.get_by_test_id("staff-reset-second-factor").click()
    page.wait_for_url(f"**/organisations/{org.pk}/staff/")
    expect(page.locator(".alert-success").first).to_contain_text("direset")
    assert User.objects.get(username="peksos.baru").second_factor_reset_at is not None
    assert Membership.objects.get(user__username="peksos.baru").role == "referral_officer"
    assert page.csp_violations == []


def test_outsider_sees_the_not_found_page(page, org, other_org):
    member(organisation=other_org, role=Role.ORG_ADMIN, username="orang.luar")
    login(page, "orang.luar", PASSWORD)
    response = page.goto(f"/organisations/{org.pk}/staff/")
    assert response.status == 404
    assert "Halaman tidak ditemukan" in page.locator("h1").inner_text()
