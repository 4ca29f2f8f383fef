"""Who hears about a referral: the receiver's referral officers when it arrives, the
sender when it is answered — once each, and never anyone outside the two sides."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from atensi.errors import ApplicationError
from atensi.models import Notification, NotificationKind
from atensi.notifications import notification_text
from cases.tests.factories import open_case
from referrals.services import referral_accept, referral_cancel, referral_complete, referral_decline
from referrals.tests.test_services import consent_to_share, send
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(other_org):
    return member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer")


@pytest.fixture
def case(org, owner, other_org):
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    return case


def kinds(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_an_arrival_tells_the_receivers_referral_officers_only(case, owner, colleague, other_org, officer, outsider):
    # outsider is the other organisation's administrator: not a case worker, not told.
    social_worker = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    referral = send(case, owner, other_org, urgency="emergency")
    assert kinds(officer) == [NotificationKind.REFERRAL_RECEIVED]
    assert kinds(social_worker) == [] and kinds(outsider) == [] and kinds(colleague) == []
    n = Notification.objects.get(recipient=officer)
    assert n.link == reverse("referrals:detail", args=[referral.pk]) and n.organisation == other_org
    with translation.override("en"):
        text = notification_text(n)
    assert "Service referral from" in text and "emergency" in text
    # The child is never named in a notification.
    assert case.beneficiary.full_name not in text


def test_without_referral_officers_the_supervisors_hear(case, owner, other_org):
    boss = member(organisation=other_org, role=Role.SUPERVISOR)
    send(case, owner, other_org)
    assert kinds(boss) == [NotificationKind.REFERRAL_RECEIVED]


def test_the_sender_hears_each_answer(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Terapi selesai 6 sesi.")
    assert kinds(owner) == [NotificationKind.REFERRAL_ACCEPTED, NotificationKind.REFERRAL_COMPLETED]
    with translation.override("en"):
        texts = [notification_text(n) for n in Notification.objects.filter(recipient=owner)]
    assert all(case.number in t for t in texts)


def test_a_decline_says_why_and_a_cancel_tells_the_receiver(org, case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    with translation.override("en"):
        text = notification_text(Notification.objects.get(recipient=owner, kind=NotificationKind.REFERRAL_DECLINED))
    assert "no capacity" in text
    again = send(case, owner, other_org)
    referral_cancel(referral=again, by=owner, reason="Keluarga pindah.")
    assert kinds(officer).count(NotificationKind.REFERRAL_CANCELLED) == 1


def test_a_refused_answer_notifies_nobody(case, owner, other_org, officer):
    referral = send(case, owner, other_org)
    referral_decline(referral=referral, by=officer, reason="no_capacity")
    with pytest.raises(ApplicationError):
        referral_accept(referral=referral, by=officer)
    assert NotificationKind.REFERRAL_ACCEPTED not in kinds(owner)


def test_a_worker_who_left_is_not_told_the_supervisors_are(org, other_org, officer, supervisor):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    case = open_case(organisation=org, by=worker)
    consent_to_share(case, other_org, by=worker)
    referral = send(case, worker, other_org)
    worker.memberships.update(is_active=False)
    referral_decline(referral=referral, by=officer, reason="out_of_area")
    assert kinds(worker) == []
    assert kinds(supervisor) == [NotificationKind.REFERRAL_DECLINED]


def test_a_message_tells_the_other_side_only(case, owner, other_org, officer):
    from referrals.messages import referral_message_send

    referral = send(case, owner, other_org)
    referral_message_send(referral=referral, by=owner, body="Apakah ada tempat minggu ini?")
    assert kinds(officer) == [NotificationKind.REFERRAL_MESSAGE, NotificationKind.REFERRAL_RECEIVED]
    assert NotificationKind.REFERRAL_MESSAGE not in kinds(owner)
    referral_message_send(referral=referral, by=officer, body="Ada, silakan datang Senin.")
    assert kinds(owner).count(NotificationKind.REFERRAL_MESSAGE) == 1
    with translation.override("en"):
        text = notification_text(Notification.objects.get(recipient=owner, kind=NotificationKind.REFERRAL_MESSAGE))
    assert case.number in text and other_org.name in text
