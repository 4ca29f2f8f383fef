"""The referral lists: the inbox (what the user's organisations received) and the outbox
(what they sent), by status tab, with the counts of every tab, keyset pages and the rows
already cut down to what the reader may see.

- Inbox rows come from `selectors.inbox_for(user, status=)` (its order: waiting ones by
  deadline, so the overdue come first, then urgency; the others newest first). The
  receiver learns only what it needs to decide: the child's first name, age and kab/kota,
  never the full name or the NIK (the query does not even read them).
- Outbox rows come from `selectors.referrals_visible_to(user)` restricted to what the
  user's organisations sent. The child's name is shown only where the user may see who
  the child is (`identity_visible` of `cases_visible_to`, as the case list masks a
  confidential case); a masked row shows the case number and the receiver, nothing else.
- A closed referral (declined, cancelled, completed), and a transfer seen from the side
  that handed the case over, show the child as they were referred (`child_summary`), not
  what the case's owner recorded since.

Pages are keyed on the order's own columns and the id (a signed cursor, atensi.core.keyset),
never an offset: page 100 of an inbox of 50,000 costs what page 1 costs. The total of a
tab is its count, capped (atensi.core.counting), all tabs counted in one query over the
`referral_inbox` / `referral_outbox` index.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NotRequired, TypedDict, cast
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core import keyset
from atensi.core.access import actor_for
from atensi.core.counting import CAP, Tally, Where, capped_counts_where
from atensi.core.localtime import zone_for_regions
from cases.lists import labels, regency_names
from cases.models import Urgency
from cases.selectors import CASE_ROLES, cases_readable_by
from stakeholders.models import Organisation, User

from .figures import format_duration
from .models import HandoverReason, Referral, ReferralKind, ReferralStatus

# The inbox's urgency order and its rule for accepted transfers, shared so the tabs, their
# counts and both boxes agree with inbox_for().
from .selectors import (
    TRANSFERRED_STATUSES,
    inbox_for,
    kept_by_sender,
    receiver_may_see_transfer,
    referrals_visible_to,
    urgency_rank,
)

PAGE_SIZE = 50
# The tabs, in the order a receiver works through them.
TABS: tuple[str, ...] = (
    ReferralStatus.SENT,
    ReferralStatus.ACCEPTED,
    ReferralStatus.COMPLETED,
    ReferralStatus.DECLINED,
    ReferralStatus.CANCELLED,
)
INBOX = "inbox"
OUTBOX = "outbox"
_CURSOR_SALT = "referrals.lists.cursor"
# What a row reads of the child; nothing else of the beneficiary leaves the database.
_CHILD_FIELDS = (
    "case__beneficiary__full_name",
    "case__beneficiary__birth_date",
    "case__beneficiary__birth_date_estimated",
    "case__beneficiary__regency_code",
)
# What a row reads, as values: fifty rows of five model instances each cost more than the
# page's query.
_ROW_FIELDS = (
    "pk",
    "kind",
    "urgency",
    "urgency_rank",
    "status",
    "sent_at",
    "respond_by",
    "answered_at",
    "completed_at",
    "cancelled_at",
    "handover_reason",
    "sender__name",
    "receiver__name",
    "case__number",
    "child_summary",
    *_CHILD_FIELDS,
)


class Values(TypedDict):
    """One row of page_queryset() (_ROW_FIELDS; identity_visible in the sent box)."""

    pk: int
    kind: str
    urgency: str
    urgency_rank: int
    status: str
    sent_at: datetime.datetime
    respond_by: datetime.datetime
    answered_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    handover_reason: str
    sender__name: str
    receiver__name: str
    case__number: str
    child_summary: dict[str, object] | None
    case__beneficiary__full_name: str
    case__beneficiary__birth_date: datetime.date | None
    case__beneficiary__birth_date_estimated: bool
    case__beneficiary__regency_code: str
    identity_visible: NotRequired[bool]


# Closed referrals show the child as they were referred (Referral.child_summary): nothing
# the case's owner records afterwards reaches the other side through a list.
_CLOSED = (ReferralStatus.DECLINED, ReferralStatus.CANCELLED, ReferralStatus.COMPLETED)


def my_organisations(user: User) -> list[tuple[int, str]]:
    """(id, name) of the organisations whose referrals the user works, by name."""
    return my_organisations_and_zones(user)[0]


def my_organisations_and_zones(user: User) -> tuple[list[tuple[int, str]], dict[int, ZoneInfo]]:
    """my_organisations, and each one's time zone (WIB, WITA, WIT), in the same read."""
    ids = actor_for(user).org_ids(*CASE_ROLES)
    if not ids:
        return [], {}
    rows = Organisation.objects.filter(pk__in=ids).order_by("name", "pk")
    found = list(rows.values_list("pk", "name", "home_region_id", "village_id"))
    return [(pk, name) for pk, name, _home, _village in found], {
        pk: zone_for_regions(home, village) for pk, _name, home, village in found
    }


@dataclass(frozen=True)
class ListFilters:
    box: str = INBOX
    status: str = ReferralStatus.SENT
    organisation_id: int | None = None  # one of the user's organisations, or all of them


def parse_filters(params: Mapping[str, str], *, user: User, box: str) -> tuple[ListFilters, bool]:
    """The filters of a request's GET parameters, and whether an organisation was asked
    for that is not one of the user's (the list then shows all of theirs)."""
    status = params.get("status", "")
    if status not in TABS:
        status = ReferralStatus.SENT
    raw = params.get("org", "")
    organisation_id = None
    refused = False
    if raw:
        mine = actor_for(user).org_ids(*CASE_ROLES)
        if raw.isascii() and raw.isdigit() and len(raw) < 19 and int(raw) in mine:
            organisation_id = int(raw)
        else:
            refused = True
    return ListFilters(box=box, status=status, organisation_id=organisation_id), refused


# --- The querysets -------------------------------------------------------------------------


def _identity_visible(user: User) -> Q:
    """May the user see who the child of an outbox row is: they may read the case, or the
    case moved away with an accepted transfer their side keeps (the rule of
    `referrals_visible_to`: the sender's supervisors and the worker who sent it)."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Q(pk__isnull=False)
    readable = Exists(cases_readable_by(user).filter(pk=OuterRef("case_id")))
    return Q(readable) | kept_by_sender(user)


def _box_organisations(user: User, filters: ListFilters) -> frozenset[int]:
    """The user's organisations whose box the list shows: all of them, or the one chosen."""
    orgs = actor_for(user).org_ids(*CASE_ROLES)
    if filters.organisation_id is not None:
        orgs = frozenset({filters.organisation_id}) & orgs
    return orgs


def _scope(user: User, filters: ListFilters) -> QuerySet[Referral]:
    """Every referral of the box (all statuses) the user may see in it."""
    orgs = _box_organisations(user, filters)
    if filters.box == INBOX:
        # inbox_for's rule: an accepted transfer's row follows the case it made the receiver's.
        return Referral.objects.filter(receiver_id__in=orgs).filter(receiver_may_see_transfer(user))
    return referrals_visible_to(user).filter(sender_id__in=orgs)


def tab_querysets(user: User, filters: ListFilters, *, now: datetime.datetime) -> dict[str, QuerySet[Referral]]:
    """The referrals behind each tab's count, and "overdue": the waiting ones past their deadline."""
    scope = _scope(user, filters)
    counted = {status: scope.filter(status=status) for status in TABS}
    counted["overdue"] = scope.filter(status=ReferralStatus.SENT, respond_by__lt=now)
    return counted


def tab_counts(user: User, filters: ListFilters, *, now: datetime.datetime | None = None) -> dict[str, Tally]:
    """{status: count} for every tab, and "overdue", in one query that holds the box's
    scope once (its scoping rules are costly to compile). Each is exact up to
    atensi.core.counting.CAP and "1.000+" beyond: it stops there, where counting a Balai's
    500,000 received referrals on every page read them all (190 ms). The tabs are counted
    organisation by organisation along the box's index, in its order, and added up
    (the index is in order within one organisation only, and two in one count read both
    boxes whole: 315 ms)."""
    now = now or timezone.now()
    orgs = _box_organisations(user, filters)
    sent = ReferralStatus.SENT
    side = '"receiver_id"' if filters.box == INBOX else '"sender_id"'
    order = {status: '"respond_by"' if status == sent else '"sent_at" DESC' for status in TABS}
    per_org = {
        f"{status}:{org}": Where(f'{side} = %s AND "status" = %s', [org, status], order[status])
        for org in orgs
        for status in TABS
    }
    per_org |= {
        f"overdue:{org}": Where(f'{side} = %s AND "status" = %s AND "respond_by" < %s', [org, sent, now], order[sent])
        for org in orgs
    }
    tallies = capped_counts_where(_scope(user, filters), per_org)
    return {
        name: Tally(min(sum(tallies[f"{name}:{org}"].value for org in orgs), CAP + 1)) for name in (*TABS, "overdue")
    }


def tab_queryset(user: User, filters: ListFilters) -> QuerySet[Referral]:
    """The tab's referrals in the list's order (WAITING_KEYS or ANSWERED_KEYS)."""
    if filters.box == INBOX:
        qs = inbox_for(user, status=filters.status)
        if filters.organisation_id is not None:
            qs = qs.filter(receiver_id=filters.organisation_id)
        return qs
    qs = _scope(user, filters).filter(status=filters.status).annotate(urgency_rank=urgency_rank())
    return qs.order_by(*_order(filters.status))


# --- Keyset pages ----------------------------------------------------------------------------

# The order of each kind of tab: (column, descending), the last one always the id. Waiting
# referrals by deadline (the overdue first), then the most urgent; the others newest first.
WAITING_KEYS: tuple[tuple[str, bool], ...] = (("respond_by", False), ("urgency_rank", False), ("id", False))
ANSWERED_KEYS: tuple[tuple[str, bool], ...] = (("sent_at", True), ("id", True))


def _keys(status: str) -> tuple[tuple[str, bool], ...]:
    return WAITING_KEYS if status == ReferralStatus.SENT else ANSWERED_KEYS


def _order(status: str) -> list[str]:
    return [f"-{name}" if desc else name for name, desc in _keys(status)]


def encode_cursor(row: Values, status: str) -> str:
    """The cursor of the page that starts after `row` (one of page_queryset())."""
    values: list[object] = [status]
    for name, _desc in _keys(status)[:-1]:
        value = cast("Mapping[str, object]", row)[name]
        values.append(value.isoformat() if isinstance(value, datetime.datetime) else value)
    return keyset.encode_cursor(json.dumps(values), row["pk"], salt=_CURSOR_SALT)


def decode_cursor(token: str | None, status: str) -> tuple[list[datetime.datetime | int], int] | None:
    """The (values, id) a page starts after; None (the first page) for anything that does
    not decode or was made for another tab."""
    position = keyset.decode_cursor(token, salt=_CURSOR_SALT)
    if position is None:
        return None
    raw, pk = position
    try:
        values = json.loads(raw)
        keys = _keys(status)[:-1]
        if not isinstance(values, list) or len(values) != len(keys) + 1 or values[0] != status:
            return None
        decoded: list[datetime.datetime | int] = []
        for (name, _desc), value in zip(keys, values[1:], strict=True):
            if name in ("respond_by", "sent_at"):
                moment = datetime.datetime.fromisoformat(value)
                if timezone.is_naive(moment):
                    return None
                decoded.append(moment)
            elif isinstance(value, int) and not isinstance(value, bool):
                decoded.append(value)
            else:
                return None
        return decoded, pk
    except (ValueError, TypeError):
        return None


# --- Rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    """One line of a list, already cut to what the reader may see."""

    pk: int
    kind: str
    kind_label: str
    urgency: str
    urgency_label: str
    status: str
    status_label: str
    sender: str
    receiver: str
    sent_at: datetime.datetime
    respond_by: datetime.datetime
    status_at: datetime.datetime | None
    overdue: bool
    due_label: str  # "in 2 days 3 hours", or "1 day 2 hours late" when overdue
    url: str  # the referral's page
    services: tuple[str, ...] = ()
    handover: str = ""
    # The child as the receiver may know them before answering.
    first_name: str = ""
    age: int | None = None
    age_estimated: bool = False
    age_label: str = ""  # "12 years", "±12 years" for an estimated birth date
    regency: str = ""
    # The sender's side only: its case, and the child's full name where it may see it.
    case_number: str = ""
    child: str = ""
    masked: bool = False


@dataclass
class ReferralPage:
    rows: list[ReferralRow] = field(default_factory=list)
    next_cursor: str | None = None
    is_first: bool = True


def _status_at(row: Values) -> datetime.datetime | None:
    status = row["status"]
    if status == ReferralStatus.COMPLETED:
        return row["completed_at"]
    if status == ReferralStatus.CANCELLED:
        return row["cancelled_at"]
    if status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
        return row["answered_at"]
    return row["sent_at"]


def page_queryset(
    user: User, filters: ListFilters, *, cursor: str | None = None, size: int = PAGE_SIZE
) -> QuerySet[Referral, Values]:
    """The rows of one page after `cursor` (size + 1 of them, to know whether more follow):
    what referral_page() runs, and what the benchmark EXPLAINs.

    The page's ids are chosen first, from the referrals alone and within the scope
    (walking or sorting the box's index), and only those rows are joined to the sender,
    the receiver and the child: otherwise the planner joins every referral of the tab
    before sorting. The outer query does not repeat the scope: planning it twice cost
    more than running it.
    """
    chosen = tab_queryset(user, filters)
    after = decode_cursor(cursor, filters.status)
    if after is not None:
        chosen = chosen.filter(keyset.rows_after(_keys(filters.status), *after))
    qs = Referral.objects.filter(pk__in=chosen.values("pk")[: size + 1]).annotate(urgency_rank=urgency_rank())
    fields: tuple[str, ...] = _ROW_FIELDS
    if filters.box == OUTBOX:
        qs = qs.annotate(identity_visible=ExpressionWrapper(_identity_visible(user), output_field=BooleanField()))
        fields = (*fields, "identity_visible")
    return cast("QuerySet[Referral, Values]", qs.order_by(*_order(filters.status)).values(*fields))


def _services(referral_ids: list[int]) -> dict[int, list[str]]:
    """The services asked for by each referral, in the programme's order, in one query."""
    links = (
        Referral.components.through.objects.filter(referral_id__in=referral_ids)
        .select_related("servicecomponent")
        .order_by("servicecomponent__position", "servicecomponent__code")
    )
    found: dict[int, list[str]] = {}
    for link in links:
        found.setdefault(link.referral_id, []).append(link.servicecomponent.name)
    return found


def referral_page(
    user: User,
    filters: ListFilters,
    *,
    cursor: str | None = None,
    size: int = PAGE_SIZE,
    now: datetime.datetime | None = None,
) -> ReferralPage:
    """One page of the tab, after `cursor`: three queries (the rows, their services, the
    kab/kota names), whatever the page size."""
    now = now or timezone.now()
    found = list(page_queryset(user, filters, cursor=cursor, size=size))
    has_more = len(found) > size
    found = found[:size]
    children = {r["pk"]: _child_of(r, box=filters.box) for r in found}
    services = _services([r["pk"] for r in found])
    regencies = regency_names(c.regency_code for c in children.values() if c is not None)
    today = timezone.localdate(now)
    names = {
        "kind": labels(ReferralKind),
        "urgency": labels(Urgency),
        "status": labels(ReferralStatus),
        "handover": labels(HandoverReason),
    }
    rows = [
        _row(
            r,
            child=children[r["pk"]],
            services=services.get(r["pk"], []),
            box=filters.box,
            regencies=regencies,
            names=names,
            now=now,
            today=today,
        )
        for r in found
    ]
    return ReferralPage(
        rows=rows,
        next_cursor=encode_cursor(found[-1], filters.status) if has_more and found else None,
        is_first=decode_cursor(cursor, filters.status) is None,
    )


@dataclass(frozen=True)
class _Child:
    full_name: str
    birth_date: datetime.date | None
    birth_date_estimated: bool
    regency_code: str

    def age(self, today: datetime.date) -> int | None:
        b = self.birth_date
        return None if b is None else today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def _child_of(row: Values, *, box: str) -> _Child | None:
    """The child as the row shows them: as referred once the referral is closed (and, on
    the sender's side, once a transfer handed the case over), as recorded now before."""
    status = row["status"]
    handed_over = box == OUTBOX and row["kind"] == ReferralKind.TRANSFER and status in TRANSFERRED_STATUSES
    if status in _CLOSED or handed_over:
        summary = row["child_summary"] or {}
        if not summary:
            return None  # nothing recorded: show nothing rather than today's record
        try:
            recorded = summary.get("birth_date")
            born = datetime.date.fromisoformat(recorded) if isinstance(recorded, str) and recorded else None
        except (TypeError, ValueError):
            born = None
        return _Child(
            full_name=str(summary.get("full_name", "")),
            birth_date=born,
            birth_date_estimated=bool(summary.get("birth_date_estimated")),
            regency_code=str(summary.get("regency_code", "")),
        )
    return _Child(
        row["case__beneficiary__full_name"],
        row["case__beneficiary__birth_date"],
        row["case__beneficiary__birth_date_estimated"],
        row["case__beneficiary__regency_code"],
    )


def _due_label(respond_by: datetime.datetime, now: datetime.datetime) -> str:
    if respond_by < now:
        return _("%(time)s late") % {"time": format_duration(now - respond_by)}
    return _("in %(time)s") % {"time": format_duration(respond_by - now)}


def _age_label(age: int | None, *, estimated: bool) -> str:
    # Built here rather than in the template: fifty rows of {% blocktranslate %} cost more
    # than the page's queries together.
    if age is None:
        return ""
    label = ngettext("%(age)s year", "%(age)s years", age) % {"age": age}
    return f"±{label}" if estimated else label


def _detail_url(pk: int) -> str:
    try:
        return reverse("referrals:detail", args=[pk])
    except NoReverseMatch:  # the referral page is another module's; the list works without it
        return ""


def _row(
    referral: Values,
    *,
    child: _Child | None,
    services: list[str],
    box: str,
    regencies: dict[str, str],
    names: dict[str, dict[str, str]],
    now: datetime.datetime,
    today: datetime.date,
) -> ReferralRow:
    r = referral
    status, kind, urgency, handover = r["status"], r["kind"], r["urgency"], r["handover_reason"]
    identity = box == OUTBOX and bool(r.get("identity_visible", False))
    masked = box == OUTBOX and not identity
    common = ReferralRow(
        pk=r["pk"],
        kind=kind,
        kind_label=names["kind"].get(kind, kind),
        urgency=urgency,
        urgency_label=names["urgency"].get(urgency, urgency),
        status=status,
        status_label=names["status"].get(status, status),
        sender=r["sender__name"],
        receiver=r["receiver__name"],
        sent_at=r["sent_at"],
        respond_by=r["respond_by"],
        status_at=_status_at(r),
        # Referral.is_overdue's rule.
        overdue=status == ReferralStatus.SENT and now > r["respond_by"],
        due_label=_due_label(r["respond_by"], now),
        url=_detail_url(r["pk"]),
        services=tuple(services),
        handover=names["handover"].get(handover, "") if handover else "",
        case_number=r["case__number"] if box == OUTBOX else "",
    )
    if masked:
        return replace(common, masked=True)
    if child is None:
        return common
    words = child.full_name.split()
    age = child.age(today)
    return replace(
        common,
        first_name=words[0] if words else "",
        age=age,
        age_estimated=child.birth_date_estimated,
        age_label=_age_label(age, estimated=child.birth_date_estimated),
        regency=regencies.get(child.regency_code, ""),
        child=child.full_name if identity else "",
    )
