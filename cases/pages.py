"""The places on the case pages that apps above cases fill: tabs, overview panels and
plan-item links.

cases imports no app above it. An app that adds to the case pages (referrals) registers
here when it loads, each part with its own template under templates/<app>/:

- `case_tab(template)`: a tab in the tab bar of every case page, after Documents. The
  template renders one `<li class="nav-item">` and reads `case` and `tab` (the current
  tab's name).
- `case_panel(template, data)`: a section at the end of the overview's side column.
  `data(request, case)` runs in the view and returns what the template reads as `panel`;
  the template also sees the overview's context (`case`, `can_work`, `now`...).
- `plan_item_link(template, prefetch)`: what follows the provider's name of a plan item
  another organisation provides (`item`, `case`, `can_write`). `prefetch(case)` returns
  the Prefetch the template needs on the plan items (none: None), so the plan list stays
  one query per relation.
- `summary_section(template, data)`: a section of the printable case summary, after the
  services. `data(request, case)` returns what the template reads as `section`; the
  template also sees `summary` and `case`. Print-friendly: plain tables, no buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch

from stakeholders.http import AuthenticatedRequest

if TYPE_CHECKING:
    from .models import Case

PanelData = Callable[[AuthenticatedRequest, "Case"], dict[str, Any]]
PlanItemPrefetch = Callable[["Case"], "Prefetch[Any] | None"]


@dataclass(frozen=True)
class CasePanel:
    template: str
    data: PanelData


@dataclass(frozen=True)
class PlanItemLink:
    template: str
    prefetch: PlanItemPrefetch


TABS: list[str] = []
PANELS: list[CasePanel] = []
PLAN_ITEM_LINKS: list[PlanItemLink] = []
SUMMARY_SECTIONS: list[CasePanel] = []


def case_tab(template: str) -> None:
    if template not in TABS:
        TABS.append(template)


def case_panel(template: str, data: PanelData) -> None:
    if all(panel.template != template for panel in PANELS):
        PANELS.append(CasePanel(template, data))


def plan_item_link(template: str, prefetch: PlanItemPrefetch) -> None:
    if all(link.template != template for link in PLAN_ITEM_LINKS):
        PLAN_ITEM_LINKS.append(PlanItemLink(template, prefetch))


def summary_section(template: str, data: PanelData) -> None:
    if all(section.template != template for section in SUMMARY_SECTIONS):
        SUMMARY_SECTIONS.append(CasePanel(template, data))


def summary_sections_for(request: AuthenticatedRequest, case: Case) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every section of the printable summary the apps above cases add."""
    return [(section.template, section.data(request, case)) for section in SUMMARY_SECTIONS]


def panels_for(request: AuthenticatedRequest, case: Case) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every overview panel, for `{% for template, panel in ... %}`."""
    return [(panel.template, panel.data(request, case)) for panel in PANELS]


def plan_item_prefetches(case: Case) -> list[Prefetch[Any]]:
    return [p for link in PLAN_ITEM_LINKS if (p := link.prefetch(case)) is not None]
