"""The map's filters (GET): AMPK category, cluster, period, and the table's order.

Periods are whole months, quarters or years, for everyone: the map is read by aggregate
readers, and two custom ranges could be subtracted from each other to reveal a child
(atensi.core.disclosure). A value that does not validate is dropped with a message.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atensi.core.models import AmpkCategory, Cluster
from cases.map_figures import MapFilters, MapPeriod

YEARS_BACK = 5
QUARTERS_BACK = 8
MONTHS_BACK = 24

SORTS = {
    "count": gettext_lazy("Open cases, most first"),
    "name": gettext_lazy("Kab/kota, A to Z"),
    "province": gettext_lazy("Province, A to Z"),
}
DEFAULT_SORT = "count"


def period_of(key: str) -> MapPeriod | None:
    """A year ("2026"), a quarter ("2026-Q3") or a month ("2026-07") as whole days; else None."""
    if m := re.fullmatch(r"(\d{4})", key):
        year = int(m[1])
        return MapPeriod(datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", key):
        year, quarter = int(m[1]), int(m[2])
        return MapPeriod(datetime.date(year, 3 * quarter - 2, 1), _month_after(year, 3 * quarter))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", key):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return MapPeriod(datetime.date(year, month, 1), _month_after(year, month))
    return None


def _month_after(year: int, month: int) -> datetime.date:
    return datetime.date(year + month // 12, month % 12 + 1, 1)


def period_choices(today: datetime.date) -> list[tuple[str, Any]]:
    """Open now, then the years, quarters and months that have begun (newest first)."""
    years = [str(today.year - n) for n in range(YEARS_BACK)]
    quarter = (today.month - 1) // 3  # 0-based
    quarters = []
    for n in range(QUARTERS_BACK):
        year, q = divmod(today.year * 4 + quarter - n, 4)
        quarters.append(f"{year}-Q{q + 1}")
    months = []
    for n in range(MONTHS_BACK):
        year, m = divmod(today.year * 12 + today.month - 1 - n, 12)
        months.append(f"{year}-{m + 1:02d}")
    return [
        ("", _("Open now")),
        (_("Years"), [(y, _("Year %(year)s") % {"year": y}) for y in years]),
        (_("Quarters"), [(q, q.replace("-Q", " Q")) for q in quarters]),
        (_("Months"), [(m, _month_label(m)) for m in months]),
    ]


def _month_label(key: str) -> str:
    from django.utils.dateformat import format as date_format

    year, month = (int(part) for part in key.split("-"))
    return date_format(datetime.date(year, month, 1), "F Y")


class MapFilterForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("AMPK category"), required=False)
    cluster = forms.ChoiceField(label=gettext_lazy("Cluster"), required=False)
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        required=False,
        help_text=gettext_lazy("Cases open at some time in the period; whole months, quarters or years."),
    )
    sort = forms.ChoiceField(label=gettext_lazy("Order the table by"), choices=list(SORTS.items()), required=False)

    def __init__(self, data: Any = None, *, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.categories = {c.code: c for c in AmpkCategory.objects.filter(is_active=True)}
        self.clusters = {c.code: c for c in Cluster.objects.filter(is_active=True)}
        self._choices("category", [("", _("Every category")), *((c.code, c.name) for c in self.categories.values())])
        self._choices("cluster", [("", _("Every cluster")), *((c.code, c.name) for c in self.clusters.values())])
        self._choices("period", period_choices(today or timezone.localdate()))

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def to_filters(self) -> MapFilters:
        data = self.cleaned_data
        return MapFilters(
            category=self.categories.get(data.get("category") or ""),
            cluster=self.clusters.get(data.get("cluster") or ""),
            period=period_of(data.get("period") or ""),
        )


def map_filters(params: Any, *, today: datetime.date | None = None) -> tuple[MapFilterForm, MapFilters, str, list[str]]:
    """Bind the GET parameters; drop what does not validate and say so.

    Returns the form to render, the filters in effect, the table's order and the warnings.
    """
    names = ("category", "cluster", "period", "sort")
    data = {name: params.get(name, "") for name in names}
    warnings: list[str] = []
    form = MapFilterForm(data, today=today)
    if not form.is_valid():
        for name in list(form.errors):
            warnings.append(
                _("Unknown value for “%(filter)s”; that filter was ignored.") % {"filter": form.fields[name].label}
            )
            data[name] = ""
        form = MapFilterForm(data, today=today)
        form.is_valid()
    sort = form.cleaned_data.get("sort") or DEFAULT_SORT
    return form, form.to_filters(), sort, warnings
