"""On the demo data: `peksos.rumbai` (Balai Anak "Rumbai", Pekanbaru) searches the NIK of
Balai Alyatama's confidential child. She learns only that the child is registered
elsewhere, asks for contact, and `supervisor.alyatama` finds the request in the bell; the
case's "who saw this" lists her search, next to every view of the case."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from cases.models import Case

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_confidential_child_elsewhere_is_only_registered_elsewhere(devices: Devices) -> None:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    case = Case.objects.select_related("beneficiary").get(
        organisation__code="BA-ALYATAMA", beneficiary__full_name="Dinda Ayu Lestari"
    )
    assert case.is_confidential and case.beneficiary.nik

    searcher = devices("peksos.rumbai")
    searcher.goto("/cases/beneficiaries/")
    searcher.fill("input[name=nik]", case.beneficiary.nik)
    with searcher.expect_navigation():
        searcher.get_by_test_id("beneficiary-search-submit").click()
    match = searcher.get_by_test_id("nik-match")
    expect(match).to_contain_text("sudah terdaftar di tempat lain")
    page_text = searcher.locator("main").inner_text()
    for secret in ("Dinda", "Alyatama", case.number):
        assert secret not in page_text
    with searcher.expect_navigation():
        match.get_by_test_id("request-contact").click()
    expect(searcher.locator(".alert-success").first).to_contain_text("diminta menghubungi Anda")

    boss = devices("supervisor.alyatama")
    boss.goto("/notifications/")
    expect(boss.locator("main")).to_contain_text("meminta Anda menghubunginya")
    boss.goto(f"/cases/{case.pk}/")
    boss.get_by_test_id("case-access-tab").click()
    table = boss.get_by_test_id("access-table")
    expect(table).to_contain_text("ditemukan dalam pencarian")
    expect(table).to_contain_text("peksos.rumbai")
    expect(table).to_contain_text("kontak diminta")
    expect(table).to_contain_text("supervisor.alyatama")  # their own view of the case, a moment ago
    assert devices.csp_violations == []
