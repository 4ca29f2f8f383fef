"""The case list's filters behind the dashboards' counts: dates opened and closed (the
organisation's own days), basis, aftercare due, stage deadline, organisation, province."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from atensi.core.localtime import WITA
from cases.lists import CaseFilters, Status, cases_matching
from cases.models import Basis, Case, FollowUp, FollowUpKind, Stage
from cases.tests.test_lists import CSV_URL, child_case, get, numbers, read_csv
from stakeholders.models import Membership, Organisation
from stakeholders.roles import Role
from stakeholders.tests.factories import member, organisation

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MAKASSAR = "7371"  # Kota Makassar: WITA (UTC+8)
JAYAPURA = "9171"  # Kota Jayapura: WIT (UTC+9)


def opened_at(case, moment):
    Case.objects.filter(pk=case.pk).update(opened_at=moment, stage_changed_at=moment)


def closed_at(case, moment):
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED, closed_at=moment, closure_reason="goals_met")


def in_region(org, code):
    Organisation.objects.filter(pk=org.pk).update(home_region_id=code)


def warnings(response):
    return response.context["warnings"]


# --- Dates: whole days of the organisation ---------------------------------------------


def test_opened_dates_are_whole_days_of_a_wita_organisation(client_for, org, supervisor):
    in_region(org, MAKASSAR)
    # 1 March 00:30 WITA is still 28 February in WIB (UTC 16:30): it belongs to 1 March here.
    early = child_case(org, supervisor, "Anak Pagi")
    opened_at(early, datetime.datetime(2026, 2, 28, 16, 30, tzinfo=UTC))
    # 31 March 23:30 WITA (UTC 15:30): the last day, included.
    late = child_case(org, supervisor, "Anak Malam")
    opened_at(late, datetime.datetime(2026, 3, 31, 15, 30, tzinfo=UTC))
    # 1 April 00:10 WITA (UTC 16:10 on 31 March): the next month, out.
    after = child_case(org, supervisor, "Anak April")
    opened_at(after, datetime.datetime(2026, 3, 31, 16, 10, tzinfo=UTC))
    # 28 February 23:50 WITA (UTC 15:50): before, out.
    before = child_case(org, supervisor, "Anak Februari")
    opened_at(before, datetime.datetime(2026, 2, 28, 15, 50, tzinfo=UTC))
    response = get(client_for(supervisor), opened_from="2026-03-01", opened_to="2026-03-31")
    assert response.status_code == 200
    assert set(numbers(response)) == {early.number, late.number}
    assert not warnings(response)


def test_opened_dates_of_a_wit_organisation_and_a_wib_one_each_use_their_own_day(client_for, org, other_org):
    in_region(other_org, JAYAPURA)
    boss = member(organisation=org, role=Role.SUPERVISOR)
    Membership.objects.create(user=boss, organisation=other_org, role=Role.SUPERVISOR)
    moment = datetime.datetime(2026, 5, 9, 15, 30, tzinfo=UTC)  # 9 May 22:30 WIB, 10 May 00:30 WIT
    wib = child_case(org, boss, "Anak Jambi")
    wit = child_case(other_org, boss, "Anak Papua")
    opened_at(wib, moment)
    opened_at(wit, moment)
    client = client_for(boss)
    assert numbers(get(client, scope="all", opened_from="2026-05-10", opened_to="2026-05-10")) == [wit.number]
    assert numbers(get(client, scope="all", opened_to="2026-05-09")) == [wib.number]


def test_closed_dates_imply_open_and_closed_unless_a_status_is_given(client_for, org, supervisor):
    shut = child_case(org, supervisor, "Anak Selesai")
    closed_at(shut, datetime.datetime(2026, 4, 15, 3, 0, tzinfo=UTC))
    child_case(org, supervisor, "Anak Masih")
    client = client_for(supervisor)
    response = get(client, closed_from="2026-04-01", closed_to="2026-04-30")
    assert response.context["filters"].status == Status.ALL
    assert numbers(response) == [shut.number]
    # Said explicitly, the status holds (open cases have no closing date: none).
    assert numbers(get(client, closed_from="2026-04-01", status="open")) == []
    # Without a closed date the default stays "open".
    assert get(client).context["filters"].status == Status.OPEN


def test_bad_dates_are_ignored_with_a_message(client_for, org, supervisor):
    case = child_case(org, supervisor, "Anak Uji")
    client = client_for(supervisor)
    response = get(client, opened_from="2026-13-45")
    assert response.status_code == 200
    assert numbers(response) == [case.number]
    assert warnings(response) == ["“Opened from” is not a date (write it as YYYY-MM-DD); that filter was ignored."]
    response = get(client, opened_from="2026-05-02", opened_to="2026-05-01")
    assert numbers(response) == [case.number]
    assert warnings(response) == ["“Opened from” is after “Opened until”; those two dates were ignored."]
    assert response.context["filters"].opened_from is None
    # A bad closing date leaves the default status alone.
    response = get(client, closed_from="kemarin")
    assert response.context["filters"].status == Status.OPEN
    assert numbers(response) == [case.number]


# --- Basis, organisation, province --------------------------------------------------------


def test_basis_filter(client_for, org, supervisor):
    home = child_case(org, supervisor, "Anak Rumah", basis=Basis.KELUARGA)
    hostel = child_case(org, supervisor, "Anak Asrama", basis=Basis.RESIDENSIAL)
    client = client_for(supervisor)
    assert numbers(get(client, basis="residensial")) == [hostel.number]
    assert numbers(get(client, basis="keluarga")) == [home.number]
    response = get(client, basis="asrama")
    assert set(numbers(response)) == {home.number, hostel.number}
    assert warnings(response) == ["Unknown value for “Basis”; that filter was ignored."]


def test_organisation_filter_for_a_worker_of_two_organisations(client_for, org, other_org, outsider):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    Membership.objects.create(user=worker, organisation=other_org, role=Role.SOCIAL_WORKER)
    here = child_case(org, worker, "Anak Sini")
    there = child_case(other_org, worker, "Anak Sana")
    client = client_for(worker)
    assert set(numbers(get(client, scope="all"))) == {here.number, there.number}
    response = get(client, scope="all", organisation=str(other_org.pk))
    assert numbers(response) == [there.number]
    assert 'name="organisation"' in response.content.decode()
    # An organisation the worker does not work for: refused, never widened.
    third = organisation(code="BA-KETIGA")
    child_case(third, member(organisation=third, role=Role.SOCIAL_WORKER), "Anak Ketiga")
    response = get(client, scope="all", organisation=str(third.pk))
    assert set(numbers(response)) == {here.number, there.number}
    assert warnings(response) == ["Unknown value for “Organisation”; that filter was ignored."]


def test_organisation_filter_for_a_superuser(client_for, org, other_org, owner, outsider, superuser):
    here = child_case(org, owner, "Anak Sini")
    elsewhere_worker = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    child_case(other_org, elsewhere_worker, "Anak Sana")
    client = client_for(superuser)
    assert numbers(get(client, scope="all", organisation=str(org.pk))) == [here.number]
    response = get(client, scope="all", organisation="999999")
    assert len(numbers(response)) == 2
    assert warnings(response) == ["Unknown value for “Organisation”; that filter was ignored."]


def test_province_filter(client_for, org, supervisor):
    jambi = child_case(org, supervisor, "Anak Jambi", village_code="1571011004")
    padang = child_case(org, supervisor, "Anak Padang", village_code="1371111002")
    client = client_for(supervisor)
    assert numbers(get(client, province="15")) == [jambi.number]
    assert numbers(get(client, province="13")) == [padang.number]
    response = get(client, province="99")
    assert set(numbers(response)) == {jambi.number, padang.number}
    assert warnings(response) == ["Unknown value for “Province of the child”; that filter was ignored."]


# --- Aftercare due and stage deadline ----------------------------------------------------------


def aftercare(case, due_on, *, by, status="pending"):
    return FollowUp.objects.create(
        case=case, kind=FollowUpKind.AFTERCARE, due_on=due_on, assignee=by, created_by=by, status=status
    )


def test_aftercare_due_this_local_month_at_a_wit_organisation(org, supervisor):
    in_region(org, JAYAPURA)
    due = child_case(org, supervisor, "Anak Bulan Ini")
    aftercare(due, datetime.date(2026, 6, 30), by=supervisor)
    last_month = child_case(org, supervisor, "Anak Bulan Lalu")
    aftercare(last_month, datetime.date(2026, 5, 31), by=supervisor)
    done = child_case(org, supervisor, "Anak Sudah")
    aftercare(done, datetime.date(2026, 6, 10), by=supervisor, status="done")
    visit = child_case(org, supervisor, "Anak Kunjungan")
    FollowUp.objects.create(
        case=visit,
        kind=FollowUpKind.HOME_VISIT,
        due_on=datetime.date(2026, 6, 10),
        assignee=supervisor,
        created_by=supervisor,
    )
    filters = CaseFilters(aftercare_due=True, status=Status.ALL)
    # 31 May 15:30 UTC is 1 June 00:30 WIT: June already, though still May in Jakarta.
    at = datetime.datetime(2026, 5, 31, 15, 30, tzinfo=UTC)
    assert list(cases_matching(user=supervisor, filters=filters, now=at).values_list("number", flat=True)) == [
        due.number
    ]
    # In WIB the same moment is still May: a WIB organisation counts May's visit instead.
    in_region(org, "1571")
    assert list(cases_matching(user=supervisor, filters=filters, now=at).values_list("number", flat=True)) == [
        last_month.number
    ]


def test_aftercare_due_through_the_page(client_for, org, supervisor):
    case = child_case(org, supervisor, "Anak Bimbingan")
    child_case(org, supervisor, "Anak Lain")
    with time_machine.travel(datetime.datetime(2026, 8, 20, 3, 0, tzinfo=UTC)):
        aftercare(case, datetime.date(2026, 8, 31), by=supervisor)
        assert numbers(get(client_for(supervisor), aftercare_due="1")) == [case.number]


@override_settings(ATENSI_STAGE_DEADLINE_DAYS={"pendekatan_awal": 7, "asesmen": 14})
def test_stage_late_uses_the_stage_reminders_deadline(client_for, org, supervisor):
    now = timezone.now()
    late = child_case(org, supervisor, "Anak Terlambat")
    Case.objects.filter(pk=late.pk).update(stage_changed_at=now - datetime.timedelta(days=8))
    in_time = child_case(org, supervisor, "Anak Tepat")
    Case.objects.filter(pk=in_time.pk).update(stage_changed_at=now - datetime.timedelta(days=6))
    assessing = child_case(org, supervisor, "Anak Asesmen")
    Case.objects.filter(pk=assessing.pk).update(stage=Stage.ASESMEN, stage_changed_at=now - datetime.timedelta(days=8))
    no_deadline = child_case(org, supervisor, "Anak Intervensi")
    Case.objects.filter(pk=no_deadline.pk).update(
        stage=Stage.INTERVENSI, stage_changed_at=now - datetime.timedelta(days=300)
    )
    assert numbers(get(client_for(supervisor), stage_late="1")) == [late.number]


# --- Never wider than the user may see -------------------------------------------------------------


def test_new_filters_never_show_a_masked_case_or_another_organisations(client_for, org, other_org, owner, colleague):
    secret = child_case(org, owner, "Melati Rahasia", is_confidential=True, basis=Basis.RESIDENSIAL)
    theirs = child_case(other_org, member(organisation=other_org, role=Role.SOCIAL_WORKER), "Anak Lain")
    Case.objects.filter(pk=theirs.pk).update(basis=Basis.RESIDENSIAL)
    client = client_for(colleague)
    # The colleague knows the secret case exists (masked) but no filter on it says what it is about.
    assert numbers(get(client, scope="all")) == [secret.number]
    for params in (
        {"basis": "residensial"},
        {"province": "15"},
        {"opened_from": "2000-01-01"},
        {"stage_late": "1"},
    ):
        assert numbers(get(client, scope="all", **params)) == [], params
    # Another organisation's id is not one to choose: ignored, and theirs stay unseen.
    response = get(client, scope="all", organisation=str(other_org.pk))
    assert numbers(response) == [secret.number]
    assert response.context["page"].rows[0].masked
    # The owner sees their own confidential case through the same filter.
    assert numbers(get(client_for(owner), scope="all", basis="residensial")) == [secret.number]


def test_export_follows_the_new_filters(client_for, org, supervisor):
    hostel = child_case(org, supervisor, "Anak Asrama", basis=Basis.RESIDENSIAL)
    child_case(org, supervisor, "Anak Rumah", basis=Basis.KELUARGA)
    shut = child_case(org, supervisor, "Anak Tutup", basis=Basis.RESIDENSIAL)
    closed_at(shut, timezone.now())
    today = timezone.localdate().isoformat()
    rows = read_csv(get(client_for(supervisor), CSV_URL, basis="residensial", closed_from=today))
    assert [row[0] for row in rows[1:]] == [shut.number]
    rows = read_csv(get(client_for(supervisor), CSV_URL, basis="residensial"))
    assert [row[0] for row in rows[1:]] == [hostel.number]


def test_the_list_with_every_new_filter_makes_a_fixed_number_of_queries(
    client_for, org, supervisor, django_assert_max_num_queries
):
    in_region(org, MAKASSAR)
    mid_month = timezone.now().astimezone(WITA).date().replace(day=15)
    for i in range(30):
        case = child_case(org, supervisor, f"Anak Banyak {i}", basis=Basis.RESIDENSIAL if i % 2 else Basis.KELUARGA)
        aftercare(case, mid_month, by=supervisor)
    params = {
        "status": "all",
        "basis": "residensial",
        "aftercare_due": "1",
        "opened_from": "2000-01-01",
        "opened_to": "2100-01-01",
        "province": "15",
        "organisation": str(org.pk),
        "sort": "due",
    }
    client = client_for(supervisor)
    get(client, **params)
    # +1 for a supervisor: whether their organisation is a Dinas Sosial (the approvals badge).
    with django_assert_max_num_queries(15):
        response = get(client, **params)
    assert len(numbers(response)) == 15


def test_overdue_is_a_due_date_before_the_organisations_local_today(client_for, org, supervisor):
    case = child_case(org, supervisor, "Anak Timur")
    FollowUp.objects.create(
        case=case,
        kind=FollowUpKind.HOME_VISIT,
        due_on=datetime.date(2026, 5, 10),
        assignee=supervisor,
        created_by=supervisor,
    )
    client = client_for(supervisor)
    # 10 May 22:30 WIB is already 11 May 00:30 WIT.
    with time_machine.travel(datetime.datetime(2026, 5, 10, 15, 30, tzinfo=UTC), tick=False):
        assert numbers(get(client, overdue="1")) == []
        in_region(org, JAYAPURA)
        response = get(client, overdue="1")
        assert numbers(response) == [case.number]
        assert response.context["page"].rows[0].overdue
