"""The monthly report of Balai Anak "Alyatama" on the demo data, with time frozen: the
workbook a supervisor downloads has exactly these totals (the demo's history is made
from the day it is loaded, so the day is fixed here)."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from stakeholders.models import Organisation, User

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=WIB)


def sheets(client, organisation: Organisation, month: str) -> dict[str, list[list[object]]]:
    response = client.get(
        reverse("monthly_report_xlsx"), {"organisation": organisation.pk, "month": month}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}


def test_the_demo_balai_s_report_of_november_has_these_totals(client) -> None:
    with time_machine.travel(DAY, tick=False):
        call_command("load_demo")
        alyatama = Organisation.objects.get(code="BA-ALYATAMA")
        client.force_login(User.objects.get(username="supervisor.alyatama"))
        book = sheets(client, alyatama, "2026-11")
    cases = book["Cases"]
    assert cases[0] == ["Breakdown", "Item", "Opened", "Closed"]
    assert ["Cluster", "Children", 7, 4] in cases
    assert ["Cluster", "Persons with disabilities", 1, 1] in cases
    assert ["Cluster", "Total", 8, 5] in cases
    assert ["Basis", "Family-based", 4, 2] in cases
    assert ["Basis", "Community-based", 4, 0] in cases
    assert ["Basis", "Residential", 0, 3] in cases
    assert ["Basis", "Total", 8, 5] in cases
    assert ["AMPK category", "Children exploited economically and/or sexually", 2, 2] in cases
    assert ["AMPK category", "Children with disabilities", 2, 0] in cases
    assert ["AMPK category", "No AMPK category", 2, 3] in cases
    assert book["Services"][-1] == ["Total", 0]
    assert book["Referrals"][1:] == [["Sent", "Total", 0], ["Received", "Total", 0]]
    assert book["Aftercare"][1:] == [
        ["Done", 8],
        ["Missed", 1],
        ["Still pending", 0],
        ["Total", 9],
        ["Done in the month (whenever due)", 8],
    ]
