"""A child's NIK never travels in a URL (server logs, browser history, Referer headers): the
registration search is POSTed and answered on its own page, the registration form gets the
searched NIK by a short-lived reference (atensi.core.stash), and the case list is filtered
by a NIK through a POSTed form that redirects to such a reference. A NIK given in a query
string is never searched."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from atensi.core.models import AccessLog
from cases.models import Beneficiary
from cases.tests.factories import BeneficiaryFactory, open_case
from cases.tests.test_beneficiaries import BOY_NIK, GIRL_NIK, form_data
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:beneficiary_search")
CREATE = reverse("cases:beneficiary_create")
LIST = reverse("cases:case_list")
FIND = reverse("cases:case_list_nik")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# Every attribute of a page that holds a URL, and the hidden "come back here" fields.
URL_ATTRIBUTES = re.compile(
    r'(?:href|action|src|formaction|hx-get|hx-post|hx-push-url|data-[a-z-]*url)="([^"]*)"'
    r'|name="next"[^>]*value="([^"]*)"'
)


def urls_of(response) -> list[str]:
    found = [response.get("Location", "")]
    if not getattr(response, "streaming", False):
        found += [a or b for a, b in URL_ATTRIBUTES.findall(response.content.decode())]
    return found


def assert_no_nik_in_urls(response, nik: str) -> None:
    spaced = f"{nik[:6]} {nik[6:12]} {nik[12:]}"
    leaked = [url for url in urls_of(response) if nik in url or spaced in url or nik[:12] in url]
    assert leaked == [], leaked


# --- The registration search -------------------------------------------------------------


def test_the_search_flow_carries_no_nik_in_any_url(client_for, org, other_org, owner):
    elsewhere = member(organisation=other_org)
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Rahmat Lain", regency_code="1571")
    client = client_for(owner)
    form_page = client.get(SEARCH, **EN)
    assert 'method="post"' in form_page.content.decode()

    found = client.post(SEARCH, {"full_name": "Rahmat Hidayat", "nik": BOY_NIK}, **EN)
    assert found.status_code == 200 and found.context["result"] is not None
    assert_no_nik_in_urls(found, BOY_NIK)
    create_url = found.context["create_url"]
    assert create_url.startswith(CREATE) and "nik_ref=" in create_url

    # The registration form gets the NIK by its reference, and shows it in the field only.
    page = client.get(create_url, **EN)
    assert page.status_code == 200 and page.context["form"].initial["nik"] == BOY_NIK
    assert_no_nik_in_urls(page, BOY_NIK)
    # Registering a child with the same name elsewhere asks "not the same child?" first, still by POST.
    action = re.search(r'data-testid="beneficiary-form"', page.content.decode())
    assert action is not None
    asked = client.post(create_url, form_data(org, full_name="Rahmat Lain", nik=BOY_NIK), **EN)
    assert asked.status_code == 200 and asked.context["candidates"]
    assert_no_nik_in_urls(asked, BOY_NIK)
    candidate = asked.context["candidates"][0].pk
    done = client.post(create_url, form_data(org, full_name="Rahmat Lain", nik=BOY_NIK, not_same=[candidate]))
    assert done.status_code == 302 and BOY_NIK not in done["Location"]
    assert Beneficiary.objects.filter(nik=BOY_NIK, organisation=org).exists()


def test_the_nik_reference_is_the_searchers_own(client_for, org, owner, colleague):
    found = client_for(owner).post(SEARCH, {"nik": GIRL_NIK})
    create_url = found.context["create_url"]
    assert client_for(colleague).get(create_url).context["form"].initial.get("nik") is None
    by_hand = client_for(owner).get(f"{CREATE}?nik={GIRL_NIK}")
    assert by_hand.context["form"].initial.get("nik") is None
    assert_no_nik_in_urls(by_hand, GIRL_NIK)  # not carried on in the form's action or the language switch


def test_a_nik_in_the_query_string_is_not_searched(client_for, org, owner):
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Siti Rahma", nik=GIRL_NIK)
    client = client_for(owner)
    response = client.get(SEARCH, {"nik": GIRL_NIK, "full_name": "Siti Rahma"}, **EN)
    assert response.status_code == 400 and response.context["result"] is None
    assert "A NIK is never searched from a link or the address bar" in response.content.decode()
    assert not response.context["form"].is_bound  # the NIK is not even shown back
    assert not AccessLog.objects.filter(action="search").exists()
    # In Indonesian, the default language, too.
    assert "NIK tidak pernah dicari dari tautan" in client.get(SEARCH, {"nik": GIRL_NIK}).content.decode()


def test_a_name_search_by_link_still_works(client_for, org, owner):
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Siti Rahma")
    response = client_for(owner).get(SEARCH, {"full_name": "Siti Rahma"}, **EN)
    assert response.status_code == 200 and response.context["result"].matches


# --- The case list -------------------------------------------------------------------------


@pytest.fixture
def two_children(org, owner):
    girl = open_case(
        organisation=org, by=owner, beneficiary=BeneficiaryFactory(organisation=org, created_by=owner, nik=GIRL_NIK)
    )
    boy = open_case(
        organisation=org, by=owner, beneficiary=BeneficiaryFactory(organisation=org, created_by=owner, nik=BOY_NIK)
    )
    return girl, boy


def numbers(response) -> list[str]:
    return [row.number for row in response.context["page"].rows]


def test_the_case_list_finds_a_nik_by_post_and_a_reference(client_for, org, owner, two_children):
    girl, _boy = two_children
    client = client_for(owner)
    response = client.post(FIND, {"nik": f"{GIRL_NIK[:6]} {GIRL_NIK[6:]}"})
    assert response.status_code == 302 and "nik_ref=" in response["Location"]
    assert_no_nik_in_urls(response, GIRL_NIK)
    page = client.get(response["Location"], **EN)
    assert numbers(page) == [girl.number]
    assert 'data-testid="case-nik-filter"' in page.content.decode()
    assert_no_nik_in_urls(page, GIRL_NIK)
    # Its export is of the same one case, from the same reference.
    export = client.get(reverse("cases:case_export_csv") + "?" + response["Location"].split("?", 1)[1])
    rows = b"".join(export.streaming_content).decode().strip().splitlines()
    assert len(rows) == 2 and girl.number in rows[1]


def test_another_persons_reference_finds_nothing(client_for, org, owner, colleague, two_children):
    location = client_for(owner).post(FIND, {"nik": GIRL_NIK})["Location"]
    page = client_for(colleague).get(location, **EN)
    assert numbers(page) == [] and "This search by NIK has expired" in page.content.decode()


def test_a_nik_in_the_list_s_query_string_is_not_searched(client_for, org, owner, two_children):
    page = client_for(owner).get(LIST, {"q": GIRL_NIK, "status": "all", "scope": "all"}, **EN)
    assert page.status_code == 200 and page.context["filters"].q == ""
    assert len(numbers(page)) == 2  # the rest of the filters, without the NIK
    assert "A NIK is not searched from the page" in page.content.decode()
    assert page.context["form"]["q"].value() in (None, "")
    assert_no_nik_in_urls(page, GIRL_NIK)


def test_a_bad_nik_is_a_message_and_no_search(client_for, org, owner, two_children):
    response = client_for(owner).post(FIND, {"nik": "12345"}, follow=True, **EN)
    assert response.redirect_chain[-1][0] == LIST
    assert "A NIK has exactly 16 digits." in response.content.decode()
    assert client_for(owner).get(FIND).status_code == 405


def test_who_works_no_cases_has_no_nik_search(client_for, other_org, org):
    viewer = member(organisation=other_org, role=Role.VIEWER)
    assert client_for(viewer).post(FIND, {"nik": GIRL_NIK}).status_code == 404


def test_with_redis_down_a_nik_search_is_a_message_not_an_error(client_for, org, owner, two_children, settings):
    location = client_for(owner).post(FIND, {"nik": GIRL_NIK})["Location"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client_for(owner).post(FIND, {"nik": GIRL_NIK}, follow=True, **EN)
    assert response.status_code == 200 and "unavailable for a moment" in response.content.decode()
    page = client_for(owner).get(location, **EN)
    assert page.status_code == 200 and numbers(page) == []
    assert "This search by NIK has expired" in page.content.decode()
