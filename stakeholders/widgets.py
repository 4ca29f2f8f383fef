"""The region picker: the one widget every address form uses to choose a region.

Type a name (or a code) and pick from the list, or browse province → regency/city →
district → village. The form value is the Kemendagri code in a hidden input; the
behaviour lives in static/js/region-picker.js (loaded by base.html, no inline script).
Without JavaScript the widget still works: the current region is shown as text and
the "Kemendagri code" box takes a typed code, which wins over the hidden value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString

from .models import REGION_CODE_LENGTHS, Region, RegionLevel

# The suffix of the text box where a code can be typed without JavaScript.
CODE_SUFFIX = "_code"


@dataclass(frozen=True)
class ChosenRegion:
    code: str
    dotted: str
    name: str
    label: str
    level_label: str


def _digits(value: Any) -> str:
    if isinstance(value, Region):
        return value.code
    return "".join(str(value).replace(".", " ").split()) if value not in (None, "") else ""


def _chosen(codes: Iterable[str]) -> list[ChosenRegion]:
    # Imported late here and below: selectors pulls in modules whose forms use these widgets.
    from .selectors import region_label, regions_with_path

    wanted = [c for c in codes if c.isdigit()]
    if not wanted:
        return []
    found = {r.code: r for r in regions_with_path().filter(code__in=wanted)}
    return [
        ChosenRegion(r.code, r.dotted_code, r.name, region_label(r), r.level_label)
        for r in (found.get(c) for c in dict.fromkeys(wanted))
        if r is not None
    ]


class RegionPickerWidget(forms.Widget):
    """One region. `levels` are the levels that may be chosen; `within` a code prefix.

    `scope` adds "search in" selects (province, then regency/city) that narrow the name
    search; `browse` adds the drill-down selects. Both are plain attributes so a form
    may switch them off: `RegionField(widget=RegionPickerWidget(browse=False))`.
    """

    template_name = "stakeholders/widgets/region_picker.html"
    multiple = False
    # The template lives with the project's templates, which Django's default form
    # renderer does not search.
    template_renderer = TemplatesSetting()

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        levels: Iterable[int] = (RegionLevel.VILLAGE,),
        within: str = "",
        scope: bool = True,
        browse: bool = True,
    ) -> None:
        super().__init__(attrs)
        self.levels = tuple(sorted({int(level) for level in levels}))
        self.within = _digits(within)
        self.scope = scope
        self.browse = browse

    # The field's required check runs on the server; a browser "required" on the text
    # box would block the multiple picker (emptied after each pick) for no gain.
    def use_required_attribute(self, initial: Any) -> bool:
        return False

    def id_for_label(self, id_: str) -> str:
        return id_  # the text box (combobox) carries the id; the hidden value gets "_value"

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Any:
        typed = str(data.get(name + CODE_SUFFIX) or "").strip()
        return typed or data.get(name)

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Any, name: str) -> bool:
        return name not in data and name + CODE_SUFFIX not in data

    def format_value(self, value: Any) -> Any:
        return _digits(value)

    def _values(self, value: Any) -> list[str]:
        code = self.format_value(value)
        return [code] if code else []

    def _scope_and_browse(self, base_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The "search in" selects and the drill-down selects, from below `within` down.

        The first select of each is filled here (one query); htmx fills the others.
        """
        from .selectors import region_children

        within_level = next((lvl for lvl, n in REGION_CODE_LENGTHS.items() if n == len(self.within)), 0)
        top_level = within_level + 1
        deepest = max(self.levels) if self.levels else int(RegionLevel.VILLAGE)
        # Narrowing by province or regency/city helps only when something deeper is searched.
        scope_levels = list(range(top_level, min(RegionLevel.REGENCY, deepest - 1) + 1))
        browse_levels = list(range(top_level, deepest + 1))
        if not self.scope:
            scope_levels = []
        if not self.browse:
            browse_levels = []
        if not (scope_levels or browse_levels):
            return [], []
        top = list(region_children(parent_code=self.within or None).only("code", "name", "level"))

        def steps(kind: str, levels: list[int]) -> list[dict[str, Any]]:
            return [
                {
                    "id": f"{base_id}_{kind}{level}",
                    "level": level,
                    "label": RegionLevel(level).label,
                    "choosable": level in self.levels,
                    "options": top if i == 0 else [],
                    "next_id": f"{base_id}_{kind}{levels[i + 1]}" if i + 1 < len(levels) else "",
                }
                for i, level in enumerate(levels)
            ]

        return steps("scope", scope_levels), steps("browse", browse_levels)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        return super().render(name, value, attrs, self.template_renderer)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        base_id = widget["attrs"].get("id") or f"id_{name}"
        widget["attrs"]["id"] = base_id
        codes = self._values(value)
        chosen = _chosen(codes)
        found = {c.code for c in chosen}
        # A code that matched nothing goes back into the code box, so the user sees
        # what they typed next to the field's error.
        unknown = [c for c in codes if c not in found]
        scope, browse = self._scope_and_browse(base_id)
        within_label = ""
        if self.within and browse:
            from .selectors import region_get, region_label

            area = region_get(code=self.within)
            within_label = region_label(area) if area is not None else ""
        widget["picker"] = {
            "id": base_id,
            "multiple": self.multiple,
            "chosen": chosen,
            "typed_code": " ".join(unknown),
            "levels": ",".join(str(level) for level in self.levels),
            "within": self.within,
            "within_label": within_label,
            "search_url": reverse("stakeholders:region_search"),
            "children_url": reverse("stakeholders:region_children"),
            "scope": scope,
            "browse": browse,
            "invalid": "is-invalid" in str(widget["attrs"].get("class", "")),
            "code_name": name + CODE_SUFFIX,
        }
        return context


class RegionMultiplePickerWidget(RegionPickerWidget):
    """Several regions, shown as removable chips (each a hidden input with its code)."""

    multiple = True
    allow_multiple_selected = True

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Any:
        values: list[str] = []
        if isinstance(data, MultiValueDict):
            values = list(data.getlist(name))
        elif name in data:
            raw = data[name]
            values = list(raw) if isinstance(raw, list | tuple) else [raw]
        typed = str(data.get(name + CODE_SUFFIX) or "")
        # Several codes may be typed at once, separated by commas, semicolons or spaces.
        values += [part for part in typed.replace(",", " ").replace(";", " ").split() if part]
        return list(dict.fromkeys(v for v in values if v))

    def format_value(self, value: Any) -> Any:
        if value in (None, ""):
            return []
        if not isinstance(value, list | tuple | set):
            value = [value]
        return [code for code in (_digits(v) for v in value) if code]

    def _values(self, value: Any) -> list[str]:
        return list(self.format_value(value))
