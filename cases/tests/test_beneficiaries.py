"""Beneficiaries: NIK and identity checks, the search before registration (exact NIK and
fuzzy name, without leaking other organisations' children), registration with duplicate
confirmation, edits and conflicts, family, the private photo, merging, and opening a case."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog, AmpkCategory
from atensi.testing.files import image_bytes, png_bytes
from cases import beneficiaries as svc
from cases.models import (
    Beneficiary,
    BeneficiaryMerge,
    Case,
    FamilyMember,
    ReportStatus,
    Sex,
    Stage,
    TimelineEntry,
)
from cases.permissions import can_edit_beneficiary
from cases.tests.factories import BeneficiaryFactory, cluster, logged_in, open_case, report_for, village
from cases.tests.workflow_helpers import close
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:beneficiary_search")
CREATE = reverse("cases:beneficiary_create")
MERGE = reverse("cases:beneficiary_merge")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# A child born 17 May 2015 in Telanaipura (157101), Kota Jambi; +40 on the day for a girl.
BOY_NIK = "1571011705150001"
GIRL_NIK = "1571015705150002"
PNG_BYTES = png_bytes()


def nik(*, district: str = "157101", day: int = 17, month: int = 5, year: int = 15, seq: str = "0001") -> str:
    return f"{district}{day:02d}{month:02d}{year:02d}{seq}"


def form_data(org, **overrides):
    data = {
        "organisation": org.pk,
        "submission_token": str(uuid.uuid4()),
        "full_name": "Rahmat Hidayat",
        "sex": "M",
        "birth_date": "2015-05-17",
        "village": "1571011004",
        "cluster": cluster().pk,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register(client, org, **overrides):
    return client.post(CREATE, form_data(org, **overrides), **EN)


def errors_of(response):
    form = response.context["form"]
    return {name: [str(e) for e in errs] for name, errs in form.errors.items()}


def body(response) -> str:
    return response.content.decode()


# --- Identity checks ------------------------------------------------------------------------


def test_a_valid_nik_registers_the_child(client_for, org, owner):
    response = register(client_for(owner), org, nik=BOY_NIK)
    b = Beneficiary.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:beneficiary_detail", args=[b.pk])
    assert (b.nik, b.regency_code, b.organisation, b.created_by) == (BOY_NIK, "1571", org, owner)
    assert b.birth_date == datetime.date(2015, 5, 17) and not b.birth_date_estimated


def test_the_nik_may_be_typed_with_spaces(client_for, org, owner):
    register(client_for(owner), org, nik="1571 0117 0515 0001")
    assert Beneficiary.objects.get().nik == BOY_NIK


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("157101170515", "A NIK has exactly 16 digits."),
        ("15710117051500A1", "A NIK has exactly 16 digits."),
        ("1571013205150001", "Digits 7 to 12 of a NIK are the birth date (DDMMYY, day plus 40 for women); 320515"),
        ("1571011713150001", "171315 is not a date"),
        ("1571011705150000", "The last 4 digits of a NIK cannot be 0000."),
    ],
)
def test_an_invalid_nik_is_refused_with_the_reason(client_for, org, owner, value, message):
    response = register(client_for(owner), org, nik=value)
    assert response.status_code == 200
    assert any(message in e for e in errors_of(response)["nik"])
    assert not Beneficiary.objects.exists()


def test_a_girls_nik_carries_day_plus_40(client_for, org, owner):
    register(client_for(owner), org, nik=GIRL_NIK, sex="F")
    assert Beneficiary.objects.get().nik == GIRL_NIK


def test_it_says_which_birth_date_the_nik_disagrees_with(client_for, org, owner):
    response = register(client_for(owner), org, nik=BOY_NIK, birth_date="2015-05-18")
    assert errors_of(response)["nik"] == ["The NIK says born 17-05-2015 but the birth date entered is 18-05-2015."]
    assert not Beneficiary.objects.exists()


def test_it_says_when_a_girls_nik_is_entered_for_a_boy(client_for, org, owner):
    response = register(client_for(owner), org, nik=GIRL_NIK, sex="M")
    assert errors_of(response)["nik"] == [
        "The NIK's day of birth is above 40, which means female, but the sex entered is Male."
    ]
    assert not Beneficiary.objects.exists()


def test_it_says_when_a_boys_nik_is_entered_for_a_girl(client_for, org, owner):
    response = register(client_for(owner), org, nik=BOY_NIK, sex="F")
    assert errors_of(response)["nik"] == [
        "The NIK's day of birth is 40 or below, which means male, but the sex entered is Female."
    ]


def test_both_disagreements_are_reported_at_once(client_for, org, owner):
    response = register(client_for(owner), org, nik=GIRL_NIK, sex="M", birth_date="2014-01-01")
    assert len(errors_of(response)["nik"]) == 2


def test_an_estimated_birth_date_is_not_compared_with_the_nik(client_for, org, owner):
    age = timezone.localdate().year - 2013  # "about 12" for a child the NIK says was born in 2015
    response = register(client_for(owner), org, nik=BOY_NIK, birth_date=None, approximate_age=age)
    assert response.status_code == 302
    b = Beneficiary.objects.get()
    assert b.birth_date_estimated and b.birth_date == datetime.date(2013, 7, 1)


def test_an_approximate_age_is_stored_as_1_july(client_for, org, owner):
    register(client_for(owner), org, birth_date=None, approximate_age=9)
    b = Beneficiary.objects.get()
    assert b.birth_date == datetime.date(timezone.localdate().year - 9, 7, 1)
    assert b.birth_date_estimated


def test_the_nik_gives_the_birth_date_when_none_is_entered(client_for, org, owner):
    register(client_for(owner), org, nik=BOY_NIK, birth_date=None)
    b = Beneficiary.objects.get()
    assert b.birth_date == datetime.date(2015, 5, 17) and not b.birth_date_estimated


def test_a_birth_date_or_an_age_is_needed(client_for, org, owner):
    response = register(client_for(owner), org, birth_date=None)
    assert errors_of(response)["birth_date"] == ["Enter the birth date, or an approximate age if it is not known."]
    response = register(client_for(owner), org, approximate_age=3)
    [message] = errors_of(response)["approximate_age"]
    assert message.startswith("The birth date makes the child ") and "approximate age says 3" in message
    assert not Beneficiary.objects.exists()


def test_a_birth_date_wins_over_a_close_estimate(client_for, org, owner):
    # A report's approximate age is prefilled; the worker then learns the real date.
    age = Beneficiary(birth_date=datetime.date(2015, 5, 17)).age()
    assert age is not None
    register(client_for(owner), org, birth_date="2015-05-17", approximate_age=age + 1)
    b = Beneficiary.objects.get()
    assert b.birth_date == datetime.date(2015, 5, 17) and not b.birth_date_estimated


def test_an_unknown_kecamatan_is_only_a_warning(client_for, org, owner):
    client = client_for(owner)
    response = client.post(CREATE, form_data(org, nik=nik(district="157199")), follow=True, **EN)
    assert Beneficiary.objects.get().nik == nik(district="157199")
    text = [str(m) for m in response.context["messages"]]
    assert any("Digits 1 to 6 of the NIK (157199) are not a kecamatan" in m for m in text)


def test_a_known_kecamatan_gives_no_warning():
    check = svc.identity_check(nik=BOY_NIK, sex="M", birth_date=datetime.date(2015, 5, 17))
    assert check.errors == [] and check.warnings == []
    assert check.nik_parts is not None and check.nik_parts.district_code == "157101"


def test_a_birth_date_in_the_future_is_refused(client_for, org, owner):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = register(client_for(owner), org, birth_date=tomorrow.isoformat())
    assert errors_of(response)["birth_date"] == [
        f"The birth date {tomorrow:%d-%m-%Y} is in the future. Check the year."
    ]
    assert not Beneficiary.objects.exists()


def test_ampk_on_an_adult_is_refused(client_for, org, owner):
    ampk = AmpkCategory.objects.first()
    response = register(client_for(owner), org, birth_date="1990-01-01", ampk_categories=[ampk.pk])
    assert "AMPK categories are for children under 18" in errors_of(response)["ampk_categories"][0]
    assert not Beneficiary.objects.exists()
    register(client_for(owner), org, ampk_categories=[ampk.pk])
    assert list(Beneficiary.objects.get().ampk_categories.all()) == [ampk]


@pytest.mark.parametrize("value", ["12345", "1571010101010101X", "15710101010101011"])
def test_an_invalid_kk_is_refused(client_for, org, owner, value):
    response = register(client_for(owner), org, kk_number=value)
    assert "A family card (KK) number has exactly 16 digits" in errors_of(response)["kk_number"][0]
    assert not Beneficiary.objects.exists()


def test_a_kk_is_16_digits_and_nothing_more(client_for, org, owner):
    register(client_for(owner), org, kk_number="0000 0000 0000 0001")
    assert Beneficiary.objects.get().kk_number == "0000000000000001"


def test_the_service_checks_identity_itself(org, owner):
    with pytest.raises(ApplicationError) as excinfo:
        svc.beneficiary_create(
            by=owner,
            organisation=org,
            full_name="Rahmat",
            sex=Sex.FEMALE,
            birth_date=datetime.date(2015, 5, 17),
            nik=BOY_NIK,
            cluster=cluster(),
        )
    assert excinfo.value.field == "nik"
    assert not Beneficiary.objects.exists()


def test_a_community_reporter_cannot_register(client_for, org):
    reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
    client = client_for(reporter)
    assert client.get(SEARCH).status_code == 404
    assert client.post(CREATE, form_data(org)).status_code == 404
    assert not Beneficiary.objects.exists()


def test_one_cannot_register_for_another_organisation(client_for, org, other_org, owner):
    response = register(client_for(owner), other_org)
    assert "organisation" in errors_of(response)
    assert not Beneficiary.objects.exists()


# --- Search before create -------------------------------------------------------------------


def test_an_exact_nik_match_i_may_see_is_shown_with_a_link(client_for, org, owner, colleague):
    b = BeneficiaryFactory(organisation=org, created_by=colleague, full_name="Siti Rahma", nik=GIRL_NIK, sex="F")
    response = client_for(owner).post(SEARCH, {"nik": GIRL_NIK}, **EN)
    assert response.status_code == 200
    match = response.context["result"].nik_match
    assert match.visible and match.pk == b.pk
    assert "Siti Rahma" in body(response)
    assert reverse("cases:beneficiary_detail", args=[b.pk]) in body(response)
    assert response.context["create_url"] is None  # no "register a new child" for a known NIK


def test_an_exact_nik_match_elsewhere_names_only_the_organisation(client_for, org, other_org, owner):
    elsewhere = member(organisation=other_org)
    b = BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Siti Rahasia", nik=GIRL_NIK)
    b.family.create(relation="mother", name="Ibu Rahasia")
    response = client_for(owner).post(SEARCH, {"nik": GIRL_NIK}, **EN)
    text = body(response)
    assert "A person with this NIK is registered with Balai Anak Lain. Ask them for a referral or a transfer" in text
    for secret in ("Siti Rahasia", "Rahasia", reverse("cases:beneficiary_detail", args=[b.pk])):
        assert secret not in text


def test_registering_a_nik_registered_elsewhere_is_refused_without_the_name(client_for, org, other_org, owner):
    elsewhere = member(organisation=other_org)
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Siti Rahasia", nik=BOY_NIK)
    response = register(client_for(owner), org, nik=BOY_NIK, full_name="Budi")
    assert errors_of(response)["nik"] == [
        "A person with this NIK is registered with Balai Anak Lain. Ask them for a referral or a transfer "
        "instead of registering the child again."
    ]
    assert "Rahasia" not in body(response)
    assert Beneficiary.objects.count() == 1


def test_fuzzy_matches_elsewhere_show_organisation_and_year_only(client_for, org, other_org, owner, colleague):
    elsewhere = member(organisation=other_org)
    mine = BeneficiaryFactory(organisation=org, created_by=colleague, full_name="Rahmat Hidayat", regency_code="1571")
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Rachmat Hidayat", regency_code="1571")
    # Another kab/kota, another age, another name: not candidates.
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Rahmat Hidayat", regency_code="1371")
    BeneficiaryFactory(
        organisation=other_org,
        created_by=elsewhere,
        full_name="Rahmat Hidayat",
        regency_code="1571",
        birth_date=datetime.date(2010, 1, 1),
    )
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="Dewi Lestari", regency_code="1571")
    response = client_for(owner).get(
        SEARCH, {"full_name": "rahmat hidayat", "birth_year": "2016", "regency": "1571"}, **EN
    )
    matches = response.context["result"].matches
    assert [m.visible for m in matches] == [True, False]
    assert matches[0].pk == mine.pk
    text = body(response)
    assert "Possible match registered with Balai Anak Lain, born 2015" in text
    assert "Rachmat" not in text
    assert response.context["create_url"].startswith(CREATE)


def test_a_merged_record_is_not_a_match(org, owner):
    a = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Hidayat")
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Hidayat", merged_into=a)
    assert [m.pk for m in svc.possible_duplicates(user=owner, full_name="Rahmat Hidayat")] == [a.pk]


def test_a_record_with_another_nik_is_not_a_possible_duplicate(org, owner):
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Hidayat", nik=nik(seq="0009"))
    assert svc.possible_duplicates(user=owner, full_name="Rahmat Hidayat", nik=BOY_NIK) == []
    assert len(svc.possible_duplicates(user=owner, full_name="Rahmat Hidayat")) == 1


def test_the_search_needs_a_name_or_a_nik(client_for, owner):
    response = client_for(owner).get(SEARCH, {"full_name": "ab"}, **EN)
    assert response.context["result"] is None
    assert "Type at least 3 letters of the name, or the NIK." in body(response)
    response = client_for(owner).post(SEARCH, {"nik": "123"}, **EN)
    assert response.context["result"] is None and "A NIK has exactly 16 digits." in body(response)


@pytest.mark.parametrize(
    "params",
    [
        {"full_name": "x" * 500},
        {"birth_year": "abc", "full_name": "Rahmat"},
        {"birth_year": "3000", "full_name": "Rahmat"},
        {"regency": "9999", "full_name": "Rahmat"},
        {"full_name": "%_%"},
        {"report": "not-a-uuid"},
    ],
)
def test_bad_search_input_never_breaks_the_page(client_for, owner, params):
    response = client_for(owner).get(SEARCH, params, **EN)
    assert response.status_code in (200, 404)


def test_the_search_page_costs_the_same_with_many_matches(
    client_for, org, other_org, owner, colleague, django_assert_max_num_queries
):
    elsewhere = member(organisation=other_org)
    client = client_for(owner)
    params = {"full_name": "Rahmat Hidayat", "nik": BOY_NIK, "birth_year": "2015", "regency": "1571"}
    BeneficiaryFactory(organisation=other_org, created_by=elsewhere, full_name="X", nik=BOY_NIK)
    for i in range(8):
        who, by = (org, colleague) if i % 2 else (other_org, elsewhere)
        b = BeneficiaryFactory(organisation=who, created_by=by, full_name=f"Rahmat Hidayat {i}", regency_code="1571")
        if i % 4 == 1:
            open_case(organisation=org, by=colleague, beneficiary=b)
    client.post(SEARCH, params)  # warm the session and the region picker
    # 12 for the search, 2 for its access log (the holders, one insert) and 5 for the hourly
    # limit on other organisations' matches (savepoint, lock, count, insert, release).
    with django_assert_max_num_queries(19):
        response = client.post(SEARCH, params)
    assert len(response.context["result"].matches) == 8


def test_the_name_search_can_use_the_trigram_indexes(org, owner):
    BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Hidayat")
    qs = Beneficiary.objects.annotate(uname=Upper("full_name")).filter(uname__trigram_similar="RAHMAT").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "beneficiary_name_trgm" in plan


# --- Registration with duplicates -------------------------------------------------------------


def test_a_fuzzy_duplicate_must_be_confirmed_as_another_child(client_for, org, other_org, owner):
    elsewhere = member(organisation=other_org)
    other = BeneficiaryFactory(
        organisation=other_org, created_by=elsewhere, full_name="Rachmat Hidayat", regency_code="1571"
    )
    client = client_for(owner)
    data = form_data(org)
    response = client.post(CREATE, data, **EN)
    assert response.status_code == 200
    assert [c.pk for c in response.context["candidates"]] == [other.pk]
    assert "This child may already be registered." in body(response)
    assert "Rachmat" not in body(response)
    assert Beneficiary.objects.count() == 1

    # The same form (same token) with "not the same child" ticked goes through.
    response = client.post(CREATE, {**data, "not_same": [str(other.pk)]}, **EN)
    assert response.status_code == 302
    new = Beneficiary.objects.exclude(pk=other.pk).get()
    assert list(new.distinct_from.all()) == [other]
    assert list(other.distinct_from.all()) == [new]


def test_ticking_an_unrelated_record_links_nothing(client_for, org, owner):
    unrelated = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Dewi Lestari")
    register(client_for(owner), org, not_same=[str(unrelated.pk)])
    new = Beneficiary.objects.get(full_name="Rahmat Hidayat")
    assert not new.distinct_from.exists()


def test_a_double_submit_saves_once(client_for, org, owner):
    client = client_for(owner)
    data = form_data(org)
    first = client.post(CREATE, data, **EN)
    second = client.post(CREATE, data, follow=True, **EN)
    assert Beneficiary.objects.count() == 1
    b = Beneficiary.objects.get()
    assert first.url == reverse("cases:beneficiary_detail", args=[b.pk])
    assert second.redirect_chain[-1][0] == reverse("cases:beneficiary_detail", args=[b.pk])
    assert any("already saved" in str(m) for m in second.context["messages"])


def test_registering_from_a_report_prefills_and_goes_on_to_the_case(client_for, org, owner, supervisor):
    ampk = AmpkCategory.objects.first()
    report = report_for(organisation=org, by=owner, child_name="Putri Ayu", child_sex="F", child_age=8)
    report.ampk_categories.add(ampk)
    client = client_for(supervisor)
    url = f"{CREATE}?report={report.public_id}"
    form = client.get(url, **EN).context["form"]
    assert form.initial["full_name"] == "Putri Ayu" and form.initial["approximate_age"] == 8
    assert form.initial["village"] == "1571011004" and form.initial["ampk_categories"] == [ampk.pk]
    response = client.post(
        url, form_data(org, full_name="Putri Ayu", sex="F", birth_date=None, approximate_age=8), **EN
    )
    b = Beneficiary.objects.get()
    assert response.url == reverse("cases:case_create", args=[b.pk]) + f"?report={report.public_id}"


def test_a_report_i_may_not_see_is_404(client_for, org, other_org, owner, outsider):
    report = report_for(organisation=org, by=owner)
    worker = member(organisation=other_org)
    assert client_for(worker).get(f"{CREATE}?report={report.public_id}").status_code == 404
    assert client_for(worker).get(f"{SEARCH}?report={report.public_id}").status_code == 404


def test_the_search_starts_from_the_report(client_for, org, owner, supervisor):
    report = report_for(organisation=org, by=owner, child_name="Putri Ayu", child_age=8)
    response = client_for(supervisor).get(f"{SEARCH}?report={report.public_id}", **EN)
    assert response.context["result"] is not None
    assert f"report={report.public_id}" in response.context["create_url"]


# --- The person's page, edits, family -----------------------------------------------------------


@pytest.fixture
def child(org, owner):
    b = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Rahmat Hidayat", nik=BOY_NIK)
    b.village = village()
    b.regency_code = "1571"
    b.save()
    return b


def test_the_page_shows_identity_family_and_cases_and_is_audited(client_for, org, owner, child):
    child.family.create(relation="mother", name="Ibu Sari", is_legal_guardian=True)
    case = open_case(organisation=org, by=owner, beneficiary=child)
    response = client_for(owner).get(reverse("cases:beneficiary_detail", args=[child.pk]), **EN)
    text = body(response)
    assert "Rahmat Hidayat" in text and BOY_NIK in text and "Ibu Sari" in text and case.number in text
    assert "Telanaipura" in text
    assert AccessLog.objects.filter(target_type="cases.beneficiary", target_id=str(child.pk), action="view").exists()


def test_a_confidential_case_is_left_out_for_colleagues(client_for, org, owner, colleague, supervisor):
    child = BeneficiaryFactory(organisation=org, created_by=owner)
    hidden = open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    assert client_for(colleague).get(reverse("cases:beneficiary_detail", args=[child.pk])).status_code == 404
    response = client_for(supervisor).get(reverse("cases:beneficiary_detail", args=[child.pk]))
    assert hidden.number in body(response)


def test_the_page_lists_cases_with_the_query_budget(client_for, org, owner, child, django_assert_max_num_queries):
    for i in range(5):
        child.family.create(relation="sibling", name=f"Kakak {i}")
    open_case(organisation=org, by=owner, beneficiary=child)
    client = client_for(owner)
    url = reverse("cases:beneficiary_detail", args=[child.pk])
    client.get(url)
    with django_assert_max_num_queries(12):
        client.get(url)


def test_an_edit_saves_and_recomputes_the_kab_kota(client_for, owner, child):
    client = client_for(owner)
    url = reverse("cases:beneficiary_edit", args=[child.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, "")}
    data.update(
        village="1371111002", birth_date="2015-05-17", ampk_categories=[], ppks_types=[], alias="Mamat", sex="M"
    )
    data["cluster"] = child.cluster_id
    response = client.post(url, data, **EN)
    assert response.status_code == 302, errors_of(response)
    child.refresh_from_db()
    assert (child.alias, child.regency_code, child.village_id) == ("Mamat", "1371", "1371111002")


def test_an_edit_over_someone_elses_changes_is_refused(client_for, owner, colleague, child):
    url = reverse("cases:beneficiary_edit", args=[child.pk])
    mine = client_for(owner).get(url).context["form"]
    loaded = mine.initial["updated_at"]
    # A colleague saves first.
    svc.beneficiary_update(beneficiary=child, by=colleague, expected_updated_at=None, alias="Dayat")
    data = {
        "updated_at": loaded,
        "full_name": "Rahmat Hidayat",
        "alias": "Mamat",
        "sex": "M",
        "birth_date": "2015-05-17",
        "nik": BOY_NIK,
        "village": "1571011004",
        "cluster": child.cluster_id,
    }
    response = client_for(owner).post(url, data, **EN)
    assert response.status_code == 200
    assert "Someone else saved changes to Rahmat Hidayat while you were editing." in body(response)
    child.refresh_from_db()
    assert child.alias == "Dayat"


def test_an_edit_cannot_take_a_nik_registered_elsewhere(owner, other_org, child):
    other = BeneficiaryFactory(organisation=other_org, created_by=member(organisation=other_org), nik=GIRL_NIK)
    with pytest.raises(ApplicationError, match="registered with Balai Anak Lain"):
        svc.beneficiary_update(
            beneficiary=child, by=owner, expected_updated_at=None, nik=GIRL_NIK, sex="F", birth_date=other.birth_date
        )
    child.refresh_from_db()
    assert child.nik == BOY_NIK


def test_an_unchanged_estimate_keeps_its_date(client_for, org, owner):
    b = BeneficiaryFactory(
        organisation=org, created_by=owner, birth_date=datetime.date(2012, 7, 1), birth_date_estimated=True
    )
    form = client_for(owner).get(reverse("cases:beneficiary_edit", args=[b.pk])).context["form"]
    assert form.initial["birth_date"] is None and form.initial["approximate_age"] == b.age()
    data = {k: v for k, v in form.initial.items() if v not in (None, "")}
    data.update(ampk_categories=[], ppks_types=[], alias="Ucok", village="1571011004")
    client_for(owner).post(reverse("cases:beneficiary_edit", args=[b.pk]), data)
    b.refresh_from_db()
    assert b.birth_date == datetime.date(2012, 7, 1) and b.birth_date_estimated and b.alias == "Ucok"


def test_who_may_edit(org, other_org, owner, colleague, child):
    worker_elsewhere = member(organisation=other_org)
    assert can_edit_beneficiary(colleague, child)
    assert not can_edit_beneficiary(worker_elsewhere, child)
    # Another organisation that opens a case for the child may edit while the case is open.
    open_case(organisation=other_org, by=worker_elsewhere, beneficiary=child)
    assert can_edit_beneficiary(worker_elsewhere, child)
    reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
    assert not can_edit_beneficiary(reporter, child)


def test_family_members_are_added_and_edited(client_for, owner, child):
    client = client_for(owner)
    data = {
        "submission_token": str(uuid.uuid4()),
        "relation": "mother",
        "name": "Ibu  Sari",
        "nik": "1571014101850003",
        "phone": "0812-3456-7890",
        "is_legal_guardian": "on",
        "lives_with_beneficiary": "on",
    }
    assert client.post(reverse("cases:family_add", args=[child.pk]), data).status_code == 302
    assert client.post(reverse("cases:family_add", args=[child.pk]), data).status_code == 302  # double click
    mother = FamilyMember.objects.get()
    assert (mother.name, mother.phone, mother.is_legal_guardian) == ("Ibu Sari", "081234567890", True)
    url = reverse("cases:family_edit", args=[child.pk, mother.pk])
    form = client.get(url).context["form"]
    edit = {k: v for k, v in form.initial.items() if v not in (None, "", False)}
    edit["receives_pkh"] = "on"
    assert client.post(url, edit).status_code == 302
    mother.refresh_from_db()
    assert mother.receives_pkh


def test_a_family_nik_is_checked_for_its_format_only(client_for, owner, child):
    client = client_for(owner)
    url = reverse("cases:family_add", args=[child.pk])
    bad = {"relation": "father", "name": "Pak Budi", "nik": "123"}
    response = client.post(url, bad, **EN)
    assert errors_of(response)["nik"] == ["A NIK has exactly 16 digits."]
    response = client.post(url, {**bad, "phone": "12"}, **EN)
    assert "phone" in errors_of(response)
    assert not FamilyMember.objects.exists()


# --- Photo ----------------------------------------------------------------------------------------------


def test_a_photo_is_uploaded_and_served_privately(client_for, owner, child):
    client = client_for(owner)
    url = reverse("cases:beneficiary_photo", args=[child.pk])
    client.post(url, {"photo": SimpleUploadedFile("anak.PNG", PNG_BYTES, content_type="image/png")})
    child.refresh_from_db()
    assert child.photo.name.startswith("photos/") and child.photo.name.endswith(".png")
    assert "anak" not in child.photo.name
    response = client.get(url)
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    served = b"".join(response.streaming_content)
    assert served.startswith(b"\x89PNG") and same_pixels(served, PNG_BYTES)  # written again from its pixels
    assert AccessLog.objects.filter(target_id=str(child.pk), action="download").exists()


def same_pixels(a: bytes, b: bytes) -> bool:
    import io

    from PIL import Image

    first, second = Image.open(io.BytesIO(a)), Image.open(io.BytesIO(b))
    return first.size == second.size and first.convert("RGB").tobytes() == second.convert("RGB").tobytes()


def test_a_phone_photo_loses_its_gps_position(client_for, owner, child):
    """A JPEG's EXIF (here a GPS block and an orientation) is gone once stored; the picture
    is turned upright first."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turned 90 degrees
    exif[0x8825] = {1: "S", 2: (1.0, 36.0, 0.0), 3: "E", 4: (103.0, 36.0, 0.0)}  # GPS: Jambi
    photo = image_bytes("JPEG", size=(4, 2), exif=exif.tobytes())
    assert Image.open(io.BytesIO(photo)).getexif()
    client = client_for(owner)
    url = reverse("cases:beneficiary_photo", args=[child.pk])
    client.post(url, {"photo": SimpleUploadedFile("anak.jpg", photo, content_type="image/jpeg")})
    stored = Image.open(io.BytesIO(b"".join(client.get(url).streaming_content)))
    assert not stored.getexif() and not stored.info.get("exif")
    assert stored.size == (2, 4)  # upright


def test_a_photo_that_lies_about_its_type_is_refused(client_for, owner, child):
    client = client_for(owner)
    url = reverse("cases:beneficiary_photo", args=[child.pk])
    response = client.post(
        url,
        {"photo": SimpleUploadedFile("anak.jpg", b"MZ\x90\x00 not a jpeg", content_type="image/jpeg")},
        follow=True,
        **EN,
    )
    assert any("is not a real JPEG" in str(m) for m in response.context["messages"])
    child.refresh_from_db()
    assert not child.photo
    assert client.get(url).status_code == 404


def test_a_photo_is_removed(client_for, owner, child):
    client = client_for(owner)
    url = reverse("cases:beneficiary_photo", args=[child.pk])
    client.post(url, {"photo": SimpleUploadedFile("a.png", PNG_BYTES)})
    child.refresh_from_db()
    assert child.photo
    client.post(url, {"remove": "1"})
    child.refresh_from_db()
    assert not child.photo


# --- Outsiders ---------------------------------------------------------------------------------------------


def test_outsiders_get_404_on_every_url(client_for, org, other_org, owner, outsider, child):
    mother = child.family.create(relation="mother", name="Ibu Sari")
    svc.beneficiary_photo_set(beneficiary=child, by=owner, file=SimpleUploadedFile("a.png", PNG_BYTES))
    child.refresh_from_db()
    before = (child.updated_at, child.photo.name)
    worker_elsewhere = member(organisation=other_org)
    urls = [
        reverse("cases:beneficiary_detail", args=[child.pk]),
        reverse("cases:beneficiary_edit", args=[child.pk]),
        reverse("cases:beneficiary_photo", args=[child.pk]),
        reverse("cases:family_add", args=[child.pk]),
        reverse("cases:family_edit", args=[child.pk, mother.pk]),
        reverse("cases:case_create", args=[child.pk]),
    ]
    for user in (outsider, worker_elsewhere):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
            posted = client.post(url, {"full_name": "X", "remove": "1", "name": "X"})
            assert posted.status_code == (405 if url == urls[0] else 404), (user, url)
    supervisor_elsewhere = member(organisation=other_org, role=Role.SUPERVISOR)
    assert client_for(supervisor_elsewhere).get(MERGE, {"first": child.pk, "second": child.pk + 1}).status_code == 404
    child.refresh_from_db()
    assert (child.updated_at, child.photo.name) == before
    assert not Case.objects.exists() and FamilyMember.objects.get().name == "Ibu Sari"


def test_a_family_member_of_someone_else_is_404(client_for, org, owner, child):
    other = BeneficiaryFactory(organisation=org, created_by=owner)
    stranger = other.family.create(relation="father", name="Pak Lain")
    assert client_for(owner).get(reverse("cases:family_edit", args=[child.pk, stranger.pk])).status_code == 404


# --- Merge --------------------------------------------------------------------------------------------------


@pytest.fixture
def twins(org, owner):
    """Two records of one child, registered twice by the same organisation."""
    first = BeneficiaryFactory(
        organisation=org, created_by=owner, full_name="Rahmat Hidayat", nik=BOY_NIK, regency_code="1571"
    )
    second = BeneficiaryFactory(
        organisation=org,
        created_by=owner,
        full_name="Rahmat Hidayah",
        kk_number="1571010101100001",
        dtks_id="DTKS-77",
        birth_date=datetime.date(2015, 7, 1),
        birth_date_estimated=True,
        regency_code="1571",
    )
    return first, second


def test_a_merge_moves_everything_and_is_audited(client_for, org, owner, supervisor, twins):
    survivor, merged = twins
    closed_case = open_case(organisation=org, by=owner, beneficiary=merged)
    Case.objects.filter(pk=closed_case.pk).update(
        stage=Stage.CLOSED, closed_at=timezone.now(), closure_reason="goals_met"
    )
    mother = merged.family.create(relation="mother", name="Ibu Sari")
    someone = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Dewi")
    merged.distinct_from.add(someone)
    ampk = AmpkCategory.objects.first()
    merged.ampk_categories.add(ampk)

    client = client_for(supervisor)
    page = client.get(MERGE, {"first": survivor.pk, "second": merged.pk}, **EN)
    assert page.status_code == 200 and "Rahmat Hidayah" in body(page)
    response = client.post(
        MERGE,
        {
            "first": survivor.pk,
            "second": merged.pk,
            "survivor": survivor.pk,
            "reason": "Same KK, confirmed on a home visit",
            "submission_token": str(uuid.uuid4()),
        },
        **EN,
    )
    assert response.status_code == 302 and response.url == reverse("cases:beneficiary_detail", args=[survivor.pk])
    survivor.refresh_from_db()
    merged.refresh_from_db()
    closed_case.refresh_from_db()
    mother.refresh_from_db()
    assert merged.merged_into == survivor and merged.nik == ""
    assert closed_case.beneficiary == survivor and mother.beneficiary == survivor
    assert (survivor.kk_number, survivor.dtks_id, survivor.nik) == ("1571010101100001", "DTKS-77", BOY_NIK)
    assert survivor.birth_date == datetime.date(2015, 5, 17)  # a real date is not replaced by an estimate
    assert list(survivor.distinct_from.all()) == [someone] and not merged.distinct_from.exists()
    assert list(survivor.ampk_categories.all()) == [ampk]
    record = BeneficiaryMerge.objects.get()
    assert (record.survivor, record.merged, record.merged_by) == (survivor, merged, supervisor)
    assert record.moved["cases"] == [closed_case.pk] and record.moved["family_members"] == [mother.pk]
    assert record.moved["filled"]["kk_number"] == "1571010101100001"
    assert record.moved["merged_record"]["full_name"] == "Rahmat Hidayah"
    entry = TimelineEntry.objects.get(case=closed_case, kind="merge")
    assert entry.data == {"merged_id": merged.pk, "merged_name": "Rahmat Hidayah"} and entry.actor == supervisor
    events = apps.get_model("cases", "BeneficiaryEvent").objects.filter(pgh_obj_id=merged.pk, pgh_label="update")
    assert events.filter(merged_into_id=survivor.pk).exists()
    assert apps.get_model("cases", "CaseEvent").objects.filter(pgh_obj_id=closed_case.pk, beneficiary_id=survivor.pk)
    assert Beneficiary.objects.filter(pk=merged.pk).exists()  # nothing deleted

    # The merged record's address leads to the survivor.
    response = client.get(reverse("cases:beneficiary_detail", args=[merged.pk]))
    assert response.status_code == 302 and response.url == reverse("cases:beneficiary_detail", args=[survivor.pk])


def test_the_nik_moves_from_the_merged_record(org, owner, supervisor, twins):
    with_nik, without = twins
    svc.beneficiary_merge(survivor=without, merged=with_nik, by=supervisor, reason="Same child")
    without.refresh_from_db()
    with_nik.refresh_from_db()
    assert without.nik == BOY_NIK and with_nik.nik == ""
    assert BeneficiaryMerge.objects.get().moved["merged_record"]["nik"] == BOY_NIK
    # The estimate gives way to the NIK's real birth date.
    assert without.birth_date == datetime.date(2015, 5, 17) and not without.birth_date_estimated


def test_a_merge_by_a_social_worker_is_refused(client_for, owner, twins):
    first, second = twins
    data = {"first": first.pk, "second": second.pk, "survivor": first.pk, "reason": "Same"}
    assert client_for(owner).post(MERGE, data, **EN).status_code == 404
    with pytest.raises(ApplicationError, match="Only a supervisor"):
        svc.beneficiary_merge(survivor=first, merged=second, by=owner, reason="Same")
    second.refresh_from_db()
    assert second.merged_into is None and not BeneficiaryMerge.objects.exists()


def test_a_supervisor_elsewhere_cannot_merge(other_org, twins):
    first, second = twins
    boss = member(organisation=other_org, role=Role.SUPERVISOR)
    with pytest.raises(ApplicationError, match="Only a supervisor"):
        svc.beneficiary_merge(survivor=first, merged=second, by=boss, reason="Same")
    assert not BeneficiaryMerge.objects.exists()


def test_records_with_different_niks_are_not_merged(client_for, supervisor, twins):
    first, second = twins
    Beneficiary.objects.filter(pk=second.pk).update(nik=GIRL_NIK)
    response = client_for(supervisor).post(
        MERGE, {"first": first.pk, "second": second.pk, "survivor": first.pk, "reason": "Same"}, **EN
    )
    assert response.status_code == 200
    assert "The two records have different NIKs" in body(response)
    second.refresh_from_db()
    assert second.merged_into is None and second.nik == GIRL_NIK


def test_two_open_cases_in_one_organisation_block_the_merge(org, owner, supervisor, twins):
    first, second = twins
    open_case(organisation=org, by=owner, beneficiary=first)
    open_case(organisation=org, by=owner, beneficiary=second)
    with pytest.raises(ApplicationError, match="Both records have an open case at Balai Anak Uji"):
        svc.beneficiary_merge(survivor=first, merged=second, by=supervisor, reason="Same")
    assert Case.objects.filter(beneficiary=second).count() == 1


def test_a_merge_needs_a_reason(supervisor, twins):
    first, second = twins
    with pytest.raises(ApplicationError, match="Say why"):
        svc.beneficiary_merge(survivor=first, merged=second, by=supervisor, reason="  ")


def test_the_supervisor_sees_possible_duplicates_on_the_page(client_for, supervisor, twins):
    first, second = twins
    response = client_for(supervisor).get(reverse("cases:beneficiary_detail", args=[first.pk]))
    assert [m.pk for m in response.context["merge_candidates"]] == [second.pk]


def test_the_merge_page_and_edit_forms_are_logged_views(org, owner, supervisor):
    """Security review: the merge page and the edit form show the full record, so they are logged views."""
    a = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Budi Santoso")
    b = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Budi Santosa")
    assert (
        logged_in(supervisor).get(reverse("cases:beneficiary_merge") + f"?first={a.pk}&second={b.pk}").status_code
        == 200
    )
    assert set(AccessLog.objects.filter(user=supervisor).values_list("target_id", flat=True)) == {str(a.pk), str(b.pk)}
    assert logged_in(owner).get(reverse("cases:beneficiary_edit", args=[a.pk])).status_code == 200
    assert AccessLog.objects.filter(user=owner, target_id=str(a.pk)).exists()


@pytest.mark.parametrize("where", ["timeline_cursor", "merge_pair", "not_same_ids"])
def test_superscript_digits_are_not_ids(where, org, owner, supervisor):
    # Security review: "²".isdigit() is true but int("²") fails; ids from the query string
    # and the form are ASCII digits or ignored, never a crash.
    case = open_case(organisation=org, by=owner)
    if where == "timeline_cursor":
        response = logged_in(owner).get(reverse("cases:case_detail", args=[case.pk]) + "?before=%C2%B2")
    elif where == "merge_pair":
        url = reverse("cases:beneficiary_merge") + f"?first=%C2%B2&second={case.beneficiary_id}"
        response = logged_in(supervisor).get(url)
    else:
        response = logged_in(owner).post(reverse("cases:beneficiary_create"), {"not_same": "\u00b2"})
    assert response.status_code in (200, 302, 400, 404)


# --- Open a case --------------------------------------------------------------------------------------------


def case_data(org, supervisor, **overrides):
    data = {
        "submission_token": str(uuid.uuid4()),
        "organisation": org.pk,
        "cluster": cluster().pk,
        "basis": "keluarga",
        "source": "walk_in",
        "risk_level": "high",
        "summary": "Tidak sekolah, bekerja di pasar.",
        "case_manager": "",
        "supervisor": supervisor.pk,
    }
    data.update(overrides)
    return data


def test_a_case_is_opened_once(client_for, org, owner, supervisor, child):
    client = client_for(owner)
    url = reverse("cases:case_create", args=[child.pk])
    form = client.get(url).context["form"]
    assert form.initial["case_manager"] == owner.pk and form.initial["supervisor"] == supervisor.pk
    data = case_data(org, supervisor, case_manager=owner.pk)
    response = client.post(url, data, **EN)
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:case_detail", args=[case.pk])
    assert (case.beneficiary, case.case_manager, case.supervisor, case.risk_level) == (child, owner, supervisor, "high")
    assert case.summary == "Tidak sekolah, bekerja di pasar." and case.source == "walk_in"
    again = client.post(url, data, **EN)  # a double click
    assert again.status_code == 302 and again.url == response.url
    assert Case.objects.count() == 1


def test_a_second_open_case_links_to_the_first(client_for, org, owner, supervisor, child):
    existing = open_case(organisation=org, by=owner, beneficiary=child)
    url = reverse("cases:case_create", args=[child.pk])
    response = client_for(owner).post(url, case_data(org, supervisor, case_manager=owner.pk), **EN)
    assert response.status_code == 200
    assert response.context["existing"] == existing
    assert f"already has an open case here: {existing.number}" in body(response)
    assert reverse("cases:case_detail", args=[existing.pk]) in body(response)
    assert Case.objects.count() == 1


def test_a_case_is_opened_from_a_report(client_for, org, owner, supervisor, child):
    report = report_for(organisation=org, by=owner, urgency="emergency")
    url = reverse("cases:case_create", args=[child.pk]) + f"?report={report.public_id}"
    client = client_for(supervisor)
    form = client.get(url).context["form"]
    assert form.initial["source"] == "community_report" and form.initial["risk_level"] == "critical"
    response = client.post(url, case_data(org, supervisor, case_manager=owner.pk, source="community_report"))
    assert response.status_code == 302
    case = Case.objects.get()
    report.refresh_from_db()
    assert case.report == report and report.status == ReportStatus.CASE_OPENED


def test_the_case_manager_must_be_of_the_organisation(client_for, org, other_org, owner, supervisor, child):
    stranger = member(organisation=other_org)
    url = reverse("cases:case_create", args=[child.pk])
    response = client_for(owner).post(url, case_data(org, supervisor, case_manager=stranger.pk), **EN)
    assert "case_manager" in errors_of(response)
    assert not Case.objects.exists()


def test_a_report_triaged_meanwhile_is_not_linked(client_for, org, owner, supervisor, child):
    report = report_for(organisation=org, by=owner)
    open_case(organisation=org, by=supervisor, report=report)  # another child's case took the report
    url = reverse("cases:case_create", args=[child.pk]) + f"?report={report.public_id}"
    client = client_for(supervisor)
    response = client.get(url, **EN)
    assert any("was already triaged" in str(m) for m in response.context["messages"])
    assert response.context["form"].initial["source"] == "walk_in"
    client.post(url, case_data(org, supervisor, case_manager=owner.pk))
    assert Case.objects.get(beneficiary=child).report is None


def test_the_photo_moves_to_a_survivor_without_one(owner, supervisor, twins):
    survivor, merged = twins
    svc.beneficiary_photo_set(beneficiary=merged, by=owner, file=SimpleUploadedFile("a.png", PNG_BYTES))
    merged.refresh_from_db()
    name = merged.photo.name
    svc.beneficiary_merge(survivor=survivor, merged=merged, by=supervisor, reason="Same child")
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.photo.name == name and not merged.photo
    assert survivor.photo.storage.exists(name)


def test_opening_a_second_case_does_not_reveal_a_confidential_one(org, owner, colleague, supervisor):
    """Security review: the refusal of a second open case names neither a confidential case nor its child."""
    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    close(open_case(organisation=org, by=owner, beneficiary=child), owner, supervisor)
    secret = open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    data = {
        "submission_token": str(uuid.uuid4()),
        "organisation": org.pk,
        "cluster": cluster().pk,
        "basis": "keluarga",
        "source": "walk_in",
        "risk_level": "high",
        "summary": "x",
        "case_manager": colleague.pk,
        "supervisor": supervisor.pk,
    }
    response = logged_in(colleague).post(reverse("cases:case_create", args=[child.pk]), data, **EN)
    # The child is hidden from the colleague altogether now...
    assert response.status_code == 404 and secret.number not in response.content.decode()
    # ...and the service, asked directly, names neither the child nor the case.
    with pytest.raises(ApplicationError) as excinfo:
        open_case(organisation=org, by=colleague, beneficiary=child)
    assert str(excinfo.value) == "This child already has an open case at Balai Anak Uji. Ask a supervisor there."
    assert Case.objects.filter(beneficiary=child).count() == 2


def test_a_birth_date_before_1900_is_refused(client_for, owner, org):
    response = register(client_for(owner), org, birth_date="1899-12-31")
    assert response.status_code == 200
    assert any("cannot be before 1900" in e for e in errors_of(response)["birth_date"])
    assert not Beneficiary.objects.exists()


def test_a_birth_date_typed_day_first_reads_so_in_english_too(client_for, owner, org):
    response = register(client_for(owner), org, birth_date="10/12/2016")
    assert response.status_code == 302
    assert Beneficiary.objects.get().birth_date == datetime.date(2016, 12, 10)


def test_the_database_refuses_a_birth_date_before_1900(org, owner):
    from django.db import IntegrityError, transaction

    child = BeneficiaryFactory(organisation=org, created_by=owner)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Beneficiary.objects.filter(pk=child.pk).update(birth_date=datetime.date(1899, 12, 31))
