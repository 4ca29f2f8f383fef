"""The referrals section referrals adds to the printable case summary (cases.pages.summary_section)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from referrals.models import SharedSection
from referrals.services import referral_accept, referral_complete
from referrals.tests.test_detail_views import send

pytestmark = pytest.mark.django_db


def test_the_summary_lists_the_case_referrals_with_their_outcome(client_for, case, owner, officer, receiver_org):
    referral = send(case, owner, receiver_org, shared_sections=[SharedSection.IDENTITY])
    referral_accept(referral=referral, by=officer)
    referral_complete(referral=referral, by=officer, outcome="Terapi 8 sesi selesai.")
    response = client_for(owner).get(reverse("cases:case_summary", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    section = html.split('data-testid="summary-referrals"', 1)[1]
    assert receiver_org.name in section
    assert "Terapi 8 sesi selesai." in section
    assert section.count('data-testid="summary-referral"') == 1


def test_the_summary_says_when_there_is_no_referral(client_for, case, owner):
    response = client_for(owner).get(reverse("cases:case_summary", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "No referral." in response.content.decode()
