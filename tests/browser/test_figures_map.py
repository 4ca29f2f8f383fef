"""The map of open cases in a real browser: a national viewer sees bubbles and the table,
filters by a category, and opens a kab/kota's figures from its bubble."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def load_demo() -> None:
    # live_server's settings override hides SETTINGS_MODULE, which load_demo checks.
    with override_settings(SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"]):
        call_command("load_demo", verbosity=0)


def aggregate(text: str) -> bool:
    text = text.strip()
    return text == "<5" or (text.replace(".", "").isdigit() and int(text.replace(".", "")) % 5 == 0)


def placed_rows(page) -> int:
    return page.get_by_test_id("map-table").locator("tbody tr:not([data-code=''])").count()


def test_a_national_viewer_sees_bubbles_and_the_table_and_filters_by_a_category(page):
    load_demo()
    login(page, "viewer.nasional", settings.ATENSI_DEMO_PASSWORD)
    page.get_by_test_id("nav").locator("[data-nav=map]").click()
    page.wait_for_url("**/map/")
    box = page.get_by_test_id("map")
    # Without a tile server the bubbles are drawn on a plain background: SVG circles.
    expect(box).to_have_attribute("data-loaded", str(placed_rows(page)))
    bubbles = box.locator("path.map-bubble")
    everywhere = placed_rows(page)
    assert everywhere >= 1
    expect(bubbles).to_have_count(everywhere)
    expect(box.locator(".leaflet-services-pane canvas")).to_be_attached()  # the demo's LKSA and Balai
    expect(page.get_by_test_id("map-table")).to_be_visible()
    # An aggregate reader: every count is "<5" or a multiple of 5.
    assert all(aggregate(text) for text in page.get_by_test_id("map-count").all_inner_texts())

    form = page.get_by_test_id("map-filters")
    form.locator("select[name=category]").select_option("kejahatan_seksual")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/map/?*category=kejahatan_seksual*")
    expect(box).to_have_attribute("data-loaded", str(placed_rows(page)))
    expect(bubbles).to_have_count(placed_rows(page))
    assert placed_rows(page) < everywhere or everywhere == 1

    # A bubble's click shows its kab/kota's figures and nearest services beside the map.
    bubbles.first.dispatch_event("click")  # a service marker may lie over its centre
    expect(page.get_by_test_id("map-region-name")).to_be_visible()
    assert aggregate(page.get_by_test_id("map-region-count").inner_text())
    assert page.csp_violations == []
