"""Case pages: the case list, its searches and the case page, as a supervisor, a social
worker and the superuser.

The data set's cases (tests/bench/dataset.py, `build_cases`): BENCH_SCALE x 100,000 cases,
a tenth of them in BA-BENCH, whose supervisor requests the first rows here. The search
terms are taken from BA-BENCH's own open cases (the default list shows open cases): a
child's full name, a NIK, a case number. Each row's *notes* give the matches and what
EXPLAIN shows for the page's main query.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import NoReverseMatch, reverse

from cases import lists
from cases.lists import CaseFilters, Scope
from cases.models import Case, Stage
from tests.bench.dataset import ACCOUNTS, COMMON_FEMALE
from tests.bench.harness import BenchError

pytestmark = pytest.mark.django_db

BENCH_SECTION = "Cases: list, search and case page"
BENCH_NEEDS = ("cases",)
PAGE = 5  # the cursor page: the first page, then "next" followed 4 times
BENCH_DESCRIPTION = (
    "The data set's cases: 100,000 (times BENCH_SCALE), one child each, in the villages of Jambi and West "
    "Sumatra. BA-BENCH holds a tenth of them; 200 (times BENCH_SCALE) other organisations share the rest along "
    "a Zipf law (a few with tens of thousands, most with a few dozen); first names follow a Zipf law too, the "
    "most frequent Indonesian names first. 60 % of the children with a NIK, about 3 % of the cases "
    "confidential, a quarter closed, a third of the open ones with a pending follow-up; a social worker per "
    "400 cases or so. The supervisor rows are GETs by the supervisor of BA-BENCH: the list's default view (all "
    f"cases of the organisation, open ones, newest opened first, {lists.PAGE_SIZE} a page, plus the count of all "
    f"matches), page {PAGE} reached through the page's own “next” links (keyset cursor), and the three kinds of "
    "search the one search box takes: a child's full name (each word a trigram LIKE on the name or the alias), "
    "a NIK (16 digits: equality on the unique partial index), a whole case number (equality on the number's "
    "unique index). The case page is `cases:case_detail` of an open case of BA-BENCH. The *social worker* rows "
    "are by bench.caseworker, a social worker of BA-BENCH only, whose default list is “my cases” (about 400 "
    "of BA-BENCH's cases are theirs, 300 of them open, at any scale); the *superuser* rows by a superuser with no "
    "membership: the portal's case list over every case, and Django admin's case changelist (fewer timed "
    "requests: they take seconds). *plan* is the scans and joins EXPLAIN shows for the list's main query (the "
    "page's rows), run once before the timed requests. The list's filter form is kept drawn for a minute per user, "
    "language and filters (ATENSI_FRAGMENT_SECONDS, as in production), so the timed requests of a row read it "
    "from the cache after the first; the row *“my cases”, the filter form drawn every time* is what a new "
    "question (another filter) or the first visit of a minute costs."
)


@pytest.fixture
def supervisor_client(client: Any, bench: Any) -> Any:
    client.force_login(bench.data.account("case_supervisor"))
    return client


def _big_org_case(**filters: Any) -> Case:
    """A deterministic open, not confidential case of BA-BENCH matching `filters`."""
    found = (
        Case.objects.filter(organisation__code="BA-BENCH", is_confidential=False, **filters)
        .exclude(stage=Stage.CLOSED)
        .select_related("beneficiary")
        .distinct()
        .order_by("pk")
    )
    total = found.count()
    if not total:
        raise BenchError(f"no open case of BA-BENCH with {filters}")
    return found[total // 2]


_ROW = re.compile(r'<tr data-testid="case-row" data-number="([^"]+)"')
_NEXT = re.compile(r'<a class="page-link" rel="next"[^>]*\bhref="([^"]+)"')
_COUNT = re.compile(r'data-testid="case-count">\s*([\d.,\s]+\+?)')


def _numbers(response: Any) -> list[str]:
    return _ROW.findall(response.content.decode())


def _count(response: Any) -> str:
    """The count the list shows: "1,234", or "1,000+" for a search past the cap."""
    found = _COUNT.search(response.content.decode())
    if found is None:
        raise BenchError("the case list shows no count")
    shown = found.group(1).strip()
    return f"{int(re.sub(r'\D', '', shown)):,}" + ("+" if shown.endswith("+") else "")


def _check(*, minimum: int = 1, maximum: int = lists.PAGE_SIZE, expect: str = "") -> Callable[[Any], None]:
    def check(response: Any) -> None:
        found = _numbers(response)
        if not minimum <= len(found) <= maximum:
            raise BenchError(f"the case list showed {len(found)} cases, expected {minimum} to {maximum}")
        if expect and expect not in found:
            raise BenchError(f"the case list did not show {expect}")

    return check


def plan_summary(queryset: Any) -> str:
    """The scans of a query's plan, with the indexes they use."""
    steps: list[str] = []
    for line in queryset.explain().splitlines():
        text = line.strip().removeprefix("->").strip()
        if "(cost=" not in text:
            continue
        head = text.split("(cost=")[0].strip()
        if "Scan" not in head and "Join" not in head and "Nested Loop" not in head:
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
    return "plan: " + "; ".join(steps) if steps else "plan: ?"


def _page_query(user: Any, scope: str = Scope.ALL, **filters: Any) -> Any:
    """The list's main query, as case_page() runs it for the first page."""
    chosen = CaseFilters(scope=scope, **filters)
    qs = lists.ordered(lists.cases_matching(user=user, filters=chosen), chosen.sort)
    qs = qs.select_related("organisation", "beneficiary", "case_manager").annotate(next_due_on=lists.next_due())
    return qs[: lists.PAGE_SIZE + 1]


def _list(
    bench: Any,
    client: Any,
    *,
    name: str,
    params: dict[str, str],
    check: Callable[[Any], None],
    account: str = "case_supervisor",
    searched: str = "",
    **kwargs: Any,
) -> None:
    url = reverse("cases:case_list")
    first = client.get(url, params)
    if first.status_code != 200:
        raise BenchError(f"{name}: GET {url} answered {first.status_code}")
    matches = _count(first)
    user = bench.data.account(account)
    plan = plan_summary(_page_query(user, lists.default_scope(user), q=searched or params.get("q", "")))
    bench.measure(client, url, name=name, data=params, check=check, notes=f"{matches} cases match; {plan}", **kwargs)


def test_case_list_first_page(bench, supervisor_client):
    _list(bench, supervisor_client, name="case list: first page, all open cases", params={}, check=_check(minimum=50))


def test_case_list_cursor_page(bench, supervisor_client):
    base = reverse("cases:case_list")
    url = base
    for _ in range(PAGE - 1):
        response = supervisor_client.get(url)
        found = _NEXT.search(response.content.decode())
        if response.status_code != 200 or found is None:
            raise BenchError(f"the case list page {url} has no “next” link")
        url = base + html.unescape(found.group(1))
    first_row = (PAGE - 1) * lists.PAGE_SIZE + 1
    bench.measure(
        supervisor_client,
        url,
        name=f"case list: page {PAGE} (cursor)",
        check=_check(minimum=lists.PAGE_SIZE),
        notes=f"rows {first_row:,} to {first_row + lists.PAGE_SIZE - 1:,}, reached through the page's own “next” links",
    )


def test_case_list_name_search(bench, supervisor_client):
    case = _big_org_case(beneficiary__full_name__regex=r"^\S+ \S+ \S+$")
    name = case.beneficiary.full_name
    _list(
        bench,
        supervisor_client,
        name="case list: search by a child's full name (three words)",
        params={"q": name},
        check=_check(expect=case.number),
    )


def test_case_list_first_name_search(bench, supervisor_client):
    # The data set's most frequent given name (its first names follow a Zipf law).
    _list(
        bench,
        supervisor_client,
        name=f"case list: search by the most common first name ({COMMON_FEMALE[0]})",
        params={"q": COMMON_FEMALE[0]},
        check=_check(expect=""),
    )


def _nik_params(client: Any, nik: str) -> dict[str, str]:
    """The list a "find by NIK" leads to: the NIK is POSTed once and the list's address
    carries only a reference to it (atensi.core.stash), which every timed GET resolves."""
    response = client.post(reverse("cases:case_list_nik"), {"nik": nik})
    if response.status_code != 302:
        raise BenchError(f"find by NIK answered {response.status_code}")
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def test_case_list_nik_lookup(bench, supervisor_client):
    case = _big_org_case(beneficiary__nik__regex=r"^[0-9]{16}$")
    _list(
        bench,
        supervisor_client,
        name="case list: NIK lookup (by its reference)",
        params=_nik_params(supervisor_client, case.beneficiary.nik),
        searched=case.beneficiary.nik,
        check=_check(maximum=1, expect=case.number),
    )


def test_case_list_number_search(bench, supervisor_client):
    case = _big_org_case()
    _list(
        bench,
        supervisor_client,
        name="case list: case number search (the whole number)",
        params={"q": case.number},
        check=_check(maximum=1, expect=case.number),
    )


def test_case_page(bench, supervisor_client):
    case = _big_org_case(follow_ups__isnull=False)
    try:
        url = reverse("cases:case_detail", args=[case.pk])
    except NoReverseMatch:
        pytest.skip("cases:case_detail does not exist yet")

    def check(response: Any) -> None:
        if case.number not in response.content.decode():
            raise BenchError(f"the case page of {case.number} does not show its number")

    bench.measure(supervisor_client, url, name="case page (overview and timeline), an open case", check=check)


# --- Other roles ---------------------------------------------------------------------------


@pytest.fixture
def worker_client(client: Any, bench: Any) -> Any:
    client.force_login(bench.data.account("case_worker"))
    return client


def test_social_worker_my_cases(bench, worker_client):
    _list(
        bench,
        worker_client,
        name="social worker: “my cases” (the default list)",
        params={},
        check=_check(),
        account="case_worker",
    )


def test_social_worker_my_cases_form_drawn(bench, worker_client, settings):
    settings.ATENSI_FRAGMENT_SECONDS = 0
    _list(
        bench,
        worker_client,
        name="social worker: “my cases”, the filter form drawn every time",
        params={},
        check=_check(),
        account="case_worker",
    )


def test_social_worker_first_name_search(bench, worker_client):
    _list(
        bench,
        worker_client,
        name=f"social worker: search by the most common first name ({COMMON_FEMALE[0]})",
        params={"q": COMMON_FEMALE[0]},
        check=_check(minimum=0),
        account="case_worker",
    )


def test_social_worker_nik_lookup(bench, worker_client):
    case = _big_org_case(case_manager__username=ACCOUNTS["case_worker"], beneficiary__nik__regex=r"^[0-9]{16}$")
    _list(
        bench,
        worker_client,
        name="social worker: NIK lookup (a child of theirs, by its reference)",
        params=_nik_params(worker_client, case.beneficiary.nik),
        searched=case.beneficiary.nik,
        check=_check(maximum=1, expect=case.number),
        account="case_worker",
    )


SLOW_REPEAT = 10  # pages of seconds: fewer timed requests


def test_superuser_case_list(bench, client):
    client.force_login(bench.data.account("superuser"))
    _list(
        bench,
        client,
        name="superuser: case list (every case of every organisation)",
        params={},
        check=_check(minimum=lists.PAGE_SIZE),
        account="superuser",
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


@pytest.mark.parametrize(
    ("url_name", "label"),
    [
        ("admin:cases_beneficiary_changelist", "beneficiaries"),
        ("admin:referrals_referral_changelist", "referrals"),
        ("admin:stakeholders_user_changelist", "users"),
        ("admin:atensi_accesslog_changelist", "access log"),
    ],
)
def test_superuser_admin_changelists(bench, client, url_name, label):
    """The other large tables' changelists."""
    client.force_login(bench.data.account("superuser"))

    def check(response: Any) -> None:
        if 'id="changelist"' not in response.content.decode():
            raise BenchError(f"the admin's {label} changelist shows no change list")

    bench.measure(
        client,
        reverse(url_name),
        name=f"superuser: Django admin, {label} changelist",
        check=check,
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


def test_superuser_admin_one_cases_events(bench, client):
    """pghistory's Events browser, for one case (what its History page links to): the
    browser lists nothing unasked, and no whole event table by label or model."""
    client.force_login(bench.data.account("superuser"))
    case = Case.objects.filter(organisation__code="BA-BENCH").order_by("pk").only("pk").first()
    if case is None:
        raise BenchError("BA-BENCH has no case")

    def check(response: Any) -> None:
        if 'id="changelist"' not in response.content.decode():
            raise BenchError("the events browser shows no change list")

    bench.measure(
        client,
        "/admin/pghistory/events/",
        name="superuser: Django admin, one case's events (pghistory's browser)",
        data={"obj": f"cases.case:{case.pk}", "method": "tracks"},
        check=check,
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )


def test_superuser_admin_case_changelist(bench, client):
    client.force_login(bench.data.account("superuser"))

    def check(response: Any) -> None:
        if 'id="result_list"' not in response.content.decode():
            raise BenchError("the admin's case changelist shows no result list")

    bench.measure(
        client,
        reverse("admin:cases_case_changelist"),
        name="superuser: Django admin, cases changelist",
        check=check,
        repeat=min(bench.repeat, SLOW_REPEAT),
        warmup=1,
    )
