"""Find a region with the picker: by typing and the keyboard, by browsing, and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_a_region_with_the_picker(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.goto("/regions/")
    box = page.locator("#id_region")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")

    # Type part of the name; the results come as you type.
    box.press_sequentially("Lubuk Min", delay=20)
    listbox = page.locator("#id_region_listbox")
    expect(listbox.get_by_role("option").first).to_contain_text("Lubuk Minturun")
    expect(box).to_have_attribute("aria-expanded", "true")

    # Escape closes the list, ArrowDown opens it again on the first result, Enter picks it.
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("Enter")

    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Lubuk Minturun, Koto Tangah, Kota Padang, Sumatera Barat")
    details = page.get_by_test_id("region-details")
    expect(details).to_contain_text("Kota Padang")
    expect(page.get_by_test_id("region-code")).to_have_text("13.71.11.1002")
    expect(page.get_by_test_id("region-picker-code")).to_have_text("13.71.11.1002")
    assert "region=1371111002" in page.url

    # A typo still finds the place; Tab leaves the box and keeps what was picked.
    box.fill("")
    box.press_sequentially("Telanaypura", delay=20)
    expect(listbox.get_by_role("option").first).to_contain_text("Telanaipura")
    box.press("Tab")
    expect(listbox).to_be_hidden()
    expect(box).not_to_be_focused()

    # Browse: province → regency/city → district → village.
    page.locator("#id_region_picker details summary").click()
    page.select_option("#id_region_browse1", label="Jambi")
    expect(page.locator("#id_region_browse2")).to_be_enabled()
    page.select_option("#id_region_browse2", label="Kota Jambi")
    expect(page.locator("#id_region_browse3")).to_be_enabled()
    page.select_option("#id_region_browse3", label="Telanaipura")
    expect(page.locator("#id_region_browse4")).to_be_enabled()
    page.select_option("#id_region_browse4", label="Telanaipura")

    expect(page.get_by_test_id("region-code")).to_have_text("15.71.01.1004")
    expect(details).to_contain_text("Telanaipura, Telanaipura, Kota Jambi, Jambi")
    expect(box).to_have_value("Telanaipura, Telanaipura, Kota Jambi, Jambi")
    expect(page.locator("#id_region_value")).to_have_value("1571011004")

    # A new province empties the selects below it.
    page.select_option("#id_region_browse1", label="Sumatera Barat")
    expect(page.locator("#id_region_browse4")).to_be_disabled()
    assert page.csp_violations == []


def test_search_can_be_scoped_to_a_province(page, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.goto("/regions/")
    page.select_option("#id_region_scope1", label="Sumatera Barat")
    expect(page.locator("#id_region_scope2")).to_be_visible()
    box = page.locator("#id_region")
    box.press_sequentially("Telanaipura", delay=20)
    expect(page.locator("#id_region_listbox [role=option][aria-disabled=true]")).to_have_count(1)  # "no match"
    expect(page.locator("#id_region_listbox").locator("[role=option][data-code]")).to_have_count(0)
    page.select_option("#id_region_scope1", label="Jambi")
    expect(page.locator("#id_region_listbox [data-code='1571011004']")).to_have_count(1)
    assert page.csp_violations == []


def test_without_javascript_a_typed_code_still_works(browser, live_server, org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    context = browser.new_context(base_url=live_server.url, locale="id-ID", java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, "rina", PASSWORD)
        page.goto("/regions/?region=1571011004")
        expect(page.locator("#id_region")).to_be_hidden()  # the search box needs JavaScript
        expect(page.locator("#id_region_picker")).to_contain_text("15.71.01.1004")
        page.locator("#id_region_picker details summary").click()
        page.fill("#id_region_code", "13.71.11.1002")
        page.locator("[data-testid=region-lookup-form] button[type=submit]").click()
        page.wait_for_url("**/regions/?*")
        expect(page.get_by_test_id("region-code")).to_have_text("13.71.11.1002")
        expect(page.get_by_test_id("region-details")).to_contain_text("Kota Padang")
    finally:
        context.close()


def test_the_multiple_picker_adds_and_removes_chips(page, org):
    """The coverage picker, as an organisation form will use it, arriving in htmx-swapped content."""
    from django import forms

    from stakeholders.fields import RegionMultipleField

    class CoverageForm(forms.Form):
        coverage = RegionMultipleField(required=False)

    html = f'<form id="coverage-form">{CoverageForm(initial={"coverage": ["15"]})["coverage"]}</form>'
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    login(page, "rina", PASSWORD)
    page.goto("/regions/")
    page.evaluate("html => htmx.swap('#main', html, {swapStyle: 'beforeend'})", html)
    chips = page.locator("#id_coverage_picker [data-role=chips]")
    expect(chips.locator("li")).to_have_count(1)
    expect(chips).to_contain_text("Jambi")

    box = page.locator("#id_coverage")
    box.press_sequentially("Kota Padang", delay=20)
    listbox = page.locator("#id_coverage_listbox")
    expect(listbox.get_by_role("option").first).to_contain_text("Kota Padang")
    box.press("ArrowDown")
    box.press("Enter")
    expect(chips.locator("li")).to_have_count(2)
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    # Browse to a regency/city and add it with the button.
    page.locator("#id_coverage_picker details summary").click()
    page.select_option("#id_coverage_browse1", label="Jambi")
    page.select_option("#id_coverage_browse2", label="Kota Jambi")
    page.locator("#id_coverage_picker [data-role=add]").click()
    expect(chips.locator("li")).to_have_count(3)

    # Remove the province chip with its button.
    chips.locator("li[data-code='15'] [data-role=remove]").click()
    expect(chips.locator("li")).to_have_count(2)
    hidden = page.locator("#coverage-form input[type=hidden][name=coverage]")
    values = hidden.evaluate_all("els => els.map(e => e.value)")
    assert values == ["1371", "1571"]
    assert page.csp_violations == []
