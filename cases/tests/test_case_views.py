"""The case page and its workflow actions through the web: who sees what, who may do what,
bad input changes nothing, POST-only URLs refuse GET, and a bounded number of queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from atensi.core.models import AccessLog, SubmissionToken
from cases import workflow
from cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    FollowUp,
    FollowUpKind,
    RiskLevel,
    Stage,
    TimelineEntry,
    TimelineKind,
)
from cases.services import timeline_add
from cases.tests.factories import open_case, village
from cases.tests.workflow_helpers import close, give_consent, plan_item, to_planning, to_stage
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def message_texts(response: Any) -> list[str]:
    """The messages a redirect leaves for the next page (read before another request is made)."""
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    # Marked as read, so the next request of the same client starts without them.
    response.client.cookies.pop("messages", None)
    return texts


def url(name: str, case: Case, *args: Any) -> str:
    return reverse(f"cases:{name}", args=[case.pk, *args])


@pytest.fixture
def case(org: Any, owner: Any) -> Case:
    return open_case(organisation=org, by=owner)


def post_stage(client: Any, case: Case, to: str, **data: Any) -> Any:
    return client.post(url("case_stage", case), {"to_stage": to, **data}, **EN)


# --- The case page ------------------------------------------------------------------------


def test_case_manager_sees_the_case_page_and_the_view_is_logged(client_for, case, owner):
    case.beneficiary.village = village("1571011004")
    case.beneficiary.save()
    response = client_for(owner).get(url("case_detail", case), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert case.beneficiary.full_name in html
    assert case.number in html
    assert "Telanaipura, Telanaipura, Kota Jambi, Jambi" in html
    assert 'data-stage="pendekatan_awal" data-state="current"' in html
    assert 'data-stage="asesmen" data-state="todo"' in html
    # The next step is offered, with what is missing before it can be taken.
    assert "Move to Assessment" in html
    assert "Record the guardian&#x27;s consent before the assessment" in html
    assert 'data-kind="opened"' in html
    assert AccessLog.objects.filter(user=owner, target_id=str(case.pk), action="view").count() == 1


def test_the_page_offers_what_the_stage_allows(client_for, case, owner, supervisor):
    to_planning(case, owner)
    plan_item(case, owner)
    html = client_for(owner).get(url("case_detail", case), **EN).content.decode()
    assert 'data-testid="plan-request"' in html
    assert 'data-testid="closure-request"' in html
    assert 'data-testid="stage-back"' in html
    assert "No intervention without an approved plan: ask a supervisor" in html
    workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=owner)
    owner_html = client_for(owner).get(url("case_detail", case), **EN).content.decode()
    assert 'data-testid="plan-request"' not in owner_html  # one waiting request at a time
    assert "Withdraw the request" in owner_html
    assert 'data-testid="decision-form"' not in owner_html
    supervisor_html = client_for(supervisor).get(url("case_detail", case), **EN).content.decode()
    assert 'data-testid="decision-form"' in supervisor_html


def test_a_closed_case_offers_reopening_only(client_for, case, owner, supervisor):
    close(case, owner, supervisor)
    html = client_for(owner).get(url("case_detail", case), **EN).content.decode()
    assert 'data-testid="reopen"' in html
    assert 'data-testid="stage-forward"' not in html
    assert 'data-testid="closure-request"' not in html
    assert 'data-testid="case-edit"' not in html
    assert 'data-stage="closed" data-state="current"' in html


def test_colleague_reads_an_ordinary_case_but_gets_no_actions(client_for, case, colleague):
    response = client_for(colleague).get(url("case_detail", case), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert case.beneficiary.full_name in html
    assert 'data-testid="read-only"' in html
    assert 'data-testid="stage-actions"' not in html


def test_upcoming_follow_ups_are_the_next_five(client_for, case, owner):
    today = timezone.localdate()
    for days in range(8, 0, -1):
        FollowUp.objects.create(
            case=case,
            kind=FollowUpKind.HOME_VISIT,
            due_on=today + datetime.timedelta(days=days),
            assignee=owner,
            created_by=owner,
            description=f"Kunjungan {days}",
        )
    FollowUp.objects.create(
        case=case,
        kind=FollowUpKind.CASE_REVIEW,
        due_on=today - datetime.timedelta(days=2),
        assignee=owner,
        created_by=owner,
        description="Terlambat",
    )
    html = client_for(owner).get(url("case_detail", case), **EN).content.decode()
    assert html.count('data-testid="follow-up"') == 5
    assert "Terlambat" in html and "overdue" in html
    assert "Kunjungan 4" in html and "Kunjungan 5" not in html


def test_the_case_page_has_a_bounded_number_of_queries(
    client_for, case, owner, supervisor, django_assert_max_num_queries
):
    case.beneficiary.village = village("1371111002")
    case.beneficiary.save()
    to_stage(case, owner, supervisor, Stage.TERMINASI)  # every kind of entry, aftercare follow-ups
    for n in range(50):
        other = member(organisation=case.organisation, role=Role.SOCIAL_WORKER)
        timeline_add(case=case, kind=TimelineKind.NOTE, actor=other, note_kind="home_visit", occurred_on="2026-01-05")
        timeline_add(
            case=case,
            kind=TimelineKind.PLAN_ITEM,
            actor=other,
            action="created",
            component="dukungan_keluarga",
            service=f"Layanan {n}",
            status="planned",
        )
    workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="goals_met", closure_summary="Selesai."
    )
    client = client_for(supervisor)
    # 15: the referrals under way are listed on the overview; who may decide the request
    # (cases.approvers: the supervisors, their names); whether the supervisor's organisation
    # is a Dinas Sosial (the approvals badge asks about coverage only for those).
    with django_assert_max_num_queries(15):
        response = client.get(url("case_detail", case), **EN)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="timeline-entry"') == 100
    assert 'data-testid="timeline-older"' in response.content.decode()


def test_show_older_pages_through_the_timeline(client_for, case, owner):
    for n in range(120):
        timeline_add(case=case, kind=TimelineKind.UPDATED, actor=owner, fields=["risk_level"], n=n)
    client = client_for(owner)
    first = client.get(url("case_detail", case), **EN)
    cursor = first.context["timeline"].older_before
    assert cursor is not None
    second = client.get(url("case_detail", case) + f"?before={cursor}", **EN)
    first_ids = [i.pk for i in first.context["timeline"].items]
    second_ids = [i.pk for i in second.context["timeline"].items]
    assert len(first_ids) == 100
    assert len(second_ids) == 21  # the rest, with the "opened" entry
    assert not set(first_ids) & set(second_ids)
    assert second.context["timeline"].older_before is None
    assert "Back to the newest entries" in second.content.decode()
    # A malformed cursor is simply the first page.
    for bad in ("abc", "-5", "99999999999999999999999", "1e9"):
        assert client.get(url("case_detail", case) + f"?before={bad}", **EN).status_code == 200


# --- Scoping --------------------------------------------------------------------------------


def every_url(case: Case, approval: Approval) -> list[tuple[str, str]]:
    return [
        ("get", url("case_detail", case)),
        ("get", url("case_edit", case)),
        ("post", url("case_edit", case)),
        ("post", url("case_stage", case)),
        ("post", url("approval_request", case)),
        ("post", url("approval_decide", case, approval.pk)),
        ("post", url("case_reopen", case)),
    ]


def test_outsider_gets_404_on_every_url(client_for, case, owner, outsider):
    give_consent(case, owner)
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died", closure_summary="x"
    )
    client = client_for(outsider)
    data = {"to_stage": "asesmen", "decision": "approve", "kind": "closure", "reason": "x", "risk_level": "low"}
    for method, address in every_url(case, approval):
        assert getattr(client, method)(address, data).status_code == 404, address
    case.refresh_from_db()
    approval.refresh_from_db()
    assert (case.stage, approval.status) == (Stage.PENDEKATAN_AWAL, ApprovalStatus.PENDING)


def test_colleague_gets_404_on_every_url_of_a_confidential_case(client_for, org, owner, colleague, supervisor):
    case = open_case(organisation=org, by=owner, is_confidential=True)
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died", closure_summary="x"
    )
    client = client_for(colleague)
    for method, address in every_url(case, approval):
        assert getattr(client, method)(address, {"decision": "approve"}).status_code == 404, address
    # The supervisor of the organisation still reads it.
    assert client_for(supervisor).get(url("case_detail", case)).status_code == 200


def test_unknown_ids_are_404(client_for, case, owner, other_org):
    client = client_for(owner)
    assert client.get("/cases/999999/").status_code == 404
    assert client.get("/cases/99999999999999999999999/").status_code == 404
    assert client.post(url("approval_decide", case, 10**25), {"decision": "withdraw"}).status_code == 404
    assert client.post(url("approval_decide", case, 999999), {"decision": "withdraw"}).status_code == 404
    elsewhere = open_case(organisation=case.organisation, by=owner)
    approval = workflow.approval_request(
        case=elsewhere, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died", closure_summary="x"
    )
    # An approval of another case, through this case's URL.
    assert client.post(url("approval_decide", case, approval.pk), {"decision": "withdraw"}).status_code == 404
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_post_only_urls_refuse_get(client_for, case, owner):
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="died", closure_summary="x"
    )
    client = client_for(owner)
    for address in (
        url("case_stage", case),
        url("approval_request", case),
        url("approval_decide", case, approval.pk),
        url("case_reopen", case),
    ):
        assert client.get(address).status_code == 405, address


def test_colleague_cannot_change_an_ordinary_case(client_for, case, owner, colleague, supervisor):
    give_consent(case, owner)
    client = client_for(colleague)
    expected = "Only the case manager or a supervisor of Balai Anak Uji can change this case."
    response = post_stage(client, case, Stage.ASESMEN)
    assert response.status_code == 302
    assert message_texts(response) == [expected]
    response = client.post(url("case_edit", case), {"risk_level": "critical"}, **EN)
    assert message_texts(response) == [expected]
    response = client.get(url("case_edit", case), **EN)
    assert response.status_code == 302
    assert message_texts(response) == [expected]
    response = client.post(
        url("approval_request", case),
        {"kind": "closure", "closure_reason": "refused", "closure_summary": "x"},
        **EN,
    )
    assert message_texts(response) == [expected]
    case.refresh_from_db()
    assert (case.stage, case.risk_level) == (Stage.PENDEKATAN_AWAL, RiskLevel.MEDIUM)
    assert not Approval.objects.filter(case=case).exists()
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="refused", closure_summary="x"
    )
    response = client.post(url("approval_decide", case, approval.pk), {"decision": "approve"}, **EN)
    assert message_texts(response) == ["Only a supervisor of Balai Anak Uji can approve or reject requests."]
    response = client.post(url("approval_decide", case, approval.pk), {"decision": "withdraw"}, **EN)
    assert "who asked for it, can withdraw this request" in message_texts(response)[0]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    workflow.approval_decide(approval=approval, by=supervisor, approve=True)
    response = client.post(url("case_reopen", case), {"reason": "Saya mau"}, **EN)
    assert message_texts(response) == [expected]
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


# --- Stage moves -----------------------------------------------------------------------------


def test_stage_move_happy_path_and_refusals(client_for, case, owner):
    client = client_for(owner)
    response = post_stage(client, case, Stage.ASESMEN, expected_stage=Stage.PENDEKATAN_AWAL)
    assert response.status_code == 302
    assert response["Location"] == url("case_detail", case)
    assert message_texts(response) == ["Record the guardian's consent before the assessment (UU PDP Pasal 25)."]
    response = post_stage(client, case, Stage.PERENCANAAN)
    assert message_texts(response) == [
        "A case moves one stage at a time: move it to Assessment before Intervention planning."
    ]
    response = post_stage(client, case, "nowhere")
    assert len(message_texts(response)) == 1
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    give_consent(case, owner)
    response = post_stage(client, case, Stage.ASESMEN, expected_stage=Stage.PENDEKATAN_AWAL)
    assert message_texts(response) == ["The case is now at Assessment."]
    # The second of two clicks.
    response = post_stage(client, case, Stage.ASESMEN, expected_stage=Stage.PENDEKATAN_AWAL)
    assert message_texts(response) == ["The case is already at the stage Assessment."]
    assert TimelineEntry.objects.filter(case=case, kind=TimelineKind.STAGE).count() == 1
    # Back needs a note.
    response = post_stage(client, case, Stage.PENDEKATAN_AWAL, note="")
    assert message_texts(response) == ["Say why the case goes back to Intake and engagement."]
    response = post_stage(client, case, Stage.PENDEKATAN_AWAL, note="Wali belum bisa ditemui.")
    case.refresh_from_db()
    assert case.stage == Stage.PENDEKATAN_AWAL
    page = client.get(url("case_detail", case), **EN).content.decode()
    assert "Moved back from Assessment to Intake and engagement" in page
    assert "Wali belum bisa ditemui." in page


# --- Approvals --------------------------------------------------------------------------------


def request_data(kind: str, token: str | None = None, **data: Any) -> dict[str, Any]:
    out = {"kind": kind, **data}
    if token:
        out["submission_token"] = token
    return out


def test_plan_request_and_approval_through_the_page(client_for, case, owner, supervisor):
    to_planning(case, owner)
    plan_item(case, owner)
    token = "6f0c2a52-6d43-4d5e-9a55-1a2b3c4d5e6f"
    worker = client_for(owner)
    response = worker.post(url("approval_request", case), request_data("plan", token, note="Mohon cek."), **EN)
    assert message_texts(response) == ["Your request (intervention plan) was sent to the supervisors."]
    # The same form sent twice (double click, re-sent page) is saved once.
    response = worker.post(url("approval_request", case), request_data("plan", token, note="Mohon cek."), **EN)
    assert message_texts(response) == ["This form was already saved. Nothing was saved twice."]
    approval = Approval.objects.get(case=case)
    assert SubmissionToken.objects.filter(user=owner).count() == 1

    chief = client_for(supervisor)
    response = chief.post(url("approval_decide", case, approval.pk), {"decision": "reject", "comment": ""}, **EN)
    assert message_texts(response) == ["Say why you reject the request, so the case manager knows what to change."]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    response = chief.post(url("approval_decide", case, approval.pk), {"decision": "approve"}, **EN)
    assert message_texts(response) == ["Intervention plan approved."]
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, supervisor)
    response = chief.post(url("approval_decide", case, approval.pk), {"decision": "approve"}, **EN)
    assert message_texts(response)[0].startswith("This request was already decided by")
    response = post_stage(worker, case, Stage.INTERVENSI, expected_stage=Stage.PERENCANAAN)
    assert message_texts(response) == ["The case is now at Intervention."]
    page = worker.get(url("case_detail", case), **EN).content.decode()
    assert "Intervention plan approved" in page
    assert "Asked a supervisor to approve the intervention plan" in page


def test_closure_request_errors_and_closing(client_for, case, owner, supervisor):
    worker = client_for(owner)
    response = worker.post(url("approval_request", case), request_data("closure", closure_summary="Pindah."), **EN)
    assert message_texts(response) == ["Choose why the case is closed."]
    response = worker.post(url("approval_request", case), request_data("lunch"), **EN)
    assert len(message_texts(response)) == 1
    assert not Approval.objects.exists()
    worker.post(
        url("approval_request", case),
        request_data("closure", closure_reason="moved_away", closure_summary="Keluarga pindah ke Padang."),
        **EN,
    )
    approval = Approval.objects.get(case=case, kind=ApprovalKind.CLOSURE)
    page = client_for(supervisor).get(url("case_detail", case), **EN).content.decode()
    assert "Keluarga pindah ke Padang." in page
    response = client_for(supervisor).post(url("approval_decide", case, approval.pk), {"decision": "approve"}, **EN)
    assert message_texts(response) == ["Closure approved: the case is closed."]
    case.refresh_from_db()
    assert (case.stage, case.closure_reason) == (Stage.CLOSED, "moved_away")


def test_requester_withdraws_through_the_page(client_for, case, owner):
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=owner, closure_reason="refused", closure_summary="Menolak."
    )
    response = client_for(owner).post(url("approval_decide", case, approval.pk), {"decision": "withdraw"}, **EN)
    assert message_texts(response) == ["Your request was withdrawn."]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.WITHDRAWN


# --- Reopen -------------------------------------------------------------------------------------


def test_reopen_through_the_page(client_for, case, owner, supervisor):
    close(case, owner, supervisor)
    client = client_for(supervisor)
    response = client.post(url("case_reopen", case), {"reason": ""}, **EN)
    assert message_texts(response) == ["Say why the case is reopened."]
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    response = client.post(url("case_reopen", case), {"reason": "Anak kembali ke jalan."}, **EN)
    assert message_texts(response) == ["The case was reopened at Assessment."]
    case.refresh_from_db()
    assert (case.stage, case.closed_at) == (Stage.ASESMEN, None)
    page = client.get(url("case_detail", case), **EN).content.decode()
    assert "Case reopened at Assessment" in page


# --- Edit ---------------------------------------------------------------------------------------


def edit_data(case: Case, **overrides: Any) -> dict[str, Any]:
    data = {
        "risk_level": case.risk_level,
        "basis": case.basis,
        "cluster": case.cluster_id,
        "summary": case.summary,
        "case_manager": case.case_manager_id or "",
        "supervisor": case.supervisor_id or "",
        "expected_updated_at": case.updated_at.isoformat(),
    }
    if case.is_confidential:
        data["is_confidential"] = "on"
    data.update(overrides)
    return data


def test_case_manager_edits_the_facts_but_not_the_assignment(client_for, case, owner, colleague):
    client = client_for(owner)
    page = client.get(url("case_edit", case), **EN)
    assert page.status_code == 200
    assert "case_manager" not in page.context["form"].fields
    response = client.post(url("case_edit", case), edit_data(case, risk_level="high", case_manager=colleague.pk), **EN)
    assert response.status_code == 302
    assert message_texts(response) == ["The case was updated."]
    case.refresh_from_db()
    assert (case.risk_level, case.case_manager) == (RiskLevel.HIGH, owner)
    response = client.post(url("case_edit", case), edit_data(case), **EN)
    assert message_texts(response) == ["Nothing was changed."]


def test_supervisor_assigns_a_case_manager(client_for, case, owner, colleague, supervisor, org_admin):
    client = client_for(supervisor)
    page = client.get(url("case_edit", case), **EN)
    choices = page.context["form"].fields["case_manager"].queryset
    assert set(choices) == {owner, colleague, supervisor}  # not the org admin, not outsiders
    response = client.post(url("case_edit", case), edit_data(case, case_manager=org_admin.pk), **EN)
    assert response.status_code == 200  # the form again, with the field's error
    assert response.context["form"].errors["case_manager"]
    response = client.post(url("case_edit", case), edit_data(case, case_manager=colleague.pk), **EN)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.case_manager == colleague
    assert TimelineEntry.objects.filter(case=case, kind=TimelineKind.ASSIGNED).count() == 1


def test_a_stale_edit_form_is_refused(client_for, case, owner, supervisor):
    stale = edit_data(case, risk_level="low")
    workflow.case_update(case=case, by=supervisor, expected_updated_at=case.updated_at, risk_level=RiskLevel.CRITICAL)
    response = client_for(owner).post(url("case_edit", case), stale, **EN)
    assert response.status_code == 200
    assert "Someone else changed this case since you opened the form; reload and try again." in (
        response.content.decode().replace("&#x27;", "'")
    )
    case.refresh_from_db()
    assert case.risk_level == RiskLevel.CRITICAL
    response = client_for(owner).post(url("case_edit", case), {**stale, "expected_updated_at": "kemarin"}, **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["expected_updated_at"]


def test_a_closed_case_cannot_be_edited(client_for, case, owner, supervisor):
    close(case, owner, supervisor)
    response = client_for(supervisor).get(url("case_edit", case), **EN)
    assert response.status_code == 302
    assert message_texts(response) == ["This case is closed; reopen it to change it."]
