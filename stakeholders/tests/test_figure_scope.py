"""Whose figures a user reads, and how they are shown (stakeholders.permissions.figure_scope_for)."""

from __future__ import annotations

import pytest

from atensi.core.disclosure import Disclosure
from stakeholders.models import OrganisationKind, Region
from stakeholders.permissions import figure_scope_for
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_a_supervisor_reads_their_organisation_exactly_and_nothing_regional():
    balai = OrganisationFactory(kind=OrganisationKind.BALAI)
    other = OrganisationFactory()
    scope = figure_scope_for(member(organisation=balai, role=Role.SUPERVISOR))
    assert scope.organisation_ids == {balai.pk}
    assert scope.organisation_disclosure(balai.pk) is Disclosure.EXACT
    assert scope.organisation_disclosure(other.pk) is Disclosure.AGGREGATE
    assert not scope.sees_regions and not scope.national


def test_org_admins_and_viewers_read_their_organisation_as_aggregates_and_social_workers_not_at_all():
    balai = OrganisationFactory()
    for role in (Role.ORG_ADMIN, Role.VIEWER):
        scope = figure_scope_for(member(organisation=balai, role=role))
        assert scope.organisation_ids == {balai.pk}
        assert scope.organisation_disclosure(balai.pk) is Disclosure.AGGREGATE
    assert not figure_scope_for(member(organisation=balai, role=Role.SOCIAL_WORKER)).sees_any


def test_every_member_of_a_dinas_sosial_reads_the_provinces_and_kab_kota_it_covers():
    jambi, kota_jambi, district = (Region.objects.get(code=c) for c in ("15", "1571", "157101"))
    dinsos = OrganisationFactory(kind=OrganisationKind.DINSOS_PROVINSI)
    dinsos.coverage.set([jambi, kota_jambi, district])
    lksa = OrganisationFactory(kind=OrganisationKind.LKSA)
    lksa.coverage.set([jambi])  # coverage of a service provider gives no figures
    scope = figure_scope_for(member(organisation=dinsos, role=Role.REFERRAL_OFFICER))
    assert scope.region_codes == {"15", "1571"}  # a district alone would show a kab/kota's figures
    assert scope.covers_region("1571") and scope.covers_region("1501") and not scope.covers_region("16")
    assert scope.region_disclosure is Disclosure.AGGREGATE
    assert not figure_scope_for(member(organisation=lksa, role=Role.SUPERVISOR)).sees_regions


def test_members_of_a_national_organisation_and_superusers_read_all_of_indonesia(django_assert_max_num_queries):
    kemensos = OrganisationFactory(is_national=True)
    viewer = member(organisation=kemensos, role=Role.VIEWER)
    with django_assert_max_num_queries(3):
        scope = figure_scope_for(viewer)
    assert scope.national and scope.covers_region("94")
    assert scope.region_disclosure is Disclosure.AGGREGATE
    root = figure_scope_for(UserFactory(is_superuser=True))
    assert root.national and root.region_disclosure is Disclosure.EXACT


def test_a_user_of_no_organisation_reads_no_figures():
    assert not figure_scope_for(UserFactory()).sees_any
