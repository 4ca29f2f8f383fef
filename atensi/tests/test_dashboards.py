"""The dashboards (atensi/dashboards): who reads which, what they show (exactly or as
aggregates), that every exact figure is the count of the case list it links to, the
definitions in each organisation's time zone, downloads, bad input and query counts."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from atensi.core.disclosure import Disclosure
from atensi.core.localtime import WIB, WIT, WITA
from atensi.core.models import AmpkCategory
from cases.figures import DEFINITIONS, Area, Days, Zones, case_figures, organisation_zones
from cases.list_forms import case_list_filters
from cases.lists import cases_matching
from cases.models import OPEN_STAGES, Approval, Case, FollowUp, FollowUpKind, Stage
from cases.tests.factories import BeneficiaryFactory, logged_in, open_case, village
from stakeholders.models import OrganisationKind, ReachTarget, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 5, 0, tzinfo=datetime.UTC)  # 12:00 WIB on 20 November


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def jambi_org(**fields: Any) -> Any:
    fields.setdefault("home_region", Region.objects.get(code="1571"))
    return OrganisationFactory(**fields)


def child(org: Any, by: Any, regency: str = "1571", **fields: Any) -> Any:
    fields.setdefault("village", village() if regency == "1571" else None)
    return BeneficiaryFactory(organisation=org, created_by=by, regency_code=regency, **fields)


def at(case: Case, *, opened: datetime.datetime, closed: datetime.datetime | None = None, stage: str = "") -> None:
    """Move a case in time (the services date everything now)."""
    fields: dict[str, Any] = {"opened_at": opened}
    if closed is not None:
        fields.update(closed_at=closed, stage=Stage.CLOSED, closure_reason="goals_met")
    elif stage:
        fields["stage"] = stage
    Case.objects.filter(pk=case.pk).update(**fields)


def wib(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=WIB)


@pytest.fixture
def balai(frozen: None) -> dict[str, Any]:
    """A Jambi balai with two workers, a supervisor, and cases over the last months."""
    org = jambi_org(kind=OrganisationKind.BALAI)
    chief = member(organisation=org, role=Role.SUPERVISOR)
    rina = member(organisation=org, role=Role.SOCIAL_WORKER)
    dedi = member(organisation=org, role=Role.SOCIAL_WORKER)
    violence = AmpkCategory.objects.get(code="kekerasan")
    cases = []
    for i in range(9):
        worker = rina if i % 3 else dedi
        kid = child(org, worker)
        if i % 2:
            kid.ampk_categories.add(violence)
        case = open_case(organisation=org, by=worker, beneficiary=kid, risk_level="high" if i < 3 else "medium")
        cases.append(case)
    at(cases[0], opened=wib(2026, 11, 3, 9), stage=Stage.ASESMEN)
    at(cases[1], opened=wib(2026, 11, 1, 0, 30))
    at(cases[2], opened=wib(2026, 10, 31, 23, 30))  # October's, by half an hour
    at(cases[3], opened=wib(2026, 10, 10), closed=wib(2026, 11, 18))
    at(cases[4], opened=wib(2025, 11, 5), closed=wib(2026, 10, 2))
    at(cases[5], opened=wib(2025, 11, 20), stage=Stage.INTERVENSI)
    at(cases[6], opened=wib(2026, 6, 1), stage=Stage.INTERVENSI)
    at(cases[7], opened=wib(2026, 9, 9), closed=wib(2026, 11, 30, 23))  # closes after "now": future data ignored
    Case.objects.filter(pk=cases[7].pk).update(closed_at=wib(2026, 11, 19, 23, 59))
    at(cases[8], opened=wib(2026, 11, 19, 23, 59))
    # Overdue follow-ups: one due yesterday (overdue), one due today (not yet).
    FollowUp.objects.create(
        case=cases[5], kind=FollowUpKind.HOME_VISIT, due_on=datetime.date(2026, 11, 19), assignee=rina, created_by=rina
    )
    FollowUp.objects.create(
        case=cases[6], kind=FollowUpKind.HOME_VISIT, due_on=datetime.date(2026, 11, 20), assignee=rina, created_by=rina
    )
    FollowUp.objects.create(
        case=cases[6],
        kind=FollowUpKind.AFTERCARE,
        due_on=datetime.date(2026, 11, 2),
        assignee=rina,
        created_by=rina,
        status="done",
    )
    Approval.objects.create(case=cases[6], kind="plan", requested_by=rina)
    ReachTarget.objects.create(organisation=org, year=2026, target=40)
    return {"org": org, "chief": chief, "rina": rina, "dedi": dedi, "cases": cases}


def page(client: Any, url: str, **params: str) -> Any:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.status_code
    return response


def org_url(org: Any) -> str:
    return reverse("dashboard_organisation", args=[org.pk])


def tables(response: Any) -> dict[str, Any]:
    return {t.key: t for t in response.context["dashboard"].tables}


def cell(table: Any, row_key: str, column: int = 0) -> Any:
    row = next(r for r in table.rows if r.key == row_key)
    return row.cells[column]


# --- Who reads what -----------------------------------------------------------------------


def test_a_supervisor_reads_their_organisation_exactly_with_links(balai: dict[str, Any]) -> None:
    response = page(logged_in(balai["chief"]), org_url(balai["org"]))
    found = tables(response)
    assert cell(found["stage"], Stage.ASESMEN).text == "1"
    assert cell(found["stage"], Stage.INTERVENSI).text == "2"
    assert found["stage"].totals.cells[0].text == "6"  # 9 cases, 3 closed
    assert cell(found["risk"], "high").text == "3"
    opened = cell(found["new_closed"], "opened", 0)
    assert opened.text == "3"  # 1 and 3 November, and 23:59 on 19 November
    assert cell(found["new_closed"], "opened", 1).text == "2"  # October: the 10th and 23:30 on the 31st
    assert cell(found["new_closed"], "opened", 2).text == "2"  # November 2025
    assert cell(found["new_closed"], "closed", 0).text == "2"
    assert opened.link.startswith(reverse("cases:case_list") + "?")
    assert "opened_from=2026-11-01" in opened.link and "opened_to=2026-11-30" in opened.link
    ampk = cell(found["ampk"], "kekerasan")
    assert ampk.text == "2"  # open cases 1 and 5 (3 and 7 are closed)
    body = response.content.decode()
    assert "figure-link" in body and "aggregate-notice" not in body
    assert all(html.escape(str(definition)) in body for definition in DEFINITIONS)
    reach = found["aftercare_reach"]
    assert [r.cells[0].text for r in reach.rows] == ["1", "1", "7", "40"]


@pytest.mark.parametrize("reader", ["chief", "superuser"])
def test_every_exact_figure_equals_the_count_of_the_case_list_it_links_to(balai: dict[str, Any], reader: str) -> None:
    # Another organisation's cases in the same kab/kota must not leak into the superuser's lists.
    other = jambi_org()
    worker = member(organisation=other, role=Role.SOCIAL_WORKER)
    open_case(organisation=other, by=worker, beneficiary=child(other, worker))
    user = balai["chief"] if reader == "chief" else UserFactory(is_superuser=True, is_staff=True)
    response = page(logged_in(user), org_url(balai["org"]))
    dashboard = response.context["dashboard"]
    links = []
    for table in [*dashboard.tables, dashboard.monthly]:
        for row in [*table.rows, *([table.totals] if table.totals else [])]:
            links += [c for c in row.cells if c.link]
    links += [c for _label, c in dashboard.tiles if c.link]
    assert len(links) > 30
    for figure in links:
        assert figure.value == count_behind(user, figure.link), figure.link


def test_a_superusers_regional_figures_equal_their_lists(balai: dict[str, Any]) -> None:
    root = UserFactory(is_superuser=True, is_staff=True)
    dashboard = page(logged_in(root), reverse("dashboard_region", args=["15"])).context["dashboard"]
    links = [
        c for t in dashboard.tables for r in [*t.rows, *([t.totals] if t.totals else [])] for c in r.cells if c.link
    ]
    assert len(links) > 20
    for figure in links:
        assert figure.value == count_behind(root, figure.link), figure.link


def count_behind(user: Any, link: str) -> int:
    """The case list's count for a dashboard link: its GET parameters through the list's own
    form and `cases_matching`, on the primary database."""
    query = QueryDict(urlsplit(link).query)
    _form, filters, warnings = case_list_filters(query, user=user)
    assert not warnings, (link, warnings)
    return cases_matching(user=user, filters=filters, now=NOW).count()


def test_org_admins_read_their_organisation_as_aggregates_without_links(balai: dict[str, Any]) -> None:
    admin = member(organisation=balai["org"], role=Role.ORG_ADMIN)
    response = page(logged_in(admin), org_url(balai["org"]))
    found = tables(response)
    assert cell(found["stage"], Stage.ASESMEN).text == "<5"
    assert cell(found["stage"], Stage.PERENCANAAN).text == "0"
    # Made from the shown cells (three "<5" count 2.5 each), not from the true 6.
    assert found["stage"].totals.cells[0].text == "10"
    assert response.context["dashboard"].tiles[0][1].text == "5"  # 6 open cases, rounded
    body = response.content.decode()
    assert "figure-link" not in body and "aggregate-notice" in body
    assert reverse("cases:case_list") not in body


def test_the_csv_download_has_the_same_suppression(balai: dict[str, Any]) -> None:
    admin = member(organisation=balai["org"], role=Role.ORG_ADMIN)
    url = reverse("dashboard_organisation_download", args=[balai["org"].pk, "stage", "csv"])
    response = logged_in(admin).get(url, {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-stage-2026-11.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Stage", "Open cases"]
    as_dict = dict((r[0], r[1]) for r in rows[1:])
    assert as_dict["Assessment"] == "<5" and as_dict["All open cases"] == "10"
    exact = logged_in(balai["chief"]).get(url, {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Assessment,1" in exact.content.decode("utf-8-sig")


def test_the_xlsx_download_and_unknown_tables(balai: dict[str, Any]) -> None:
    client = logged_in(balai["chief"])
    xlsx = client.get(reverse("dashboard_organisation_download", args=[balai["org"].pk, "caseload", "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    for table, fmt in (("nothing", "csv"), ("stage", "pdf")):
        response = client.get(reverse("dashboard_organisation_download", args=[balai["org"].pk, table, fmt]))
        assert response.status_code == 404


def test_outsiders_and_social_workers_get_404(balai: dict[str, Any]) -> None:
    outsider = member(organisation=jambi_org(), role=Role.SUPERVISOR)
    for user in (outsider, balai["rina"]):
        client = logged_in(user)
        assert client.get(org_url(balai["org"])).status_code == 404
        url = reverse("dashboard_organisation_download", args=[balai["org"].pk, "stage", "csv"])
        assert client.get(url).status_code == 404
    assert logged_in(outsider).post(org_url(balai["org"])).status_code == 405


def dinsos(code: str = "15") -> Any:
    org = OrganisationFactory(kind=OrganisationKind.DINSOS_PROVINSI, home_region=Region.objects.get(code=code))
    org.coverage.set([Region.objects.get(code=code)])
    return org


def test_a_dinas_sosial_reads_its_province_by_kab_kota_and_nothing_else(balai: dict[str, Any]) -> None:
    officer = member(organisation=dinsos("15"), role=Role.REFERRAL_OFFICER)
    client = logged_in(officer)
    response = page(client, reverse("dashboard_region", args=["15"]))
    found = tables(response)
    regions = found["regions"]
    assert cell(regions, "1571", 0).text == "5"  # 6 open cases of Kota Jambi children, rounded
    assert cell(regions, "1505", 0).text == "0"
    assert "figure-link" not in response.content.decode()
    assert page(client, reverse("dashboard_region", args=["1571"])).context["dashboard"].title == "Kota Jambi"
    for code in ("14", "1371", "99", "1", "157101", "ab"):
        assert client.get(reverse("dashboard_region", args=[code])).status_code == 404, code
    assert client.get(reverse("dashboard_national")).status_code == 404
    assert client.get(org_url(balai["org"])).status_code == 404
    # One entry, so /dashboard/ goes straight there.
    entry = client.get(reverse("dashboard"))
    assert entry.status_code == 302 and entry["Location"] == reverse("dashboard_region", args=["15"])


def test_a_region_with_one_child_shows_it_suppressed(frozen: None) -> None:
    org = jambi_org()
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    open_case(organisation=org, by=worker, beneficiary=child(org, worker, regency="1505"))
    officer = member(organisation=dinsos("15"), role=Role.VIEWER)
    response = page(logged_in(officer), reverse("dashboard_region", args=["1505"]))
    assert response.context["dashboard"].tiles[0][1].text == "<5"
    body = response.content.decode()
    assert "Anak Uji" not in body and "figure-link" not in body


def test_the_national_viewer_reads_indonesia_by_province_and_no_case(balai: dict[str, Any]) -> None:
    directorate = OrganisationFactory(is_national=True, home_region=Region.objects.get(code="31"))
    viewer = member(organisation=directorate, role=Role.VIEWER)
    client = logged_in(viewer)
    response = page(client, reverse("dashboard_national"))
    found = tables(response)
    assert cell(found["regions"], "15", 0).text == "5"
    assert cell(found["regions"], "13", 0).text == "0"
    assert len(found["regions"].rows) >= 38
    assert page(client, reverse("dashboard_region", args=["15"])).status_code == 200
    case = balai["cases"][0]
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("dashboard")).status_code == 302
    home = page(client, reverse("home")).content.decode()
    assert "home-dashboard" in home and reverse("dashboard") in home


def test_a_supervisor_with_a_dinas_sosial_chooses_between_dashboards(frozen: None) -> None:
    office = dinsos("15")
    chief = member(organisation=office, role=Role.SUPERVISOR)
    response = page(logged_in(chief), reverse("dashboard"))
    assert [label for label, _url in response.context["choices"]] == ["Jambi", office.name]


def test_a_viewer_whose_organisation_covers_nothing_is_told_so(frozen: None) -> None:
    lksa = OrganisationFactory(kind=OrganisationKind.LKSA)
    worker = member(organisation=lksa, role=Role.SOCIAL_WORKER)
    response = page(logged_in(worker), reverse("dashboard"))
    assert "dashboard-none" in response.content.decode()
    assert 'data-nav="dashboard"' not in response.content.decode()
    nobody = UserFactory()
    assert "dashboard-none" in page(logged_in(nobody), reverse("dashboard")).content.decode()


# --- Periods and bad input --------------------------------------------------------------


def test_a_bad_period_is_answered_with_a_message_and_this_month(balai: dict[str, Any]) -> None:
    client = logged_in(balai["chief"])
    for params in ({"period": "2026-13"}, {"period": "kemarin"}, {"from": "2026-11-05", "to": "2026-10-01"}):
        response = page(client, org_url(balai["org"]), **params)
        assert response.context["dashboard"].period.param == "2026-11"
        assert [str(m) for m in response.context["messages"]], params


def test_exact_readers_may_ask_for_a_range_of_days_aggregate_readers_may_not(balai: dict[str, Any]) -> None:
    chief = page(logged_in(balai["chief"]), org_url(balai["org"]), **{"from": "2026-10-31", "to": "2026-11-01"})
    assert cell(tables(chief)["new_closed"], "opened", 0).text == "2"
    admin = member(organisation=balai["org"], role=Role.ORG_ADMIN)
    response = page(logged_in(admin), org_url(balai["org"]), **{"from": "2026-10-31", "to": "2026-11-01"})
    assert response.context["dashboard"].period.param == "2026-11"
    assert "Custom ranges" in str(next(iter(response.context["messages"])))
    quarter = page(logged_in(admin), org_url(balai["org"]), period="2026-Q4")
    assert quarter.context["dashboard"].period.label == "Quarter 4 2026"


def test_an_organisation_with_no_cases_says_so(frozen: None) -> None:
    org = jambi_org()
    chief = member(organisation=org, role=Role.SUPERVISOR)
    response = page(logged_in(chief), org_url(org), period="2025")
    assert "dashboard-empty" in response.content.decode()


# --- Definitions in each organisation's zone ------------------------------------------------


@pytest.mark.parametrize(
    ("home", "zone"),
    [("1571", WIB), ("7371", WITA), ("9171", WIT)],
)
def test_periods_and_overdue_are_the_organisations_local_days(home: str, zone: Any) -> None:
    org = OrganisationFactory(home_region=Region.objects.get(code=home))
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    last_minute = open_case(organisation=org, by=worker, beneficiary=child(org, worker))
    first_minute = open_case(organisation=org, by=worker, beneficiary=child(org, worker))
    at(last_minute, opened=datetime.datetime(2026, 3, 31, 23, 59, tzinfo=zone))
    at(first_minute, opened=datetime.datetime(2026, 4, 1, 0, 0, tzinfo=zone))
    FollowUp.objects.create(
        case=first_minute,
        kind=FollowUpKind.HOME_VISIT,
        due_on=datetime.date(2026, 4, 1),
        assignee=worker,
        created_by=worker,
    )
    march, april = (
        Days(datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)),
        Days(datetime.date(2026, 4, 1), datetime.date(2026, 5, 1)),
    )
    year = Days(datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
    # 00:30 local on 2 April: the follow-up due on the 1st is overdue there, nowhere earlier.
    now = datetime.datetime(2026, 4, 2, 0, 30, tzinfo=zone)
    for area in (
        Area(organisation_id=org.pk, zones=Zones(single=zone)),
        Area(region_code="15", zones=organisation_zones()),
    ):
        figures = case_figures(
            area=area, periods={"march": march, "april": april}, reach_year=year, aftercare=april, now=now
        )
        assert (figures.opened["march"], figures.opened["april"]) == (1, 1), (home, area)
        assert figures.overdue == 1
        earlier = case_figures(
            area=area, periods={}, reach_year=year, aftercare=april, now=now - datetime.timedelta(hours=1)
        )
        assert earlier.overdue == 0
        assert figures.reach == 2


def test_a_region_counts_each_case_in_its_own_organisations_zone() -> None:
    march = Days(datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))
    april = Days(datetime.date(2026, 4, 1), datetime.date(2026, 5, 1))
    for home, zone in (("1571", WIB), ("7371", WITA), ("9171", WIT)):
        org = OrganisationFactory(home_region=Region.objects.get(code=home))
        worker = member(organisation=org, role=Role.SOCIAL_WORKER)
        case = open_case(organisation=org, by=worker, beneficiary=child(org, worker))
        at(case, opened=datetime.datetime(2026, 4, 1, 0, 30, tzinfo=zone))
    # 00:30 on 1 April in Makassar and Jayapura is still 31 March in Jakarta: read in WIB,
    # those two cases would be March's.
    zones = organisation_zones()
    assert sorted(len(ids) for _tz, ids in zones.others) == [1, 1]
    figures = case_figures(
        area=Area(region_code="15", zones=zones),
        periods={"march": march, "april": april},
        reach_year=march,
        aftercare=march,
        now=NOW,
    )
    assert (figures.opened["march"], figures.opened["april"]) == (0, 3)
    as_if_wib = case_figures(
        area=Area(region_code="15"),
        periods={"march": march, "april": april},
        reach_year=march,
        aftercare=march,
        now=NOW,
    )
    assert (as_if_wib.opened["march"], as_if_wib.opened["april"]) == (2, 1)


def test_a_regions_referrals_are_counted_on_their_cases_organisations_days() -> None:
    from cases.figures import in_days
    from referrals.figures import referral_case_figures
    from referrals.models import Referral, ReferralStatus

    april = Days(datetime.date(2026, 4, 1), datetime.date(2026, 5, 1))
    receiver = OrganisationFactory(home_region=Region.objects.get(code="15"))
    for home, zone in (("1571", WIB), ("7371", WITA), ("9171", WIT)):
        org = OrganisationFactory(home_region=Region.objects.get(code=home))
        worker = member(organisation=org, role=Role.SOCIAL_WORKER)
        case = open_case(organisation=org, by=worker, beneficiary=child(org, worker))
        sent = datetime.datetime(2026, 4, 1, 0, 30, tzinfo=zone)  # 31 March in Jakarta outside WIB
        Referral.objects.create(
            case=case,
            sender=org,
            receiver=receiver,
            sent_by=worker,
            sent_at=sent,
            respond_by=sent + datetime.timedelta(days=3),
            answered_at=sent + datetime.timedelta(hours=2),
            answered_by=worker,
            status=ReferralStatus.ACCEPTED,
            reason="Butuh layanan.",
        )
    area = Area(region_code="15", zones=organisation_zones())
    figures = referral_case_figures(
        cases=area.cases(),
        during=lambda path: in_days(path, april, area.zones, org_path="case__organisation_id"),
        since=NOW,
        now=NOW,
    )
    assert (figures.received, figures.answered, figures.accepted) == (3, 3, 3)


def test_reach_counts_children_not_cases(frozen: None) -> None:
    org = jambi_org()
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    kid = child(org, worker)
    first = open_case(organisation=org, by=worker, beneficiary=kid)
    at(first, opened=wib(2026, 2, 1), closed=wib(2026, 3, 1))
    open_case(organisation=org, by=worker, beneficiary=kid)
    year = Days(datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
    figures = case_figures(
        area=Area(organisation_id=org.pk, zones=Zones(single=WIB)), periods={}, reach_year=year, aftercare=year, now=NOW
    )
    assert figures.reach == 1


# --- Speed ------------------------------------------------------------------------------------


def test_the_organisation_dashboard_costs_the_same_queries_for_more_cases(
    balai: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = logged_in(balai["chief"])
    client.get(org_url(balai["org"]))  # sessions, caches
    with django_assert_max_num_queries(24) as few:
        page(client, org_url(balai["org"]))
    for _i in range(6):
        open_case(organisation=balai["org"], by=balai["dedi"], beneficiary=child(balai["org"], balai["dedi"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page(client, org_url(balai["org"]))


def test_the_national_dashboard_costs_a_fixed_number_of_queries(
    balai: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    viewer = member(organisation=OrganisationFactory(is_national=True), role=Role.VIEWER)
    client = logged_in(viewer)
    client.get(reverse("dashboard_national"))
    with django_assert_max_num_queries(20):
        page(client, reverse("dashboard_national"))


# --- Reach targets --------------------------------------------------------------------------


def test_only_superusers_set_reach_targets(frozen: None) -> None:
    from atensi.core.errors import ApplicationError
    from stakeholders.services import reach_target_set

    org = jambi_org()
    admin = member(organisation=org, role=Role.ORG_ADMIN)
    with pytest.raises(ApplicationError):
        reach_target_set(organisation=org, year=2026, target=10, by=admin)
    root = UserFactory(is_superuser=True, is_staff=True)
    reach_target_set(organisation=org, year=2026, target=10, by=root)
    reach_target_set(organisation=org, year=2026, target=12, by=root)
    assert list(ReachTarget.objects.values_list("year", "target")) == [(2026, 12)]


def test_charts_are_svg_without_style_attributes(balai: dict[str, Any]) -> None:
    body = page(logged_in(balai["chief"]), org_url(balai["org"])).content.decode()
    assert body.count("<svg") >= 6
    assert not re.search(r"<svg[^>]*style=|<rect[^>]*style=", body)
    assert 'data-testid="chart-monthly"' in body
    assert timezone.now() == NOW


def test_the_default_period_and_overdue_follow_the_organisations_own_day_in_wita() -> None:
    org = OrganisationFactory(home_region=Region.objects.get(code="7371"))  # Kota Makassar, WITA
    chief = member(organisation=org, role=Role.SUPERVISOR)
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 10, tzinfo=WITA), tick=False):
        case = open_case(organisation=org, by=worker, beneficiary=child(org, worker))
        FollowUp.objects.create(
            case=case,
            kind=FollowUpKind.HOME_VISIT,
            due_on=datetime.date(2026, 3, 31),
            assignee=worker,
            created_by=worker,
        )
    # 00:30 WITA on 1 April is still 31 March in Jakarta: the Makassar organisation's day is April's.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 30, tzinfo=WITA), tick=False):
        response = page(logged_in(chief), org_url(org))
    dashboard = response.context["dashboard"]
    assert dashboard.period.param == "2026-04"
    tiles = dict(dashboard.tiles)
    assert tiles["Opened in the period"].text == "1"
    assert tiles["Open cases with an overdue follow-up"].text == "1"


def test_aggregate_figures_are_kept_a_while_and_fast_exact_ones_never(balai: dict[str, Any]) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    admin = member(organisation=balai["org"], role=Role.ORG_ADMIN)
    cache.clear()
    client = logged_in(admin)
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600):
        with CaptureQueriesContext(connection) as counted:
            first = page(client, org_url(balai["org"]))
        assert "counted Nov. 20, 2026, noon WIB" in first.content.decode()
        open_case(organisation=balai["org"], by=balai["dedi"], beneficiary=child(balai["org"], balai["dedi"]))
        with CaptureQueriesContext(connection) as kept:
            again = page(client, org_url(balai["org"]))
        assert len(kept.captured_queries) <= len(counted.captured_queries) - 10  # no figure counted again
        assert again.context["dashboard"].tiles[0][1].text == first.context["dashboard"].tiles[0][1].text
        exact = page(logged_in(balai["chief"]), org_url(balai["org"]))
        assert exact.context["dashboard"].tiles[0][1].text == "7"  # live: the new case counts
    cache.clear()


def test_beat_counts_the_national_and_provincial_figures_ahead(balai: dict[str, Any]) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from django_celery_beat.models import PeriodicTask

    from atensi.tasks import dashboards_warm

    assert PeriodicTask.objects.filter(task="atensi.dashboards_warm", enabled=True).exists()
    viewer = member(organisation=OrganisationFactory(is_national=True), role=Role.VIEWER)
    officer = member(organisation=dinsos("15"), role=Role.VIEWER)
    cache.clear()
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=900):
        assert dashboards_warm() == 1 + Region.objects.filter(level=1).count()
        for user, url in ((viewer, reverse("dashboard_national")), (officer, reverse("dashboard_region", args=["15"]))):
            with CaptureQueriesContext(connection) as counted:
                response = page(logged_in(user), url)
            sql = " ".join(q["sql"] for q in counted.captured_queries)
            assert "cases_case" not in sql  # every figure came from the cache
        assert tables(response)["regions"].rows[0].cells[0].text in {"0", "<5", "5"}
    cache.clear()


def test_exact_figures_too_slow_to_count_live_are_kept_and_can_be_recounted(balai: dict[str, Any]) -> None:
    from django.core.cache import cache
    from django.test import override_settings

    from atensi.dashboards.compose import slow_organisations
    from atensi.tasks import dashboards_warm

    cache.clear()
    client = logged_in(balai["chief"])
    url = org_url(balai["org"])
    # Every count "too slow" (-1 ms): the supervisor reads what was counted, told so.
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600, ATENSI_DASHBOARD_LIVE_MS=-1):
        first = page(client, url)
        assert first.context["dashboard"].tiles[0][1].text == "6"
        assert balai["org"].pk in slow_organisations()  # beat counts it ahead from now on
        open_case(organisation=balai["org"], by=balai["dedi"], beneficiary=child(balai["org"], balai["dedi"]))
        kept = page(client, url)
        body = kept.content.decode()
        assert kept.context["dashboard"].tiles[0][1].text == "6"
        assert 'data-testid="dashboard-kept"' in body
        assert 'data-testid="dashboard-recount"' not in body  # counted less than a minute ago
        # Asking anyway reads the same figures: one reader cannot keep the database counting.
        response = client.get(url, {"recount": "1"})
        assert response.status_code == 302 and "recount" not in response["Location"]
        assert page(client, url).context["dashboard"].tiles[0][1].text == "6"
        with time_machine.travel(NOW + datetime.timedelta(minutes=2), tick=False):
            later = page(client, url)
            assert 'data-testid="dashboard-recount"' in later.content.decode()
            response = client.get(url, {"recount": "1", "period": "2026-11"})
            assert response.status_code == 302 and response["Location"].endswith("?period=2026-11")
            assert page(client, url, period="2026-11").context["dashboard"].tiles[0][1].text == "7"
        # Beat counts the slow organisation ahead: the new case shows without a recount.
        open_case(organisation=balai["org"], by=balai["dedi"], beneficiary=child(balai["org"], balai["dedi"]))
        assert dashboards_warm() == 1 + Region.objects.filter(level=1).count() + 1
        assert page(client, url).context["dashboard"].tiles[0][1].text == "8"
    # Figures fast to count are live for exact readers, even once kept for aggregate readers.
    # ("Fast" is any time here: a busy test machine must not make the count look slow.)
    cache.clear()
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600, ATENSI_DASHBOARD_LIVE_MS=60_000):
        page(logged_in(member(organisation=balai["org"], role=Role.ORG_ADMIN)), url)
        open_case(organisation=balai["org"], by=balai["dedi"], beneficiary=child(balai["org"], balai["dedi"]))
        live = page(client, url)
        assert live.context["dashboard"].tiles[0][1].text == "9"
        assert 'data-testid="dashboard-kept"' not in live.content.decode()
    cache.clear()


def test_a_recount_without_the_cache_is_live_and_an_outsider_still_gets_404(balai: dict[str, Any]) -> None:
    response = logged_in(balai["chief"]).get(org_url(balai["org"]), {"recount": "1"})
    assert response.status_code == 302
    outsider = member(organisation=OrganisationFactory(), role=Role.SUPERVISOR)
    assert logged_in(outsider).get(org_url(balai["org"]), {"recount": "1"}).status_code == 404


def test_a_large_teams_caseload_shows_the_most_loaded_and_downloads_everyone() -> None:
    from django.template.loader import render_to_string

    from atensi.dashboards.compose import CASELOAD_ON_PAGE, _caseload
    from atensi.dashboards.tables import Links
    from cases.figures import WorkerRow

    workers = [
        WorkerRow(
            user_id=i, name=f"Pekerja {i:03d}", by_stage={s: i % 7 for s in OPEN_STAGES}, overdue=0, approvals_waiting=0
        )
        for i in range(1, CASELOAD_ON_PAGE + 12)
    ]
    table = _caseload(workers, Links(enabled=True, base={"organisation": "1"}), Disclosure.EXACT)
    shown = [row for row, _cells in table.labelled_rows]
    assert len(shown) == CASELOAD_ON_PAGE and table.rows_not_on_page == 11
    loads = [sum(c.value or 0 for c in row.cells[: len(OPEN_STAGES)]) for row in shown]
    assert loads == sorted(loads, reverse=True)  # the most loaded first
    assert all(cell.link for row in shown for cell in row.cells[:-1] if cell.value)
    _headers, rows = table.export()
    assert len(rows) == len(workers) + 1  # everyone, and the totals
    assert rows[-1][len(OPEN_STAGES) + 1] == sum(w.open_total for w in workers)
    with translation.override("en"):
        rendered = html.unescape(render_to_string("dashboards/_table.html", {"table": table}))
    assert "11 more rows are in the table's download" in rendered
    # A team that fits keeps its name order and every row.
    small = _caseload(workers[:3], Links(enabled=True, base={}), Disclosure.EXACT)
    assert [r.label for r, _c in small.labelled_rows] == ["Pekerja 001", "Pekerja 002", "Pekerja 003"]
    assert small.rows_not_on_page == 0
