"""`field__in_ids`: a list of ids as one array parameter, the same rows as `__in`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stakeholders.models import Membership, User
from stakeholders.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_same_rows_as_in_with_one_parameter(org):
    people = UserFactory.create_batch(4)
    wanted = [people[0].pk, people[2].pk, 10**12]  # an id that is nobody's matches nothing
    with CaptureQueriesContext(connection) as queries:
        found = sorted(User.objects.filter(pk__in_ids=wanted).values_list("pk", flat=True))
    assert found == sorted(User.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == sorted([people[0].pk, people[2].pk])
    assert "= ANY('{" in queries[0]["sql"]


def test_on_a_foreign_key_and_excluded(org):
    kept, other = UserFactory.create_batch(2)
    Membership.objects.create(organisation=org, user=kept, role="social_worker")
    Membership.objects.create(organisation=org, user=other, role="social_worker")
    assert list(Membership.objects.filter(user_id__in_ids=[kept.pk]).values_list("user_id", flat=True)) == [kept.pk]
    assert list(Membership.objects.exclude(user__in_ids=[kept.pk]).values_list("user_id", flat=True)) == [other.pk]


def test_an_empty_list_matches_nothing():
    UserFactory()
    assert not User.objects.filter(pk__in_ids=[]).exists()
    assert User.objects.exclude(pk__in_ids=[]).exists()


def test_only_ids_reach_the_query():
    with pytest.raises(ValueError):
        list(User.objects.filter(pk__in_ids=["1}'); DROP TABLE x; --"]))
