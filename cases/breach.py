"""Breach support (UU PDP Pasal 46: the people affected and the authority are told within
3 × 24 hours): for one account and a time window — a stolen laptop, a leaked password —
every child whose data the account opened, downloaded, exported, printed or found in a
search, and the organisations whose records it could read then (its memberships in the
window, from their audited history), as one workbook for the people who must notify.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from atensi.core.models import AccessLog
from atensi.core.spreadsheets import Sheet, write_xlsx
from stakeholders.models import Membership, User

from .models import Beneficiary, Case, Document

# What counts as the account having had the data (a refusal does not).
_HAD = (
    AccessLog.Action.VIEW,
    AccessLog.Action.DOWNLOAD,
    AccessLog.Action.EXPORT,
    AccessLog.Action.PRINT,
    AccessLog.Action.SEARCH,
)
_TYPES = ("cases.case", "cases.beneficiary", "cases.document")


@dataclass
class ChildRow:
    beneficiary: Beneficiary
    first: datetime.datetime
    last: datetime.datetime
    actions: set[str] = field(default_factory=set)
    times: int = 0


def _ids(rows: list[AccessLog], target_type: str) -> set[int]:
    return {int(r.target_id) for r in rows if r.target_type == target_type and r.target_id.isdigit()}


def account_named(username: str) -> User | None:
    """The account a breach report is about, by its username (any case of letters)."""
    return User.objects.filter(username__iexact=username.strip()).first()


def children_reached(*, account: User, start: datetime.datetime, end: datetime.datetime) -> list[ChildRow]:
    """Each child whose data the account had in [start, end), with when and how."""
    rows = list(
        AccessLog.objects.filter(user=account, at__gte=start, at__lt=end, action__in=_HAD, target_type__in=_TYPES)
        .exclude(target_id="")
        .order_by("at", "pk")
    )
    case_child = dict(Case.objects.filter(pk__in=_ids(rows, "cases.case")).values_list("pk", "beneficiary_id"))
    document_child = dict(
        Document.objects.filter(pk__in=_ids(rows, "cases.document")).values_list("pk", "case__beneficiary_id")
    )
    found: dict[int, ChildRow] = {}
    child_of: list[tuple[AccessLog, int]] = []
    for row in rows:
        if not row.target_id.isdigit():
            continue
        pk = int(row.target_id)
        child = {"cases.case": case_child, "cases.document": document_child}.get(row.target_type, {}).get(pk, pk)
        child_of.append((row, child))
    people = Beneficiary.objects.select_related("organisation").in_bulk({child for _row, child in child_of})
    for row, child in child_of:
        person = people.get(child)
        if person is None:
            continue
        entry = found.setdefault(child, ChildRow(beneficiary=person, first=row.at, last=row.at))
        entry.last = row.at
        entry.actions.add(str(row.get_action_display()))
        entry.times += 1
    return sorted(found.values(), key=lambda e: (e.beneficiary.organisation.name, e.beneficiary.full_name))


def memberships_in_window(*, account: User, start: datetime.datetime, end: datetime.datetime) -> list[Membership]:
    """The account's roles that were active at some moment of [start, end): active when
    the window opened (the last recorded state before it), or made active within it. The
    memberships' audited history, read in one query."""
    memberships = list(Membership.objects.filter(user=account).select_related("organisation").order_by("pk"))
    history = Membership.events.rel.related_model  # type: ignore[attr-defined]
    states: dict[int, list[tuple[datetime.datetime, bool]]] = {m.pk: [] for m in memberships}
    for membership_id, at, active in (
        history.objects.filter(pgh_obj_id__in=states, pgh_created_at__lt=end)
        .order_by("pgh_created_at", "pgh_id")
        .values_list("pgh_obj_id", "pgh_created_at", "is_active")
    ):
        states[membership_id].append((at, active))
    held = []
    for membership in memberships:
        before = [active for at, active in states[membership.pk] if at < start]
        during = [active for at, active in states[membership.pk] if at >= start]
        if (before and before[-1]) or any(during):
            held.append(membership)
    return held


@dataclass(frozen=True)
class BreachReport:
    workbook: bytes
    # The children it names (the download is an export of each of them).
    children: list[Beneficiary]


def make_breach_report(*, account: User, start: datetime.datetime, end: datetime.datetime) -> BreachReport:
    children = children_reached(account=account, start=start, end=end)
    roles = memberships_in_window(account=account, start=start, end=end)
    # Everything the account did in the window, refusals included: for the investigation.
    log = AccessLog.objects.filter(user=account, at__gte=start, at__lt=end).order_by("at", "pk")
    out = io.BytesIO()
    write_xlsx(
        out,
        [
            Sheet(
                _("Children"),
                [
                    _("Name"),
                    _("NIK"),
                    _("Organisation holding the record"),
                    _("First access"),
                    _("Last access"),
                    _("How"),
                    _("Times"),
                ],
                (
                    [
                        c.beneficiary.full_name,
                        c.beneficiary.nik,
                        c.beneficiary.organisation.name,
                        c.first,
                        c.last,
                        ", ".join(sorted(c.actions)),
                        c.times,
                    ]
                    for c in children
                ),
            ),
            Sheet(
                _("Roles in the window"),
                [_("Organisation"), _("Role"), _("Active now")],
                ([m.organisation.name, str(m.get_role_display()), m.is_active] for m in roles),
            ),
            Sheet(
                _("Access log"),
                [_("When"), _("Action"), _("Record type"), _("Record id"), _("Path"), _("IP address")],
                (
                    [r.at, str(r.get_action_display()), r.target_type, r.target_id, r.path, r.ip_address or ""]
                    for r in log
                ),
            ),
        ],
    )
    return BreachReport(workbook=out.getvalue(), children=[c.beneficiary for c in children])
