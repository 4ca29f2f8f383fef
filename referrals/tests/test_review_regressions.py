"""Regressions from the security review of referrals: who may answer and cancel, what
a transfer does to the case's other referrals, who keeps a transferred case's file,
and answers refused on a closed case or without consent."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import ServiceComponent
from cases import documents as docs
from cases.models import Case, Consent, PlanItem
from referrals.admin import ReferralAdmin
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.selectors import referrals_visible_to
from referrals.services import referral_accept, referral_cancel, referral_complete
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

from . import test_detail_views as detail

# The referral page's fixtures: a child with consent to share with the receiver.
case, officer, private_storage, receiver_org = detail.case, detail.officer, detail.private_storage, detail.receiver_org
send = detail.send

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(receiver_org):
    return member(organisation=receiver_org, role=Role.SOCIAL_WORKER, username="pengasuh")


def test_accepting_needs_the_consent_still_in_force(case, owner, receiver_org, officer):
    referral = send(case, owner, receiver_org)
    docs.consent_withdraw(
        consent=Consent.objects.get(case=case), by=owner, withdrawn_on=timezone.localdate(), reason="Ibu menarik."
    )
    with pytest.raises(ApplicationError, match="was withdrawn"):
        referral_accept(referral=referral, by=officer)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_closed_case_cannot_be_taken_over(case, owner, receiver_org, officer, manager):
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    Case.objects.filter(pk=case.pk).update(stage="closed", closed_at=timezone.now(), closure_reason="goals_met")
    with pytest.raises(ApplicationError, match="closed meanwhile"):
        referral_accept(referral=transfer, by=officer, case_manager=manager)
    case.refresh_from_db()
    transfer.refresh_from_db()
    assert case.organisation_id != receiver_org.pk and transfer.status == ReferralStatus.SENT


def test_a_transfer_ends_the_old_owners_other_referrals(case, owner, receiver_org, officer, manager):
    third = OrganisationFactory(code="LKSA-KETIGA", name="LKSA Ketiga")
    third_officer = member(organisation=third, role=Role.REFERRAL_OFFICER, username="officer3")
    Consent.objects.get(case=case).share_with.add(third)
    service = send(case, owner, third)
    referral_accept(referral=service, by=third_officer)
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    service.refresh_from_db()
    assert service.status == ReferralStatus.CANCELLED and "transferred to LKSA Kasih Terima" in service.cancel_reason
    # The old receiver can no longer act on, or read the new owner's file through, it.
    with pytest.raises(ApplicationError):
        referral_complete(referral=service, by=third_officer, outcome="Selesai.")


def test_only_officers_and_supervisors_answer_where_there_are_some(case, owner, receiver_org, officer, manager):
    referral = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    with pytest.raises(ApplicationError, match="referral officers and supervisors"):
        referral_accept(referral=referral, by=manager, case_manager=manager)
    # With a supervisor there, the officer cannot choose the case manager of a transfer.
    member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    with pytest.raises(ApplicationError, match="A supervisor of LKSA Kasih Terima accepts a transfer"):
        referral_accept(referral=referral, by=officer, case_manager=manager)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_small_lksa_with_one_social_worker_can_answer(org, owner):
    from cases.tests.factories import open_case

    lksa = OrganisationFactory(code="LKSA-KECIL", name="LKSA Kecil")
    pengasuh = member(organisation=lksa, role=Role.SOCIAL_WORKER, username="satu")
    case = open_case(organisation=org, by=owner)
    Consent.objects.create(
        case=case, given_by_name="Ibu", relation="mother", given_on=timezone.localdate(), recorded_by=owner
    ).share_with.add(lksa)
    transfer = send(case, owner, lksa, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=pengasuh, case_manager=pengasuh)
    case.refresh_from_db()
    assert case.organisation == lksa


def test_a_colleague_who_may_not_work_on_the_case_cannot_cancel(case, owner, receiver_org, officer):
    intake = member(organisation=case.organisation, role=Role.INTAKE_OFFICER, username="intake")
    referral = send(case, owner, receiver_org)
    with pytest.raises(ApplicationError, match="Only the worker who sent this referral"):
        referral_cancel(referral=referral, by=intake, reason="Saya batalkan.")
    referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.CANCELLED


def test_a_transferred_file_stays_with_the_sender_and_supervisors_only(
    case, owner, colleague, supervisor, receiver_org, officer, manager
):
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    assert referrals_visible_to(colleague).filter(pk=transfer.pk).exists()  # the case is readable to them now
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    assert referrals_visible_to(owner).filter(pk=transfer.pk).exists()
    assert referrals_visible_to(supervisor).filter(pk=transfer.pk).exists()
    assert not referrals_visible_to(colleague).filter(pk=transfer.pk).exists()
    # Whatever the new owner later decides about confidentiality.
    Case.objects.filter(pk=case.pk).update(is_confidential=False)
    assert not referrals_visible_to(colleague).filter(pk=transfer.pk).exists()


def test_a_confidential_transferred_case_is_hidden_from_the_new_owners_colleagues(
    case, owner, receiver_org, officer, manager
):
    Case.objects.filter(pk=case.pk).update(is_confidential=True)
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    referral_accept(referral=transfer, by=officer, case_manager=manager)
    someone = member(organisation=receiver_org, role=Role.SOCIAL_WORKER, username="lain")
    assert not referrals_visible_to(someone).filter(pk=transfer.pk).exists()
    assert referrals_visible_to(manager).filter(pk=transfer.pk).exists()


def test_the_admin_of_referrals_is_for_the_superuser(officer):
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    request = RequestFactory().get("/admin/referrals/referral/")
    request.user = officer
    admin = ReferralAdmin(Referral, site)
    assert not admin.has_view_permission(request)
    assert not admin.get_queryset(request).exists() or not admin.has_module_permission(request)


def test_the_officer_is_told_a_supervisor_accepts_a_transfer(client_for, case, owner, receiver_org, officer):
    member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    transfer = send(case, owner, receiver_org, kind=ReferralKind.TRANSFER)
    page = client_for(officer).get(detail.url("detail", transfer), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="referral-transfer-supervisor"' in page
    assert 'data-testid="referral-accept-form"' not in page
    assert 'data-testid="referral-decline"' in page


@pytest.mark.parametrize("query", ["resend=%C2%B2", "plan_item=%C2%B2", "receiver=%C2%B2", "components=%C2%B2"])
def test_non_ascii_digits_in_the_send_form_are_ignored(client_for, case, owner, query):
    for name in ("send", "send_suggestions"):
        response = client_for(owner).get(reverse(f"referrals:{name}", args=[case.pk]) + "?" + query)
        assert response.status_code == 200


def test_non_ascii_digits_posted_as_the_receiver_are_refused(client_for, case, owner):
    data = {"kind": "service", "receiver": "²", "urgency": "normal", "reason": "x", "submission_token": "a" * 32}
    response = client_for(owner).post(reverse("referrals:send", args=[case.pk]), data)
    assert response.status_code == 200
    assert not Referral.objects.exists()


def test_after_a_transfer_the_plan_shows_only_the_new_owners_referrals(client_for, case, owner, receiver_org, officer):
    third = OrganisationFactory(code="LKSA-KETIGA", name="LKSA Ketiga")
    Consent.objects.get(case=case).share_with.add(third)
    today = timezone.localdate()
    item = PlanItem.objects.create(
        case=case,
        provider=third,
        component=ServiceComponent.objects.get(code="vokasional"),
        service="Kursus menjahit",
        start_date=today,
        target_date=today,
        created_by=owner,
    )
    service = send(case, owner, third, plan_item=item)
    boss = member(organisation=receiver_org, role=Role.SUPERVISOR, username="kepala")
    referral_accept(referral=send(case, owner, receiver_org, kind=ReferralKind.TRANSFER), by=boss, case_manager=boss)
    page = client_for(boss).get(reverse("cases:case_plan", args=[case.pk])).content.decode()
    assert reverse("referrals:detail", args=[service.pk]) not in page
    assert "Kursus menjahit" in page
