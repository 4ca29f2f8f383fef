"""The access-scoping primitive: organisations and roles per user; outsiders get 404."""

from __future__ import annotations

import pytest
from django.http import Http404

from atensi.core.access import actor_for, get_or_404, record_access
from atensi.core.models import AccessLog
from stakeholders.models import Organisation
from stakeholders.roles import Role
from stakeholders.services import membership_add
from stakeholders.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_actor_lists_organisations_and_roles(owner, org, other_org):
    membership_add(organisation=other_org, user=owner, role=Role.REFERRAL_OFFICER)
    actor = actor_for(owner)
    assert actor.org_ids() == {org.pk, other_org.pk}
    assert actor.roles[org.pk] == {Role.SOCIAL_WORKER}
    assert actor.has_role(other_org.pk, Role.REFERRAL_OFFICER)
    assert not actor.has_role(org.pk, Role.SUPERVISOR)
    assert actor.org_ids(Role.REFERRAL_OFFICER) == {other_org.pk}


def test_actor_is_one_query_and_cached(owner, django_assert_num_queries):
    with django_assert_num_queries(1):
        actor_for(owner)
        actor_for(owner)


def test_revoked_membership_and_inactive_organisation_grant_nothing(owner, org):
    org.memberships.update(is_active=False)
    fresh = type(owner).objects.get(pk=owner.pk)
    assert actor_for(fresh).org_ids() == frozenset()
    org.memberships.update(is_active=True)
    Organisation.objects.filter(pk=org.pk).update(is_active=False)
    fresh = type(owner).objects.get(pk=owner.pk)
    assert actor_for(fresh).org_ids() == frozenset()


def test_inactive_user_acts_for_nobody(owner, org):
    owner.is_active = False
    assert actor_for(owner).org_ids() == frozenset()


def test_anonymous_acts_for_nobody():
    from django.contrib.auth.models import AnonymousUser

    assert actor_for(AnonymousUser()).org_ids() == frozenset()
    assert not actor_for(None).is_authenticated


def test_permissions_come_from_the_role_in_each_organisation(org, other_org):
    user = UserFactory()
    membership_add(organisation=org, user=user, role=Role.ORG_ADMIN)
    membership_add(organisation=other_org, user=user, role=Role.SOCIAL_WORKER)
    actor = actor_for(user)
    assert actor.org_ids_with_perm("stakeholders.change_organisation") == {org.pk}
    assert user.has_perm("stakeholders.change_organisation")
    assert not UserFactory().has_perm("stakeholders.change_organisation")


def test_get_or_404_hides_records_outside_the_scope(org, other_org):
    scoped = Organisation.objects.filter(pk=org.pk)
    assert get_or_404(scoped, pk=org.pk) == org
    with pytest.raises(Http404):
        get_or_404(scoped, pk=other_org.pk)
    with pytest.raises(Http404):
        get_or_404(scoped, pk="not-a-number")


def test_record_access_logs_who_saw_what(owner, org, rf):
    request = rf.get("/organisations/1/staff/")
    record_access(user=owner, obj=org, request=request, organisation_id=org.pk)
    entry = AccessLog.objects.get()
    assert entry.user == owner
    assert entry.action == "view"
    assert entry.target_type == "stakeholders.organisation"
    assert entry.target_id == str(org.pk)
    assert entry.path == "/organisations/1/staff/"


def test_role_groups_match_the_code(db):
    from django.contrib.auth.models import Group

    from stakeholders.roles import ROLE_PERMISSIONS, group_name

    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=group_name(role))
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(perms), role


def test_organisation_factory_codes_are_valid(db):
    OrganisationFactory().full_clean()
