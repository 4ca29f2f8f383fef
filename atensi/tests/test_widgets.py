"""FastSelect writes what Django's Select writes, without a template per option."""

from __future__ import annotations

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
