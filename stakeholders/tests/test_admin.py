"""Django admin: scoped for non-superusers, audited history per object, writes via services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from stakeholders.models import Membership, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_org_admin(org_admin):
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    return org_admin


def test_superuser_sees_every_organisation(client_for, superuser, org, other_org):
    response = client_for(superuser).get(reverse("admin:stakeholders_organisation_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert org.name in html and other_org.name in html


def test_staff_org_admin_sees_only_their_organisation(client_for, staff_org_admin, org, other_org):
    client = client_for(staff_org_admin)
    html = client.get(reverse("admin:stakeholders_organisation_changelist")).content.decode()
    assert org.name in html and other_org.name not in html
    assert client.get(reverse("admin:stakeholders_organisation_change", args=[other_org.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:stakeholders_organisation_history", args=[other_org.pk])).status_code == 404


def test_staff_org_admin_memberships_are_scoped(client_for, staff_org_admin, outsider, org):
    html = client_for(staff_org_admin).get(reverse("admin:stakeholders_membership_changelist")).content.decode()
    assert str(staff_org_admin) in html and str(outsider) not in html


def test_history_page_shows_pghistory_events_with_the_user(client_for, superuser, org):
    client = client_for(superuser)
    response = client.post(
        reverse("admin:stakeholders_organisation_change", args=[org.pk]),
        {"name": "Balai Anak Uji Baru", "kind": org.kind, "is_active": "on", "notes": "", "parent": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.name == "Balai Anak Uji Baru"
    history = client.get(reverse("admin:stakeholders_organisation_history", args=[org.pk])).content.decode()
    assert "Balai Anak Uji Baru" in history
    assert "root" in history


def test_global_events_browser_is_for_superusers_only(client_for, staff_org_admin, superuser):
    from django.contrib.auth.models import Permission

    staff_org_admin.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    assert client_for(staff_org_admin).get("/admin/pghistory/events/").status_code in (302, 403, 404)
    assert client_for(superuser).get("/admin/pghistory/events/").status_code == 200


def test_admin_membership_add_goes_through_the_service(client_for, superuser, org, owner):
    from stakeholders.tests.factories import UserFactory

    newbie = UserFactory(username="newbie")
    response = client_for(superuser).post(
        reverse("admin:stakeholders_membership_add"),
        {"user": newbie.pk, "organisation": org.pk, "role": "intake_officer", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=newbie, organisation=org, role="intake_officer").exists()


def test_every_domain_model_is_registered(db):
    from django.contrib import admin

    from atensi.core.models import AccessLog, AmpkCategory, Cluster, PpksType, ServiceComponent
    from stakeholders.models import User

    for model in (Organisation, Membership, User, Cluster, ServiceComponent, AmpkCategory, PpksType, AccessLog):
        assert admin.site.is_registered(model), model
