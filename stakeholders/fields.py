"""Form fields for regions: every address form picks its village through these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Region, RegionLevel


def _regions(levels: Iterable[int]) -> Any:
    return Region.objects.filter(level__in=list(levels)).select_related("parent__parent__parent")


class RegionField(forms.ModelChoiceField):
    """One region, submitted as its Kemendagri code (dots allowed), restricted to `levels`."""

    default_error_messages = {
        "invalid_choice": _("Unknown region code %(value)s. Pick the region from the list."),
    }

    def __init__(self, *, levels: Iterable[int] = (RegionLevel.VILLAGE,), **kwargs: Any) -> None:
        self.levels = tuple(levels)
        kwargs.setdefault("to_field_name", "code")
        super().__init__(queryset=_regions(self.levels), **kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(".", "").strip()
        return super().to_python(value)


class RegionMultipleField(forms.ModelMultipleChoiceField):
    """Several regions (coverage, regions served), submitted as Kemendagri codes."""

    default_error_messages = {
        "invalid_choice": _("Unknown region code %(value)s. Pick the region from the list."),
        "invalid_pk_value": _("Unknown region code %(pk)s. Pick the region from the list."),
    }

    def __init__(
        self,
        *,
        levels: Iterable[int] = (RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT),
        **kwargs: Any,
    ) -> None:
        self.levels = tuple(levels)
        kwargs.setdefault("to_field_name", "code")
        super().__init__(queryset=_regions(self.levels), **kwargs)

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            value = [v.replace(".", "").strip() if isinstance(v, str) else v for v in value]
        return super().clean(value)
