"""Handing cases over and printing a case summary, in a real browser: a supervisor ticks
two cases in the list and hands them to a colleague; the summary prints without the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case
from stakeholders.tests.factories import PASSWORD

from .conftest import login
from .test_case_list import balai, child_case, rows  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_ticks_two_cases_and_hands_them_over(page, balai):  # noqa: F811
    org, rina, dedi, _budi = balai
    first = child_case(org, rina, "Muhammad Rizky Pratama")
    second = child_case(org, rina, "Fajar Ramadhan")
    stays = child_case(org, rina, "Nur Aisyah Putri")

    login(page, "budi", PASSWORD)
    page.goto("/cases/")
    expect(rows(page)).to_have_count(3)
    page.get_by_label(f"Pilih kasus {first.number}").check()
    page.get_by_label(f"Pilih kasus {second.number}").check()
    page.get_by_test_id("reassign-form").locator("summary").click()
    page.select_option("select[name=to]", str(dedi.pk))
    page.get_by_test_id("reassign-submit").click()
    expect(page.locator(".messages")).to_contain_text("2 kasus")
    assert [Case.objects.get(pk=c.pk).case_manager_id for c in (first, second, stays)] == [dedi.pk, dedi.pk, rina.pk]
    assert page.csp_violations == []


def test_select_all_ticks_every_case_on_the_page(page, balai):  # noqa: F811
    org, rina, _dedi, _budi = balai
    for name in ("Anak Satu", "Anak Dua", "Anak Tiga"):
        child_case(org, rina, name)
    login(page, "budi", PASSWORD)
    page.goto("/cases/")
    page.get_by_test_id("case-select-all").check()
    expect(page.locator("input[name=cases]:checked")).to_have_count(3)
    page.get_by_test_id("case-select-all").uncheck()
    expect(page.locator("input[name=cases]:checked")).to_have_count(0)


def test_the_case_summary_prints_without_the_portal_around_it(page, balai):  # noqa: F811
    org, rina, _dedi, _budi = balai
    case = child_case(org, rina, "Muhammad Rizky Pratama")
    login(page, "rina", PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_test_id("case-summary-link").click()
    expect(page.get_by_test_id("summary-child")).to_contain_text("Muhammad Rizky Pratama")
    # The Print button is shown by its script (no inline handler under the CSP).
    expect(page.get_by_test_id("summary-print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_test_id("summary-print")).to_be_hidden()
    expect(page.get_by_test_id("summary-identity")).to_be_visible()
    assert page.csp_violations == []
