"""Django admin at national scale: the changelists of the large tables read a page, not the
table. No date hierarchy (it reads the year of every row), no second count of the whole
table on a filtered page, an order an index gives. Their times at 1,000,000 cases are in
docs/benchmarks.md (`make bench`, the cases section)."""

from __future__ import annotations

import pytest
from django.contrib import admin

from atensi.core.models import AccessLog
from cases.models import Beneficiary, Case, Report
from referrals.models import Referral
from stakeholders.models import User

LARGE = [Case, Beneficiary, Report, Referral, AccessLog, User]


@pytest.mark.parametrize("model", LARGE, ids=lambda m: m._meta.label)
def test_a_large_tables_changelist_reads_a_page_not_the_table(model):
    model_admin = admin.site.get_model_admin(model)
    assert model_admin.date_hierarchy is None
    assert model_admin.show_full_result_count is False
    # Every filter lists a few choices, none a whole table (users by organisation: 10,000 links).
    assert "memberships__organisation" not in model_admin.list_filter


@pytest.mark.django_db
def test_the_date_filters_replace_the_hierarchies(client_for, superuser):
    response = client_for(superuser).get("/admin/cases/case/", {"opened_at__gte": "2026-01-01 00:00:00+07:00"})
    assert response.status_code == 200
    assert response.context["cl"].date_hierarchy is None


@pytest.mark.django_db
def test_the_events_browser_lists_one_objects_events_never_a_whole_table(client_for, superuser, org, owner):
    """pghistory's cross-table browser: nothing until an object is chosen (its History
    page links to it); by label or event model it read every event table whole."""
    from cases.tests.factories import open_case

    case = open_case(organisation=org, by=owner)
    client = client_for(superuser)
    url = "/admin/pghistory/events/"
    empty = client.get(url)
    assert empty.status_code == 200 and empty.context["cl"].result_count == 0
    # Not filters here: each read every event table (the admin redirects with ?e=1).
    for unbounded in ({"label": "insert"}, {"model": "cases.case"}, {"obj": f"cases.case:{case.pk}"}):
        assert client.get(url, unbounded).status_code == 302, unbounded
    mine = client.get(url, {"obj": f"cases.case:{case.pk}", "method": "tracks"})
    assert mine.status_code == 200 and mine.context["cl"].result_count >= 1
