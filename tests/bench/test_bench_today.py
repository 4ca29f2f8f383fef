"""The home page, "Hari ini" (atensi/today.py), as the people whose day it shows: the
supervisor of BA-BENCH, a social worker of BA-BENCH with a caseload of their own, and a
referral officer of BA-BENCH.

Each row's *notes* give the page's number of queries and every sequential scan EXPLAIN finds
in them (none expected: each read is led by an index).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atensi.dashboards.compose import slow_organisations, warm_organisation_figures
from tests.bench.harness import BenchError

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Home page: Hari ini"
BENCH_NEEDS = ("referrals",)
BENCH_DESCRIPTION = (
    "GET / as the supervisor of BA-BENCH (the organisation with a tenth of the cases: case work, approvals "
    "— a plan waits for approval on one in twenty of its open cases in planning —, intake, escalations and "
    "the caseload of its case managers), as bench.caseworker (a social worker of "
    "BA-BENCH only, about 300 open cases of their own: follow-ups due and overdue, cases changed since they "
    "last looked, stage deadlines, aftercare), and as bench.rujukan (referrals to answer and accepted ones "
    "without an outcome). Every count is capped at 1,000 and all counts come in one query. The supervisor's "
    "caseload comes from the organisation dashboard's figures, counted ahead by beat for an organisation too "
    "large to count live (ATENSI_DASHBOARD_LIVE_MS); the scenario counts them once, untimed, as beat would."
)


def _get_home(client: Any) -> None:
    response = client.get(reverse("home"))
    if response.status_code != 200:
        raise BenchError(f"home page: {response.status_code}")


def _sequential_scans(client: Any) -> tuple[int, list[str]]:
    """Get the page once, EXPLAIN each SELECT it made: how many queries, which tables were read whole."""
    found: set[str] = set()
    with CaptureQueriesContext(connection) as queries:
        _get_home(client)
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT set_config("):
                # pghistory's context rides on a request's first query: explain the query itself.
                sql = sql.split("; ", 1)[1]
            if not sql.lstrip("( ").upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            found.update(m.group(1) for (line,) in cursor.fetchall() if (m := re.search(r"Seq Scan on (\w+)", line)))
    return len(queries.captured_queries), sorted(found)


def _home(bench: Any, client: Any, account: str, *, name: str, expect: str) -> None:
    client.force_login(bench.data.account(account))

    def check(response: Any) -> None:
        if f'data-testid="today-{expect}"' not in response.content.decode():
            raise BenchError(f"the home page shows no {expect} part")

    # What beat does every ten minutes: the first visit found the organisation too large to
    # count its caseload live; its figures are counted ahead (untimed, as in production).
    _get_home(client)
    warm_organisation_figures(slow_organisations())
    count, scans = _sequential_scans(client)
    notes = f"{count} queries; " + (f"sequential scans on: {', '.join(scans)}" if scans else "no sequential scan")
    bench.measure(client, reverse("home"), name=name, check=check, notes=notes)


def test_home_as_supervisor(bench: Any, client: Any) -> None:
    _home(bench, client, "case_supervisor", name="Hari ini: supervisor of BA-BENCH", expect="supervision")


def test_home_as_case_worker(bench: Any, client: Any) -> None:
    _home(bench, client, "case_worker", name="Hari ini: social worker with a caseload", expect="case-work")


def test_home_as_referral_officer(bench: Any, client: Any) -> None:
    _home(bench, client, "referral_officer", name="Hari ini: referral officer", expect="referrals")
