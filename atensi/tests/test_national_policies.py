"""National policies (the referrals' answer deadlines, the reference lists) are edited in
Django admin by superusers and national administrators, never by an organisation's
administrator, and never deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atensi.core.models import Cluster
from referrals.models import ResponseDeadline
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


def staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def national_admin(db):
    kemensos = OrganisationFactory(code="KEMENSOS-UJI", is_national=True)
    return staff(member(organisation=kemensos, role=Role.NATIONAL_ADMIN, username="nasional"))


def test_a_national_admin_changes_an_answer_deadline_in_admin(client_for, national_admin):
    deadline = ResponseDeadline.objects.order_by("pk").first()
    client = client_for(national_admin)
    assert client.get(reverse("admin:referrals_responsedeadline_changelist")).status_code == 200
    url = reverse("admin:referrals_responsedeadline_change", args=[deadline.pk])
    response = client.post(url, {"urgency": deadline.urgency, "hours": 36})
    assert response.status_code == 302, response.content.decode()[:2000]
    deadline.refresh_from_db()
    assert deadline.hours == 36
    # Its history says who changed it.
    event = deadline.events.order_by("-pgh_id").first()
    assert event.pgh_context.metadata["user"] == national_admin.pk
    delete = reverse("admin:referrals_responsedeadline_delete", args=[deadline.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ResponseDeadline.objects.filter(pk=deadline.pk).exists()


def test_a_national_admin_adds_to_a_reference_list(client_for, national_admin):
    client = client_for(national_admin)
    assert client.get(reverse("admin:atensi_cluster_add")).status_code == 200
    cluster = Cluster.objects.order_by("pk").first()
    assert client.get(reverse("admin:atensi_cluster_change", args=[cluster.pk])).status_code == 200


def test_an_org_admin_with_staff_access_does_not_edit_national_policies(client_for, org):
    admin = staff(member(organisation=org, role=Role.ORG_ADMIN, username="orgstaff"))
    deadline = ResponseDeadline.objects.order_by("pk").first()
    client = client_for(admin)
    url = reverse("admin:referrals_responsedeadline_change", args=[deadline.pk])
    assert client.get(url).status_code in (302, 403, 404)
    client.post(url, {"urgency": deadline.urgency, "hours": 1})
    assert ResponseDeadline.objects.get(pk=deadline.pk).hours == deadline.hours
    assert client.get(reverse("admin:atensi_cluster_add")).status_code in (302, 403, 404)


def test_a_national_role_in_an_organisation_no_longer_national_edits_nothing(client_for, national_admin):
    organisation = national_admin.memberships.get().organisation
    organisation.is_national = False
    organisation.save(update_fields=["is_national"])
    client = client_for(national_admin)
    assert client.get(reverse("admin:referrals_responsedeadline_changelist")).status_code in (302, 403, 404)
