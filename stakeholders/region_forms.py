"""Forms of the region picker's endpoints and the region lookup page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .fields import RegionField
from .models import REGION_CODE_LENGTHS, RegionLevel
from .selectors import REGION_QUERY_MAX_LENGTH, region_code_from_query

DEFAULT_SEARCH_LEVELS = (RegionLevel.DISTRICT, RegionLevel.VILLAGE)
# A search is scoped by a province or a regency/city; a district is what the drill-down is for.
WITHIN_LENGTHS = (REGION_CODE_LENGTHS[RegionLevel.PROVINCE], REGION_CODE_LENGTHS[RegionLevel.REGENCY])
PARENT_LENGTHS = tuple(n for level, n in REGION_CODE_LENGTHS.items() if level < RegionLevel.VILLAGE)


class RegionSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=REGION_QUERY_MAX_LENGTH,
        error_messages={"max_length": _("Type at most %(limit_value)d characters to search for a region.")},
    )
    within = forms.CharField(required=False, max_length=20)
    levels = forms.CharField(required=False, max_length=20)

    def clean_within(self) -> str:
        raw = self.cleaned_data["within"]
        if not raw:
            return ""
        code = region_code_from_query(raw)
        if code is None or len(code) not in WITHIN_LENGTHS:
            raise forms.ValidationError(_("Search within a province or regency/city code, e.g. 15 or 15.71."))
        return code

    def clean_levels(self) -> tuple[int, ...]:
        raw = self.cleaned_data["levels"]
        if not raw:
            return DEFAULT_SEARCH_LEVELS
        try:
            levels = tuple(sorted({int(part) for part in raw.split(",")}))
        except ValueError:
            levels = ()
        if not levels or not set(levels) <= set(RegionLevel.values):
            raise forms.ValidationError(_("Region levels are 1 (province) to 4 (village), e.g. 3,4."))
        return levels


class RegionChildrenForm(forms.Form):
    parent = forms.CharField(required=False, max_length=20)

    def clean_parent(self) -> str:
        raw = self.cleaned_data["parent"]
        if not raw:
            return ""
        code = region_code_from_query(raw)
        if code is None or len(code) not in PARENT_LENGTHS:
            raise forms.ValidationError(
                _("%(code)s is not the code of a province, regency/city or district.") % {"code": raw}
            )
        return code


class RegionLookupForm(forms.Form):
    region = RegionField(
        levels=tuple(RegionLevel.values),
        required=False,
        label=_("Region"),
        help_text=_("Type a village, district, regency/city or province, or its Kemendagri code, e.g. 15.71.01.1004."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.attrs["placeholder"] = _("e.g. Telanaipura or 15.71.01.1004")
