"""Occupancy is counted from open residential cases: never typed in, recounted on demand."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases.models import Basis, Case, Stage
from cases.occupancy import occupancy_recount_all
from cases.tests.factories import open_case
from stakeholders.models import Organisation
from stakeholders.organisation_forms import OrganisationProfileForm
from stakeholders.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_recount_occupancy_sets_every_organisation_from_its_open_residential_cases(org, other_org, owner):
    open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    closed = open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    open_case(organisation=org, by=owner, basis=Basis.KELUARGA)
    Case.objects.filter(pk=closed.pk).update(stage=Stage.CLOSED, closed_at=closed.opened_at, closure_reason="goals_met")
    # Figures from before the portal, or left behind by a bulk import.
    Organisation.objects.filter(pk=org.pk).update(occupancy=40)
    Organisation.objects.filter(pk=other_org.pk).update(occupancy=12)
    untouched = OrganisationFactory(code="LKSA-KOSONG")
    out = io.StringIO()
    call_command("recount_occupancy", stdout=out)
    assert "2 organisation(s) corrected" in out.getvalue()
    org.refresh_from_db()
    other_org.refresh_from_db()
    untouched.refresh_from_db()
    assert (org.occupancy, other_org.occupancy, untouched.occupancy) == (2, 0, 0)
    # Nothing left to correct: a second run writes nothing.
    assert occupancy_recount_all() == 0


def test_org_admins_no_longer_type_the_occupancy(client_for, org_admin, org):
    assert "occupancy" not in OrganisationProfileForm(organisation=org).fields
    html = client_for(org_admin).get(reverse("stakeholders:organisation_edit", args=[org.pk])).content.decode()
    assert 'name="occupancy"' not in html


def test_the_organisation_page_shows_the_counted_occupancy(client_for, org, owner):
    Organisation.objects.filter(pk=org.pk).update(capacity=30)
    open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    response = client_for(owner).get(
        reverse("stakeholders:organisation_detail", args=[org.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert "29 free of 30" in html
    assert "occupied: 1 (open residential cases)" in html


def test_the_admin_shows_the_occupancy_read_only(client_for, superuser, org):
    html = client_for(superuser).get(reverse("admin:stakeholders_organisation_change", args=[org.pk])).content.decode()
    assert 'name="occupancy"' not in html
