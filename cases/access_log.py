"""Who saw this child: every entry of the access log about the case, the child's record
and the case's documents — views (a referral's receiver reading it included: the
referral's page logs the case), downloads, exports, prints, search hits, requests for
contact and refused attempts — newest first, a keyset page at a time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from atensi.core.keyset import decode_time_cursor, encode_cursor, rows_after
from atensi.core.models import AccessLog

from .models import Case, Document

PAGE_SIZE = 50
_CURSOR_SALT = "cases.access_log"
_ORDER = (("at", True), ("pk", True))


@dataclass(frozen=True)
class AccessEntry:
    at: datetime.datetime
    who: str
    username: str
    action: str
    what: str
    refused: bool


@dataclass(frozen=True)
class AccessPage:
    entries: list[AccessEntry]
    next_cursor: str | None
    is_first: bool


def _what(row: AccessLog) -> str:
    return {
        "cases.case": _("the case"),
        "cases.beneficiary": _("the child's record"),
        "cases.document": _("a document"),
    }.get(row.target_type, row.target_type)


def _entry(row: AccessLog) -> AccessEntry:
    user = row.user
    return AccessEntry(
        at=row.at,
        who=(user.get_full_name() or user.username) if user is not None else _("(account removed)"),
        username=user.username if user is not None else "",
        action=str(row.get_action_display()),
        what=_what(row),
        refused=row.action == AccessLog.Action.DENIED,
    )


def _about(case: Case) -> Q:
    documents = [str(pk) for pk in Document.objects.filter(case=case).values_list("pk", flat=True)]
    return (
        Q(target_type="cases.case", target_id=str(case.pk))
        | Q(target_type="cases.beneficiary", target_id=str(case.beneficiary_id))
        | Q(target_type="cases.document", target_id__in=documents)
    )


def case_access_page(*, case: Case, after: str | None = None, size: int = PAGE_SIZE) -> AccessPage:
    qs = AccessLog.objects.filter(_about(case)).select_related("user").order_by("-at", "-pk")
    cursor = decode_time_cursor(after, salt=_CURSOR_SALT)
    if cursor is not None:
        qs = qs.filter(rows_after(_ORDER, [cursor[0]], cursor[1]))
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(last.at.isoformat(), last.pk, salt=_CURSOR_SALT)
    return AccessPage(entries=[_entry(row) for row in rows], next_cursor=next_cursor, is_first=cursor is None)
