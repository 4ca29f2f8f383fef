"""Capped counts: exact up to the cap, "1.000+" beyond, all of them in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from atensi.core.counting import Tally, Where, capped_counts, capped_counts_where
from stakeholders.models import User
from stakeholders.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_count_in_one_query_an_empty_one_included():
    me = UserFactory()
    UserFactory.create_batch(3, first_name="Sari")
    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(
            me.pk,
            {
                "sari": User.objects.filter(first_name="Sari"),
                "nobody": User.objects.none(),
                "no_match": User.objects.filter(pk__in=[]),
            },
        )
    assert len(queries) == 1
    assert counts == {"sari": Tally(3), "nobody": Tally(0), "no_match": Tally(0)}


def test_a_count_stops_past_the_cap():
    me = UserFactory()
    UserFactory.create_batch(4)
    from atensi.core import counting

    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(me.pk, {"all": User.objects.all()})
    assert counts["all"].value == 5
    assert "LIMIT 1001" in queries[0]["sql"]
    assert counting.CAP == 1000


@pytest.mark.parametrize(("language", "small", "capped"), [("id", "999", "1.000+"), ("en", "999", "1,000+")])
def test_the_display_follows_the_readers_number_format(language, small, capped):
    with translation.override(language):
        assert Tally(999).display == small
        assert Tally(1001).display == capped
        assert Tally(1001).is_capped and not Tally(1000).is_capped
        assert Tally(1000).display == ("1.000" if language == "id" else "1,000")


def test_counts_of_one_queryset_hold_it_once_and_stop_at_the_cap():
    """capped_counts_where: a costly scope compiled once, each count a condition on it."""
    UserFactory.create_batch(3, first_name="Sari", is_active=True)
    UserFactory.create_batch(2, first_name="Sari", is_active=False)
    UserFactory(first_name="Budi")
    scope = User.objects.filter(first_name="Sari")
    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts_where(
            scope,
            {
                "active": Where('"is_active" = %s', [True]),
                "inactive": Where('"is_active" = %s', [False], order='"last_name" DESC'),
                "all": Where('"first_name" = %s', ["Sari"]),
                "none": Where('"first_name" = %s', ["Budi"]),  # outside the scope
            },
            cap=4,
        )
    sql = queries[0]["sql"]
    assert len(queries) == 1 and sql.count('"first_name" = ') == 3  # the scope once
    assert 'ORDER BY "last_name" DESC LIMIT 5' in sql
    assert counts == {"active": Tally(3, 4), "inactive": Tally(2, 4), "all": Tally(5, 4), "none": Tally(0, 4)}
    assert counts["all"].is_capped and not counts["active"].is_capped
    assert capped_counts_where(scope, {}) == {}
    nothing = User.objects.filter(pk__in=[])  # no query at all
    assert capped_counts_where(nothing, {"active": Where('"is_active" = %s', [True])}) == {"active": Tally(0)}
