"""Find the nearest LKSA for a client's village, in a real browser."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings

from stakeholders.models import Organisation
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TELANAIPURA = "15.71.01.1004"


def load_demo() -> None:
    # live_server's settings override hides SETTINGS_MODULE, which load_demo checks
    # (it refuses production): name the module the tests really run with.
    with override_settings(SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"]):
        call_command("load_demo", verbosity=0)


def choose_village(page, code: str) -> None:
    """Give the village by its Kemendagri code, the way a user without the list would."""
    form = page.get_by_test_id("finder-form")
    picker = form.locator("[data-region-picker]")
    if picker.count():
        # The region picker: its "type the code" box sits in a fold under the search box.
        picker.locator("details summary").click()
        form.locator("input[name=village_code]").fill(code)
    else:
        form.locator("input[name=village]").fill(code)


def result_codes(page) -> list[str]:
    return (
        page.get_by_test_id("finder-results").locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    )


def test_social_worker_finds_the_nearest_lksa_with_room(page, org):
    load_demo()
    # Occupancy is counted from open residential cases and the demo has few: Harapan Mulia
    # is full the way its children's cases would make it.
    Organisation.objects.filter(code="LKSA-HARAPANMULIA").update(occupancy=F("capacity"))
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.get_by_test_id("nav-network").click()
    page.get_by_test_id("nav").locator("[data-nav=finder]").click()
    page.wait_for_url("**/finder/")

    form = page.get_by_test_id("finder-form")
    # LKSA, Balai and LPKS are ticked to begin with; leave only LKSA.
    assert form.locator("input[name=kinds][value=lksa]").is_checked()
    form.locator("input[name=kinds][value=balai]").uncheck()
    form.locator("input[name=kinds][value=lpks]").uncheck()
    choose_village(page, TELANAIPURA)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/finder/?*")

    codes = result_codes(page)
    assert codes[:2] == ["LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA"]
    first = page.get_by_test_id("finder-results").locator("tbody tr").first
    assert "LKSA Kasih Bunda Kota Jambi" in first.inner_text()
    assert "Telanaipura" in page.get_by_test_id("finder-origin").inner_text()

    # Only places with room: Harapan Mulia is full and drops out; the search is in the URL.
    page.get_by_test_id("finder-form").locator("input[name=free_places]").check()
    page.get_by_test_id("finder-form").locator("button[type=submit]").click()
    page.wait_for_url("**free_places=on*")
    codes = result_codes(page)
    assert codes[0] == "LKSA-KASIHBUNDA"
    assert "LKSA-HARAPANMULIA" not in codes
    assert page.csp_violations == []


def test_a_wrong_distance_is_explained_at_the_field(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.goto("/finder/")
    choose_village(page, TELANAIPURA)
    page.get_by_test_id("finder-form").locator("input[name=max_km]").fill("0")
    page.get_by_test_id("finder-form").locator("button[type=submit]").click()
    page.wait_for_url("**/finder/?*")
    assert page.locator("#id_max_km.is-invalid").count() == 1
    assert page.get_by_test_id("finder-results").count() == 0
    assert page.csp_violations == []
