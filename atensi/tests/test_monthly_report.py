"""The monthly report (laporan bulanan): a small data set around November 2026 in Jambi (WIB),
time frozen, and the literal totals it must give on the page and in the workbook."""

from __future__ import annotations

import datetime
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from atensi.core.models import AmpkCategory, ServiceComponent
from atensi.reports.monthly import Month, monthly_report, organisation_scope, parse_month
from cases.models import Basis, Case, Consent, FollowUp, FollowUpKind, FollowUpStatus, PlanItemStatus, Stage
from cases.records import plan_item_create, plan_item_update
from cases.tests.factories import BeneficiaryFactory, cluster, open_case
from referrals.models import ReferralKind
from referrals.services import referral_accept, referral_send
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
URL = reverse("monthly_report")
XLSX_URL = reverse("monthly_report_xlsx")
NOVEMBER = "2026-11"


def at(text: str) -> Any:
    """Time frozen at a WIB moment ("2026-11-01 00:30")."""
    return time_machine.travel(datetime.datetime.fromisoformat(text).replace(tzinfo=WIB), tick=False)


def _case(org: Any, by: Any, *, ampk: tuple[str, ...] = (), **kwargs: Any) -> Case:
    child = BeneficiaryFactory(organisation=org, created_by=by, regency_code="1571")  # Kota Jambi
    child.ampk_categories.set(AmpkCategory.objects.filter(code__in=ampk))
    return open_case(organisation=org, by=by, beneficiary=child, **kwargs)


def _share(case: Case, *organisations: Any, by: Any) -> None:
    consent = Consent.objects.create(
        case=case,
        given_by_name="Ibu Sari",
        relation="mother",
        given_on=datetime.date(2026, 10, 1),
        recorded_by=by,
    )
    consent.share_with.set(organisations)


@pytest.fixture
def november(org: Any, other_org: Any, owner: Any) -> dict[str, Any]:
    """Three cases around November's edges, two services, two referrals, four aftercare visits."""
    officer = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="peksos.lain")
    officer_b = member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="rujukan.lain")
    ours_officer = member(organisation=org, role=Role.REFERRAL_OFFICER, username="rujukan.kita")
    terapi = ServiceComponent.objects.get(code="terapi")
    with at("2026-10-31 23:30"):  # October in Jambi (and in UTC)
        october = _case(org, owner, ampk=("darurat",))
    with at("2026-11-01 00:30"):  # November in Jambi, still 31 October in UTC
        both = _case(org, owner, ampk=("darurat", "abh"))
    with at("2026-11-15 09:00"):
        residential = _case(org, owner, cluster=cluster("penyandang_disabilitas"), basis=Basis.RESIDENSIAL)
    with at("2026-12-01 00:10"):  # December: not in the report
        _case(org, owner, ampk=("abh",))
    Case.objects.filter(pk=october.pk).update(
        stage=Stage.CLOSED, closed_at=datetime.datetime(2026, 11, 30, 23, 0, tzinfo=WIB), closure_reason="goals_met"
    )
    Case.objects.filter(pk=both.pk).update(stage=Stage.PERENCANAAN)
    both.refresh_from_db()
    with at("2026-11-03 10:00"):
        item = plan_item_create(
            case=both,
            by=owner,
            component=terapi,
            service="Konseling",
            start_date=datetime.date(2026, 11, 3),
            target_date=datetime.date(2026, 11, 30),
        ).item
        late = plan_item_create(
            case=both,
            by=owner,
            component=terapi,
            service="Konseling lanjutan",
            start_date=datetime.date(2026, 11, 3),
            target_date=datetime.date(2026, 12, 30),
        ).item
    with at("2026-11-20 10:00"):
        plan_item_update(
            item=item,
            by=owner,
            component=terapi,
            service=item.service,
            start_date=item.start_date,
            target_date=item.target_date,
            status=PlanItemStatus.DONE,
            outcome="Anak kembali sekolah.",
        )
    with at("2026-12-01 00:10"):  # done in December
        plan_item_update(
            item=late,
            by=owner,
            component=terapi,
            service=late.service,
            start_date=late.start_date,
            target_date=late.target_date,
            status=PlanItemStatus.DONE,
            outcome="Selesai.",
        )
    with at("2026-11-10 09:00"):
        _share(both, other_org, by=owner)
        referral_send(
            case=both, by=owner, receiver=other_org, kind=ReferralKind.SERVICE, reason="Terapi.", components=[terapi]
        )
        theirs = open_case(organisation=other_org, by=officer)
        _share(theirs, org, by=officer)
        received = referral_send(
            case=theirs, by=officer, receiver=org, kind=ReferralKind.SERVICE, reason="Terapi.", components=[terapi]
        )
    with at("2026-11-11 09:00"):
        referral_accept(referral=received, by=ours_officer)
    assert officer_b  # the other organisation has a referral officer too
    visits = [
        (datetime.date(2026, 11, 5), FollowUpStatus.DONE, datetime.datetime(2026, 11, 6, 10, tzinfo=WIB)),
        (datetime.date(2026, 11, 10), FollowUpStatus.MISSED, None),
        (datetime.date(2026, 11, 25), FollowUpStatus.PENDING, None),
        (datetime.date(2026, 10, 28), FollowUpStatus.DONE, datetime.datetime(2026, 11, 2, 10, tzinfo=WIB)),
    ]
    for due_on, status, completed in visits:
        FollowUp.objects.create(
            case=october,
            kind=FollowUpKind.AFTERCARE,
            due_on=due_on,
            assignee=owner,
            status=status,
            completed_at=completed,
            missed_reason="Keluarga pindah." if status == FollowUpStatus.MISSED else "",
            created_by=owner,
        )
    return {"both": both, "october": october, "residential": residential}


def _lines(lines: list[Any]) -> dict[str, tuple[int, int]]:
    return {line.label: (line.opened, line.closed) for line in lines if line.opened or line.closed}


def test_the_report_of_november_has_these_totals(org, november) -> None:
    with at("2026-12-07 10:00"), translation.override("en"):
        report = monthly_report(scope=organisation_scope(org), month=Month(datetime.date(2026, 11, 1)))
    assert (report.opened, report.closed) == (2, 1)
    assert _lines(report.by_ampk) == {
        "Children in emergency situations": (1, 1),
        "Children in contact with the law": (1, 0),
        "No AMPK category": (1, 0),
    }
    assert _lines(report.by_cluster) == {"Children": (1, 1), "Persons with disabilities": (1, 0)}
    assert _lines(report.by_basis) == {"Family-based": (1, 1), "Residential": (1, 0)}
    assert report.services_total == 1
    assert [(s.label, s.count) for s in report.services if s.count] == [
        (ServiceComponent.objects.get(code="terapi").name_en, 1)
    ]
    assert [(r.kind, r.status, r.count) for r in report.referrals_sent] == [
        ("Service referral", "Waiting for an answer", 1)
    ]
    assert [(r.kind, r.status, r.count) for r in report.referrals_received] == [("Service referral", "Accepted", 1)]
    assert report.aftercare.__dict__ == {"due": 3, "done": 1, "missed": 1, "pending": 1, "done_in_month": 2}


def test_the_figures_take_few_queries_whatever_the_data(org, november, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(16):
        monthly_report(scope=organisation_scope(org), month=Month(datetime.date(2026, 11, 1)))


def test_the_page_and_the_workbook_show_the_same_totals(client_for, supervisor, org, november) -> None:
    with at("2026-12-07 10:00"):
        client = client_for(supervisor)
        page = client.get(URL, {"organisation": org.pk, "month": NOVEMBER}, HTTP_ACCEPT_LANGUAGE="en")
        workbook = client.get(XLSX_URL, {"organisation": org.pk, "month": NOVEMBER}, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Opened in the month: <strong>2</strong> · closed: <strong>1</strong>" in text
    assert "November 2026" in text
    assert workbook.status_code == 200
    assert workbook["Content-Disposition"] == f'attachment; filename="laporan-bulanan-{org.code.lower()}-2026-11.xlsx"'
    book = load_workbook(io.BytesIO(workbook.content), read_only=True)
    assert book.sheetnames == ["Cases", "Services", "Referrals", "Aftercare"]
    cases = [list(r) for r in book["Cases"].iter_rows(values_only=True)]
    assert cases[0] == ["Breakdown", "Item", "Opened", "Closed"]
    assert ["Cluster", "Total", 2, 1] in cases
    assert ["Basis", "Residential", 1, 0] in cases
    assert ["AMPK category", "No AMPK category", 1, 0] in cases
    services = [list(r) for r in book["Services"].iter_rows(values_only=True)]
    assert services[-1] == ["Total", 1]
    referrals = [list(r) for r in book["Referrals"].iter_rows(values_only=True)][1:]
    assert referrals == [
        ["Sent", "Service referral — Waiting for an answer", 1],
        ["Sent", "Total", 1],
        ["Received", "Service referral — Accepted", 1],
        ["Received", "Total", 1],
    ]
    aftercare = [list(r) for r in book["Aftercare"].iter_rows(values_only=True)][1:]
    assert aftercare == [
        ["Done", 1],
        ["Missed", 1],
        ["Still pending", 1],
        ["Total", 3],
        ["Done in the month (whenever due)", 2],
    ]


def test_an_org_admin_reads_the_figures_with_small_cells_hidden(client_for, org, org_admin, november) -> None:
    params = {"organisation": org.pk, "month": NOVEMBER}
    with at("2026-12-07 10:00"):
        page = client_for(org_admin).get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
        workbook = client_for(org_admin).get(XLSX_URL, params, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    # Two opened, one closed: 1 to 4 children are shown as "<5", the totals made from them.
    assert "Opened in the month: <strong>5</strong> · closed: <strong>5</strong>" in text
    assert "&lt;5" in text and 'data-testid="report-suppression"' in text
    cases = [list(r) for r in load_workbook(io.BytesIO(workbook.content)).worksheets[0].iter_rows(values_only=True)]
    assert ["Basis", "Residential", "<5", 0] in cases


def test_an_org_admin_reads_it_and_a_social_worker_or_an_outsider_gets_404(
    client_for, org, org_admin, owner, outsider
) -> None:
    params = {"organisation": org.pk, "month": NOVEMBER}
    with at("2026-12-07 10:00"):
        assert client_for(org_admin).get(URL, params).status_code == 200
        assert client_for(owner).get(URL, params).status_code == 404
        # The outsider administers another organisation: that one opens, ours does not.
        assert client_for(outsider).get(URL, params).status_code == 404
        assert client_for(outsider).get(XLSX_URL, params).status_code == 404
        assert client_for(outsider).get(URL).status_code == 200


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "Choose a month as year and month"),
        ("November", "Choose a month as year and month"),
        ("1999-12", "Choose a month as year and month"),
        ("2027-01", "January 2027 has not begun yet"),
    ],
)
def test_a_bad_or_future_month_is_a_message_not_a_500(client_for, supervisor, org, month, message) -> None:
    with at("2026-12-07 10:00"):
        response = client_for(supervisor).get(URL, {"organisation": org.pk, "month": month}, HTTP_ACCEPT_LANGUAGE="en")
        workbook = client_for(supervisor).get(XLSX_URL, {"organisation": org.pk, "month": month})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'data-testid="monthly-report"' not in response.content.decode()
    assert workbook.status_code == 400


def test_a_bad_organisation_id_is_not_found(client_for, supervisor) -> None:
    for value in ("abc", "99999999", "-1"):
        assert client_for(supervisor).get(URL, {"organisation": value}).status_code == 404


def test_the_default_is_last_month_and_an_empty_month_shows_zeros(client_for, supervisor, org) -> None:
    with at("2026-12-07 10:00"):
        response = client_for(supervisor).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert 'value="2026-11"' in text
    assert "Opened in the month: <strong>0</strong> · closed: <strong>0</strong>" in text
    assert "None in this month." in text


def test_the_current_month_is_allowed_and_months_parse_strictly() -> None:
    today = datetime.date(2026, 12, 7)
    assert parse_month("2026-12", today=today).first == datetime.date(2026, 12, 1)
    assert parse_month(" 2026-02 ", today=today).last == datetime.date(2026, 2, 28)


def test_post_is_refused(client_for, supervisor) -> None:
    assert client_for(supervisor).post(URL).status_code == 405
    assert client_for(supervisor).post(XLSX_URL).status_code == 405


# --- A province or a kab/kota ------------------------------------------------------------------


@pytest.fixture
def dinsos_viewer(db: Any) -> Any:
    from stakeholders.models import OrganisationKind, Region
    from stakeholders.tests.factories import OrganisationFactory

    dinsos = OrganisationFactory(code="DINSOS-UJI", kind=OrganisationKind.DINSOS_PROVINSI, name="Dinas Sosial Uji")
    dinsos.coverage.set([Region.objects.get(code="15")])
    return member(organisation=dinsos, role=Role.VIEWER, username="pembaca.dinsos")


def test_a_dinas_sosial_reads_its_province_and_its_kab_kota_as_aggregates(client_for, dinsos_viewer, november) -> None:
    client = client_for(dinsos_viewer)
    with at("2026-12-07 10:00"):
        province = client.get(URL, {"region": "15", "month": NOVEMBER}, HTTP_ACCEPT_LANGUAGE="en")
        city = client.get(URL, {"subject": "region:1571", "month": NOVEMBER}, HTTP_ACCEPT_LANGUAGE="en")
        elsewhere = client.get(URL, {"region": "13", "month": NOVEMBER})
        workbook = client.get(XLSX_URL, {"region": "1571", "month": NOVEMBER})
        default = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    for response in (province, city):
        text = response.content.decode()
        assert 'data-testid="report-suppression"' in text
        assert "Opened in the month: <strong>5</strong> · closed: <strong>5</strong>" in text
        assert "Sent for the region&#x27;s children" in text
    assert "Monthly report: Jambi" in province.content.decode()
    assert elsewhere.status_code == 404
    assert workbook.status_code == 200
    assert workbook["Content-Disposition"].endswith('laporan-bulanan-1571-2026-11.xlsx"')
    # A viewer of Dinas Sosial reads its own organisation's report first (as aggregates too).
    assert default.status_code == 200 and "Monthly report: Dinas Sosial Uji" in default.content.decode()
    assert 'data-testid="report-suppression"' in default.content.decode()


def test_a_regions_figures_count_its_childrens_cases_whoever_holds_them(org, november) -> None:
    from atensi.reports.monthly import region_scope
    from stakeholders.models import Region

    with at("2026-12-07 10:00"):
        report = monthly_report(
            scope=region_scope(Region.objects.get(code="15")), month=Month(datetime.date(2026, 11, 1))
        )
    assert (report.opened, report.closed) == (2, 1)
    assert report.services_total == 1
    assert sum(line.count for line in report.referrals_sent) == 1  # the referral of a child living in Kota Jambi
    assert report.aftercare.due == 3


def test_a_case_worker_cannot_ask_for_a_region(client_for, supervisor, owner) -> None:
    assert client_for(supervisor).get(URL, {"region": "15"}).status_code == 404
    assert client_for(supervisor).get(URL, {"subject": "nothing:1"}).status_code == 404
    assert client_for(owner).get(URL, {"region": "15"}).status_code == 404


def test_an_organisation_in_wita_counts_whole_days_of_its_own_zone(db) -> None:
    from atensi.reports.monthly import organisation_scope
    from stakeholders.models import Region, RegionLevel
    from stakeholders.tests.factories import OrganisationFactory

    sulsel = Region.objects.get_or_create(
        code="73", defaults={"level": RegionLevel.PROVINCE, "name": "Sulawesi Selatan"}
    )[0]
    makassar = OrganisationFactory(code="BA-MKS", name="Balai Anak Makassar", home_region=sulsel)
    worker = member(organisation=makassar, role=Role.SOCIAL_WORKER, username="peksos.mks")
    wita = ZoneInfo("Asia/Makassar")
    # 00:30 on 1 November in Makassar is still 31 October in Jakarta.
    with time_machine.travel(datetime.datetime(2026, 11, 1, 0, 30, tzinfo=wita), tick=False):
        _case(makassar, worker)
    with time_machine.travel(datetime.datetime(2026, 10, 31, 23, 30, tzinfo=wita), tick=False):
        _case(makassar, worker)
    scope = organisation_scope(makassar)
    assert scope.zone == wita
    november = monthly_report(scope=scope, month=Month(datetime.date(2026, 11, 1)))
    october = monthly_report(scope=scope, month=Month(datetime.date(2026, 10, 1)))
    assert (november.opened, october.opened) == (1, 1)
    assert november.zone == "WITA"


def test_a_national_viewer_reads_any_province(client_for, db) -> None:
    from stakeholders.tests.factories import OrganisationFactory

    kemensos = OrganisationFactory(code="KEMENSOS-UJI", name="Kementerian Sosial Uji", is_national=True)
    viewer = member(organisation=kemensos, role=Role.VIEWER, username="pembaca.nasional")
    client = client_for(viewer)
    with at("2026-12-07 10:00"):
        west_sumatra = client.get(URL, {"region": "13", "month": NOVEMBER}, HTTP_ACCEPT_LANGUAGE="en")
        default = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        district = client.get(URL, {"region": "157101", "month": NOVEMBER})
    assert west_sumatra.status_code == 200 and 'data-testid="report-suppression"' in west_sumatra.content.decode()
    assert default.status_code == 200 and 'data-testid="monthly-report"' in default.content.decode()
    assert district.status_code == 404  # a district's figures would show single children
