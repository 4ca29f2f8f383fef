"""Every change is recorded by database triggers, with the acting user attached."""

from __future__ import annotations

import pghistory.models
import pytest
from django.urls import reverse

from atensi.core.audit import audit_context
from stakeholders.models import Membership, Organisation

pytestmark = pytest.mark.django_db


def events_for(obj):
    return list(pghistory.models.MiddlewareEvents.objects.tracks(obj).order_by("pgh_created_at"))


def test_a_change_through_a_view_records_user_and_url(client_for, org_admin, colleague, org):
    membership = Membership.objects.get(user=colleague, organisation=org)
    url = reverse("stakeholders:membership_set_active", args=[org.pk, membership.pk])
    response = client_for(org_admin).post(url, {"active": "0"})
    assert response.status_code == 302
    update = [e for e in events_for(membership) if e.pgh_label == "update"][-1]
    assert update.pgh_context["user"] == org_admin.pk
    assert update.pgh_context["url"] == url
    assert update.pgh_diff["is_active"] == [True, False]


def test_bulk_updates_are_captured_too(org):
    with audit_context(command="test-bulk"):
        Organisation.objects.filter(pk=org.pk).update(name="Nama Baru")
    update = [e for e in events_for(org) if e.pgh_label == "update"][-1]
    assert update.pgh_diff["name"] == ["Balai Anak Uji", "Nama Baru"]
    assert update.pgh_context["command"] == "test-bulk"


def test_passwords_are_not_copied_into_history(owner):
    owner.set_password("another-secret-2026")
    owner.save(update_fields=["password"])
    for event in events_for(owner):
        assert "password" not in (event.pgh_data or {})


def test_history_cannot_be_rewritten(org):
    from django.apps import apps
    from django.db import DatabaseError, transaction

    OrganisationEvent = apps.get_model("stakeholders", "OrganisationEvent")
    assert OrganisationEvent.objects.filter(pgh_obj_id=org.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic():
        OrganisationEvent.objects.filter(pgh_obj_id=org.pk).update(name="forged")
