"""Form fields for regions: every address form picks its village through these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Region, RegionLevel
from .widgets import RegionMultiplePickerWidget, RegionPickerWidget


def _regions(levels: Iterable[int], within: str) -> Any:
    qs = Region.objects.filter(level__in=list(levels)).select_related("parent__parent__parent")
    return qs.filter(code__startswith=within) if within else qs


def _code(value: Any) -> Any:
    # "15.71.01.1004", "15 71 01 1004" and "1571011004" are the same village.
    return "".join(value.replace(".", " ").split()) if isinstance(value, str) else value


class RegionField(forms.ModelChoiceField[Region]):
    """One region, submitted as its Kemendagri code (dots allowed), restricted to `levels`.

    `within` (a province or regency/city code) restricts the choice to that area; the
    default widget is the region picker, searching and browsing the same levels and area.
    """

    default_error_messages = {
        "invalid_choice": _("Unknown region code %(value)s. Pick the region from the list."),
    }

    def __init__(self, *, levels: Iterable[int] = (RegionLevel.VILLAGE,), within: str = "", **kwargs: Any) -> None:
        self.levels = tuple(levels)
        self.within = _code(within)
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("widget", RegionPickerWidget(levels=self.levels, within=self.within))
        super().__init__(queryset=_regions(self.levels, self.within), **kwargs)

    def to_python(self, value: Any) -> Any:
        return super().to_python(_code(value))


class RegionMultipleField(forms.ModelMultipleChoiceField[Region]):
    """Several regions (coverage, regions served), submitted as Kemendagri codes.

    `levels` and `within` as for RegionField; the default widget shows the chosen
    regions as removable chips above the picker.
    """

    default_error_messages = {
        "invalid_choice": _("Unknown region code %(value)s. Pick the region from the list."),
        "invalid_pk_value": _("Unknown region code %(pk)s. Pick the region from the list."),
    }

    def __init__(
        self,
        *,
        levels: Iterable[int] = (RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT),
        within: str = "",
        **kwargs: Any,
    ) -> None:
        self.levels = tuple(levels)
        self.within = _code(within)
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("widget", RegionMultiplePickerWidget(levels=self.levels, within=self.within))
        super().__init__(queryset=_regions(self.levels, self.within), **kwargs)

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            value = [_code(v) for v in value]
        return super().clean(value)
