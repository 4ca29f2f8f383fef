"""The case page in a real browser: a worker sends the plan for approval, a supervisor
approves it, the timeline shows both, and the case moves on to the intervention."""

from __future__ import annotations

import pytest

from cases.models import Approval, ApprovalStatus, Stage
from cases.tests.factories import open_case, village
from cases.tests.workflow_helpers import plan_item, to_planning
from stakeholders.tests.factories import PASSWORD

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logout(page):
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")


def test_supervisor_approves_a_plan_the_worker_sent(page, org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    case.beneficiary.village = village("1571011004")
    case.beneficiary.save()
    to_planning(case, owner)
    plan_item(case, owner)

    login(page, owner.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    assert case.beneficiary.full_name in page.get_by_test_id("case-child").inner_text()
    assert page.locator("[data-testid=stage-bar] [aria-current=step]").get_attribute("data-stage") == "perencanaan"
    # No intervention yet: the button is off and says why.
    assert page.get_by_test_id("stage-forward").is_disabled()
    assert page.get_by_test_id("next-problem").is_visible()
    request = page.get_by_test_id("plan-request")
    request.locator("summary").click()
    request.locator("textarea[name=note]").fill("Mohon persetujuan rencana intervensi.")
    request.locator("button[type=submit]").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.locator(".alert-success").count() == 1
    assert page.locator("[data-testid=timeline-entry][data-kind=approval_requested]").count() == 1
    assert page.get_by_test_id("plan-request").count() == 0  # one waiting request at a time
    approval = Approval.objects.get(case=case)
    assert (approval.status, approval.requested_by) == (ApprovalStatus.PENDING, owner)
    logout(page)

    login(page, supervisor.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    decision = page.get_by_test_id("pending-approvals").get_by_test_id("approval")
    assert "Mohon persetujuan rencana intervensi." in decision.inner_text()
    # Rejecting without a comment is refused with a message; nothing is decided.
    decision.locator("button[name=decision][value=reject]").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.locator(".alert-danger").count() == 1
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    decision = page.get_by_test_id("pending-approvals").get_by_test_id("approval")
    decision.locator("textarea[name=comment]").fill("Rencana sudah lengkap.")
    decision.locator("button[name=decision][value=approve]").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, supervisor)
    assert page.get_by_test_id("pending-approvals").count() == 0
    decided = page.locator("[data-testid=timeline-entry][data-kind=approval_decided]")
    assert decided.count() == 1
    assert "Rencana sudah lengkap." in decided.inner_text()
    assert supervisor.get_full_name() in decided.inner_text()
    # The newest entry is on top.
    assert page.get_by_test_id("timeline-entry").first.get_attribute("data-kind") == "approval_decided"

    # With the plan approved, the intervention can start.
    page.get_by_test_id("stage-forward").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    case.refresh_from_db()
    assert case.stage == Stage.INTERVENSI
    assert page.get_by_test_id("timeline-entry").first.get_attribute("data-kind") == "stage"
    assert page.csp_violations == []


def test_case_page_fits_a_phone(browser, live_server, org, owner):
    case = open_case(organisation=org, by=owner)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740}, locale="id-ID")
    page = context.new_page()
    try:
        login(page, owner.username, PASSWORD)
        page.goto(f"/cases/{case.pk}/")
        # Nothing wider than the screen: no sideways scrolling on a phone.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        assert page.get_by_test_id("timeline").is_visible()
    finally:
        context.close()
