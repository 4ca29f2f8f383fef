"""Regions: loading, the picker's search and drill-down, its endpoints, widget and fields."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from stakeholders import selectors
from stakeholders.fields import RegionField, RegionMultipleField
from stakeholders.models import Region, RegionLevel
from stakeholders.regions import load_regions
from stakeholders.widgets import RegionMultiplePickerWidget, RegionPickerWidget

pytestmark = pytest.mark.django_db

LUBUK_MINTURUN = "1371111002"  # village, Koto Tangah, Kota Padang, Sumatera Barat
TELANAIPURA_DISTRICT = "157101"  # kecamatan, Kota Jambi
TELANAIPURA_VILLAGE = "1571011004"  # kelurahan in that kecamatan

SEARCH = reverse("stakeholders:region_search")
CHILDREN = reverse("stakeholders:region_children")
LOOKUP = reverse("stakeholders:region_lookup")


def codes(regions):
    return [r.code for r in regions]


def counts_by_level():
    return {level: Region.objects.filter(level=level).count() for level in RegionLevel.values}


# --- Loading ------------------------------------------------------------------------------


def test_the_test_database_holds_every_province_and_regency():
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 38
    assert Region.objects.filter(level=RegionLevel.REGENCY).count() == 514


def test_loading_a_province_twice_changes_nothing():
    first = load_regions(["15"])
    before = counts_by_level()
    second = load_regions(["15"])
    assert second == first
    assert counts_by_level() == before
    assert first["provinces"] == 38 and first["regencies"] == 514
    # Sumatera Barat's villages, loaded for the test database, are kept.
    assert Region.objects.filter(code=LUBUK_MINTURUN).exists()


def test_dotted_code_is_written_as_kemendagri_writes_it():
    assert Region.objects.get(code=TELANAIPURA_VILLAGE).dotted_code == "15.71.01.1004"
    assert Region.objects.get(code=TELANAIPURA_DISTRICT).dotted_code == "15.71.01"
    assert Region.objects.get(code="1571").dotted_code == "15.71"
    assert Region.objects.get(code="15").dotted_code == "15"


# --- Selectors ----------------------------------------------------------------------------


def test_search_finds_lubuk_minturun_by_name_and_by_its_beginning():
    found = selectors.region_search(query="Lubuk Minturun")
    assert found[0].code == LUBUK_MINTURUN
    assert found[0].level == RegionLevel.VILLAGE
    assert LUBUK_MINTURUN == selectors.region_search(query="lubuk min")[0].code


def test_search_finds_telanaipura_the_district_before_the_village():
    found = codes(selectors.region_search(query="Telanaipura"))
    assert found[:2] == [TELANAIPURA_DISTRICT, TELANAIPURA_VILLAGE]


def test_search_tolerates_a_typo():
    found = codes(selectors.region_search(query="Telanaypura"))
    assert TELANAIPURA_DISTRICT in found
    assert TELANAIPURA_VILLAGE in found


def test_search_within_a_province_excludes_the_others():
    assert selectors.region_search(query="Telanaipura", within="13") == []
    found = selectors.region_search(query="Lubuk", within="13")
    assert found
    assert all(r.code.startswith("13") for r in found)
    assert all(r.code.startswith("1371") for r in selectors.region_search(query="Lubuk", within="1371"))


def test_search_by_code_with_or_without_dots():
    found = codes(selectors.region_search(query="15.71.01"))
    assert found[0] == TELANAIPURA_DISTRICT
    assert TELANAIPURA_VILLAGE in found
    assert all(code.startswith("157101") for code in found)
    assert codes(selectors.region_search(query="15 71 01 1004")) == [TELANAIPURA_VILLAGE]
    assert codes(selectors.region_search(query="1")) == []  # one digit is no code


def test_search_keeps_to_the_levels_asked_for():
    assert codes(selectors.region_search(query="Telanaipura", levels=[RegionLevel.VILLAGE])) == [TELANAIPURA_VILLAGE]
    assert selectors.region_search(query="Kota Jambi", levels=[RegionLevel.REGENCY])[0].code == "1571"


def test_search_ignores_queries_too_short_to_mean_anything():
    assert selectors.region_search(query="  ") == []
    assert selectors.region_search(query="ab") == []


def test_search_is_one_query_and_labels_cost_nothing(django_assert_num_queries):
    with django_assert_num_queries(1):
        found = selectors.region_search(query="Telanaipura")
        labels = [selectors.region_label(r) for r in found]
    assert "Telanaipura, Telanaipura, Kota Jambi, Jambi" in labels
    assert "Telanaipura, Kota Jambi, Jambi" in labels


def test_region_label_gives_the_full_path(django_assert_num_queries):
    village = selectors.region_get(code="15.71.01.1004")
    with django_assert_num_queries(0):
        assert selectors.region_label(village) == "Telanaipura, Telanaipura, Kota Jambi, Jambi"
        assert selectors.region_label(village.parent.parent.parent) == "Jambi"
    assert selectors.region_get(code="99") is None
    assert selectors.region_get(code="not a code") is None


def test_children_are_the_next_level_by_name():
    provinces = list(selectors.region_children(parent_code=None))
    assert len(provinces) == 38
    assert [p.name for p in provinces] == sorted(p.name for p in provinces)
    districts = list(selectors.region_children(parent_code="1571"))
    assert "Telanaipura" in [d.name for d in districts]
    assert {d.level for d in districts} == {RegionLevel.DISTRICT}
    assert list(selectors.region_children(parent_code="99")) == []


# --- Endpoints ----------------------------------------------------------------------------


def test_search_and_children_need_a_login(client):
    for url in (SEARCH, CHILDREN, LOOKUP):
        response = client.get(url, {"q": "Telanaipura"})
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_search_returns_options_with_code_and_label(client_for, owner):
    response = client_for(owner).get(SEARCH, {"q": "Lubuk Min", "levels": "3,4"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="option"' in html
    assert f'data-code="{LUBUK_MINTURUN}"' in html
    assert 'data-label="Lubuk Minturun, Koto Tangah, Kota Padang, Sumatera Barat"' in html
    assert 'data-dotted="13.71.11.1002"' in html
    assert "private" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]


def test_search_is_scoped_by_within(client_for, owner):
    html = client_for(owner).get(SEARCH, {"q": "Telanaipura", "within": "13"}).content.decode()
    assert TELANAIPURA_DISTRICT not in html
    assert 'aria-disabled="true"' in html  # "no region matches" is shown, not chosen
    html = client_for(owner).get(SEARCH, {"q": "Telanaipura", "within": "15.71"}).content.decode()
    assert f'data-code="{TELANAIPURA_DISTRICT}"' in html


def test_search_with_a_short_query_returns_nothing(client_for, owner):
    response = client_for(owner).get(SEARCH, {"q": "a"})
    assert response.status_code == 200
    assert 'role="option"' not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": "Jambi", "levels": "5"}, "Region levels are 1 (province) to 4 (village)"),
        ({"q": "Jambi", "levels": "3,desa"}, "Region levels are 1 (province) to 4 (village)"),
        ({"q": "Jambi", "within": "Jambi"}, "province or regency/city code"),
        ({"q": "Jambi", "within": "157101"}, "province or regency/city code"),
    ],
)
def test_search_refuses_bad_parameters_with_a_message(client_for, owner, params, message):
    with translation.override("en"):
        response = client_for(owner).get(SEARCH, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_children_of_a_province_are_its_regencies_with_full_labels(client_for, owner):
    response = client_for(owner).get(CHILDREN, {"parent": "15"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="1571" data-dotted="15.71" data-label="Kota Jambi, Jambi"' in html
    assert html.count("<option") == 1 + Region.objects.filter(parent_id="15").count()
    assert "private" in response["Cache-Control"]


def test_children_without_a_parent_are_the_provinces(client_for, owner):
    html = client_for(owner).get(CHILDREN).content.decode()
    assert html.count("<option") == 1 + 38


def test_children_of_an_unknown_region_are_none(client_for, owner):
    response = client_for(owner).get(CHILDREN, {"parent": "99.99"})
    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1  # only "Choose…"


@pytest.mark.parametrize("parent", ["abc", TELANAIPURA_VILLAGE, "1", "15.71.01.1004"])
def test_children_refuse_a_malformed_or_village_parent(client_for, owner, parent):
    response = client_for(owner).get(CHILDREN, {"parent": parent})
    assert response.status_code == 400
    assert response.content


def test_the_endpoints_refuse_post(client_for, owner):
    client = client_for(owner)
    assert client.post(SEARCH, {"q": "Jambi"}).status_code == 405
    assert client.post(CHILDREN, {"parent": "15"}).status_code == 405
    assert client.post(LOOKUP, {"region": "15"}).status_code == 405


def test_search_endpoint_query_count(client_for, owner, django_assert_max_num_queries):
    client = client_for(owner)
    client.get(SEARCH, {"q": "warm up the session"})
    # session, user, the person's roles (does the second factor apply?), the regions
    with django_assert_max_num_queries(4):
        response = client.get(SEARCH, {"q": "Sungai", "within": "15"})
    assert response.content.decode().count('role="option"') == 15


def test_children_endpoint_query_count(client_for, owner, django_assert_max_num_queries):
    client = client_for(owner)
    client.get(CHILDREN)
    # one more than before the second factor: the person's roles (does it apply?)
    with django_assert_max_num_queries(5):
        response = client.get(CHILDREN, {"parent": "157101"})
    assert 'data-label="Telanaipura, Telanaipura, Kota Jambi, Jambi"' in response.content.decode()


# --- The lookup page ----------------------------------------------------------------------


def test_lookup_page_shows_the_picker(client_for, owner):
    response = client_for(owner).get(LOOKUP)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="combobox"' in html
    assert 'aria-controls="id_region_listbox"' in html
    assert 'id="id_region_browse1"' in html  # drill-down starts with the provinces
    assert "js/region-picker.js" in html


def test_lookup_page_shows_a_village_with_code_postal_code_and_position(client_for, owner):
    response = client_for(owner).get(LOOKUP, {"region": "15.71.01.1004"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Telanaipura, Telanaipura, Kota Jambi, Jambi" in html
    assert 'data-testid="region-code">15.71.01.1004<' in html
    assert "36122" in html
    assert "-1.60677, 103.58165" in html  # not localised: a comma separates the two
    assert f'value="{TELANAIPURA_VILLAGE}"' in html  # the picker shows the chosen region


def test_lookup_page_lists_the_villages_of_a_district(client_for, owner):
    html = client_for(owner).get(LOOKUP, {"region": TELANAIPURA_DISTRICT}).content.decode()
    assert "Simpang IV Sipin" in html
    assert "15.71.01.1004" in html


def test_lookup_page_takes_a_typed_code_without_javascript(client_for, owner):
    html = client_for(owner).get(LOOKUP, {"region": "", "region_code": "13.71.11.1002"}).content.decode()
    assert 'data-testid="region-code">13.71.11.1002<' in html
    assert "Kota Padang" in html


def test_lookup_page_explains_an_unknown_code(client_for, owner):
    with translation.override("en"):
        response = client_for(owner).get(LOOKUP, {"region": "99.99.99"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown region code 999999. Pick the region from the list." in html
    assert 'data-testid="region-code"' not in html
    assert "region-picker is-invalid" in html  # so Bootstrap shows the error next to the picker
    assert 'aria-invalid="true"' in html
    assert 'value="999999"' in html  # put back into the code box, which opens


def test_lookup_page_query_count(client_for, owner, django_assert_max_num_queries):
    client = client_for(owner)
    client.get(LOOKUP)
    with django_assert_max_num_queries(10):
        response = client.get(LOOKUP, {"region": "1571"})
    assert response.content.decode().count("<tr>") > 5


# --- Fields and widget --------------------------------------------------------------------


class AddressForm(forms.Form):
    village = RegionField(required=False)
    coverage = RegionMultipleField(required=False)


class JambiForm(forms.Form):
    village = RegionField(within="15")


def test_region_fields_use_the_picker_by_default():
    form = AddressForm()
    village = form.fields["village"].widget
    coverage = form.fields["coverage"].widget
    assert isinstance(village, RegionPickerWidget)
    assert village.levels == (RegionLevel.VILLAGE,)
    assert isinstance(coverage, RegionMultiplePickerWidget)
    assert coverage.levels == (RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT)
    assert JambiForm().fields["village"].widget.within == "15"


def test_region_field_cleans_a_dotted_code():
    form = AddressForm({"village": "15.71.01.1004"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["village"].code == TELANAIPURA_VILLAGE


def test_region_field_rejects_an_unknown_code_with_the_translated_message():
    with translation.override("en"):
        form = AddressForm({"village": "99.99.99.9999"})
        assert not form.is_valid()
        assert form.errors["village"] == ["Unknown region code 9999999999. Pick the region from the list."]
    with translation.override("id"):
        form = AddressForm({"village": "99.99.99.9999"})
        assert not form.is_valid()
        expected = str(RegionField.default_error_messages["invalid_choice"]) % {"value": "9999999999"}
        assert form.errors["village"] == [expected]


def test_region_field_rejects_a_region_of_the_wrong_level_or_area():
    assert not AddressForm({"village": TELANAIPURA_DISTRICT}).is_valid()
    assert not JambiForm({"village": LUBUK_MINTURUN}).is_valid()
    assert JambiForm({"village": TELANAIPURA_VILLAGE}).is_valid()


def test_a_typed_code_wins_over_the_picked_one():
    form = AddressForm({"village": LUBUK_MINTURUN, "village_code": " 15.71.01.1004 "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["village"].code == TELANAIPURA_VILLAGE


def test_multiple_field_takes_chips_and_typed_codes_once_each():
    form = AddressForm({"coverage": ["15", "1571"], "coverage_code": "13.71, 13; 15"})
    assert form.is_valid(), form.errors
    assert sorted(codes(form.cleaned_data["coverage"])) == ["13", "1371", "15", "1571"]


def test_multiple_field_rejects_an_unknown_code():
    form = AddressForm({"coverage": ["15", "77.77"]})
    assert not form.is_valid()
    assert "7777" in form.errors["coverage"][0]


def test_widget_shows_the_initial_region_by_its_label(django_assert_max_num_queries):
    village = Region.objects.get(code=TELANAIPURA_VILLAGE)
    form = AddressForm(initial={"village": village, "coverage": ["15", "1571"]})
    with django_assert_max_num_queries(4):
        html = form.as_div()
    assert f'name="village" id="id_village_value" value="{TELANAIPURA_VILLAGE}"' in html
    assert 'value="Telanaipura, Telanaipura, Kota Jambi, Jambi"' in html
    assert 'role="combobox"' in html
    assert 'aria-expanded="false"' in html
    assert 'for="id_village"' in html  # the label points at the text box
    # Chips: one hidden input each, with a remove button named after the region.
    assert html.count('<input type="hidden" name="coverage"') == 2 + 1  # two chips and the chip template
    assert 'aria-label="Remove Kota Jambi, Jambi"' in html or 'aria-label="Hapus Kota Jambi, Jambi"' in html


def test_widget_within_a_province_browses_its_regencies():
    html = JambiForm().as_div()
    assert 'id="id_village_browse1"' not in html
    assert 'id="id_village_browse2"' in html
    assert 'data-label="Kota Jambi, Jambi"' in html
    assert 'data-within="15"' in html


def test_widget_puts_an_unknown_code_back_into_the_code_box():
    form = AddressForm({"village": "12.34"})
    assert not form.is_valid()
    html = form.as_div()
    assert 'name="village_code" id="id_village_code" value="1234"' in html
    assert "<details" in html and " open>" in html
