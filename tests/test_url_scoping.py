"""Every URL of the portal and its admin, asked for organisation A's records by people of
organisation B and by nobody: B's org admin and supervisor get 404, B's staff member
gets 403/404 in admin, the anonymous visitor is sent to log in, nobody sees A's private
data, and no request writes a row, a history event, a file or an e-mail. A's colleague
who does not manage the confidential case gets 404 on all of its URLs too.

The patterns come from the resolver, so a new URL is swept the day it is added; one the
sweep cannot fill fails until it gets a record in tests/url_sweep.py or an allowlist
entry with its reason. Controls show that the same URLs open for A's own people (and
B's records for B's admin user), so the refusals are the scoping's doing; meta-tests
show that the sweep reports an unscoped lookup, a write, a refused CSRF token and a
pattern nobody filled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse

from tests import url_sweep as sweep

pytestmark = pytest.mark.django_db

SWEEP = sweep.cases()


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[sweep.World]:
    """A's records, built once for the module inside a transaction rolled back at its end;
    each test runs in a savepoint of it."""
    storage = tmp_path_factory.mktemp("sweep-private")
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}},
    }
    # A thousand refusals would each log a warning (and admin's 403s a traceback).
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    with (
        django_db_blocker.unblock(),
        # Every refusal is logged as a denial here: no per-minute cap, no burst alert.
        override_settings(
            STORAGES=storages,
            CSRF_FAILURE_VIEW="tests.url_sweep.csrf_failure",
            ATENSI_DENIALS_PER_MINUTE=10**9,
            ATENSI_DENIAL_BURST=10**9,
        ),
        transaction.atomic(),
    ):
        world = sweep.build_world(storage)
        # Fire the world's deferred foreign-key checks now, once: left pending, every test's
        # teardown would fire them again inside its savepoint and roll them back with it.
        connection.check_constraints()
        yield world
        transaction.set_rollback(True)
    request_log.setLevel(level)


def _id(case: tuple[sweep.Route, str, str, str]) -> str:
    route, variant, persona, method = case
    label = route.key if variant == "-" else f"{route.key}[{variant}]"
    return f"{label}-{persona}-{method}"


@pytest.mark.parametrize(("route", "variant", "persona", "method"), SWEEP, ids=[_id(c) for c in SWEEP])
def test_outsiders_get_nothing(world, route, variant, persona, method):
    failures = sweep.check(world, route, variant, persona, method)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("key", "variant", "record"),
    [
        ("cases:case_detail", "case", "cases.case"),
        ("cases:case_notes", "confidential case", "cases.case"),
        ("cases:beneficiary_detail", "child", "cases.beneficiary"),
        ("referrals:detail", "sent by A", "referrals.referral"),
    ],
)
def test_a_refused_record_is_exactly_one_denial(world, key, variant, record):
    from atensi.core.models import AccessLog

    route = next(r for r in sweep.routes() if r.key == key)
    for persona in ("b_supervisor", "b_org_admin"):
        last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        assert not sweep.check(world, route, variant, persona, "GET")
        rows = list(AccessLog.objects.filter(pk__gt=last).values_list("action", "target_type"))
        assert rows == [("denied", record)], (persona, rows)


CONTROL = [
    (route, variant)
    for route in sweep.routes()
    if route.key in sweep.FILL or (route.admin and route.params and route.model_label in sweep.ADMIN_OBJECTS)
    for variant in sweep.variants(route)
    if not variant.startswith("under B's own") and (route.key, variant) not in sweep.CONTROL_EXEMPT
]


@pytest.mark.parametrize(
    ("route", "variant"), CONTROL, ids=[r.key if v == "-" else f"{r.key}[{v}]" for r, v in CONTROL]
)
def test_the_records_open_for_organisation_a(world, route, variant):
    """The control: filled with A's records, each pattern answers A's insider (the superuser
    in admin) with something other than 404, so the outsiders' 404s mean refusals."""
    persona = "superuser" if route.admin else sweep.CONTROL_PERSONA.get(route.key, "a_insider")
    status, _body = sweep.reach(world, route, variant, persona)
    assert status != 404 and status < 500, status


# What each search of the sweep finds for A's own people: the outsiders' empty results
# are then the scoping's doing, not a search that finds nothing.
SEARCHES = {
    "cases:beneficiary_search": ("a_insider", "child"),
    "cases:case_list": ("a_insider", "confidential child"),
    "admin:cases_case_changelist": ("superuser", "confidential child"),
    "admin:cases_beneficiary_changelist": ("superuser", "child"),
}


@pytest.mark.parametrize("key", sorted(SEARCHES))
def test_the_searches_find_a_for_a(world, key):
    persona, secret = SEARCHES[key]
    status, body = sweep.reach(world, _route(key), "-", persona)
    assert status == 200 and sweep.SECRETS[secret] in body


def unfilled(routes: list[sweep.Route]) -> list[str]:
    return [
        r.key
        for r in routes
        if r.params
        and r.key not in sweep.ALLOWLIST
        and r.key not in sweep.FILL
        and not (r.admin and r.model_label in sweep.ADMIN_OBJECTS)
    ]


def test_every_pattern_is_filled_or_allowlisted():
    missing = unfilled(sweep.routes())
    assert not missing, (
        "add a factory or an allowlist entry for " + ", ".join(missing) + ": A's record in tests/url_sweep.py FILL"
        " (ADMIN_OBJECTS for an admin model), or an ALLOWLIST entry with its reason"
    )


def test_a_pattern_added_to_the_urlconf_is_swept_and_fails_until_filled(monkeypatch):
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    import atensi.urls

    def frobnicate(request: Any, pk: int) -> HttpResponse:
        return HttpResponse("unscoped")

    monkeypatch.setattr(
        atensi.urls, "urlpatterns", [*atensi.urls.urlpatterns, path("cases/<int:pk>/frobnicate/", frobnicate)]
    )
    clear_url_caches()
    try:
        routes = sweep.routes()
    finally:
        monkeypatch.undo()
        clear_url_caches()
    assert "unnamed:cases/<int:pk>/frobnicate/" in unfilled(routes)


def test_the_tables_name_only_patterns_that_exist():
    keys = {r.key for r in sweep.routes()}
    labels = {r.model_label for r in sweep.routes() if r.model_label}
    assert set(sweep.FILL) <= keys, set(sweep.FILL) - keys
    assert set(sweep.ALLOWLIST) <= keys, set(sweep.ALLOWLIST) - keys
    assert set(sweep.ADMIN_OBJECTS) <= labels, set(sweep.ADMIN_OBJECTS) - labels
    assert all(entry.reason for entry in sweep.ALLOWLIST.values())


def test_a_new_pattern_without_records_fails_the_sweep(world):
    new = sweep.Route("cases:case_frobnicate", "cases/<int:pk>/frobnicate/", ("pk",), False, None)
    failures = sweep.check(world, new, "-", "b_org_admin", "GET")
    assert len(failures) == 1
    assert failures[0].startswith(
        "add a factory or an allowlist entry for cases:case_frobnicate (cases/<int:pk>/frobnicate/, parameters ('pk',))"
    )


# --- The sweep bites ----------------------------------------------------------------------


def _route(key: str) -> sweep.Route:
    return next(r for r in sweep.routes() if r.key == key)


def test_an_unscoped_case_lookup_is_reported(world, monkeypatch):
    from cases.models import Case
    from cases.views import case as case_views

    route = _route("cases:case_detail")
    assert sweep.check(world, route, "case", "b_org_admin", "GET") == []

    def unscoped(*, user: Any, case_id: Any) -> Case:
        return Case.objects.select_related("organisation", "beneficiary", "case_manager", "supervisor").get(pk=case_id)

    monkeypatch.setattr(case_views, "case_get_for_user", unscoped)
    failures = sweep.check(world, route, "confidential case", "b_org_admin", "GET")
    assert any("an outsider must get 404, got 200" in f for f in failures), failures
    assert any("confidential child" in f for f in failures), failures
    assert any("rows were written in atensi_accesslog" in f for f in failures), failures


def test_a_write_by_an_outsider_is_reported(world, monkeypatch):
    from django.http import HttpResponse

    from cases.models import Consent

    route = _route("cases:consent_withdraw")
    assert sweep.check(world, route, "A's", "b_supervisor", "POST") == []

    def withdraw_unscoped(request: Any, pk: int, consent_pk: int) -> HttpResponse:
        Consent.objects.filter(pk=consent_pk).update(given_by_name="diubah")
        return HttpResponse(status=404)

    monkeypatch.setattr(route.pattern, "callback", withdraw_unscoped)
    failures = sweep.check(world, route, "A's", "b_supervisor", "POST")
    assert failures and all("rows were written in cases_consent" in f for f in failures), failures


def test_a_refused_csrf_token_is_not_mistaken_for_a_refusal(world):
    route = _route("admin:cases_case_delete")
    failures = sweep.check(world, route, "-", "b_admin_staff", "POST", csrf="x" * 32)
    assert failures == [
        f"POST /admin/cases/case/{world.confidential_case.pk}/delete/ as b_admin_staff: "
        "the CSRF token was refused, so the view was never asked"
    ]


@pytest.mark.parametrize(
    ("model", "record"),
    [
        ("cases.case", "b_case"),
        ("cases.beneficiary", "b_beneficiary"),
        ("stakeholders.organisation", "org_b"),
        ("stakeholders.membership", "b_admin_membership"),
    ],
)
def test_b_staff_opens_b_records_in_admin(world, model, record):
    """The admin persona is strong enough: its own organisation's records open, so its
    refusals of A's records are the scoping's."""
    url = reverse(f"admin:{model.replace('.', '_')}_change", args=[world.objects[record].pk])
    assert sweep.client_for(world, "b_admin_staff").get(url).status_code == 200


def test_the_colleague_works_on_a_open_cases(world):
    """The colleague persona is a working member of A: A's other case opens for them, so
    their 404s on the confidential case are its confidentiality."""
    status, body = sweep.reach(world, _route("cases:case_detail"), "case", "a_colleague")
    assert status == 200 and sweep.SECRETS["child"] in body


def test_the_colleague_s_search_does_not_name_the_confidential_child(world):
    """In the organisation-wide list a colleague finds A's other case, but a search for a
    part of the confidential child's name shows neither the name nor the case number."""
    client = sweep.client_for(world, "a_colleague")
    everything = client.get(reverse("cases:case_list"), {"scope": "all", "status": "all"}).content.decode()
    assert world.case.number in everything
    searched = client.get(reverse("cases:case_list"), {"scope": "all", "status": "all", "q": "Rahasiaputri"})
    html = searched.content.decode()
    assert sweep.SECRETS["confidential child"] not in html and world.confidential_case.number not in html
