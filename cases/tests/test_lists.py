"""The case list and its exports: scoping, masking, filters, search, sorting, keyset pages."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from atensi.core.models import AccessLog, AmpkCategory
from cases import lists
from cases.lists import CaseFilters, Scope, Sort
from cases.models import Basis, Case, FollowUp, FollowUpStatus, RiskLevel, Stage
from cases.tests.factories import BeneficiaryFactory, cluster, logged_in, open_case, village
from cases.tests.workflow_helpers import close as close_by_approval
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

LIST_URL = reverse("cases:case_list")
CSV_URL = reverse("cases:case_export_csv")
XLSX_URL = reverse("cases:case_export_xlsx")
TELANAIPURA = "1571011004"  # Kota Jambi
LUBUK_MINTURUN = "1371111002"  # Kota Padang
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def child_case(org, by, name, *, nik="", village_code=TELANAIPURA, alias="", ampk=(), case_manager=None, **case):
    beneficiary = BeneficiaryFactory(
        organisation=org,
        created_by=by,
        full_name=name,
        alias=alias,
        nik=nik,
        village=village(village_code),
        regency_code=village_code[:4],
    )
    if ampk:
        beneficiary.ampk_categories.set(AmpkCategory.objects.filter(code__in=ampk))
    return open_case(organisation=org, by=by, beneficiary=beneficiary, case_manager=case_manager, **case)


def close(case):
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED, closed_at=timezone.now(), closure_reason="goals_met")


def set_stage(case, stage):
    Case.objects.filter(pk=case.pk).update(stage=stage)


def follow_up(case, due_on, *, by, status=FollowUpStatus.PENDING):
    return FollowUp.objects.create(
        case=case, kind="home_visit", due_on=due_on, assignee=by, created_by=by, status=status
    )


def get(client, url=LIST_URL, **params):
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


def by_nik(client, nik):
    """The list filtered by a NIK, as its "find a child by NIK" form does it (POST, then a reference)."""
    found = client.post(reverse("cases:case_list_nik"), {"nik": nik})
    return client.get(found["Location"], HTTP_ACCEPT_LANGUAGE="en")


def numbers(response):
    return [row.number for row in response.context["page"].rows]


def results(response):
    """The results region of the page (the filter form's own labels left out)."""
    html = response.content.decode()
    return html.split('data-testid="case-results"', 1)[1]


@pytest.fixture
def secret(org, owner):
    """A confidential case managed by `owner`: colleagues see it exists, not who the child is."""
    return child_case(
        org,
        owner,
        "Melati Rahasia",
        nik="1571015505100001",
        alias="Ati",
        is_confidential=True,
        risk_level=RiskLevel.CRITICAL,
        ampk=("kejahatan_seksual",),
    )


# --- Who sees what --------------------------------------------------------------------


def test_a_social_worker_starts_from_their_own_cases(client_for, org, owner, colleague):
    mine = child_case(org, owner, "Budi Santoso")
    theirs = child_case(org, colleague, "Rina Wati")
    response = get(client_for(owner))
    assert response.status_code == 200
    assert response.context["filters"].scope == Scope.MINE
    assert numbers(response) == [mine.number]
    # The organisation's list is theirs to see too.
    assert set(numbers(get(client_for(owner), scope="all"))) == {mine.number, theirs.number}


def test_a_supervisor_starts_from_all_cases_of_the_organisation(client_for, org, owner, colleague, supervisor):
    cases = [child_case(org, owner, "Budi Santoso"), child_case(org, colleague, "Rina Wati")]
    response = get(client_for(supervisor))
    assert response.context["filters"].scope == Scope.ALL
    assert set(numbers(response)) == {c.number for c in cases}
    assert "Budi Santoso" in response.content.decode()


def test_outsider_gets_404_and_other_organisations_see_none_of_ours(client_for, org, other_org, owner, outsider):
    child_case(org, owner, "Budi Santoso")
    assert get(client_for(outsider)).status_code == 404
    assert get(client_for(outsider), CSV_URL).status_code == 404
    assert get(client_for(outsider), XLSX_URL).status_code == 404
    elsewhere = member(organisation=other_org, role=Role.SUPERVISOR)
    response = get(client_for(elsewhere), scope="all", status="all")
    assert response.status_code == 200
    assert numbers(response) == []
    assert "Budi Santoso" not in response.content.decode()
    response = get(client_for(elsewhere), CSV_URL, scope="all", status="all")
    export = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(export)))[1:] == []
    assert "Budi" not in export


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_post_is_refused(client_for, owner):
    for url in (LIST_URL, CSV_URL, XLSX_URL):
        assert client_for(owner).post(url).status_code == 405


# --- Masking --------------------------------------------------------------------------


def test_a_confidential_case_is_masked_for_a_colleague(client_for, org, owner, colleague, secret):
    response = get(client_for(colleague), scope="all")
    html = results(response)
    [row] = response.context["page"].rows
    assert row.masked and row.number == secret.number
    assert "Confidential case" in html
    for leak in ("Melati", "Ati", "1571015505100001", "157101", "Telanaipura", "Kota Jambi", "Critical"):
        assert leak not in html, leak
    # The row is not a link to the case page.
    assert f'/cases/{secret.pk}/"' not in html


def test_the_case_manager_and_the_supervisor_see_the_child(client_for, owner, supervisor, secret):
    for user in (owner, supervisor):
        response = get(client_for(user), scope="all")
        [row] = response.context["page"].rows
        assert not row.masked and row.child == "Melati Rahasia" and row.confidential


def test_a_masked_case_is_found_by_number_never_by_name_or_nik(client_for, colleague, supervisor, secret):
    client = client_for(colleague)
    assert numbers(get(client, scope="all", q="Melati")) == []
    assert numbers(get(client, scope="all", q="Ati")) == []
    # A NIK is searched by its POSTed form (never in the URL: cases/tests/test_nik_urls.py).
    assert numbers(by_nik(client, "1571015505100001")) == []
    assert numbers(get(client, scope="all", q=secret.number.lower())) == [secret.number]
    # The supervisor finds it every way.
    client = client_for(supervisor)
    for q in ("melati", secret.number):
        assert numbers(get(client, q=q)) == [secret.number], q
    assert numbers(by_nik(client, "1571 0155 0510 0001")) == [secret.number]


def test_filters_that_would_tell_about_a_masked_case_leave_it_out(client_for, org, colleague, supervisor, secret):
    follow_up(secret, timezone.localdate() - datetime.timedelta(days=3), by=supervisor)
    client = client_for(colleague)
    for params in (
        {"kabkota": "1571"},
        {"risk": "critical"},
        {"ampk": "kejahatan_seksual"},
        {"cluster": "anak"},
        {"overdue": "on"},
        {"case_manager": str(secret.case_manager_id)},
    ):
        assert numbers(get(client, scope="all", **params)) == [], params
        assert numbers(get(client_for(supervisor), **params)) == [secret.number], params
    # What a masked row shows may be filtered on: it is still listed, masked.
    response = get(client, scope="all", confidential="on", stage="pendekatan_awal")
    assert [r.masked for r in response.context["page"].rows] == [True]


def test_sorting_by_risk_or_follow_up_puts_masked_cases_last(client_for, org, owner, colleague, secret):
    low = child_case(org, colleague, "Rina Wati", risk_level=RiskLevel.LOW)
    follow_up(low, timezone.localdate() + datetime.timedelta(days=5), by=colleague)
    client = client_for(colleague)
    assert numbers(get(client, scope="all", sort="risk")) == [low.number, secret.number]
    assert numbers(get(client, scope="all", sort="due")) == [low.number, secret.number]


def test_a_confidential_case_masks_the_same_childs_older_case_in_the_list(org, owner, colleague, supervisor):
    """Security review: the child's older, ordinary case would name the child a confidential case hides."""
    from cases.selectors import cases_visible_to

    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    old = open_case(organisation=org, by=colleague, beneficiary=child)
    close_by_approval(old, colleague, supervisor)
    secret = open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    seen = dict(cases_visible_to(colleague).values_list("pk", "identity_visible"))
    assert seen == {old.pk: False, secret.pk: False}
    assert dict(cases_visible_to(owner).values_list("pk", "identity_visible")) == {old.pk: True, secret.pk: True}
    assert all(dict(cases_visible_to(supervisor).values_list("pk", "identity_visible")).values())
    response = logged_in(colleague).get(reverse("cases:case_list") + "?scope=all", **EN)
    assert "Siti Rahasia" not in response.content.decode()


# --- Filters --------------------------------------------------------------------------


@pytest.fixture
def mixed(org, owner, colleague, supervisor):
    """Cases of every kind the filters tell apart, by name."""
    cases = {
        "budi": child_case(
            org, owner, "Budi Santoso", risk_level=RiskLevel.HIGH, ampk=("penelantaran",), basis=Basis.RESIDENSIAL
        ),
        "rina": child_case(org, colleague, "Rina Wati", village_code=LUBUK_MINTURUN, nik="1371114402120001"),
        "dewi": child_case(org, owner, "Dewi Lestari", alias="Uci", cluster=cluster("penyandang_disabilitas")),
        "agus": child_case(org, supervisor, "Agus Salim"),
        "siti": child_case(org, owner, "Siti Aminah"),
    }
    Case.objects.filter(pk=cases["agus"].pk).update(case_manager=None)
    set_stage(cases["dewi"], Stage.ASESMEN)
    set_stage(cases["rina"], Stage.INTERVENSI)
    close(cases["siti"])
    today = timezone.localdate()
    follow_up(cases["budi"], today - datetime.timedelta(days=1), by=owner)
    follow_up(cases["rina"], today, by=colleague)  # due today: not overdue
    follow_up(cases["dewi"], today - datetime.timedelta(days=9), by=owner, status=FollowUpStatus.DONE)
    return cases


def names(response):
    return sorted(row.child.split()[0].lower() for row in response.context["page"].rows)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["agus", "budi", "dewi", "rina"]),
        ({"status": "closed"}, ["siti"]),
        ({"status": "all"}, ["agus", "budi", "dewi", "rina", "siti"]),
        ({"stage": ["asesmen", "intervensi"]}, ["dewi", "rina"]),
        ({"risk": ["high", "critical"]}, ["budi"]),
        ({"cluster": "penyandang_disabilitas"}, ["dewi"]),
        ({"ampk": "penelantaran"}, ["budi"]),
        ({"kabkota": "1371"}, ["rina"]),
        ({"kabkota": "13.71"}, ["rina"]),
        ({"overdue": "on"}, ["budi"]),
        ({"case_manager": "none"}, ["agus"]),
        ({"q": "wati"}, ["rina"]),
        ({"q": "uci"}, ["dewi"]),
        ({"q": "SANTOSO budi"}, ["budi"]),
        ({"q": "137111440212"}, []),  # a NIK is matched whole, never by part
    ],
)
def test_each_filter(client_for, supervisor, mixed, params, expected):
    response = get(client_for(supervisor), **params)
    assert response.status_code == 200
    assert response.context["warnings"] == []
    assert names(response) == expected


def test_case_manager_filter_and_my_cases(client_for, owner, colleague, supervisor, mixed):
    assert names(get(client_for(supervisor), case_manager=str(owner.pk))) == ["budi", "dewi"]
    assert names(get(client_for(owner))) == ["budi", "dewi"]
    assert names(get(client_for(owner), status="all")) == ["budi", "dewi", "siti"]


def test_search_by_case_number_is_case_insensitive_and_takes_a_prefix_or_the_tail(client_for, supervisor, mixed):
    budi = mixed["budi"]
    client = client_for(supervisor)
    assert names(get(client, q=budi.number.lower())) == ["budi"]
    assert names(get(client, q=f"  {budi.number}  ")) == ["budi"]
    prefix = budi.number.rsplit("/", 1)[0]  # BA-UJI/2026
    assert names(get(client, q=prefix)) == ["agus", "budi", "dewi", "rina"]
    assert names(get(client, q=budi.number.rsplit("/", 1)[1])) == ["budi"]  # 0001
    # A whole number typed without the zeros, in lower case, is still that case.
    code, year, sequence = budi.number.split("/")
    assert names(get(client, q=f"{code.lower()}/{year}/{int(sequence)}")) == ["budi"]


def test_overdue_follow_up_shows_a_badge(client_for, supervisor, mixed):
    response = get(client_for(supervisor))
    rows = {row.child.split()[0].lower(): row for row in response.context["page"].rows}
    assert rows["budi"].overdue and rows["budi"].next_due == timezone.localdate() - datetime.timedelta(days=1)
    assert not rows["rina"].overdue and rows["rina"].next_due == timezone.localdate()
    assert rows["dewi"].next_due is None  # its only follow-up is done
    assert response.content.decode().count('data-testid="overdue-badge"') == 1


def test_columns(client_for, supervisor, mixed):
    response = get(client_for(supervisor), q="Rina")
    [row] = response.context["page"].rows
    assert row.regency == "KOTA PADANG" or row.regency.lower() == "kota padang"
    assert row.age == mixed["rina"].beneficiary.age()
    assert row.stage == "Intervention"
    assert row.case_manager
    assert row.opened == timezone.localdate()


def test_bad_filter_values_are_ignored_with_a_message(client_for, supervisor, mixed):
    response = get(
        client_for(supervisor),
        stage="nonsense",
        risk="extreme",
        cluster="nope",
        case_manager="12abc",
        kabkota="9999",
        sort="sideways",
        scope="everything",
        q="x" * 101,
        cursor="garbage",
    )
    assert response.status_code == 200
    assert len(response.context["warnings"]) == 8
    assert names(response) == ["agus", "budi", "dewi", "rina"]
    assert "that filter was ignored" in response.content.decode()


def test_a_stage_filter_with_closed_cases_is_explained(client_for, supervisor, mixed):
    response = get(client_for(supervisor), status="closed", stage="asesmen")
    assert names(response) == ["siti"]
    assert "the stage filter was ignored" in response.context["warnings"][0]


# --- Sorting and pages ----------------------------------------------------------------


def test_sorts(client_for, org, owner, supervisor):
    now = timezone.now()
    old = child_case(org, owner, "Lama Sekali", risk_level=RiskLevel.LOW)
    mid = child_case(org, owner, "Tengah Saja", risk_level=RiskLevel.CRITICAL)
    new = child_case(org, owner, "Baru Saja", risk_level=RiskLevel.HIGH)
    for case, days in ((old, 30), (mid, 10), (new, 1)):
        Case.objects.filter(pk=case.pk).update(opened_at=now - datetime.timedelta(days=days))
    set_stage(old, Stage.MONITORING_EVALUASI)
    set_stage(new, Stage.ASESMEN)
    follow_up(old, timezone.localdate() + datetime.timedelta(days=2), by=owner)
    follow_up(mid, timezone.localdate() + datetime.timedelta(days=7), by=owner)
    client = client_for(supervisor)
    assert numbers(get(client)) == [new.number, mid.number, old.number]
    assert numbers(get(client, sort="oldest")) == [old.number, mid.number, new.number]
    assert numbers(get(client, sort="stage")) == [mid.number, new.number, old.number]
    assert numbers(get(client, sort="risk")) == [mid.number, new.number, old.number]
    assert numbers(get(client, sort="due")) == [old.number, mid.number, new.number]


@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.OLDEST, Sort.STAGE, Sort.RISK, Sort.DUE])
def test_keyset_pages_walk_every_case_once_in_order(org, owner, supervisor, sort):
    now = timezone.now()
    risks = list(RiskLevel.values)
    stages = [Stage.PENDEKATAN_AWAL, Stage.ASESMEN, Stage.INTERVENSI]
    for i in range(11):
        case = child_case(org, owner, f"Anak Halaman {i}", risk_level=risks[i % 4])
        # Ties on purpose: the same opening time for pairs, the same stage and risk for many.
        Case.objects.filter(pk=case.pk).update(opened_at=now - datetime.timedelta(hours=i // 2), stage=stages[i % 3])
        if i % 3:
            follow_up(case, timezone.localdate() + datetime.timedelta(days=i % 4), by=owner)
    filters = CaseFilters(scope=Scope.ALL, sort=sort)
    matching = lists.cases_matching(user=supervisor, filters=filters)
    expected = [c.number for c in lists.ordered(matching, sort)]
    seen, cursor = [], None
    for _page in range(10):
        page = lists.case_page(matching, sort=sort, cursor=cursor, size=3)
        seen += [row.number for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected and len(seen) == 11


def test_a_cursor_of_another_sort_or_a_forged_one_starts_over(org, owner, supervisor):
    for i in range(4):
        child_case(org, owner, f"Anak {i}")
    matching = lists.cases_matching(user=supervisor, filters=CaseFilters())
    first = lists.case_page(matching, sort=Sort.NEWEST, size=2)
    assert first.next_cursor is not None
    assert lists.case_page(matching, sort=Sort.NEWEST, cursor=first.next_cursor, size=2).is_first is False
    assert lists.case_page(matching, sort=Sort.OLDEST, cursor=first.next_cursor, size=2).is_first is True
    assert lists.case_page(matching, sort=Sort.NEWEST, cursor=first.next_cursor + "x", size=2).is_first is True
    assert lists.decode_cursor("not-a-cursor", Sort.NEWEST) is None


def test_the_next_page_link_continues_the_filtered_list(client_for, org, owner, supervisor, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    for i in range(5):
        child_case(org, owner, f"Anak {i}")
    client = client_for(supervisor)
    response = get(client, q="anak")
    page = response.context["page"]
    assert len(page.rows) == 2 and page.next_cursor
    second = get(client, q="anak", cursor=page.next_cursor)
    assert len(second.context["page"].rows) == 2
    assert not set(numbers(response)) & set(numbers(second))
    assert second.context["total"].value == 5
    assert 'data-testid="first-page"' in second.content.decode()


def test_the_list_makes_a_fixed_number_of_queries(
    client_for, org, owner, colleague, supervisor, django_assert_max_num_queries
):
    today = timezone.localdate()
    workers = [owner, colleague, supervisor, member(organisation=org, role=Role.SOCIAL_WORKER)]
    villages = [TELANAIPURA, LUBUK_MINTURUN, "1571091001", "1505021010"]
    for i in range(64):
        by = workers[i % 4]
        case = child_case(
            org,
            by,
            f"Anak Campuran {i}",
            alias=f"A{i}" if i % 5 == 0 else "",
            village_code=villages[i % 4],
            nik=f"157101{(i % 28) + 1:02d}0510{i + 1:04d}" if i % 3 == 0 else "",
            ampk=("penelantaran",) if i % 4 == 0 else (),
            is_confidential=i % 7 == 0,
            risk_level=list(RiskLevel.values)[i % 4],
            basis=Basis.RESIDENSIAL if i % 6 == 0 else Basis.KELUARGA,
        )
        if i % 3 == 0:
            follow_up(case, today + datetime.timedelta(days=(i % 9) - 4), by=by)
        if i % 11 == 0:
            Case.objects.filter(pk=case.pk).update(case_manager=None)
    for user, params in (
        (supervisor, {}),
        (colleague, {"scope": "all"}),
        (colleague, {"scope": "all", "sort": "due", "kabkota": "1571", "stage": ["pendekatan_awal"]}),
        (supervisor, {"q": "campuran", "sort": "risk", "overdue": "on"}),
    ):
        client = client_for(user)
        get(client, **params)  # warm the per-process caches (content types, region labels)
        with django_assert_max_num_queries(14):
            response = get(client, **params)
        assert response.status_code == 200
        assert response.context["page"].rows


# --- Exports --------------------------------------------------------------------------


def read_csv(response):
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def read_xlsx(response):
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_csv_export_of_the_filtered_list(client_for, org, owner, colleague, supervisor, mixed):
    response = get(client_for(supervisor), CSV_URL, stage="intervensi")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    assert "no-store" in response["Cache-Control"]
    header, *rows = read_csv(response)
    assert header[:4] == ["Case number", "Organisation", "Stage", "Child's name"]
    assert [r[0] for r in rows] == [mixed["rina"].number]
    row = dict(zip(header, rows[0], strict=True))
    assert row["Child's name"] == "Rina Wati"
    assert row["Stage"] == "Intervention"
    # A supervisor of the owning organisation gets the full NIK.
    assert row["NIK"] == "1371114402120001"
    assert row["Kab/kota"].lower() == "kota padang"


def test_export_masks_the_nik_for_everyone_but_the_supervisors(client_for, colleague, mixed):
    header, *rows = read_csv(get(client_for(colleague), CSV_URL, scope="all", q="Rina"))
    row = dict(zip(header, rows[0], strict=True))
    assert row["NIK"] == "137111••••••0001"
    header, *rows = read_xlsx(get(client_for(colleague), XLSX_URL, scope="all", q="Rina"))
    assert dict(zip(header, rows[0], strict=True))["NIK"] == "137111••••••0001"


def test_masked_rows_in_both_exports_hold_number_stage_and_organisation_only(client_for, org, colleague, secret):
    for url, read in ((CSV_URL, read_csv), (XLSX_URL, read_xlsx)):
        response = get(client_for(colleague), url, scope="all")
        assert response.status_code == 200
        _header, *rows = read(response)
        [row] = rows
        assert row[:3] == [secret.number, org.name, "Intake and engagement"]
        assert all(v == "" for v in row[3:]), row
        flat = repr(rows)
        for leak in ("Melati", "Ati", "157101", "Telanaipura", "Critical"):
            assert leak not in flat, (url, leak)


def test_formula_injection_is_escaped_in_both_exports(client_for, org, owner, supervisor):
    child_case(org, owner, '=HYPERLINK("http://evil.example","klik")', alias="+62 812", case_manager=None)
    csv_rows = read_csv(get(client_for(supervisor), CSV_URL))
    xlsx_rows = read_xlsx(get(client_for(supervisor), XLSX_URL))
    for header, row in ((csv_rows[0], csv_rows[1]), (xlsx_rows[0], xlsx_rows[1])):
        data = dict(zip(header, row, strict=True))
        assert data["Child's name"] == '\'=HYPERLINK("http://evil.example","klik")'
        assert data["Alias"] == "'+62 812"


def test_xlsx_export_keeps_dates_as_dates(client_for, supervisor, mixed):
    header, *rows = read_xlsx(get(client_for(supervisor), XLSX_URL, q="Budi"))
    row = dict(zip(header, rows[0], strict=True))
    assert row["Child's name"] == "Budi Santoso"
    assert isinstance(row["Opened"], datetime.datetime)
    assert row["Follow-up overdue"] == "yes"


def test_every_exported_case_is_audited(client_for, org, owner, colleague, supervisor, secret, mixed):
    get(client_for(colleague), CSV_URL, scope="all")
    logged = AccessLog.objects.filter(user=colleague, action="export", target_type="cases.case")
    expected = {str(c.pk) for c in Case.objects.exclude(stage=Stage.CLOSED)}
    assert set(logged.values_list("target_id", flat=True)) == expected
    assert logged.filter(target_label=secret.number).exists()
    get(client_for(supervisor), XLSX_URL, status="closed")
    assert list(AccessLog.objects.filter(user=supervisor, action="export").values_list("target_id", flat=True)) == [
        str(mixed["siti"].pk)
    ]


def test_a_large_csv_export_streams_every_case_in_chunks(client_for, supervisor, mixed, monkeypatch):
    from atensi.core import exports

    monkeypatch.setattr(exports, "CHUNK", 2)
    response = get(client_for(supervisor), CSV_URL, status="all", sort="oldest")
    exported = [r[0] for r in read_csv(response)[1:]]
    assert exported == sorted(exported, key=lambda n: Case.objects.get(number=n).opened_at)
    assert len(exported) == Case.objects.count() > 2


def test_an_xlsx_export_over_the_limit_is_made_in_the_background(
    client_for, supervisor, mixed, settings, django_capture_on_commit_callbacks
):
    from atensi.core.models import ExportJob

    settings.ATENSI_EXPORT_XLSX_MAX_ROWS = 3
    with django_capture_on_commit_callbacks(execute=False):
        response = get(client_for(supervisor), XLSX_URL, status="all", sort="oldest")
    assert response.status_code == 302
    assert response["Location"] == reverse("exports")
    [job] = ExportJob.objects.filter(user=supervisor)
    assert job.source == "cases" and ["status", "all"] in job.params and ["sort", "oldest"] in job.params
    # Nothing exported yet: the access log is written when the file is made.
    assert not AccessLog.objects.filter(action="export").exists()


def test_list_filter_and_export_agree(client_for, supervisor, mixed):
    params = {"risk": ["high"], "sort": "oldest"}
    listed = numbers(get(client_for(supervisor), **params))
    exported = [r[0] for r in read_csv(get(client_for(supervisor), CSV_URL, **params))[1:]]
    assert listed == exported == [mixed["budi"].number]


def test_a_search_counts_its_matches_to_the_cap_a_filtered_list_exactly(
    client_for, org, owner, supervisor, monkeypatch
):
    """A common first name matches thousands: a search by text counts to SEARCH_CAP ("100+"
    beyond) in the list's order; a list by its filters (what dashboards link to) exactly."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):
        child_case(org, owner, f"Siti {i}")
    child_case(org, owner, "Budi")
    client = client_for(supervisor)
    with CaptureQueriesContext(connection) as searched:
        response = get(client, q="siti")
    assert response.context["total"].value == 3 and not response.context["total"].is_capped
    assert 'data-testid="case-count">3 cases<' in response.content.decode()
    assert any("LIMIT 101" in q["sql"] and "_capped" in q["sql"] for q in searched.captured_queries)
    with CaptureQueriesContext(connection) as filtered:
        response = get(client)
    assert response.context["total"].value == 4
    assert not any("_capped" in q["sql"] and '"cases_case"' in q["sql"] for q in filtered.captured_queries)

    # Past the cap, the search says so (the cap lowered here: a hundred children cost seconds).
    monkeypatch.setattr(lists, "SEARCH_CAP", 2)
    response = get(client, q="siti")
    assert response.context["total"].is_capped
    assert 'data-testid="case-count">2+ cases<' in response.content.decode()
    assert len(numbers(response)) == 3  # the list itself is whole

    # A list by its filters past the cap is counted, and shown, whole.
    class Counted:
        def count(self) -> int:
            return 75025

    total = lists.case_total(Counted(), user=supervisor, filters=CaseFilters())  # type: ignore[arg-type]
    assert total.value == 75025 and not total.is_capped and total.display in ("75,025", "75.025")
