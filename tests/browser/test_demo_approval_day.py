"""On the demo data: the plan `peksos.alyatama` sends for approval rings the bell of
`supervisor.alyatama` at once, is on the supervisor's home page, is approved from the
queue, and the supervisor then follows a dashboard number to the cases behind it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from atensi.core.models import Notification
from cases.approvals import approvals_waiting_for
from cases.models import Approval, ApprovalStatus, Case
from cases.tests.workflow_helpers import plan_item, to_planning
from stakeholders.models import User

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_supervisor_finds_the_plan_on_the_home_page_approves_it_and_reads_the_figures(devices: Devices) -> None:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    worker = User.objects.get(username="peksos.alyatama")
    boss_user = User.objects.get(username="supervisor.alyatama")
    case = Case.objects.get(organisation__code="BA-ALYATAMA", beneficiary__full_name="Muhammad Rizky Pratama")
    to_planning(case, worker)
    plan_item(case, worker)
    before = approvals_waiting_for(boss_user).count()  # the demo's history has some waiting

    sender = devices("peksos.alyatama")
    sender.goto(f"/cases/{case.pk}/plan/")
    sender.get_by_test_id("plan-tab-request").locator("textarea[name=note]").fill("Mohon ditinjau.")
    sender.get_by_test_id("plan-tab-send").click()
    sender.wait_for_url(f"**/cases/{case.pk}/plan/")
    approval = Approval.objects.get(case=case, status=ApprovalStatus.PENDING)
    # The bell rang the moment it was sent, not two days later.
    assert Notification.objects.filter(recipient=boss_user, kind="approval_requested").count() == 1

    boss = devices("supervisor.alyatama")
    boss.goto("/")
    expect(boss.get_by_test_id("nav-count-approvals")).to_have_text(str(before + 1))
    waiting = boss.get_by_test_id("section-approvals")
    expect(waiting.get_by_test_id("count-approvals")).to_have_text(str(before + 1))
    item = waiting.get_by_test_id("item-approvals").filter(has_text=case.number)
    expect(item).to_have_count(1)
    item.click()
    boss.wait_for_url(re.compile(r"/approvals/"))
    row = boss.locator(f"#approval-{approval.pk}")
    expect(row).to_contain_text("Mohon ditinjau.")
    row.get_by_test_id("queue-approve").click()
    expect(boss.locator(".alert-success")).to_have_count(1)
    expect(boss.locator(f"#approval-{approval.pk}")).to_have_count(0)
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED

    # The home page no longer lists it; the dashboard's numbers lead to their lists.
    boss.goto("/")
    expect(boss.get_by_test_id("count-approvals")).to_have_text(str(before))
    boss.goto("/dashboard/")
    expect(boss).to_have_url(re.compile(r"/dashboard/organisation/[0-9]+/$"))
    link = boss.get_by_test_id("table-stage").locator("tr[data-row=perencanaan] a")
    shown = int(link.inner_text())
    link.click()
    expect(boss).to_have_url(re.compile(r"/cases/\?.*stage=perencanaan"))
    expect(boss.get_by_test_id("case-count")).to_contain_text(str(shown))
    assert Case.objects.filter(organisation__code="BA-ALYATAMA", stage="perencanaan").count() == shown
    assert devices.csp_violations == []
