"""The home page in a real browser: a social worker of the demo starts the day on it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import FollowUp, FollowUpStatus

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_social_worker_sees_todays_and_the_overdue_follow_up_and_opens_it(devices: Devices, live_server: Any) -> None:
    call_command("load_demo")
    overdue = FollowUp.objects.select_related("case").get(
        assignee__username="peksos.alyatama",
        status=FollowUpStatus.PENDING,
        kind="home_visit",
        due_on__lt=timezone.localdate(),
    )
    devices.password = settings.ATENSI_DEMO_PASSWORD
    page = devices("peksos.alyatama")
    page.goto("/")

    expect(page.get_by_role("heading", name="Pekerjaan kasus saya")).to_be_visible()
    today = page.get_by_test_id("section-due_today")
    expect(today.get_by_role("heading", name="Tindak lanjut hari ini")).to_be_visible()
    expect(today.get_by_test_id("item-due_today")).to_have_count(1)
    expect(today).to_contain_text("Peninjauan kasus")

    late = page.get_by_test_id("section-overdue")
    expect(late.get_by_test_id("item-overdue")).to_have_count(1)
    expect(late).to_contain_text("terlambat 5 hari")
    expect(late.get_by_test_id("count-overdue")).to_have_text("1")

    late.get_by_test_id("item-overdue").click()
    page.wait_for_url(re.compile(rf"/cases/{overdue.case_id}/notes/"))
    expect(page.locator("#follow-ups")).to_be_visible()
    assert not devices.csp_violations
