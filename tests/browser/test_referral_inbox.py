"""The referral inbox in a real browser: the receiver finds the overdue referral on top,
marked, and moves between the status tabs (htmx swaps the list, the URL follows)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from referrals.services import referral_accept
from referrals.tests.test_list_views import make_overdue, refer
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.get_by_test_id("referral-table").locator("tbody tr[data-testid=referral-row]")


def listed(page) -> list[str]:
    return rows(page).evaluate_all("rows => rows.map(r => r.dataset.referral)")


def test_the_receiver_sees_the_overdue_referral_first_and_switches_tabs(page):
    balai = OrganisationFactory(code="BA-KIRIM", name='Balai Anak "Kirim" Jambi')
    dinsos = OrganisationFactory(code="DINSOS-TERIMA", name="Dinas Sosial Terima")
    rina = member(organisation=balai, role=Role.SOCIAL_WORKER, username="rina")
    officer = member(organisation=dinsos, role=Role.REFERRAL_OFFICER, username="dedi")
    fresh = refer(balai, rina, dinsos, name="Nur Aisyah Putri", urgency="high")
    late = refer(balai, rina, dinsos, name="Fajar Ramadhan")
    make_overdue(late, days_late=2)
    accepted = referral_accept(referral=refer(balai, rina, dinsos, name="Andi Saputra"), by=officer)

    login(page, "dedi", PASSWORD)
    page.goto("/referrals/")
    expect(rows(page)).to_have_count(2)
    assert listed(page) == [str(late.pk), str(fresh.pk)]
    first = rows(page).first
    expect(first).to_have_attribute("data-overdue", "")
    expect(first.get_by_test_id("overdue-badge")).to_be_visible()
    expect(first.get_by_test_id("referral-child")).to_contain_text("Fajar")
    expect(first.get_by_test_id("referral-child")).not_to_contain_text("Ramadhan")
    expect(rows(page).nth(1).get_by_test_id("overdue-badge")).to_have_count(0)
    expect(page.get_by_test_id("tab-count-sent")).to_have_text("2")
    expect(page.get_by_test_id("tab-overdue")).to_be_visible()
    expect(page.get_by_test_id("figure-waiting")).to_have_text("2")

    # The accepted tab: htmx swaps the list, the address bar follows.
    with page.expect_response(lambda r: "status=accepted" in r.url):
        page.get_by_test_id("tab-accepted").click()
    expect(rows(page)).to_have_count(1)
    assert listed(page) == [str(accepted.pk)]
    expect(page.get_by_test_id("tab-accepted")).to_have_class("nav-link text-nowrap active")
    assert "status=accepted" in page.url

    # An empty tab says so; the back button returns to the accepted one.
    with page.expect_response(lambda r: "status=declined" in r.url):
        page.get_by_test_id("tab-declined").click()
    expect(page.get_by_test_id("referral-empty")).to_be_visible()
    page.go_back()
    expect(rows(page)).to_have_count(1)
    assert listed(page) == [str(accepted.pk)]
    page.get_by_test_id("tab-sent").click()
    expect(rows(page)).to_have_count(2)
    assert listed(page)[0] == str(late.pk)
    assert page.csp_violations == []


def test_the_sender_follows_its_referrals_and_the_receiver_its_figures(page, browser, live_server):
    balai = OrganisationFactory(code="BA-KIRIM", name='Balai Anak "Kirim" Jambi')
    dinsos = OrganisationFactory(code="DINSOS-TERIMA", name="Dinas Sosial Terima")
    rina = member(organisation=balai, role=Role.SOCIAL_WORKER, username="rina")
    officer = member(organisation=dinsos, role=Role.REFERRAL_OFFICER, username="dedi")
    waiting = refer(balai, rina, dinsos, name="Nur Aisyah Putri")
    make_overdue(waiting, days_late=1)
    accepted = referral_accept(referral=refer(balai, rina, dinsos, name="Andi Saputra"), by=officer)

    # The sender: its sent list, reached from the boxes, names its own children.
    login(page, "rina", PASSWORD)
    page.goto("/referrals/")
    page.get_by_test_id("box-outbox").click()
    page.wait_for_url("**/referrals/sent/**")
    expect(rows(page)).to_have_count(1)
    assert listed(page) == [str(waiting.pk)]
    expect(rows(page).first).to_contain_text("Dinas Sosial Terima")
    expect(rows(page).first.get_by_test_id("overdue-badge")).to_be_visible()
    expect(rows(page).first.get_by_test_id("referral-child")).to_contain_text("Nur Aisyah Putri")
    with page.expect_response(lambda r: "status=accepted" in r.url):
        page.get_by_test_id("tab-accepted").click()
    # The response arrives before htmx swaps it in: wait for the row, not for the response.
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-referral", str(accepted.pk))

    # The receiver: its figures over a period of its choosing.
    receiver = browser.new_context(base_url=live_server.url, locale="id-ID")
    other = receiver.new_page()
    login(other, "dedi", PASSWORD)
    other.goto("/referrals/figures/")
    figures = other.get_by_test_id("figures-row")
    expect(figures).to_have_count(1)
    expect(figures.get_by_test_id("figure-received")).to_have_text("2")
    expect(figures.get_by_test_id("figure-waiting")).to_have_text("1")
    expect(figures.get_by_test_id("figure-overdue")).to_have_text("1")
    expect(figures.get_by_test_id("figure-rate")).to_contain_text("100")
    expect(other.get_by_test_id("figures-periods")).to_be_visible()
    receiver.close()
    assert page.csp_violations == []
