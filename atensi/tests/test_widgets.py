"""FastSelect writes what Django's Select writes, without a template per option; bootstrap_field
writes what crispy-forms writes, without its templates."""

from __future__ import annotations

import datetime
import re

import pytest
from django import forms

from atensi.core.widgets import FastSelect

CHOICES = [("", "Anyone"), ("none", "Not assigned"), ("12", 'Budi "B" <Santoso> & Co'), (7, "Sari")]


def normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.mark.parametrize("value", [None, "", "none", "12", 7, "missing"])
def test_the_markup_is_djangos(value):
    attrs = {"class": "form-select", "id": "id_case_manager", "aria-describedby": "x"}
    fast = FastSelect(attrs=attrs, choices=CHOICES).render("case_manager", value)
    django = forms.Select(attrs=attrs, choices=CHOICES).render("case_manager", value)
    assert normalised(fast) == normalised(django)


def test_option_groups_are_left_to_django():
    grouped = [("Jambi", [("1571", "Kota Jambi")]), ("", "Any")]
    fast = FastSelect(choices=grouped).render("kabkota", "1571")
    assert normalised(fast) == normalised(forms.Select(choices=grouped).render("kabkota", "1571"))


def test_a_bound_field_renders_through_it():
    class Form(forms.Form):
        who = forms.ChoiceField(choices=CHOICES, widget=FastSelect, required=False)

    html = str(Form({"who": "12"})["who"])
    assert '<option value="12" selected>Budi &quot;B&quot; &lt;Santoso&gt; &amp; Co</option>' in html


class Filters(forms.Form):
    q = forms.CharField(
        label="Cari <anak>",
        required=False,
        help_text="Nama & NIK",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    name = forms.CharField(label="Nama", max_length=20)
    day = forms.DateField(
        label="Dari", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    late = forms.BooleanField(label="Terlambat", required=False, help_text="Lewat batas")
    agreed = forms.BooleanField(label="Setuju", widget=forms.CheckboxInput(attrs={"data-x": "1"}))
    sort = forms.ChoiceField(label="Urut", choices=[("a", "A"), ("b", "B & C")], required=False, widget=FastSelect)
    province = forms.ChoiceField(label="Provinsi", choices=[("", "Semua"), ("15", "Jambi")], required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": 'x"<y>', "name": "Rina", "day": "2026-12-01", "late": "on", "sort": "b", "province": "15"},
        {"q": "", "name": "", "day": "2026-13-01", "sort": "z", "province": "99"},
    ],
    ids=["unbound", "valid", "errors"],
)
def test_bootstrap_field_writes_what_crispy_writes(data: dict[str, str] | None) -> None:
    from django.template import Context, Template
    from django.test.html import parse_html

    from atensi.core.widgets import bootstrap_field

    form = Filters(data) if data is not None else Filters(initial={"day": datetime.date(2026, 12, 7)})
    form.is_valid()
    crispy = Template("{% load crispy_forms_filters %}{{ field|as_crispy_field }}")
    for name in Filters.base_fields:
        ours = parse_html(bootstrap_field(form[name]))
        theirs = parse_html(crispy.render(Context({"field": form[name]})))
        assert ours == theirs, (name, str(ours), str(theirs))


def test_the_fast_format_html_writes_what_djangos_writes() -> None:
    """Same escaping (quotes included), safe markup kept, lazy strings made, kwargs too."""
    from django.forms.utils import ErrorList
    from django.utils import html as django_html
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from atensi.core.widgets import format_html

    values = [
        "<b>\"Siti\" & 'Budi'</b>",
        mark_safe("<i>aman</i>"),
        gettext_lazy("Overdue"),
        42,
        None,
        3.5,
        ErrorList(["<script>x</script>"]),
        "",
    ]
    for value in values:
        assert format_html('<td title="{}">{}</td>', value, value) == django_html.format_html(
            '<td title="{}">{}</td>', value, value
        ), repr(value)
    assert format_html("{a}-{b}", a="<", b=mark_safe("<")) == django_html.format_html(
        "{a}-{b}", a="<", b=mark_safe("<")
    )
    assert isinstance(format_html("{}", "x"), django_html.SafeString)
