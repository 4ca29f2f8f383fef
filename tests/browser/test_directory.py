"""The organisation directory in a real browser: filter, search, open an organisation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from stakeholders.models import Organisation
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JAMBI_LKSA = {"LKSA-KASIH", "LKSA-HARAPAN", "LKSA-NURUL"}


def directory_data() -> None:
    """Jambi's LKSAs among others. (load_demo refuses to run under live_server's settings override.)"""
    from stakeholders.models import Region
    from stakeholders.services import organisation_create

    def make(code: str, name: str, kind: str, village: str = "", region: str = "") -> None:
        profile: dict = {}
        if village:
            profile["village"] = Region.objects.get(code=village)
        else:
            home = Region.objects.get(code=region)
            profile.update(home_region=home, latitude=home.latitude, longitude=home.longitude)
        organisation_create(code=code, name=name, kind=kind, **profile)

    make("LKSA-KASIH", "LKSA Kasih Bunda Kota Jambi", "lksa", village="1571011004")
    make("LKSA-HARAPAN", "LKSA Harapan Mulia Kota Jambi", "lksa", region="1571")
    make("LKSA-NURUL", "LKSA Nurul Iman Muaro Jambi", "lksa", region="1505")
    make("LKSA-PADANG", "LKSA Padang Sejahtera", "lksa", village="1371111002")
    make("BA-ALYATAMA", 'Balai Anak "Alyatama" Jambi', "balai", region="1571")
    make("DINSOS-JAMBI", "Dinas Sosial Provinsi Jambi", "dinsos_provinsi", region="15")


def listed(page) -> set[str]:
    rows = page.get_by_test_id("directory-table").locator("tbody tr[data-code]")
    return {rows.nth(i).get_attribute("data-code") for i in range(rows.count())}


def block_tiles(page) -> None:
    # No tile server in the test sandbox (nor, often, in the field): the page must cope.
    page.route(re.compile(r"^https://tile\.openstreetmap\.org/.*"), lambda route: route.abort())


def test_filter_the_directory_search_and_open_an_organisation(page):
    directory_data()
    member(organisation=Organisation.objects.get(code="DINSOS-JAMBI"), role=Role.REFERRAL_OFFICER, username="sari")
    block_tiles(page)
    login(page, "sari", PASSWORD)
    page.goto("/organisations/")
    table = page.get_by_test_id("directory-table")
    expect(table.locator("tbody tr[data-code]")).to_have_count(6)

    # Each change refreshes only the results (htmx) and keeps the URL in step.
    with page.expect_response(lambda r: "kind=lksa" in r.url):
        page.check("input[name=kind][value=lksa]")
    with page.expect_response(lambda r: "province=15" in r.url):
        page.select_option("select[name=province]", "15")
    expect(table.locator("tbody tr[data-code]")).to_have_count(len(JAMBI_LKSA))
    assert listed(page) == JAMBI_LKSA
    assert "kind=lksa" in page.url and "province=15" in page.url

    # The kab/kota list now holds Jambi's regencies and cities.
    with page.expect_response(lambda r: "kabkota=1571" in r.url):
        page.select_option("select[name=kabkota]", "1571")
    expect(table.locator("tbody tr[data-code]")).to_have_count(2)
    assert listed(page) == {"LKSA-KASIH", "LKSA-HARAPAN"}

    with page.expect_response(lambda r: "q=harapan" in r.url):
        page.fill("input[name=q]", "harapan")
    expect(table.locator("tbody tr[data-code]")).to_have_count(1)
    assert listed(page) == {"LKSA-HARAPAN"}

    table.get_by_role("link", name="LKSA Harapan Mulia Kota Jambi").click()
    page.wait_for_url(re.compile(r".*/organisations/\d+/$"))
    expect(page.get_by_test_id("organisation-name")).to_have_text("LKSA Harapan Mulia Kota Jambi")
    # Tiles blocked: the box keeps its place, the pin and the coordinates are still there.
    expect(page.locator(".organisation-map.is-ready")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(page.get_by_test_id("coordinates")).to_contain_text("-1.")
    assert "openstreetmap.org" in (page.get_by_test_id("osm-link").get_attribute("href") or "")
    assert page.csp_violations == []


def test_the_filter_form_works_without_javascript(browser, live_server):
    directory_data()
    member(organisation=Organisation.objects.get(code="DINSOS-JAMBI"), role=Role.REFERRAL_OFFICER, username="sari")
    context = browser.new_context(base_url=live_server.url, locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, "sari", PASSWORD)
        page.goto("/organisations/")
        page.check("input[name=kind][value=lksa]")
        page.select_option("select[name=province]", "15")
        page.get_by_test_id("directory-filters").locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*province=15.*"))
        assert listed(page) == JAMBI_LKSA
        page.get_by_test_id("directory-table").get_by_role("link", name="LKSA Kasih Bunda Kota Jambi").click()
        expect(page.get_by_test_id("organisation-name")).to_have_text("LKSA Kasih Bunda Kota Jambi")
        # Without JavaScript there is no map box, but the location is there as text.
        expect(page.locator(".organisation-map")).to_be_hidden()
        expect(page.get_by_test_id("coordinates")).to_be_visible()
    finally:
        context.close()
