"""Reads behind a person's day (the home page, "Hari ini"): follow-ups due and overdue,
cases that changed since the user last looked at them, cases late in their stage,
aftercare due this month; for supervisors the approvals waiting, the follow-ups their
team let slip and the caseload of each case manager; for reporters their own reports.

Each read is scoped like the list it leads to (`cases_readable_by`, the organisations the
user works for) and is led by an index: follow-ups by assignee and due day
(follow_up_assignee_due), cases by case manager (case_manager_opened), the access log by
user and record (accesslog_user_view), open cases by organisation and case manager
(case_org_manager_open).

`days` maps an organisation id to its local today (atensi.core.localtime): a follow-up
is due "today" on the local day of the organisation that owns its case (WIB, WITA, WIT).
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import BooleanField, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from atensi.core.access import actor_for
from atensi.core.lookups import IdArray
from atensi.core.models import AccessLog
from stakeholders.models import User
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org

from .lists import month_of
from .models import (
    Beneficiary,
    Case,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Report,
    Stage,
    TimelineEntry,
    TimelineKind,
)
from .selectors import (
    CASE_MANAGER_ROLES,
    cases_readable_by,
    display_name,
    escalate_days,
    members_with_roles,
    organisations_read_whole,
    past_stage_deadline,
)

# A case closed this recently still shows what others did on it (a closure approved).
RECENTLY_CLOSED = datetime.timedelta(days=30)
# Timeline entries that hand a case to its case manager.
ASSIGNMENT_KINDS = (TimelineKind.OPENED, TimelineKind.ASSIGNED)
# "Never looked": earlier than any timeline entry.
_NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
CASELOAD_LIMIT = 50
# Case managers looked at for the caseload (an organisation has tens, a big Balai hundreds).
CASELOAD_PEOPLE = 1000

Days = Mapping[int, datetime.date]


def _per_day(days: Days, condition: Callable[[list[int], datetime.date], Q]) -> Q:
    """`condition(organisations, day)` for each local day among `days` (at most three: WIB,
    WITA, WIT), OR-ed; nothing when `days` is empty."""
    by_day: dict[datetime.date, list[int]] = {}
    for org_id, day in days.items():
        by_day.setdefault(day, []).append(org_id)
    combined = Q(pk__in=[])
    for day, org_ids in sorted(by_day.items()):
        combined |= condition(sorted(org_ids), day)
    return combined


def _my_pending(user: User, days: Days) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(assignee_id=user.pk, status=FollowUpStatus.PENDING, organisation_id__in=list(days))


@dataclass(frozen=True)
class MyCases:
    """my_case_ids: the cases of the user's own work, and those of them the user manages.

    `whole`: the organisations whose every case the user reads (organisations_read_whole);
    their cases are left out of `ids` (a supervisor's follow-ups there need no case-by-case
    check, and a Balai's supervisor may hold a thousand)."""

    ids: IdArray
    managed: IdArray
    whole: frozenset[int]


def my_case_ids(*, user: User, days: Days, now: datetime.datetime) -> MyCases:
    """The cases of the user's own work that the user may read (the one scoping function,
    cases_readable_by, asked once): those they manage, open or closed in the last
    RECENTLY_CLOSED, and those with a pending follow-up of theirs in the organisations of
    `days`. Each part of "my case work" then filters by these ids instead of asking the
    scoping function again (its query, compiled six times, cost more than the counting);
    a part about managed cases is not asked at all when the user manages none (a
    supervisor's follow-ups are often all on cases of others)."""
    readable = cases_readable_by(user).order_by()
    recent = Q(closed_at__isnull=True) | Q(closed_at__gte=now - RECENTLY_CLOSED)
    managed = (
        readable.filter(recent, case_manager_id=user.pk)
        .annotate(managed=Value(True, output_field=BooleanField()))
        .values_list("pk", "managed")
    )
    # The organisations on the case, not through the follow-ups' join to it: the pending
    # follow-ups are read by assignee alone, then each case by its key (a join in the
    # subquery read the organisation's every case to find them).
    pending = FollowUp.objects.filter(assignee_id=user.pk, status=FollowUpStatus.PENDING).values("case_id")
    whole = organisations_read_whole(user)
    checked = [org for org in days if org not in whole]
    if checked:
        followed = (
            readable.filter(organisation_id__in=checked, pk__in=pending)
            .annotate(managed=Value(False, output_field=BooleanField()))
            .values_list("pk", "managed")
        )
        rows = list(managed.union(followed))
    else:
        rows = list(managed)
    # Written as array literals once: the page's queries carry these ids.
    return MyCases(
        ids=IdArray(sorted({pk for pk, _ in rows})),
        managed=IdArray(sorted(pk for pk, is_managed in rows if is_managed)),
        whole=whole,
    )


def _my_pending_follow_ups(user: User, days: Days, mine: MyCases) -> QuerySet[FollowUp]:
    """The user's pending follow-ups on cases they may read: by the follow-up's copy of the
    organisation where they read every case, else case by case (my_case_ids)."""
    readable = [Q(organisation_id__in=whole)] if (whole := sorted(o for o in days if o in mine.whole)) else []
    if mine.ids:
        readable.append(Q(case_id__in_ids=mine.ids))
    if not readable:  # nothing to find: no query at all (QuerySet.none() makes none)
        return FollowUp.objects.none()
    return _my_pending(user, days).filter(functools.reduce(operator.or_, readable)).select_related("case")


def follow_ups_due_today(*, user: User, days: Days, mine: MyCases) -> QuerySet[FollowUp]:
    """The user's pending follow-ups due on their case organisation's local today."""
    on_the_day = _per_day(days, lambda orgs, day: Q(organisation_id__in=orgs, due_on=day))
    return _my_pending_follow_ups(user, days, mine).filter(on_the_day).order_by("due_on", "pk")


def follow_ups_overdue(*, user: User, days: Days, mine: MyCases) -> QuerySet[FollowUp]:
    """The user's pending follow-ups due before that local today, the oldest first."""
    late = _per_day(days, lambda orgs, day: Q(organisation_id__in=orgs, due_on__lt=day))
    return _my_pending_follow_ups(user, days, mine).filter(late).order_by("due_on", "pk")


def aftercare_due_this_month(*, user: User, days: Days, mine: MyCases) -> QuerySet[FollowUp]:
    """The user's pending aftercare visits due in the local month (overdue ones of the month included)."""
    in_month = _per_day(days, lambda orgs, day: Q(organisation_id__in=orgs, due_on__range=month_of(day)))
    return (
        _my_pending_follow_ups(user, days, mine).filter(in_month, kind=FollowUpKind.AFTERCARE).order_by("due_on", "pk")
    )


def follow_ups_of_the_day(*, user: User, days: Days, mine: MyCases) -> QuerySet[FollowUp]:
    """The three lists above in one: the user's pending follow-ups due by the local today,
    and aftercare visits due in the local month; in the lists' order (the home page splits
    them, so a day's few follow-ups cost one query, not three and a count)."""

    def of_the_day(orgs: list[int], day: datetime.date) -> Q:
        aftercare = Q(kind=FollowUpKind.AFTERCARE, due_on__range=month_of(day))
        return Q(organisation_id__in=orgs) & (Q(due_on__lte=day) | aftercare)

    return _my_pending_follow_ups(user, days, mine).filter(_per_day(days, of_the_day)).order_by("due_on", "pk")


def follow_up_titles(follow_up_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Follow-up id -> (its case's number, the child's full name), for the few lines of
    follow_ups_of_the_day a page shows (the ids come from that scoped read)."""
    if not follow_up_ids:
        return {}
    rows = FollowUp.objects.filter(pk__in_ids=IdArray(follow_up_ids)).values_list(
        "pk", "case__number", "case__beneficiary__full_name"
    )
    return {pk: (number, name) for pk, number, name in rows}


def _last_looked(user_id: int) -> Coalesce:
    """When the user last opened the case page (the access log's view rows)."""
    return Coalesce(
        Subquery(
            AccessLog.objects.filter(
                user_id=user_id,
                action=AccessLog.Action.VIEW,
                target_type=Case._meta.label_lower,
                target_id=Cast(OuterRef("pk"), output_field=CharField()),
            )
            .order_by("-at")
            .values("at")[:1]
        ),
        Value(_NEVER),
    )


def cases_touched_since_looked(*, user: User, now: datetime.datetime, case_ids: IdArray) -> QuerySet[Case]:
    """The user's cases as case manager (open, or closed in the last RECENTLY_CLOSED) that
    someone else touched since the user last opened the case page (the access log's view
    rows, no tracking table of its own), annotated with what they did:

    - `assigned_at`: the latest opening or assignment by someone else since then;
    - `changed_at`, `changed_kind`: the latest other timeline entry by someone else since
      then (a referral answered, a supervisor's decision, a note).

    One read for both of the home page's lists ("assigned to me", "changed by others"):
    each managed case costs a look at the access log and one at its timeline, asked once
    for the filter (any entry by someone else), the annotations only for the cases found."""
    if not case_ids:  # the user manages no case: no query at all
        return Case.objects.none()
    recent = Q(closed_at__isnull=True) | Q(closed_at__gte=now - RECENTLY_CLOSED)
    theirs = (
        TimelineEntry.objects.filter(case_id=OuterRef("pk"), at__gt=OuterRef("last_looked"), actor__isnull=False)
        .exclude(actor_id=user.pk)
        .order_by("-at", "-pk")
    )
    others = theirs.exclude(kind__in=ASSIGNMENT_KINDS)
    # The child's name only for the cases found (a join was made for every managed case first).
    child = Beneficiary.objects.filter(pk=OuterRef("beneficiary_id")).values("full_name")[:1]
    return (
        Case.objects.filter(recent, pk__in_ids=case_ids, case_manager_id=user.pk)
        .annotate(last_looked=_last_looked(user.pk))
        .filter(Exists(theirs))
        .annotate(
            child_name=Subquery(child),
            assigned_at=Subquery(theirs.filter(kind__in=ASSIGNMENT_KINDS).values("at")[:1]),
            changed_at=Subquery(others.values("at")[:1]),
            changed_kind=Subquery(others.values("kind")[:1]),
        )
    )


def cases_past_stage_deadline(*, user: User, now: datetime.datetime, case_ids: IdArray) -> QuerySet[Case]:
    """The user's cases longer in their stage than its deadline (the stage reminders' rule), longest first."""
    if not case_ids:
        return Case.objects.none()
    return Case.objects.filter(past_stage_deadline(now), pk__in_ids=case_ids, case_manager_id=user.pk).order_by(
        "stage_changed_at", "pk"
    )


# --- Supervisors ------------------------------------------------------------------------------


def _supervised(user: User) -> list[int]:
    return sorted(actor_for(user).org_ids(Role.SUPERVISOR))


def team_follow_ups_escalated(*, user: User, days: Days) -> QuerySet[FollowUp]:
    """Follow-ups of the supervised organisations more than ATENSI_FOLLOW_UP_ESCALATE_DAYS
    overdue that the reminders escalate to the user (cases.reminders._supervisors_for): on
    cases the user supervises, that have no supervisor, or whose supervisor no longer
    supervises there; oldest first. Whoever they are assigned to: one assigned to someone
    who left is the one most at risk.

    Read from follow_up_org_due alone: the follow-ups carry their case's organisation and
    supervisor (CaseCopy)."""
    supervised = _supervised(user)
    late_after = datetime.timedelta(days=escalate_days())
    # The other supervisors of each organisation (one query): their cases are theirs.
    members = members_by_org(supervised, [Role.SUPERVISOR])
    others = {org: [pk for pk in holders(members, org, [Role.SUPERVISOR]) if pk != user.pk] for org in supervised}

    def reaching_me(orgs: list[int], day: datetime.date) -> Q:
        return functools.reduce(
            operator.or_,
            (Q(organisation_id=org, due_on__lt=day - late_after) & ~Q(supervisor_id__in=others[org]) for org in orgs),
        )

    escalated = _per_day({org: day for org, day in days.items() if org in others}, reaching_me)
    return (
        FollowUp.objects.filter(escalated, status=FollowUpStatus.PENDING)
        .select_related("case", "assignee")
        .order_by("due_on", "pk")
    )


def case_managers_of_team(user: User) -> list[tuple[int, str]]:
    """(id, name) of the case managers of the organisations the user supervises (at most
    CASELOAD_PEOPLE): the caseload shows those with no open case too."""
    people = members_with_roles(organisation_ids=_supervised(user), roles=CASE_MANAGER_ROLES)
    rows = people.values_list("pk", "first_name", "last_name", "username")[:CASELOAD_PEOPLE]
    return [(pk, display_name(first, last, username)) for pk, first, last, username in rows]


def open_cases_without_manager(user: User) -> QuerySet[Case]:
    """Open cases of the supervised organisations nobody manages yet."""
    return Case.objects.filter(organisation_id__in=_supervised(user), case_manager__isnull=True).exclude(
        stage=Stage.CLOSED
    )


# --- Reporters --------------------------------------------------------------------------------


def my_reports(user: User) -> QuerySet[Report]:
    """The reports the user recorded, newest first (only their own: what happened to them,
    not the case behind)."""
    return Report.objects.filter(recorded_by_id=user.pk).select_related("village").order_by("-created_at", "-pk")
