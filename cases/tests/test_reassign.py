"""Handing cases over to another case manager from the case list (cases.reassign)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import Notification, Reminder
from atensi.core.notifications import notification_text
from cases import workflow
from cases.models import Approval, ApprovalKind, ApprovalStatus, Case, FollowUp, Stage, TimelineEntry, TimelineKind
from cases.notification_kinds import NotificationKind
from cases.reassign import cases_reassign
from cases.tests.test_lists import child_case, follow_up
from cases.tests.workflow_helpers import plan_item, to_planning
from cases.timeline import timeline_for
from stakeholders.models import Membership
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

URL = reverse("cases:case_reassign")


def token():
    return str(uuid.uuid4())


def post(client, **data):
    data.setdefault("submission_token", token())
    return client.post(URL, data, HTTP_ACCEPT_LANGUAGE="en")


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def managers(*cases):
    return [Case.objects.get(pk=c.pk).case_manager_id for c in cases]


def reminder(case, user, key_tail, *, kind=NotificationKind.FOLLOW_UP_DUE, delivered=False):
    now = timezone.now()
    return Reminder.objects.create(
        key=f"{key_tail}:{user.pk}",
        kind=kind,
        recipient=user,
        organisation=case.organisation,
        due_at=now,
        data={"case": case.pk, "case_number": case.number},
        delivered_at=now if delivered else None,
    )


@pytest.fixture
def two(org, owner):
    return [child_case(org, owner, "Budi Santoso"), child_case(org, owner, "Rina Wati")]


def test_a_supervisor_hands_two_cases_over_with_their_follow_ups_and_reminders(
    client_for, org, owner, colleague, supervisor, two, django_assert_max_num_queries
):
    first, second = two
    kept = child_case(org, owner, "Anak Tetap")
    due = timezone.localdate() + datetime.timedelta(days=1)
    moved_follow_up = follow_up(first, due, by=owner)
    someone_elses = follow_up(second, due, by=supervisor)
    untouched = follow_up(kept, due, by=owner)
    planned = reminder(first, owner, f"follow-up:{moved_follow_up.pk}:{due.isoformat()}:before")
    stalled = reminder(second, owner, f"case:{second.pk}:stage:pendekatan_awal:x", kind=NotificationKind.STAGE_STALLED)
    sent = reminder(first, owner, f"follow-up:{moved_follow_up.pk}:{due.isoformat()}:old", delivered=True)
    other_case = reminder(kept, owner, f"follow-up:{untouched.pk}:{due.isoformat()}:before")
    client = client_for(supervisor)
    with django_assert_max_num_queries(40):
        response = post(client, cases=[first.pk, second.pk], to=colleague.pk, query="scope=all&risk=high")
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_list") + "?scope=all&risk=high"
    assert messages_of(response) == [f"2 cases handed over to {colleague.get_full_name()}."]
    assert managers(first, second, kept) == [colleague.pk, colleague.pk, owner.pk]
    # The old case manager's pending follow-ups on those cases move; others stay.
    assert FollowUp.objects.get(pk=moved_follow_up.pk).assignee_id == colleague.pk
    assert FollowUp.objects.get(pk=someone_elses.pk).assignee_id == supervisor.pk
    assert FollowUp.objects.get(pk=untouched.pk).assignee_id == owner.pk
    # Planned reminders are readdressed under the key the rules would give them.
    planned.refresh_from_db()
    stalled.refresh_from_db()
    assert (planned.recipient_id, planned.key) == (
        colleague.pk,
        f"follow-up:{moved_follow_up.pk}:{due.isoformat()}:before:{colleague.pk}",
    )
    assert stalled.recipient_id == colleague.pk and stalled.key.endswith(f":{colleague.pk}")
    sent.refresh_from_db()
    other_case.refresh_from_db()
    assert sent.recipient_id == owner.pk and other_case.recipient_id == owner.pk
    # Each case's timeline says so.
    lines = TimelineEntry.objects.filter(kind=TimelineKind.ASSIGNED, data__handover=True)
    assert sorted(lines.values_list("case_id", flat=True)) == sorted([first.pk, second.pk])
    assert lines.first().data["previous_case_manager"] == owner.get_full_name()
    # The new case manager is told once, naming no child.
    notes = Notification.objects.filter(kind=NotificationKind.CASES_REASSIGNED)
    assert [n.recipient_id for n in notes] == [colleague.pk]
    text = notification_text(notes[0])
    assert "2 cases" in text and supervisor.get_full_name() in text
    assert "Budi" not in text and "Rina" not in text
    # ... by e-mail too, through the reminder machinery (planned once).
    assert Reminder.objects.filter(notification=notes[0], recipient=colleague).count() == 1


def test_a_double_submit_changes_nothing_twice(client_for, owner, colleague, supervisor, two):
    client = client_for(supervisor)
    same = token()
    post(client, cases=[c.pk for c in two], to=colleague.pk, submission_token=same)
    response = post(client, cases=[c.pk for c in two], to=colleague.pk, submission_token=same)
    assert messages_of(response)[-1] == "This form was already saved. Nothing was saved twice."
    assert Notification.objects.filter(kind=NotificationKind.CASES_REASSIGNED).count() == 1
    assert TimelineEntry.objects.filter(kind=TimelineKind.ASSIGNED, data__handover=True).count() == 2


def test_all_open_cases_of_a_worker(client_for, org, owner, colleague, supervisor, two):
    shut = child_case(org, owner, "Anak Selesai")
    Case.objects.filter(pk=shut.pk).update(stage=Stage.CLOSED, closed_at=timezone.now(), closure_reason="goals_met")
    theirs = child_case(org, colleague, "Anak Kolega")
    response = post(client_for(supervisor), from_worker=owner.pk, to=colleague.pk)
    assert messages_of(response) == [f"2 cases handed over to {colleague.get_full_name()}."]
    assert managers(*two) == [colleague.pk, colleague.pk]
    assert managers(shut, theirs) == [owner.pk, colleague.pk]


def test_pending_approvals_the_old_worker_requested_stay_valid(org, owner, colleague, supervisor, two):
    case = to_planning(two[0], owner)
    plan_item(case, owner)
    approval = workflow.approval_request(case=case, by=owner, kind=ApprovalKind.PLAN)
    cases_reassign(by=supervisor, to=colleague, case_ids=[case.pk])
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING and approval.requested_by_id == owner.pk
    workflow.approval_decide(approval=approval, by=supervisor, approve=True, comment="")
    assert Approval.objects.get(pk=approval.pk).status == ApprovalStatus.APPROVED


def test_a_social_worker_may_not_hand_over(client_for, owner, colleague, two):
    response = post(client_for(owner), cases=[c.pk for c in two], to=colleague.pk)
    assert response.status_code == 404
    assert managers(*two) == [owner.pk, owner.pk]


def test_the_service_refuses_anyone_but_a_supervisor_of_the_organisation(owner, colleague, two):
    with pytest.raises(ApplicationError, match="Only a supervisor of Balai Anak Uji can hand over case"):
        cases_reassign(by=owner, to=colleague, case_ids=[c.pk for c in two])
    assert managers(*two) == [owner.pk, owner.pk]


def test_an_outsider_case_in_the_post_refuses_the_whole_batch(client_for, org, other_org, owner, colleague, supervisor):
    ours = child_case(org, owner, "Anak Kita")
    elsewhere = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    theirs = child_case(other_org, elsewhere, "Anak Mereka")
    response = post(client_for(supervisor), cases=[ours.pk, theirs.pk], to=colleague.pk)
    assert response.status_code == 302
    assert messages_of(response) == ["Some of the chosen cases are not yours to hand over; nothing was changed."]
    assert managers(ours, theirs) == [owner.pk, elsewhere.pk]
    assert not Notification.objects.filter(kind=NotificationKind.CASES_REASSIGNED).exists()


def test_an_outsider_supervisor_gets_nothing_changed(client_for, other_org, owner, colleague, two):
    boss_elsewhere = member(organisation=other_org, role=Role.SUPERVISOR)
    response = post(client_for(boss_elsewhere), cases=[c.pk for c in two], to=colleague.pk)
    assert response.status_code == 302
    assert managers(*two) == [owner.pk, owner.pk]


def test_someone_who_left_is_refused_with_a_message(client_for, org, owner, colleague, supervisor, two):
    Membership.objects.filter(user=colleague, organisation=org).update(is_active=False)
    response = post(client_for(supervisor), cases=[c.pk for c in two], to=colleague.pk)
    assert messages_of(response) == [
        "Choose a social worker or supervisor of your organisation: that person is not (or no longer) one."
    ]
    assert managers(*two) == [owner.pk, owner.pk]
    # The service says so too (someone who left between the page and the click).
    with pytest.raises(ApplicationError, match="is not \\(or no longer\\) a social worker or supervisor"):
        cases_reassign(by=supervisor, to=colleague, case_ids=[c.pk for c in two])


def test_bad_input_gets_a_message_and_changes_nothing(client_for, owner, colleague, supervisor, two):
    for data, message in (
        ({"to": colleague.pk}, "Tick the cases to hand over, or choose a worker whose open cases to hand over."),
        ({"cases": ["x1"], "to": colleague.pk}, "The chosen cases were not understood; nothing was changed."),
        ({"cases": [two[0].pk]}, "Choose the new case manager."),
        ({"cases": [two[0].pk], "to": owner.pk}, f"{owner.get_full_name()} already manages these cases."),
        (
            {"cases": list(range(1, 300)), "to": colleague.pk},
            "Tick at most 200 cases at once, or hand over all open cases of a worker.",
        ),
    ):
        response = post(client_for(supervisor), **data)
        assert response.status_code == 302
        assert messages_of(response) == [message], data
    assert managers(*two) == [owner.pk, owner.pk]


def test_get_is_refused(client_for, supervisor):
    assert client_for(supervisor).get(URL).status_code == 405


def test_the_list_offers_checkboxes_only_to_supervisors(client_for, owner, supervisor, two):
    html = client_for(supervisor).get(reverse("cases:case_list")).content.decode()
    assert html.count('data-testid="case-select"') == 2
    assert 'id="reassign-form"' in html
    html = client_for(owner).get(reverse("cases:case_list")).content.decode()
    assert 'data-testid="case-select"' not in html and 'id="reassign-form"' not in html


def test_the_handover_costs_the_same_queries_for_two_cases_as_for_twelve(org, owner, colleague, supervisor):
    def cost(count):
        worker = member(organisation=org, role=Role.SOCIAL_WORKER)
        cases = [child_case(org, worker, f"Anak {count}-{i}") for i in range(count)]
        for case in cases:
            follow_up(case, timezone.localdate(), by=worker)
        with CaptureQueriesContext(connection) as queries:
            cases_reassign(by=supervisor, to=colleague, case_ids=[c.pk for c in cases])
        return len(queries)

    cost(1)  # warm the per-process caches (the supervisor's memberships, content types)
    assert cost(2) == cost(12)


def test_the_timeline_says_who_had_the_case_before(owner, colleague, supervisor, two):
    cases_reassign(by=supervisor, to=colleague, case_ids=[two[0].pk])
    line = timeline_for(case=two[0], user=supervisor)[0]
    assert line.text == f"Handed over to {colleague.get_full_name()}"
    assert line.detail == f"case manager before: {owner.get_full_name()}"
    assert line.actor_name == supervisor.get_full_name()
