"""On the demo data: a national administrator of the Directorate (an organisation marked
national) opens "People" from the user menu, finds `peksos.alyatama` of Balai Alyatama,
resets her lost phone's second factor and signs her out everywhere; her open session
ends."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from atensi.testing.second_factor import authenticator
from stakeholders.models import Organisation, User
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import user

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_national_admin_finds_a_social_worker_and_signs_her_out(devices: Devices) -> None:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    national = user(username="admin.nasional", first_name="Nadia", last_name="Nasional")
    national.set_password(settings.ATENSI_DEMO_PASSWORD)
    national.save(update_fields=["password"])
    membership_add(organisation=Organisation.objects.get(is_national=True), user=national, role=Role.NATIONAL_ADMIN)
    worker = User.objects.get(username="peksos.alyatama")
    authenticator(worker)  # she set up an app, and then lost her phone

    her = devices("peksos.alyatama")
    her.goto("/")
    boss = devices("admin.nasional")
    boss.goto("/")
    boss.get_by_test_id("user-menu").click()
    boss.get_by_test_id("people-link").click()
    boss.wait_for_url("**/people/")
    expect(boss.get_by_test_id("people-prompt")).to_be_visible()
    boss.fill("input[name=q]", "peksos.alya")
    with boss.expect_navigation():
        boss.get_by_test_id("people-search-submit").click()
    row = boss.get_by_test_id("people-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("peksos.alyatama")
    expect(row).to_contain_text("Alyatama")
    with boss.expect_navigation():
        row.get_by_role("link").click()
    expect(boss.get_by_test_id("person-second-factor")).to_contain_text("Aplikasi autentikator sudah disiapkan")

    with boss.expect_navigation():
        boss.get_by_test_id("person-reset-second-factor").click()
    expect(boss.locator(".alert-success").first).to_be_visible()
    expect(boss.get_by_test_id("person-second-factor")).to_contain_text("Belum disiapkan")
    worker.refresh_from_db()
    assert worker.second_factor_reset_at is not None

    with boss.expect_navigation():
        boss.get_by_test_id("person-end-sessions").click()
    expect(boss.locator(".alert-success").first).to_be_visible()
    her.goto("/cases/")
    her.wait_for_url("**/accounts/login/**")
    assert devices.csp_violations == []
