"""Handing open cases over to another case manager in one step (a worker on leave, moved
or gone): what moves with them and how the new case manager hears of it.

`cases_reassign` takes the cases a supervisor ticked in the case list, or every open case
of one worker, and in one transaction:

- locks the cases and checks each one (`reassign_case_refusal`: a supervisor of the owning
  organisation, the case open) and the new case manager (an active social worker or
  supervisor of every organisation concerned): one refusal refuses the whole batch;
- sets the case manager, moves the old case manager's pending follow-ups on those cases to
  the new one, and readdresses the reminders already planned for the old case manager about
  those cases (follow-ups due, a case stalled in its stage: keys ``follow-up:…:<user>`` and
  ``case:…:<user>``, cases/reminders.py) — by key, so the rules do not plan them again;
- leaves pending approvals alone: a request stays valid whoever asked for it;
- writes one timeline line per case (one bulk insert) and notifies the new case manager
  once for the whole batch, in the bell and by e-mail, naming no child.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError, require
from atensi.core.models import Reminder
from atensi.core.notifications import notify, register
from atensi.core.reminders import email_event
from stakeholders.models import User
from stakeholders.roles import Role

from .models import OPEN_STAGES, Case, FollowUp, FollowUpStatus, TimelineEntry, TimelineKind
from .notification_kinds import NotificationKind
from .permissions import reassign_case_refusal
from .selectors import cases_visible_to, person_name
from .services import is_case_manager_candidate

# The reminders cases plans for a case's own worker: their keys end with the recipient's id.
_WORKER_REMINDER_PREFIXES = ("follow-up:", "case:")


@dataclass(frozen=True)
class Reassigned:
    cases: int
    follow_ups: int
    reminders: int
    to_name: str


def cases_to_reassign(*, by: User, case_ids: Collection[int] = (), from_worker: User | None = None) -> list[Case]:
    """The cases of a handover, locked, among those `by` may know exist: the ones ticked,
    or every open case `from_worker` manages where `by` supervises. An id `by` may not
    see refuses the whole batch."""
    visible = cases_visible_to(by)
    if from_worker is not None:
        supervised = actor_for(by).org_ids(Role.SUPERVISOR)
        chosen = visible.filter(
            case_manager_id=from_worker.pk, stage__in=OPEN_STAGES, organisation_id__in=supervised or [0]
        )
    else:
        wanted = sorted(set(case_ids))
        chosen = visible.filter(pk__in=wanted)
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .filter(pk__in=chosen.values("pk"))
        .select_related("organisation", "case_manager")
        .order_by("pk")
    )
    if from_worker is None and len(cases) != len(set(case_ids)):
        raise ApplicationError(_("Some of the chosen cases are not yours to hand over; nothing was changed."))
    return cases


@transaction.atomic
def cases_reassign(
    *, by: User, to: User, case_ids: Collection[int] = (), from_worker: User | None = None
) -> Reassigned:
    """Make `to` the case manager of the chosen cases (see the module's docstring)."""
    if not case_ids and from_worker is None:
        raise ApplicationError(_("Tick the cases to hand over, or choose a worker whose open cases to hand over."))
    cases = cases_to_reassign(by=by, case_ids=case_ids, from_worker=from_worker)
    if not cases:
        raise ApplicationError(_("There is no open case to hand over."))
    for case in cases:
        require(reassign_case_refusal(by, case))
    organisations = {case.organisation_id: case.organisation for case in cases}
    for organisation in organisations.values():
        if not is_case_manager_candidate(organisation=organisation, user=to):
            raise ApplicationError(
                _("%(name)s is not (or no longer) a social worker or supervisor of %(org)s: choose someone else.")
                % {"name": person_name(to), "org": organisation.name},
                field="to",
            )
    moving = [case for case in cases if case.case_manager_id != to.pk]
    if not moving:
        raise ApplicationError(_("%(name)s already manages these cases.") % {"name": person_name(to)}, field="to")
    now = timezone.now()
    ids = [case.pk for case in moving]
    Case.objects.filter(pk__in=ids).update(case_manager=to, updated_at=now)

    # Per previous case manager (usually one): their pending follow-ups and planned reminders.
    previous: dict[int, list[int]] = {}
    for case in moving:
        if case.case_manager_id is not None:
            previous.setdefault(case.case_manager_id, []).append(case.pk)
    follow_ups = 0
    reminders = 0
    for old_id, old_cases in previous.items():
        follow_ups += FollowUp.objects.filter(
            case_id__in=old_cases, assignee_id=old_id, status=FollowUpStatus.PENDING
        ).update(assignee=to)
        reminders += _readdress_reminders(case_ids=old_cases, old_id=old_id, new_id=to.pk, now=now)

    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            case=case,
            kind=TimelineKind.ASSIGNED,
            actor=by,
            at=now,
            object_id=case.pk,
            data={
                "case_manager": person_name(to),
                "previous_case_manager": person_name(case.case_manager),
                "handover": True,
            },
        )
        for case in moving
    )
    for case in moving:
        case.case_manager = to
        case.updated_at = now
    _announce(by=by, to=to, count=len(moving), organisation=next(iter(organisations.values())))
    return Reassigned(cases=len(moving), follow_ups=follow_ups, reminders=reminders, to_name=person_name(to))


def _readdress_reminders(*, case_ids: list[int], old_id: int, new_id: int, now: object) -> int:
    """The old case manager's reminders about these cases, not delivered yet, go to the new
    one under the key the rules would give them (the key ends with the recipient); where the
    new one already has that reminder, the old one is dropped."""
    prefixes = Q()
    for prefix in _WORKER_REMINDER_PREFIXES:
        prefixes |= Q(key__startswith=prefix)
    rows = list(
        Reminder.objects.select_for_update()
        .filter(
            prefixes,
            recipient_id=old_id,
            delivered_at__isnull=True,
            cancelled_at__isnull=True,
            data__case__in=case_ids,
        )
        .only("pk", "key", "recipient_id")
    )
    if not rows:
        return 0
    new_keys = {row.pk: f"{row.key.rsplit(':', 1)[0]}:{new_id}" for row in rows}
    taken = set(Reminder.objects.filter(key__in=list(new_keys.values())).values_list("key", flat=True))
    moved = [row for row in rows if new_keys[row.pk] not in taken]
    for row in moved:
        row.key = new_keys[row.pk]
        row.recipient_id = new_id
    Reminder.objects.bulk_update(moved, ["key", "recipient_id"])
    duplicates = [row.pk for row in rows if new_keys[row.pk] in taken]
    if duplicates:
        Reminder.objects.filter(pk__in=duplicates).update(cancelled_at=now)
    return len(moved)


def _announce(*, by: User, to: User, count: int, organisation: object) -> None:
    """The new case manager hears once for the batch: in the bell now, by e-mail within a minute."""
    key = f"cases-reassigned:{uuid.uuid4()}:{to.pk}"
    link = reverse("cases:case_list") + "?" + urlencode({"scope": "mine"})
    notify(
        recipients=[to],
        kind=NotificationKind.CASES_REASSIGNED,
        link=link,
        organisation=organisation,
        key=key,
        count=count,
        by=person_name(by),
    )
    email_event(key=key, recipient_ids=[to.pk])


@register(NotificationKind.CASES_REASSIGNED)
def _cases_reassigned(data: dict[str, object]) -> str:
    count = int(str(data["count"]))
    return ngettext(
        "%(by)s handed %(count)s case over to you: you are now its case manager.",
        "%(by)s handed %(count)s cases over to you: you are now their case manager.",
        count,
    ) % {"by": data["by"], "count": count}
