"""Who saw this child: every entry of the access log about the case, the child's record
and the case's documents — views (a referral's receiver reading it included: the
referral's page logs the case), downloads, exports, prints, search hits, requests for
contact and refused attempts — newest first, a keyset page at a time."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from atensi.core.keyset import time_page
from atensi.core.models import AccessLog
from stakeholders.models import User

from .models import Case, Document
from .permissions import can_see_who_saw
from .selectors import case_get_for_user

PAGE_SIZE = 50
_CURSOR_SALT = "cases.access_log"


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


def about(*, person_ids: Collection[int], case_ids: Collection[int]) -> Q:
    """The access log's rows about these people, these cases and the cases' documents: what
    "who saw this" lists, and what a subject access file tells the person."""
    documents = [str(pk) for pk in Document.objects.filter(case_id__in=list(case_ids)).values_list("pk", flat=True)]
    return (
        Q(target_type="cases.case", target_id__in=[str(pk) for pk in case_ids])
        | Q(target_type="cases.beneficiary", target_id__in=[str(pk) for pk in person_ids])
        | Q(target_type="cases.document", target_id__in=documents)
    )


def _about(case: Case) -> Q:
    return about(person_ids=[case.beneficiary_id], case_ids=[case.pk])


def case_for_access_log(*, user: User, case_id: object) -> Case:
    """The case whose "who saw this child" the user may read (its organisation's
    supervisors), or 404 like any case they may not open."""
    case = case_get_for_user(user=user, case_id=case_id)
    if not can_see_who_saw(user, case):
        raise Http404(_("Not found."))
    return case


def case_access_page(*, case: Case, after: str | None = None, size: int = PAGE_SIZE) -> AccessPage:
    entries = AccessLog.objects.filter(_about(case)).select_related("user")
    page = time_page(entries, field="at", descending=True, after=after, size=size, salt=_CURSOR_SALT)
    return AccessPage(entries=[_entry(row) for row in page.rows], next_cursor=page.next_cursor, is_first=page.is_first)
