"""Capped counts: exact up to the cap, "1.000+" beyond, all of them in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from atensi.core.counting import Tally, capped_counts
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
