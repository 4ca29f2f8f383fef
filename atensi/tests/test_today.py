"""The home page, "Hari ini", shows each person their work by the roles they hold, scoped,
on their organisation's local day, with capped counts in a constant number of queries."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atensi.core.access import record_access
from atensi.core.models import AccessLog
from cases.models import (
    Approval,
    ApprovalKind,
    Case,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    ReportStatus,
    TimelineEntry,
    TimelineKind,
)
from cases.services import timeline_add
from cases.tests.factories import open_case, report_for
from referrals.models import Referral, ReferralKind, ReferralStatus
from stakeholders.roles import Role
from stakeholders.tests.factories import MembershipFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)


def home(client: Any) -> str:
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, key: str) -> str:
    """The HTML of one section of the page (empty if the page has no such section)."""
    match = re.search(rf'data-testid="section-{key}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def count(html: str, key: str) -> str:
    match = re.search(rf'data-testid="count-{key}"[^>]*>([^<]*)<', html)
    assert match, f"no count {key}"
    return match.group(1)


def follow_up(case: Case, assignee: Any, due_on: datetime.date, **fields: Any) -> FollowUp:
    fields.setdefault("kind", FollowUpKind.HOME_VISIT)
    return FollowUp.objects.create(case=case, due_on=due_on, assignee=assignee, created_by=assignee, **fields)


def looked(user: Any, case: Case, at: datetime.datetime) -> None:
    """The user opened the case page at `at` (the row the case page writes)."""
    with time_machine.travel(at, tick=False):
        record_access(user=user, obj=case, organisation_id=case.organisation_id)


# --- Case workers -------------------------------------------------------------------------------


def test_a_follow_up_on_a_confidential_case_shows_to_who_may_read_it(client_for, org, owner, colleague, supervisor):
    """Follow-ups are listed on cases their assignee may read: a colleague's confidential
    case is not listed to a social worker assigned to it, its supervisor sees it."""
    secret = open_case(organisation=org, by=colleague, is_confidential=True)
    today = timezone.localdate()
    follow_up(secret, owner, today)
    follow_up(secret, supervisor, today)
    assert 'data-testid="item-due_today"' not in section(home(client_for(owner)), "due_today")
    shown = section(home(client_for(supervisor)), "due_today")
    assert shown.count('data-testid="item-due_today"') == 1 and secret.number in shown


def test_a_case_worker_sees_todays_and_overdue_follow_ups_with_links(client_for, org, owner):
    case = open_case(organisation=org, by=owner)
    today = timezone.localdate()
    due = follow_up(case, owner, today, kind=FollowUpKind.CASE_REVIEW)
    late = follow_up(case, owner, today - 5 * DAY)
    follow_up(case, owner, today + DAY)  # tomorrow: neither
    follow_up(case, owner, today - 2 * DAY, status=FollowUpStatus.DONE, completed_at=timezone.now())

    html = home(client_for(owner))

    due_today = section(html, "due_today")
    assert "Case review" in due_today and case.number in due_today
    assert f'href="{reverse("cases:case_notes", args=[case.pk])}#follow-ups"' in due_today
    overdue = section(html, "overdue")
    assert "5 days overdue" in overdue and "Home visit" in overdue
    assert count(html, "due_today") == "1" and count(html, "overdue") == "1"
    assert 'href="/cases/?scope=mine&amp;overdue=1"' in html
    assert due.pk and late.pk


def test_empty_sections_say_so(client_for, org, owner):
    html = home(client_for(owner))
    assert "No follow-ups today." in section(html, "due_today")
    assert "No overdue follow-ups." in section(html, "overdue")
    assert "No case is past its stage deadline." in section(html, "stage_late")


@pytest.mark.parametrize(
    ("region", "due_today", "overdue"),
    [
        # 16:30 UTC on 10 March: 23:30 WIB on the 10th, 00:30 WITA and 01:30 WIT on the 11th.
        ("15", "March 10", "none"),
        ("73", "March 11", "March 10"),
        ("91", "March 11", "March 10"),
    ],
)
def test_today_is_the_organisations_local_day(client_for, region, due_today, overdue):
    org = OrganisationFactory(code=f"BA-{region}", name=f"Balai {region}", home_region_id=region)
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    case = open_case(organisation=org, by=worker)
    follow_up(case, worker, datetime.date(2026, 3, 10), kind=FollowUpKind.CASE_REVIEW, description="tenth")
    follow_up(case, worker, datetime.date(2026, 3, 11), kind=FollowUpKind.HOME_VISIT, description="eleventh")
    with time_machine.travel(datetime.datetime(2026, 3, 10, 16, 30, tzinfo=UTC), tick=False):
        html = home(client_for(worker))
    assert f"due {due_today}, 2026" in section(html, "due_today")
    if overdue == "none":
        assert "No overdue follow-ups." in section(html, "overdue")
    else:
        assert f"due {overdue}, 2026" in section(html, "overdue")
        assert "1 day overdue" in section(html, "overdue")


def test_a_case_assigned_by_someone_else_shows_until_i_look(client_for, org, owner, colleague):
    theirs = open_case(organisation=org, by=colleague, case_manager=owner)
    mine = open_case(organisation=org, by=owner)  # opened by myself: nothing new to me
    client = client_for(owner)

    assigned = section(home(client), "assigned")
    assert theirs.number in assigned and mine.number not in assigned

    client.get(reverse("cases:case_detail", args=[theirs.pk]))  # the case page logs the view
    assert AccessLog.objects.filter(user=owner, target_id=str(theirs.pk), action="view").exists()
    assert "No newly assigned cases." in section(home(client), "assigned")


def test_assigned_and_changed_show_the_newest_ten_and_count_them_all(client_for, org, owner, colleague, supervisor):
    from atensi.today import LIST_SIZE

    now = timezone.now()
    cases = [open_case(organisation=org, by=colleague, case_manager=owner) for _ in range(LIST_SIZE + 2)]
    for i, case in enumerate(cases):  # assigned i hours ago, changed by the supervisor i minutes ago
        TimelineEntry.objects.filter(case=case, kind=TimelineKind.OPENED).update(
            at=now - i * datetime.timedelta(hours=1)
        )
        TimelineEntry.objects.create(
            case=case, kind=TimelineKind.NOTE, actor=supervisor, at=now - i * datetime.timedelta(minutes=1)
        )
    looked(owner, cases[-1], now - datetime.timedelta(days=1))  # looked before both: still new
    quiet = open_case(organisation=org, by=owner)  # my own: neither assigned nor changed by others
    html = home(client_for(owner))

    newest = [case.number for case in cases[:LIST_SIZE]]
    for key in ("assigned", "changed"):
        assert count(html, key) == str(LIST_SIZE + 2)
        shown = re.findall(rf'data-testid="item-{key}">([^ ]+) ', html)
        assert shown == newest, key
    assert quiet.number not in html


def test_a_case_changed_by_someone_else_since_i_looked(client_for, org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    quiet = open_case(organisation=org, by=owner)
    now = timezone.now()
    looked(owner, case, now - 2 * DAY)
    looked(owner, quiet, now - 2 * DAY)
    # Before I looked: seen already. After: a supervisor's decision, and my own note.
    TimelineEntry.objects.create(case=case, kind=TimelineKind.NOTE, actor=supervisor, at=now - 3 * DAY)
    TimelineEntry.objects.create(case=quiet, kind=TimelineKind.NOTE, actor=owner, at=now - DAY)
    timeline_add(case=case, kind=TimelineKind.APPROVAL_DECIDED, actor=supervisor, decision="approved")

    changed = section(home(client_for(owner)), "changed")
    assert case.number in changed and "Approval decided" in changed
    assert quiet.number not in changed


def test_a_referral_answered_by_the_receiver_is_a_change_by_someone_else(client_for, org, other_org, owner):
    case = open_case(organisation=org, by=owner)
    looked(owner, case, timezone.now() - DAY)
    officer = member(organisation=other_org, role=Role.REFERRAL_OFFICER)
    timeline_add(case=case, kind=TimelineKind.REFERRAL, actor=officer, action="accepted")  # as referral_accept does
    changed = section(home(client_for(owner)), "changed")
    assert case.number in changed and "Referral" in changed


def test_a_case_past_its_stage_deadline(client_for, org, owner, settings):
    settings.ATENSI_STAGE_DEADLINE_DAYS = {"pendekatan_awal": 7, "asesmen": 14}
    late = open_case(organisation=org, by=owner)
    fresh = open_case(organisation=org, by=owner)
    Case.objects.filter(pk=late.pk).update(stage_changed_at=timezone.now() - 8 * DAY)
    Case.objects.filter(pk=fresh.pk).update(stage_changed_at=timezone.now() - 6 * DAY)
    html = home(client_for(owner))
    stage_late = section(html, "stage_late")
    assert late.number in stage_late and fresh.number not in stage_late
    assert count(html, "stage_late") == "1"
    assert 'href="/cases/?scope=mine&amp;stage_late=1"' in html


def test_aftercare_visits_due_this_month(client_for, org, owner):
    case = open_case(organisation=org, by=owner)
    with time_machine.travel(datetime.datetime(2026, 5, 15, 3, 0, tzinfo=UTC), tick=False):
        follow_up(case, owner, datetime.date(2026, 5, 28), kind=FollowUpKind.AFTERCARE, description="this month")
        follow_up(case, owner, datetime.date(2026, 6, 2), kind=FollowUpKind.AFTERCARE)
        html = home(client_for(owner))
    aftercare = section(html, "aftercare")
    assert "due May 28, 2026" in aftercare and "June" not in aftercare
    assert count(html, "aftercare") == "1"


def test_the_days_follow_ups_read_at_once_or_list_by_list_show_the_same(client_for, org, owner, monkeypatch):
    """A day's follow-ups come in one read split three ways; a worker far behind gets each
    list read on its own: both show the same lines and counts."""
    case = open_case(organisation=org, by=owner)
    with time_machine.travel(datetime.datetime(2026, 5, 15, 3, 0, tzinfo=UTC), tick=False):
        today = datetime.date(2026, 5, 15)
        for days_late in range(1, 13):
            follow_up(case, owner, today - days_late * DAY)
        for _ in range(3):
            follow_up(case, owner, today, kind=FollowUpKind.CASE_REVIEW)
        follow_up(case, owner, datetime.date(2026, 5, 2), kind=FollowUpKind.AFTERCARE)  # overdue, this month
        follow_up(case, owner, datetime.date(2026, 5, 28), kind=FollowUpKind.AFTERCARE)  # later this month
        follow_up(case, owner, datetime.date(2026, 6, 2), kind=FollowUpKind.AFTERCARE)  # next month: none
        follow_up(case, owner, datetime.date(2026, 5, 20))  # a later home visit: none
        client = client_for(owner)
        at_once = home(client)
        monkeypatch.setattr("atensi.today.FOLLOW_UPS_READ", 3)
        one_by_one = home(client)
    for html in (at_once, one_by_one):
        assert (count(html, "due_today"), count(html, "overdue"), count(html, "aftercare")) == ("3", "13", "2")
    for key in ("due_today", "overdue", "aftercare"):
        assert section(at_once, key) == section(one_by_one, key)
    assert "due May 28, 2026" in section(at_once, "aftercare") and "June" not in at_once
    assert "12 days overdue" in section(at_once, "overdue")  # the oldest first


def test_an_outsiders_case_never_shows(client_for, org, other_org, owner, outsider):
    # A follow-up of another organisation's case that happens to be assigned to me.
    elsewhere_worker = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    elsewhere = open_case(organisation=other_org, by=elsewhere_worker)
    follow_up(elsewhere, owner, timezone.localdate())
    follow_up(elsewhere, owner, timezone.localdate() - 3 * DAY)
    Case.objects.filter(pk=elsewhere.pk).update(case_manager=owner)
    html = home(client_for(owner))
    assert elsewhere.number not in html
    assert count(html, "due_today") == "0" and count(html, "overdue") == "0"
    # ... and the outsider sees nothing of mine.
    mine = open_case(organisation=org, by=owner)
    follow_up(mine, owner, timezone.localdate())
    assert mine.number not in home(client_for(outsider))


# --- Supervisors ---------------------------------------------------------------------------------


def test_a_supervisor_sees_approvals_oldest_first_intake_escalations_and_caseload(
    client_for, org, owner, colleague, supervisor, other_org
):
    now = timezone.now()
    older = open_case(organisation=org, by=owner)
    newer = open_case(organisation=org, by=colleague)
    Approval.objects.create(case=newer, kind=ApprovalKind.PLAN, requested_by=colleague, requested_at=now - DAY)
    Approval.objects.create(
        case=older,
        kind=ApprovalKind.CLOSURE,
        requested_by=owner,
        requested_at=now - 3 * DAY,
        closure_reason="goals_met",
    )
    own = open_case(organisation=org, by=supervisor)
    Approval.objects.create(case=own, kind=ApprovalKind.PLAN, requested_by=supervisor)  # not mine to decide
    report = report_for(organisation=org, by=owner)
    follow_up(older, owner, timezone.localdate() - 10 * DAY)  # long overdue: escalated
    follow_up(newer, colleague, timezone.localdate() - 1 * DAY)  # overdue, not yet escalated
    elsewhere = open_case(organisation=other_org, by=member(organisation=other_org, role=Role.SUPERVISOR))
    Approval.objects.create(case=elsewhere, kind=ApprovalKind.PLAN, requested_by=elsewhere.created_by)

    html = home(client_for(supervisor))

    approvals = section(html, "approvals")
    assert approvals.index(older.number) < approvals.index(newer.number)
    assert own.number not in approvals and elsewhere.number not in approvals
    assert "Case closure" in approvals and "waiting 3" in approvals
    assert count(html, "approvals") == "2"
    # The navigation's badge is the page's own count, not counted a second time.
    assert 'data-testid="nav-count-approvals">2</span>' in html
    assert str(report.public_id) in section(html, "intake") and count(html, "intake") == "1"
    escalated = section(html, "escalated")
    assert older.number in escalated and newer.number not in escalated
    caseload = section(html, "caseload")
    rows = re.findall(r'data-testid="caseload-row">(.*?)</li>', caseload, re.S)
    assert len(rows) == 3  # owner, colleague, supervisor (case managers all)
    owner_row = next(r for r in rows if owner.get_full_name() in r)
    assert "1 open case" in owner_row and "1 with an overdue follow-up" in owner_row
    assert f"/cases/?case_manager={owner.pk}&amp;status=open" in owner_row
    colleague_row = next(r for r in rows if colleague.get_full_name() in r)
    assert "1 with an overdue follow-up" in colleague_row


def test_escalations_reach_a_supervisor_as_the_reminders_do(client_for, org, owner, supervisor):
    """The reminders' rule (cases.reminders._supervisors_for): the case's own supervisor
    while they supervise there, else every supervisor. Whoever the follow-up is assigned
    to, someone who left included; a new supervisor of the case takes its follow-ups."""
    from cases.workflow import case_update

    second = member(organisation=org, role=Role.SUPERVISOR, username="second")
    leaver = member(organisation=org, role=Role.SUPERVISOR, username="leaver")
    long_ago = timezone.localdate() - 10 * DAY
    cases = {}
    for name, chief in (("mine", supervisor), ("theirs", second), ("left", leaver), ("nobody", None)):
        cases[name] = open_case(organisation=org, by=owner, supervisor=chief)
        follow_up(cases[name], owner, long_ago)
    gone = member(organisation=org, role=Role.SOCIAL_WORKER, username="gone")
    orphan = open_case(organisation=org, by=owner, supervisor=supervisor)
    follow_up(orphan, gone, long_ago)
    leaver.memberships.update(is_active=False)
    gone.memberships.update(is_active=False)

    escalated = section(home(client_for(supervisor)), "escalated")
    shown = {name for name, case in cases.items() if case.number in escalated}
    assert shown == {"mine", "left", "nobody"}
    assert orphan.number in escalated
    assert cases["theirs"].number in section(home(client_for(second)), "escalated")

    # The case's follow-ups carry its supervisor (CaseCopy): a new supervisor takes them.
    case = cases["theirs"]
    case_update(case=case, by=second, expected_updated_at=case.updated_at, supervisor=supervisor)
    assert FollowUp.objects.get(case=case).supervisor_id == supervisor.pk
    assert case.number in section(home(client_for(supervisor)), "escalated")
    assert case.number not in section(home(client_for(second)), "escalated")
    # Nobody supervises it any more: it reaches every supervisor again.
    case.refresh_from_db()
    case_update(case=case, by=supervisor, expected_updated_at=case.updated_at, supervisor=None)
    assert FollowUp.objects.get(case=case).supervisor_id is None
    assert case.number in section(home(client_for(second)), "escalated")


def test_the_case_worker_part_is_shown_once_for_several_roles(client_for, org, other_org):
    user = member(organisation=org, role=Role.SUPERVISOR)
    from stakeholders.tests.factories import MembershipFactory

    MembershipFactory(user=user, organisation=org, role=Role.SOCIAL_WORKER)
    MembershipFactory(user=user, organisation=other_org, role=Role.SOCIAL_WORKER)
    html = home(client_for(user))
    assert html.count('data-testid="today-case-work"') == 1
    assert html.count('data-testid="today-supervision"') == 1
    assert html.count('data-testid="section-due_today"') == 1


# --- Referral officers ------------------------------------------------------------------------------


def referral(case: Case, receiver: Any, *, respond_by: datetime.datetime, **fields: Any) -> Referral:
    fields.setdefault("kind", ReferralKind.SERVICE)
    return Referral.objects.create(
        case=case,
        sender=case.organisation,
        receiver=receiver,
        sent_by=case.created_by,
        sent_at=respond_by - 5 * DAY,
        respond_by=respond_by,
        reason="Butuh layanan.",
        **fields,
    )


def test_a_referral_officer_sees_referrals_to_answer_overdue_first_and_accepted_ones(client_for, org, owner):
    dinsos = OrganisationFactory(code="DINSOS-UJI", name="Dinas Sosial Uji", home_region_id="15")
    officer = member(organisation=dinsos, role=Role.REFERRAL_OFFICER)
    now = timezone.now()
    soon = referral(open_case(organisation=org, by=owner), dinsos, respond_by=now + DAY)
    late = referral(open_case(organisation=org, by=owner), dinsos, respond_by=now - DAY)
    accepted = referral(
        open_case(organisation=org, by=owner),
        dinsos,
        respond_by=now - 2 * DAY,
        status=ReferralStatus.ACCEPTED,
        answered_by=officer,
        answered_at=now - 3 * DAY,
    )
    html = home(client_for(officer))
    to_answer = section(html, "to_answer")
    assert to_answer.index(f"/referrals/{late.pk}/") < to_answer.index(f"/referrals/{soon.pk}/")
    assert "overdue" in to_answer and "WIB" in to_answer
    assert count(html, "to_answer") == "2" and count(html, "to_answer-overdue") == "1 overdue"
    assert f"/referrals/{accepted.pk}/" in section(html, "accepted")
    assert 'href="/referrals/?status=accepted"' in html
    assert 'data-testid="today-case-work"' not in html


# --- Community reporters -----------------------------------------------------------------------------


def test_a_reporter_sees_their_reports_and_what_happened_never_others(client_for, org, owner):
    reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
    waiting = report_for(organisation=org, by=reporter)
    opened = report_for(
        organisation=org, by=reporter, status=ReportStatus.CASE_OPENED, triaged_by=owner, triaged_at=timezone.now()
    )
    someone_elses = report_for(organisation=org, by=owner)
    html = home(client_for(reporter))
    reports = section(html, "reports")
    assert str(waiting.public_id) in reports and "Awaiting triage" in reports
    assert str(opened.public_id) in reports and "Case opened" in reports
    assert str(someone_elses.public_id) not in html
    assert count(html, "reports") == "2"
    assert 'data-testid="today-case-work"' not in html and 'data-testid="today-supervision"' not in html


# --- Viewers and org admins -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ORG_ADMIN])
def test_viewers_and_org_admins_get_the_short_page(client_for, org, role):
    html = home(client_for(member(organisation=org, role=role)))
    assert 'data-testid="memberships"' in html and org.name in html
    assert "What you can do here" in html
    assert 'data-testid="today-' not in html


# --- Counts and queries ---------------------------------------------------------------------------------


def test_counts_are_capped_at_a_thousand_in_the_readers_format(client_for, org, owner):
    case = open_case(organisation=org, by=owner)
    late = timezone.localdate() - 2 * DAY
    FollowUp.objects.bulk_create(
        [FollowUp(case=case, kind="home_visit", due_on=late, assignee=owner, created_by=owner) for _ in range(1001)]
    )
    client = client_for(owner)
    html = home(client)
    assert count(html, "overdue") == "1,000+"
    assert len(re.findall(r'data-testid="item-overdue"', html)) == 10
    indonesian = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert re.search(r'data-testid="count-overdue"[^>]*>1\.000\+<', indonesian)


def _world(org: Any, owner: Any, colleague: Any, supervisor: Any, n: int) -> None:
    """n of everything on the home page of a supervisor who is also a referral officer and a reporter."""
    now = timezone.now()
    today = timezone.localdate()
    dinsos = OrganisationFactory(code="DINSOS-Q", name="Dinas Sosial Q")
    from atensi.core.access import forget_actor
    from stakeholders.models import Membership

    for role in (Role.REFERRAL_OFFICER, Role.COMMUNITY_REPORTER):
        Membership.objects.get_or_create(user=supervisor, organisation=org, role=role)
    forget_actor(supervisor)
    for i in range(n):
        case = open_case(organisation=org, by=colleague, case_manager=supervisor)
        Case.objects.filter(pk=case.pk).update(stage_changed_at=now - 30 * DAY)
        follow_up(case, supervisor, today)
        follow_up(case, supervisor, today - 5 * DAY)
        follow_up(case, colleague, today - 9 * DAY, kind=FollowUpKind.AFTERCARE)
        follow_up(case, supervisor, today, kind=FollowUpKind.AFTERCARE)
        timeline_add(case=case, kind=TimelineKind.NOTE, actor=colleague)
        Approval.objects.create(case=case, kind=ApprovalKind.PLAN, requested_by=colleague)
        report_for(organisation=org, by=supervisor)
        sent = open_case(organisation=dinsos, by=member(organisation=dinsos, role=Role.SOCIAL_WORKER))
        referral(sent, org, respond_by=now + (i - 1) * DAY)
        referral(
            open_case(organisation=dinsos, by=sent.created_by),
            org,
            respond_by=now - DAY,
            kind=ReferralKind.HANDOVER,
            handover_reason="family",
            status=ReferralStatus.ACCEPTED,
            answered_by=supervisor,
            answered_at=now,
        )
        member(organisation=org, role=Role.SOCIAL_WORKER)


def test_the_page_costs_the_same_queries_for_one_item_as_for_many(client_for, org, owner, colleague, supervisor):
    _world(org, owner, colleague, supervisor, 1)
    client = client_for(supervisor)
    home(client)
    with CaptureQueriesContext(connection) as one:
        html = home(client)
    assert count(html, "approvals") == "1" and count(html, "to_answer") == "1" and count(html, "reports") == "1"
    _world(org, owner, colleague, supervisor, 12)
    with CaptureQueriesContext(connection) as many:
        html = home(client)
    assert count(html, "approvals") == "13" and count(html, "due_today") == "26" and count(html, "accepted") == "13"
    assert count(html, "assigned") == "13" and count(html, "changed") == "13"
    assert len(many) == len(one)


def test_the_page_stays_within_its_query_budget(
    client_for, org, owner, colleague, supervisor, django_assert_max_num_queries
):
    _world(org, owner, colleague, supervisor, 3)
    client = client_for(supervisor)
    home(client)
    with django_assert_max_num_queries(30):
        home(client)


def test_an_intake_officer_sees_the_intake_queue(client_for, org, owner):
    officer = member(organisation=org, role=Role.INTAKE_OFFICER)
    report = report_for(organisation=org, by=owner)
    html = home(client_for(officer))
    assert str(report.public_id) in section(html, "intake")
    assert count(html, "intake") == "1" and 'href="/intake/"' in html
    assert 'data-testid="today-supervision"' not in html and 'data-testid="today-case-work"' not in html


def test_a_supervisors_day_starts_with_the_team(client_for, org, supervisor):
    html = home(client_for(supervisor))
    assert html.index('data-testid="today-supervision"') < html.index('data-testid="today-case-work"')


def test_the_caseload_shows_the_busiest_first_and_links_to_their_lists(client_for, org, owner, colleague, supervisor):
    open_case(organisation=org, by=colleague)
    open_case(organisation=org, by=colleague)
    open_case(organisation=org, by=owner)
    closed = open_case(organisation=org, by=owner)
    Case.objects.filter(pk=closed.pk).update(
        stage="closed", closed_at=timezone.now(), closure_reason="goals_met"
    )  # a closed case is no load
    rows = re.findall(r'data-testid="caseload-row">(.*?)</li>', section(home(client_for(supervisor)), "caseload"), re.S)
    assert [colleague.get_full_name() in rows[0], owner.get_full_name() in rows[1]] == [True, True]
    assert "2 open cases" in rows[0] and "1 open case" in rows[1] and "0 open cases" in rows[2]
    assert f"/cases/?case_manager={colleague.pk}&amp;overdue=1" in rows[0]


def test_accepted_referrals_of_two_receivers_come_oldest_first_without_transfers(client_for, org, owner):
    from atensi.today import LIST_SIZE
    from referrals.selectors import accepted_without_outcome, oldest_accepted_without_outcome

    first = OrganisationFactory(code="DINSOS-SATU", home_region_id="15")
    second = OrganisationFactory(code="DINSOS-DUA", home_region_id="15")
    officer = member(organisation=first, role=Role.REFERRAL_OFFICER)
    MembershipFactory(user=officer, organisation=second, role=Role.REFERRAL_OFFICER)
    now = timezone.now()
    made = []
    for i in range(LIST_SIZE + 3):
        receiver = first if i % 3 else second
        made.append(
            referral(
                open_case(organisation=org, by=owner),
                receiver,
                respond_by=now - DAY,
                status=ReferralStatus.ACCEPTED,
                answered_by=officer,
                answered_at=now - datetime.timedelta(hours=100 - i),
            )
        )
    referral(  # an accepted transfer owes no outcome
        open_case(organisation=org, by=owner),
        first,
        respond_by=now - DAY,
        kind=ReferralKind.TRANSFER,
        status=ReferralStatus.ACCEPTED,
        answered_by=officer,
        answered_at=now - datetime.timedelta(hours=200),
    )
    oldest = [r.pk for r in oldest_accepted_without_outcome(officer, limit=LIST_SIZE)]
    assert oldest == [r.pk for r in made[:LIST_SIZE]]
    assert oldest == [r.pk for r in accepted_without_outcome(officer)[:LIST_SIZE]]  # the same list, read faster
    html = home(client_for(officer))
    assert count(html, "accepted") == str(LIST_SIZE + 3)
    listed = section(html, "accepted")
    assert f"/referrals/{made[0].pk}/" in listed and f"/referrals/{made[-1].pk}/" not in listed


def test_a_large_teams_caseload_comes_from_the_dashboards_figures_counted_ahead(
    client_for, org, owner, colleague, supervisor
):
    from django.core.cache import cache
    from django.test import override_settings

    from atensi.dashboards.compose import slow_organisations

    open_case(organisation=org, by=owner)
    client = client_for(supervisor)
    cache.clear()
    # Counting this organisation live is "too slow" (-1 ms): its dashboard keeps its figures.
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600, ATENSI_DASHBOARD_LIVE_MS=-1):
        assert client.get(reverse("dashboard_organisation", args=[org.pk])).status_code == 200
        open_case(organisation=org, by=owner)
        html = home(client)
        rows = re.findall(r'data-testid="caseload-row">(.*?)</li>', section(html, "caseload"), re.S)
        owner_row = next(r for r in rows if owner.get_full_name() in r)
        assert "1 open case" in owner_row  # as counted ahead, the page says when
        assert 'data-testid="caseload-counted"' in html
    cache.clear()
    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600, ATENSI_HOME_CASELOAD_LIVE_MS=-1):
        home(client)  # counted live, found slow: beat will count this organisation ahead
        assert org.pk in slow_organisations()
    cache.clear()
    html = home(client)
    owner_row = next(
        r
        for r in re.findall(r'data-testid="caseload-row">(.*?)</li>', section(html, "caseload"), re.S)
        if owner.get_full_name() in r
    )
    assert "2 open cases" in owner_row and 'data-testid="caseload-counted"' not in html


def test_a_caseload_counted_ahead_is_kept_drawn_until_it_is_counted_again(client_for, org, owner, supervisor):
    """Its lines change only when the figures are counted again: kept drawn (per user) till then."""
    from django.core.cache import cache
    from django.test import override_settings

    from atensi.dashboards.compose import warm_organisation_figures

    open_case(organisation=org, by=owner)
    client = client_for(supervisor)
    cache.clear()

    def owner_row() -> str:
        rows = re.findall(r'data-testid="caseload-row">(.*?)</li>', section(home(client), "caseload"), re.S)
        return next(r for r in rows if owner.get_full_name() in r)

    with override_settings(ATENSI_DASHBOARD_CACHE_SECONDS=600, ATENSI_DASHBOARD_LIVE_MS=-1, ATENSI_FRAGMENT_SECONDS=60):
        assert client.get(reverse("dashboard_organisation", args=[org.pk])).status_code == 200
        assert "1 open case" in owner_row()
        open_case(organisation=org, by=owner)
        with CaptureQueriesContext(connection) as queries:
            assert "1 open case" in owner_row()  # the same figures: the same lines, drawn once
        people = 'SELECT "stakeholders_user"."id" AS "pk", "stakeholders_user"."first_name"'
        assert not any(q["sql"].startswith(people) for q in queries)  # the team's names not read again
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
            warm_organisation_figures([org.pk])  # beat counts again
        assert "2 open cases" in owner_row()
    cache.clear()
