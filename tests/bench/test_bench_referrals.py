"""The referral inbox of an organisation holding 50,000 referrals (times BENCH_SCALE), as
its supervisor and as a referral officer.

The data set's referrals (tests/bench/dataset.py, `build_referrals`): BENCH_SCALE x 50,000
received by BA-BENCH, whose supervisor requests every page here. Each page row's *notes*
give the rows of its tab and what EXPLAIN ANALYZE shows for the page's own queries (the
rows, the tab counts, the figures), run once on the SQL the last timed request sent.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from referrals import lists
from referrals.figures import default_since, referral_figures
from stakeholders.models import Organisation
from tests.bench.harness import BenchError, Result

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Referrals: the inbox of an organisation with 50,000 (times BENCH_SCALE)"
BENCH_NEEDS = ("referrals",)
PAGE = 5  # the cursor page: the first page, then "next" followed 4 times
BENCH_DESCRIPTION = (
    "The data set's referrals: 50,000 (times BENCH_SCALE) received by BA-BENCH from the other case "
    "organisations, and 10,000 more between those; about 6 % waiting for an answer (sent in the last 9 days; "
    "those past their deadline overdue), the rest sent over two years and accepted, completed, declined or "
    "cancelled. The inbox rows are GETs of /referrals/ by BA-BENCH's supervisor: the waiting tab (by deadline, "
    f"the overdue first, then urgency), the accepted tab (newest first), page {PAGE} of the accepted tab through "
    f"the page's own “next” links (keyset cursor), {lists.PAGE_SIZE} rows a page. Every inbox page also counts "
    "five tabs, each to 1,000 (“1.000+” beyond; one query); its card of the organisation's figures "
    "(last 90 days) is loaded after the list by htmx, a request of its own (the *figures card* row), and kept "
    "drawn a minute for its reader (ATENSI_FRAGMENT_SECONDS; the *counted* row empties the cache before each "
    "request). The *referral officer* rows are by bench.rujukan, "
    "referral officer of BA-BENCH and of the biggest other case organisation (the one that sends the most): the "
    "inbox's waiting tab over both organisations, the sent list, the figures card. For "
    "comparison, the same page for the organisation that received the most of the other 10,000, and the "
    "“sent” list (/referrals/sent/) of that organisation's supervisor (each row checked against the cases they "
    "may read). The figures row is `referral_figures()` called directly for BA-BENCH (median time to respond "
    "with percentile_cont, acceptance rate, received, waiting, overdue). *plan* is what EXPLAIN ANALYZE shows "
    "for the page's own queries, run once on the SQL of the last timed request: the scans with their index, "
    "and the query's execution time. Each tab is counted on the box's index in its order, organisation by "
    "organisation, and stops after 1,001 rows. The figures read all of BA-BENCH's referrals of the period and "
    "the waiting ones (no index starts with the receiver and a date, and they are most of the table, so "
    "PostgreSQL scans the table). For the smaller organisation the same queries read only its own rows."
)

_ROW = re.compile(r'<tr data-testid="referral-row" data-referral="(\d+)"( data-overdue)?')
_NEXT = re.compile(r'<a class="page-link" rel="next"[^>]*\bhref="([^"]+)"')


@pytest.fixture
def supervisor_client(client: Any, bench: Any) -> Any:
    client.force_login(bench.data.account("case_supervisor"))
    return client


def _exact_counts(user: Any, filters: lists.ListFilters) -> dict[str, int]:
    """Every tab's exact count, for the notes (the page counts to a cap), untimed."""
    return {tab: qs.count() for tab, qs in lists.tab_querysets(user, filters, now=timezone.now()).items()}


def _big() -> Organisation:
    return Organisation.objects.get(code="BA-BENCH")


def _check(*, rows: int, overdue_first: bool = False, figures: bool = True) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        found = _ROW.findall(response.content.decode())
        if len(found) != rows:
            raise BenchError(f"the inbox showed {len(found)} referrals, expected {rows}")
        if overdue_first and not found[0][1]:
            raise BenchError("the inbox's first waiting referral is not the overdue one")
        if figures and 'data-testid="inbox-figures"' not in response.content.decode():
            raise BenchError("the inbox has no figures card")

    return check


def _plan(sql: str) -> str:
    """The scans of one query's EXPLAIN ANALYZE, with their indexes, and its execution time."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    steps: list[str] = []
    took = ""
    for line in lines:
        text = line.strip().removeprefix("->").strip()
        if text.startswith("Execution Time:"):
            took = text.split(":", 1)[1].strip()
        if "(cost=" not in text:
            continue
        head = text.split("(cost=")[0].strip()
        if not any(word in head for word in ("Scan", "Sort", "Aggregate", "Join", "Nested Loop")):
            continue
        if " using " in head:
            kind, rest = head.split(" using ", 1)
            index, _on, table = rest.partition(" on ")
            steps.append(f"{kind} using `{index}` on {table.split()[0]}")
        elif " on " in head:
            kind, rest = head.split(" on ", 1)
            steps.append(f"{kind} on {rest.split()[0]}")
        else:
            steps.append(head)
    return f"{'; '.join(steps)} ({took})"


def _page_plans(result: Result) -> str:
    """EXPLAIN ANALYZE of the page's own queries, found in the last request's SQL."""
    wanted = {
        "rows": lambda sql: sql.startswith('SELECT "referrals_referral"."id"'),
        "tab counts": lambda sql: "_scope AS NOT MATERIALIZED" in sql,
        "figures": lambda sql: "percentile_cont" in sql,
    }
    # pghistory's context rides on a request's first query: the query itself follows it.
    queries = [q.split("; ", 1)[1] if q.startswith("SELECT set_config(") else q for q in result.sql]
    parts = []
    for label, matches in wanted.items():
        sql = next((q for q in queries if matches(q)), None)
        if sql is not None:
            parts.append(f"{label}: {_plan(sql)}")
    return "plan: " + " — ".join(parts) if parts else "plan: ?"


def _inbox(bench: Any, client: Any, *, name: str, params: dict[str, str], check: Callable[[Any], None]) -> None:
    url = reverse("referrals:inbox")
    counts = _exact_counts(bench.data.account("case_supervisor"), lists.ListFilters())
    status = params.get("status", "sent")
    result = bench.measure(client, url, name=name, data=params, check=check)
    tab = f"{counts[status]:,} referrals in the tab" + (f" ({counts['overdue']:,} overdue)" if status == "sent" else "")
    _renote(bench, result, f"{tab}; {_page_plans(result)}")


def _renote(bench: Any, result: Result, notes: str) -> None:
    """Give the result its notes (known only after its requests) where the report holds it."""
    section = bench.report.sections[bench.key]
    index = section.results.index(result)
    section.results[index] = dataclasses.replace(result, notes=notes)


def test_inbox_waiting_tab(bench, supervisor_client):
    _inbox(
        bench,
        supervisor_client,
        name="inbox: waiting tab, first page (overdue first)",
        params={},
        check=_check(rows=lists.PAGE_SIZE, overdue_first=True),
    )


def test_inbox_accepted_tab(bench, supervisor_client):
    _inbox(
        bench,
        supervisor_client,
        name="inbox: accepted tab, first page (newest first)",
        params={"status": "accepted"},
        check=_check(rows=lists.PAGE_SIZE),
    )


def test_inbox_accepted_tab_cursor_page(bench, supervisor_client):
    base = reverse("referrals:inbox")
    url = base + "?status=accepted"
    for _ in range(PAGE - 1):
        response = supervisor_client.get(url)
        found = _NEXT.search(response.content.decode())
        if response.status_code != 200 or found is None:
            raise BenchError(f"the inbox page {url} has no “next” link")
        url = base + html.unescape(found.group(1))
    first_row = (PAGE - 1) * lists.PAGE_SIZE + 1
    result = bench.measure(
        supervisor_client, url, name=f"inbox: accepted tab, page {PAGE} (cursor)", check=_check(rows=lists.PAGE_SIZE)
    )
    _renote(
        bench,
        result,
        f"rows {first_row:,} to {first_row + lists.PAGE_SIZE - 1:,}, reached through the page's own “next” links; "
        + _page_plans(result),
    )


def _busiest_other_receiver() -> tuple[Organisation, Any]:
    """The organisation (not BA-BENCH) that received the most referrals, and its supervisor."""
    from django.db.models import Count

    from referrals.models import Referral
    from stakeholders.models import Membership, User

    row = (
        Referral.objects.exclude(receiver__code="BA-BENCH")
        .values("receiver_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "receiver_id")
        .first()
    )
    if row is None:
        raise BenchError("no organisation but BA-BENCH received referrals")
    org = Organisation.objects.get(pk=row["receiver_id"])
    membership = Membership.objects.filter(organisation=org, role="supervisor").order_by("pk").first()
    if membership is None:
        raise BenchError(f"{org.code} has no supervisor")
    return org, User.objects.get(pk=membership.user_id)


def test_inbox_of_a_smaller_organisation(bench, client):
    org, supervisor = _busiest_other_receiver()
    client.force_login(supervisor)
    counts = _exact_counts(supervisor, lists.ListFilters())
    result = bench.measure(
        client,
        reverse("referrals:inbox"),
        name="inbox: waiting tab of an organisation with a few hundred referrals",
        check=_check(rows=min(lists.PAGE_SIZE, counts["sent"])),
    )
    total = sum(counts[s] for s in lists.TABS)
    _renote(
        bench,
        result,
        f"{org.code}: {total:,} referrals received, {counts['sent']:,} waiting; the same page over a small "
        f"part of the table; {_page_plans(result)}",
    )


def test_outbox_of_a_sender(bench, client):
    org, supervisor = _busiest_other_receiver()
    client.force_login(supervisor)
    counts = _exact_counts(supervisor, lists.ListFilters(box=lists.OUTBOX))
    url = reverse("referrals:outbox")
    result = bench.measure(
        client,
        url,
        name="sent: waiting tab of an organisation that sent thousands",
        data={},
        check=_check(rows=min(lists.PAGE_SIZE, counts["sent"]), figures=False),
    )
    total = sum(counts[s] for s in lists.TABS)
    _renote(
        bench,
        result,
        f"{org.code} (its supervisor): {total:,} referrals sent, {counts['sent']:,} waiting; every row checked "
        f"against the cases the user may read; {_page_plans(result)}",
    )


def test_inbox_figures_card(bench, supervisor_client):
    def check(response: Any) -> None:
        if response.content.decode().count('data-testid="figures-row"') != 1:
            raise BenchError("the figures card shows no figures of BA-BENCH")

    result = bench.measure(
        supervisor_client,
        reverse("referrals:figures"),
        name="inbox: its figures card (htmx, after the list)",
        data={"days": "90"},
        check=check,
        headers={"HX-Request": "true"},
    )
    _renote(bench, result, "BA-BENCH's figures of the last 90 days; " + _page_plans(result))
    # The same card counted at every request: what its reader waits for once a minute.
    result = bench.measure(
        supervisor_client,
        reverse("referrals:figures"),
        name="inbox: its figures card, counted (cache emptied)",
        data={"days": "90"},
        check=check,
        before=cache.clear,
        headers={"HX-Request": "true"},
        repeat=20,
    )
    _renote(bench, result, "BA-BENCH's figures of the last 90 days, counted; " + _page_plans(result))


def test_figures_selector(bench):
    from tests.bench.test_bench_finder import measure_call

    big = _big()

    def call(_i: int) -> Any:
        now = timezone.now()
        return referral_figures(organisation_ids=[big.pk], since=default_since(now), now=now)[big.pk]

    def check(figures: Any) -> None:
        if not figures.received or figures.median_response is None:
            raise BenchError("BA-BENCH's figures are empty")

    result = measure_call(
        call,
        name="figures: referral_figures() for BA-BENCH, last 90 days",
        repeat=bench.repeat,
        warmup=bench.warmup,
        check=check,
    )
    with translation.override("en"):
        figures = call(0)
        notes = (
            f"received {figures.received:,}, answered {figures.answered:,}, median time to respond "
            f"{figures.median_label}, accepted {figures.rate_label}, waiting {figures.waiting:,}, "
            f"overdue {figures.overdue:,}"
        )
    bench.record(dataclasses.replace(result, notes=notes))


# --- The referral officer ------------------------------------------------------------------
#
# bench.rujukan is the referral officer of BA-BENCH and of the biggest other case
# organisation (the one that sends the most): the inbox holds both organisations' received
# referrals, the sent list what the second one sent.


@pytest.fixture
def officer_client(client: Any, bench: Any) -> Any:
    client.force_login(bench.data.account("referral_officer"))
    return client


def test_officer_inbox_waiting_tab(bench, officer_client):
    officer = bench.data.account("referral_officer")
    counts = _exact_counts(officer, lists.ListFilters())
    result = bench.measure(
        officer_client,
        reverse("referrals:inbox"),
        name="referral officer: inbox, waiting tab",
        check=_check(rows=min(lists.PAGE_SIZE, counts["sent"]), overdue_first=True),
    )
    _renote(bench, result, f"{counts['sent']:,} waiting ({counts['overdue']:,} overdue); {_page_plans(result)}")


def test_officer_sent_list(bench, officer_client):
    officer = bench.data.account("referral_officer")
    counts = _exact_counts(officer, lists.ListFilters(box=lists.OUTBOX))
    result = bench.measure(
        officer_client,
        reverse("referrals:outbox"),
        name="referral officer: sent list, waiting tab",
        check=_check(rows=min(lists.PAGE_SIZE, counts["sent"]), figures=False),
    )
    total = sum(counts[s] for s in lists.TABS)
    _renote(bench, result, f"{total:,} sent, {counts['sent']:,} waiting; {_page_plans(result)}")


def test_officer_figures_card(bench, officer_client):
    result = bench.measure(
        officer_client,
        reverse("referrals:figures"),
        name="referral officer: the inbox's figures card (htmx)",
        data={"days": "90"},
        headers={"HX-Request": "true"},
    )
    _renote(bench, result, "the figures of both organisations, last 90 days; " + _page_plans(result))
