"""Referral lists: the inbox (/referrals/), what my organisations sent (/referrals/sent/)
and the per-organisation figures (/referrals/figures/).

Whoever works no cases anywhere has no referral lists: 404, as for the case list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import time_format
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from atensi.core.fragments import cached_fragment, fragment_key
from atensi.core.localtime import DEFAULT_ZONE, zone_label
from stakeholders.http import AuthenticatedRequest

from .. import lists
from ..figures import DEFAULT_PERIOD_DAYS, PERIODS, Figures, default_since, referral_figures
from ..models import ReferralStatus
from ..permissions import can_list_referrals


def _require_case_worker(request: AuthenticatedRequest) -> None:
    if not can_list_referrals(request.user):
        raise Http404


def _link(filters: lists.ListFilters, **changes: Any) -> str:
    """The query string of the list with `changes` (a tab, an organisation), no cursor."""
    params = {"status": filters.status, "org": filters.organisation_id or ""}
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _figures_rows(figures: dict[int, Figures], organisations: list[tuple[int, str]]) -> list[tuple[str, Figures]]:
    return [(name, figures[pk]) for pk, name in organisations if pk in figures]


def _box(request: AuthenticatedRequest, box: str, template: str) -> HttpResponse:
    _require_case_worker(request)
    user = request.user
    filters, refused = lists.parse_filters(request.GET, user=user, box=box)
    if refused:
        messages.warning(request, _("You do not work for that organisation; the list shows all of your organisations."))
    organisations = lists.my_organisations(user)
    now = timezone.now()
    counts = lists.tab_counts(user, filters, now=now)
    page = lists.referral_page(user, filters, cursor=request.GET.get("cursor"), now=now)
    labels = dict(ReferralStatus.choices)
    tabs = [
        {"status": status, "label": labels[status], "count": counts[status], "query": _link(filters, status=status)}
        for status in lists.TABS
    ]
    context: dict[str, Any] = {
        "box": box,
        "outbox": box == lists.OUTBOX,
        "filters": filters,
        "status_label": labels[filters.status],
        "tabs": tabs,
        "counts": counts,
        "page": page,
        "organisations": organisations,
        "many_orgs": len(organisations) != 1,
        "query": _link(filters),
        "waiting_tab": filters.status == ReferralStatus.SENT,
    }
    if box == lists.INBOX:
        # The figures load after the list (htmx), from the figures view: the list is what
        # people work through, and the figures read every referral of the period.
        wanted = {"days": DEFAULT_PERIOD_DAYS, "org": filters.organisation_id}
        context["figures_query"] = urlencode({k: v for k, v in wanted.items() if v})
    return render(request, template, context)


@require_GET
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    return _box(request, lists.INBOX, "referrals/inbox.html")


@require_GET
def outbox(request: AuthenticatedRequest) -> HttpResponse:
    return _box(request, lists.OUTBOX, "referrals/outbox.html")


@require_GET
def figures(request: AuthenticatedRequest) -> HttpResponse:
    """The figures of the user's organisations (or of one: ?org=) for the last ?days=.
    Asked by htmx (the inbox's figures card), only the table."""
    _require_case_worker(request)
    raw = request.GET.get("days", "")
    days = int(raw) if raw in {str(p) for p in PERIODS} else DEFAULT_PERIOD_DAYS
    filters, _refused = lists.parse_filters(request.GET, user=request.user, box=lists.INBOX)
    now = timezone.now()
    organisations, zones = lists.my_organisations_and_zones(request.user)
    ids = [filters.organisation_id] if filters.organisation_id else [pk for pk, _name in organisations]

    def draw() -> str:
        found = referral_figures(organisation_ids=ids, since=default_since(now, days), now=now)
        # The time in the zone of the organisation shown (the first one), named: a Balai in
        # Makassar reads WITA.
        zone = zones.get(ids[0], DEFAULT_ZONE) if ids else DEFAULT_ZONE
        counted = f"{time_format(now.astimezone(zone), 'TIME_FORMAT')} {zone_label(zone)}"
        table = {"figures": _figures_rows(found, organisations), "figures_days": days, "counted_time": counted}
        return render_to_string("referrals/_figures.html", table)

    # Counting a Balai's referrals of the period reads a hundred thousand of them (150 ms):
    # the drawn table is kept a minute for its reader (atensi.core.fragments), and says
    # when it was counted.
    key = fragment_key("referral-figures", request.user.pk, ids, days, get_language())
    table = cached_fragment(key, draw)
    if request.headers.get("HX-Request"):
        # Without the request: the card needs no navigation, so no context processors run.
        response = HttpResponse(table)
    else:
        context = {"figures_table": table, "figures_days": days, "periods": PERIODS}
        response = render(request, "referrals/figures.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns: list[URLPattern] = [
    path("referrals/", inbox, name="inbox"),
    path("referrals/sent/", outbox, name="outbox"),
    path("referrals/figures/", figures, name="figures"),
]
