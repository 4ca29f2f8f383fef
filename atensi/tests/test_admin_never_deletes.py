"""Admin never destroys: no delete, for superusers neither, on any of the portal's models
(people, organisations, memberships, workforce, agreements, imports, cases, beneficiaries,
referrals, reports, reference data); deactivate, withdraw or close through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from atensi.core.admin import PortalAdmin
from stakeholders.models import Membership
from stakeholders.roles import ROLE_PERMISSIONS, Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

PORTAL_ADMINS = sorted(
    (model._meta.label_lower, model_admin)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, PortalAdmin)
)
# Configuration that is no record of anyone.
DELETABLE = {"stakeholders.reachtarget"}


@pytest.mark.parametrize(("label", "model_admin"), PORTAL_ADMINS, ids=[label for label, _a in PORTAL_ADMINS])
def test_no_portal_model_can_be_deleted_in_admin_by_a_superuser(label, model_admin, superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert model_admin.has_delete_permission(request) is (label in DELETABLE)
    assert ("delete_selected" in model_admin.get_actions(request)) is (label in DELETABLE)


def test_the_delete_page_refuses_a_superuser(org, superuser, client_for):
    membership = Membership.objects.get(user=member(organisation=org, role=Role.SOCIAL_WORKER))
    response = client_for(superuser).post(
        reverse("admin:stakeholders_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()
    response = client_for(superuser).post(
        reverse("admin:stakeholders_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_org_admins_no_longer_hold_the_delete_permission():
    assert "stakeholders.delete_membership" not in ROLE_PERMISSIONS[Role.ORG_ADMIN]
    assert not any(p.split(".")[1].startswith("delete_") for perms in ROLE_PERMISSIONS.values() for p in perms)


def test_view_on_site_answers_404_for_the_event_browsers(superuser, client_for, org):
    import pghistory.models
    from django.contrib.contenttypes.models import ContentType

    member(organisation=org, role=Role.SOCIAL_WORKER)  # some events to ask for
    client = client_for(superuser)
    for model in (pghistory.models.Events, pghistory.models.MiddlewareEvents):
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        event = model.objects.order_by("pgh_created_at").first()
        response = client.get(reverse("admin:view_on_site", args=[content_type.pk, event.pk]))
        assert response.status_code == 404
    missing = client.get(reverse("admin:view_on_site", args=[999_999, 1]))
    assert missing.status_code == 404
