"""Approvals in two browsers: the social worker sends the plan from the Plan tab, the
supervisor's bell and approvals badge show it at once, the supervisor approves it from
the queue, and the social worker finds the decision in the bell."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from cases.models import Approval, ApprovalStatus
from cases.tests.factories import open_case
from cases.tests.workflow_helpers import plan_item, to_planning

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_plan_sent_from_the_plan_tab_is_approved_from_the_queue(
    devices: Devices, org: Any, owner: Any, supervisor: Any
):
    case = open_case(organisation=org, by=owner, supervisor=supervisor)
    to_planning(case, owner)
    plan_item(case, owner)

    worker = devices(owner.username)
    worker.goto(f"/cases/{case.pk}/plan/")
    form = worker.get_by_test_id("plan-tab-request")
    form.locator("textarea[name=note]").fill("Rencana siap ditinjau.")
    worker.get_by_test_id("plan-tab-send").click()
    worker.wait_for_url(f"**/cases/{case.pk}/plan/")
    expect(worker.locator(".alert-success")).to_have_count(1)
    expect(worker.get_by_test_id("plan-tab-send")).to_have_count(0)
    approval = Approval.objects.get(case=case)
    assert approval.status == ApprovalStatus.PENDING

    boss = devices(supervisor.username)
    boss.goto("/")
    expect(boss.get_by_test_id("nav-count-notifications")).to_have_text("1")
    expect(boss.get_by_test_id("nav-count-approvals")).to_have_text("1")
    boss.locator("[data-nav=approvals]").click()
    boss.wait_for_url("**/approvals/")
    row = boss.get_by_test_id("approval-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(case.number)
    expect(row).to_contain_text(case.beneficiary.full_name)
    expect(row).to_contain_text("Rencana siap ditinjau.")
    row.get_by_test_id("queue-approve").click()
    boss.wait_for_url("**/approvals/")
    expect(boss.locator(".alert-success")).to_have_count(1)
    expect(boss.get_by_test_id("approval-empty")).to_be_visible()
    expect(boss.get_by_test_id("nav-count-approvals")).to_have_count(0)
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, supervisor)

    worker.goto("/notifications/")
    told = worker.locator("[data-testid=notification][data-kind=approval_decided]")
    expect(told).to_have_count(1)
    expect(told).to_contain_text(case.number)
    assert case.beneficiary.full_name not in told.inner_text()
    assert devices.csp_violations == []
