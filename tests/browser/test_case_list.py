"""The case list in a real browser: a supervisor filters and searches; a confidential case
stays masked for a colleague."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case, RiskLevel, Stage
from cases.tests.factories import BeneficiaryFactory, open_case, village
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def child_case(org, by, name, **case):
    child = BeneficiaryFactory(
        organisation=org, created_by=by, full_name=name, village=village("1571011004"), regency_code="1571"
    )
    return open_case(organisation=org, by=by, beneficiary=child, **case)


def rows(page):
    return page.get_by_test_id("case-table").locator("tbody tr[data-testid=case-row]")


def listed(page) -> list[str]:
    return rows(page).evaluate_all("rows => rows.map(r => r.dataset.number)")


@pytest.fixture
def balai():
    org = OrganisationFactory(code="BA-JALAN", name='Balai Anak "Jalan" Jambi')
    rina = member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    dedi = member(organisation=org, role=Role.SOCIAL_WORKER, username="dedi")
    budi = member(organisation=org, role=Role.SUPERVISOR, username="budi")
    return org, rina, dedi, budi


def test_a_supervisor_filters_by_stage_and_searches_by_name(page, balai):
    org, rina, dedi, _budi = balai
    rizky = child_case(org, rina, "Muhammad Rizky Pratama")
    aisyah = child_case(org, dedi, "Nur Aisyah Putri", risk_level=RiskLevel.HIGH)
    fajar = child_case(org, rina, "Fajar Ramadhan")
    andi = child_case(org, dedi, "Andi Saputra")
    Case.objects.filter(pk__in=[aisyah.pk, andi.pk]).update(stage=Stage.ASESMEN)

    login(page, "budi", PASSWORD)
    page.goto("/cases/")
    # A supervisor starts from all cases of the organisation, newest first.
    expect(rows(page)).to_have_count(4)
    assert listed(page) == [andi.number, fajar.number, aisyah.number, rizky.number]

    # Ticking a stage refreshes only the results (htmx) and keeps the URL in step.
    with page.expect_response(lambda r: "stage=asesmen" in r.url):
        page.check("input[name=stage][value=asesmen]")
    expect(rows(page)).to_have_count(2)
    assert listed(page) == [andi.number, aisyah.number]
    assert "stage=asesmen" in page.url

    with page.expect_response(lambda r: "q=aisyah" in r.url):
        page.fill("input[name=q]", "aisyah")
    expect(rows(page)).to_have_count(1)
    assert listed(page) == [aisyah.number]
    expect(rows(page).first.get_by_test_id("case-child")).to_contain_text("Nur Aisyah Putri")
    assert "q=aisyah" in page.url and "stage=asesmen" in page.url

    # The filtered list is what the export holds.
    href = page.get_by_test_id("case-export-csv").get_attribute("href")
    assert "stage=asesmen" in href and "q=aisyah" in href
    assert page.csp_violations == []


def test_a_confidential_case_shows_masked_to_a_colleague(page, balai):
    org, rina, _dedi, _budi = balai
    secret = child_case(org, rina, "Dinda Ayu Lestari", is_confidential=True, risk_level=RiskLevel.CRITICAL)
    child_case(org, rina, "Fajar Ramadhan")

    login(page, "dedi", PASSWORD)
    page.goto("/cases/")
    # A social worker starts from their own cases: none yet.
    expect(page.get_by_test_id("case-empty")).to_be_visible()
    with page.expect_response(lambda r: "scope=all" in r.url):
        page.get_by_test_id("case-scope").locator("label").nth(1).click()
    expect(rows(page)).to_have_count(2)
    masked = page.locator(f'tr[data-number="{secret.number}"]')
    assert masked.get_attribute("data-masked") is not None
    assert masked.locator("a").count() == 0  # not a link to the case
    text = page.get_by_test_id("case-results").inner_text()
    assert "Dinda" not in text and "Fajar Ramadhan" in text

    # The child's name does not find it; its number does.
    with page.expect_response(lambda r: "q=dinda" in r.url):
        page.fill("input[name=q]", "dinda")
    expect(page.get_by_test_id("case-empty")).to_be_visible()
    with page.expect_response(lambda r: "q=" in r.url and "dinda" not in r.url):
        page.fill("input[name=q]", secret.number)
    expect(rows(page)).to_have_count(1)
    assert page.locator(f'tr[data-number="{secret.number}"]').get_attribute("data-masked") is not None
    assert "Dinda" not in page.get_by_test_id("case-results").inner_text()
    assert page.csp_violations == []
