"""Refused attempts leave a trace (stakeholders.denials): a record that exists but is not the
requester's gives the same 404 as one that does not, and one denial row in the access log;
at most ATENSI_DENIALS_PER_MINUTE a minute; a burst alerts the national and org admins once."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from atensi.core.models import AccessLog, Notification
from cases.tests.factories import open_case
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import OrganisationFactory, member, user

pytestmark = pytest.mark.django_db


def denials():
    return AccessLog.objects.filter(action=AccessLog.Action.DENIED)


def test_someone_elses_case_is_a_404_and_one_denial_row(client_for, org, owner, outsider):
    case = open_case(organisation=org, by=owner)
    spy = member(organisation=outsider.memberships.get().organisation, role=Role.SOCIAL_WORKER)
    refused_url = reverse("cases:case_detail", args=[case.pk])
    missing_url = reverse("cases:case_detail", args=[case.pk + 10_000])
    response = client_for(spy).get(refused_url)
    missing = client_for(spy).get(missing_url)
    assert response.status_code == missing.status_code == 404

    # Nothing tells the two apart but the address asked for (the language switch returns to
    # it) and the CSRF token (masked anew on every page).
    def same(body: bytes, path: str) -> str:
        text = re.sub(r'"X-CSRFToken": "\w+"', "", body.decode().replace(path, ""))
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", text)

    assert same(response.content, refused_url) == same(missing.content, missing_url)
    row = denials().get()
    assert (row.user_id, row.target_type, row.target_id) == (spy.pk, "cases.case", str(case.pk))
    assert row.target_label == "" and row.path == reverse("cases:case_detail", args=[case.pk])
    # The owner's own view is no denial.
    assert client_for(owner).get(reverse("cases:case_detail", args=[case.pk])).status_code == 200
    assert denials().count() == 1


def test_a_scanner_cannot_flood_the_log_and_a_burst_alerts_once(client_for, org, owner, other_org, settings):
    settings.ATENSI_DENIALS_PER_MINUTE = 3
    settings.ATENSI_DENIAL_BURST = 5
    settings.ATENSI_DENIAL_BURST_MINUTES = 10
    cases = [open_case(organisation=org, by=owner) for _ in range(3)]
    spy = member(organisation=other_org, role=Role.SOCIAL_WORKER)
    their_admin = member(organisation=other_org, role=Role.ORG_ADMIN)
    directorate = OrganisationFactory(code="KEMENSOS-UJI", is_national=True)
    national = user()
    membership_add(organisation=directorate, user=national, role=Role.NATIONAL_ADMIN)
    client = client_for(spy)
    start = timezone.now()
    for minute in (0, 2, 4):
        with time_machine.travel(start + datetime.timedelta(minutes=minute, seconds=1), tick=False):
            for case in cases * 2:  # six tries a minute, three logged
                assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    assert denials().filter(user=spy).count() == 9
    alerts = Notification.objects.filter(kind="denied_access_burst")
    assert {n.recipient_id for n in alerts} == {their_admin.pk, national.pk}  # once each
    assert spy.username in str(alerts.first().data)


def test_an_unknown_id_and_a_malformed_one_are_no_denial(client_for, owner):
    client = client_for(owner)
    assert client.get(reverse("cases:case_detail", args=[987654321])).status_code == 404
    assert client.get("/cases/99999999999999999999999/").status_code == 404
    assert not denials().exists()
