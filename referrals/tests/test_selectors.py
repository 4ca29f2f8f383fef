"""Who sees which referral, and the order of the inbox."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from atensi.core.access import actor_for
from cases.models import Case
from cases.tests.factories import open_case
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.selectors import inbox_for, inbox_waiting_count, overdue_count, referrals_visible_to
from referrals.services import referral_accept
from referrals.tests.test_services import consent_to_share, send
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


def test_sender_and_receiver_see_it_nobody_else_does(org, owner, colleague, other_org, outsider):
    third = OrganisationFactory(code="LKSA-KETIGA")
    stranger = member(organisation=third, role=Role.SOCIAL_WORKER)
    officer = member(organisation=other_org, role=Role.REFERRAL_OFFICER)
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    referral = send(case, owner, other_org)
    assert set(referrals_visible_to(owner)) == {referral}
    assert set(referrals_visible_to(colleague)) == {referral}
    assert set(referrals_visible_to(officer)) == {referral}
    assert not referrals_visible_to(stranger).exists()
    # The receiving organisation's admin role does not work cases: nothing.
    assert not referrals_visible_to(outsider).exists()


def test_a_confidential_cases_referral_stays_with_those_who_may_open_it(org, owner, colleague, other_org):
    case = open_case(organisation=org, by=owner, is_confidential=True)
    consent_to_share(case, other_org, by=owner)
    referral = send(case, owner, other_org)
    assert set(referrals_visible_to(owner)) == {referral}
    assert not referrals_visible_to(colleague).exists()


def test_the_inbox_puts_the_overdue_first_then_the_nearest_deadline(
    org, owner, other_org, django_assert_max_num_queries
):
    officer = member(organisation=other_org, role=Role.REFERRAL_OFFICER)
    referrals = []
    for urgency in ("normal", "emergency", "high"):
        case = open_case(organisation=org, by=owner)
        consent_to_share(case, other_org, by=owner)
        referrals.append(send(case, owner, other_org, urgency=urgency))
    normal, emergency, high = referrals
    # The normal one was sent eight days ago: it is overdue.
    Referral.objects.filter(pk=normal.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=8), respond_by=timezone.now() - datetime.timedelta(days=1)
    )
    actor_for(officer)  # the user's roles: one query per request, cached
    with django_assert_max_num_queries(1):
        order = [r.pk for r in inbox_for(officer)]
    assert order == [normal.pk, emergency.pk, high.pk]
    assert inbox_waiting_count(officer) == 3
    assert overdue_count(organisation_id=other_org.pk) == 1
    assert not inbox_for(owner).exists()
    assert list(inbox_for(officer, status=ReferralStatus.ACCEPTED)) == []


# Security review: who keeps a transferred case's file. (`case`, `receiver_org`, `officer` and
# `manager` are the referral page's, from conftest.py.)


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
