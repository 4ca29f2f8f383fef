"""The approvals queue and "send for approval" on the Plan tab, through the web: who sees
which requests, deciding from the queue (happy path, bad input, a request decided
meanwhile, an outsider's 404), the filter, the pages, the navigation badge and the cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from atensi.core.models import AccessLog, Notification
from cases import workflow
from cases.approvals import QUEUE_PAGE_SIZE
from cases.models import Approval, ApprovalKind, ApprovalStatus, Case, ClosureReason
from cases.notification_kinds import NotificationKind
from cases.tests.factories import BeneficiaryFactory, logged_in, open_case
from cases.tests.workflow_helpers import plan_item, to_planning
from stakeholders.models import Organisation, OrganisationKind
from stakeholders.roles import Role
from stakeholders.tests.factories import member, organisation

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
QUEUE = "/approvals/"
CHILD = "Rahmawati Kinasih"


def message_texts(response: Any) -> list[str]:
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)
    return texts


def _case(org: Organisation, owner: Any, **kwargs: Any) -> Case:
    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name=CHILD)
    case = open_case(organisation=org, by=owner, beneficiary=child, **kwargs)
    to_planning(case, owner)
    plan_item(case, owner)
    return case


@pytest.fixture
def approval(org: Organisation, owner: Any, supervisor: Any) -> Approval:
    return workflow.approval_request(case=_case(org, owner, supervisor=supervisor), kind=ApprovalKind.PLAN, by=owner)


def decide_url(approval: Approval) -> str:
    return reverse("cases:approval_queue_decide", args=[approval.pk])


def test_the_url_names():
    assert reverse("cases:approval_queue") == QUEUE


def test_a_supervisor_sees_the_request_and_approves_it_from_the_queue(approval, supervisor):
    client = logged_in(supervisor)
    page = client.get(QUEUE, **EN)
    body = page.content.decode()
    assert page.status_code == 200
    assert approval.case.number in body and CHILD in body  # a supervisor may read the case
    assert "Kembali ke sekolah" in body  # the plan's services
    assert "The case&#x27;s supervisor decides." in body
    response = client.post(decide_url(approval), {"decision": "approve", "comment": ""}, **EN)
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert message_texts(response) == ["Intervention plan approved."]
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, supervisor)
    assert "Nothing is waiting for your decision." in client.get(QUEUE, **EN).content.decode()


def test_rejecting_without_a_comment_changes_nothing(approval, supervisor):
    client = logged_in(supervisor)
    response = client.post(decide_url(approval), {"decision": "reject", "comment": " "}, **EN)
    assert message_texts(response) == ["Say why you reject the request, so the case manager knows what to change."]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    response = client.post(decide_url(approval), {"decision": "withdraw"}, **EN)
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    response = client.post(decide_url(approval), {"decision": "reject", "comment": "Tambah layanan keluarga."}, **EN)
    approval.refresh_from_db()
    assert (approval.status, approval.comment) == (ApprovalStatus.REJECTED, "Tambah layanan keluarga.")


def test_a_request_decided_meanwhile_or_twice_gets_a_message(approval, org, supervisor):
    second = member(organisation=org, role=Role.SUPERVISOR, username="second")
    workflow.approval_decide(approval=approval, by=second, approve=True)
    response = logged_in(supervisor).post(decide_url(approval), {"decision": "reject", "comment": "Tidak"}, **EN)
    assert response.status_code == 302
    assert message_texts(response) == [f"This request was already decided by {second.get_full_name()} (approved)."]
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, second)


def test_a_double_submitted_decision_decides_and_tells_once(approval, supervisor, owner):
    client = logged_in(supervisor)
    first = client.post(decide_url(approval), {"decision": "approve"}, **EN)
    assert message_texts(first) == ["Intervention plan approved."]
    again = client.post(decide_url(approval), {"decision": "approve"}, **EN)
    assert message_texts(again) == [f"This request was already decided by {supervisor.get_full_name()} (approved)."]
    told = Notification.objects.filter(recipient=owner, kind=NotificationKind.APPROVAL_DECIDED)
    assert told.count() == 1


def test_an_outsider_gets_404_and_changes_nothing(approval, outsider, colleague, owner):
    other_boss = member(organisation=outsider.memberships.get().organisation, role=Role.SUPERVISOR, username="b.boss")
    for user in (outsider, other_boss, colleague, owner):
        response = logged_in(user).post(decide_url(approval), {"decision": "approve"}, **EN)
        assert response.status_code == 404, user.username
        assert logged_in(user).get(QUEUE, **EN).context["page"].rows == []
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_deciding_is_post_only_and_a_bad_id_is_404(approval, supervisor):
    client = logged_in(supervisor)
    assert client.get(decide_url(approval)).status_code == 405
    assert client.post("/approvals/999999999/decide/", {"decision": "approve"}).status_code == 404


def test_a_dinas_sosial_supervisor_decides_without_seeing_the_child(org, owner):
    Organisation.objects.filter(pk=org.pk).update(home_region_id="1571", village_id="1571011004")
    dinsos = organisation(code="DINSOS-KOTA", name="Dinas Sosial Kota Jambi", kind=OrganisationKind.DINSOS_KABKOTA)
    dinsos.coverage.set(["1571"])
    kabid = member(organisation=dinsos, role=Role.SUPERVISOR, username="kabid.kota")
    case = _case(org, owner)
    closure = workflow.approval_request(
        case=case,
        kind=ApprovalKind.CLOSURE,
        by=owner,
        closure_reason=ClosureReason.GOALS_MET,
        closure_summary="Tujuan tercapai, anak kembali bersekolah.",
    )
    client = logged_in(kabid)
    body = client.get(QUEUE, **EN).content.decode()
    assert case.number in body and "Tujuan tercapai" in body
    assert CHILD not in body
    assert reverse("cases:case_detail", args=[case.pk]) not in body
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    assert AccessLog.objects.filter(user_id=kabid.pk, target_type="cases.approval", target_id=str(closure.pk)).exists()
    response = client.post(decide_url(closure), {"decision": "approve"}, **EN)
    assert message_texts(response) == ["Closure approved: the case is closed."]
    case.refresh_from_db()
    assert not case.is_open


def test_the_requester_sees_who_may_decide_and_why(approval, owner, supervisor):
    body = logged_in(owner).get(QUEUE, **EN).content.decode()
    assert "Your requests waiting" in body
    assert f"Who may decide: {supervisor.get_full_name()}. The case&#x27;s supervisor decides." in body
    case_page = logged_in(owner).get(reverse("cases:case_detail", args=[approval.case_id]), **EN).content.decode()
    assert f"Who may decide: {supervisor.get_full_name()}." in case_page


def test_the_filter_shows_one_kind(org, owner, supervisor):
    case = _case(org, owner, supervisor=supervisor)
    plan = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    closure = workflow.approval_request(
        case=case,
        kind=ApprovalKind.CLOSURE,
        by=owner,
        closure_reason=ClosureReason.GOALS_MET,
        closure_summary="Pindah.",
    )
    client = logged_in(supervisor)
    plans = client.get(QUEUE, {"kind": "closure"}, **EN).content.decode()
    assert f'id="approval-{closure.pk}"' in plans and f'id="approval-{plan.pk}"' not in plans
    everything = client.get(QUEUE, {"kind": "holiday"}, **EN)
    assert everything.status_code == 200
    assert f'id="approval-{plan.pk}"' in everything.content.decode()
    response = client.post(decide_url(closure), {"decision": "approve", "kind": "closure"}, **EN)
    assert response["Location"] == f"{QUEUE}?kind=closure"


def test_the_queue_is_oldest_first_in_keyset_pages_at_a_bounded_cost(
    org, owner, supervisor, django_assert_max_num_queries
):
    requests = [
        workflow.approval_request(case=_case(org, owner), kind=ApprovalKind.PLAN, by=owner)
        for _ in range(QUEUE_PAGE_SIZE + 2)
    ]
    client = logged_in(supervisor)
    client.get(QUEUE)  # session, language
    with django_assert_max_num_queries(14):
        first = client.get(QUEUE, **EN)
    rows = first.context["page"].rows
    assert [r.approval.pk for r in rows] == [a.pk for a in requests[:QUEUE_PAGE_SIZE]]
    cursor = first.context["page"].next_cursor
    second = client.get(QUEUE, {"after": cursor}, **EN)
    assert [r.approval.pk for r in second.context["page"].rows] == [a.pk for a in requests[QUEUE_PAGE_SIZE:]]
    assert second.context["page"].next_cursor is None
    assert client.get(QUEUE, {"after": "not-a-cursor"}, **EN).status_code == 200


def test_the_navigation_counts_the_requests_waiting_for_me(approval, supervisor, owner):
    items = {i.key: i for i in logged_in(supervisor).get("/", **EN).context["nav_items"]}
    assert items["approvals"].count == 1
    items = {i.key: i for i in logged_in(owner).get("/", **EN).context["nav_items"]}
    assert items["approvals"].count is None  # a requester has the page, not a badge


def test_the_plan_tab_sends_the_plan_for_approval(org, owner, supervisor):
    case = _case(org, owner, supervisor=supervisor)
    client = logged_in(owner)
    plan_url = reverse("cases:case_plan", args=[case.pk])
    page = client.get(plan_url, **EN).content.decode()
    assert 'data-testid="plan-tab-send"' in page
    token = client.get(plan_url).context["plan_form"]["submission_token"].value()
    response = client.post(
        reverse("cases:approval_request", args=[case.pk]),
        {"kind": "plan", "note": "Mohon ditinjau.", "back": "plan", "submission_token": token},
        **EN,
    )
    assert response["Location"] == plan_url
    assert message_texts(response) == ["Your request (intervention plan) was sent to the supervisors."]
    approval = Approval.objects.get(case=case)
    assert (approval.status, approval.request_note) == (ApprovalStatus.PENDING, "Mohon ditinjau.")
    assert 'data-testid="plan-tab-send"' not in client.get(plan_url, **EN).content.decode()
    # A colleague who may not change the case has no button.
    colleague = member(organisation=org, role=Role.SOCIAL_WORKER, username="colleague2")
    workflow.approval_withdraw(approval=approval, by=owner)
    assert 'data-testid="plan-tab-send"' not in logged_in(colleague).get(plan_url, **EN).content.decode()
