"""Reminder rules for cases: follow-ups, missed aftercare, cases stalled in a
stage, and approvals left waiting — and how each of their notifications reads.

Every rule runs each minute (atensi.core.reminders.run_rules) and looks only at a narrow band of
rows on an indexed column (due dates around today, stage entries and requests whose
deadline passed in the last `CATCH_UP`), so it costs the same at a thousand cases as at a
million. What it finds it `plan`s under a deterministic key, so running again adds nothing;
what was settled since (a follow-up done, an approval decided) has its open reminders
cancelled by the same rule, in one query over the open reminders.

"The day before" and "on the day" are the organisation's local days (atensi.core.localtime:
WIB, WITA, WIT by province). A follow-up's reminder is in the bell from the start of the
local day it belongs to and e-mailed from 07:00 local time, so the night's reminders do
not e-mail anyone before the morning (one planned later in the day — a follow-up created
that evening — is e-mailed at once); escalations and the other reminders come at 07:00,
bell and e-mail. A rule plans a reminder during the local day it belongs to.

Keys (the part before the recipient names the event):

- ``follow-up:<pk>:<due_on>:before:<user>`` FOLLOW_UP_DUE to the assignee, the day before.
- ``follow-up:<pk>:<due_on>:day:<user>`` FOLLOW_UP_DUE to the assignee, on the day.
- ``follow-up:<pk>:<due_on>:overdue:<user>`` FOLLOW_UP_OVERDUE to the case's supervisor
  (else the organisation's supervisors) once it is more than
  ATENSI_FOLLOW_UP_ESCALATE_DAYS days overdue.
- ``aftercare:<pk>:<due_on>:missed:<user>`` AFTERCARE_MISSED to the same supervisors, when
  an aftercare visit of the current aftercare is marked missed (on its day) or is that
  many days overdue — once, whichever comes first.
- ``case:<pk>:stage:<stage>:<entered>:<user>`` STAGE_STALLED to the case manager once per
  stage entry, when the case stays longer than ATENSI_STAGE_DEADLINE_DAYS[stage].
- ``approval:<pk>:waiting:<user>`` APPROVAL_WAITING to the organisation's supervisors other
  than the requester (else the request's approvers, cases.approvers), after
  ATENSI_APPROVAL_WAITING_DAYS: the escalation of a request its approvers heard about at
  once (cases.notify, under the event key ``approval:<pk>:requested``).

A service that settles a follow-up may call `follow_up_settled` to drop its reminders at
once; the rules do the same within a minute anyway.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.localtime import (
    first_local_hour_at_or_after,
    local_date,
    local_dates_span,
    local_moment,
    zone_for_regions,
)
from atensi.core.models import Reminder
from atensi.core.notifications import register
from atensi.core.reminder_helpers import (
    CATCH_UP,
    CATCH_UP_DAYS,
    MORNING_HOUR,
    cancel_unless,
    data_date,
    data_datetime,
    data_int,
    data_text,
    iso_date,
    key_expr,
    person,
)
from atensi.core.reminders import Planned, cancel, plan, rule
from stakeholders.models import Membership
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org

from .approvers import approvers_for_many
from .models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Stage,
    TimelineEntry,
    TimelineKind,
)
from .notification_kinds import NotificationKind
from .selectors import CASE_ROLES, escalate_days, stage_deadline_limits, stage_deadlines
from .workflow import AFTERCARE_KEPT_ON

DAY = datetime.timedelta(days=1)

# Where an aftercare visit still matters: the case is in termination or aftercare, or was
# closed with its goals met (the only closure that keeps aftercare, cases/workflow.py).
AFTERCARE_STAGES = (Stage.TERMINASI, Stage.BIMBINGAN_LANJUT)


def approval_waiting_days() -> int:
    return int(settings.ATENSI_APPROVAL_WAITING_DAYS)


def _case_link(case_id: int) -> str:
    return reverse("cases:case_detail", args=[case_id])


def _follow_ups_link(case_id: int) -> str:
    return reverse("cases:case_notes", args=[case_id]) + "#follow-ups"


def _approvals_link(approval_id: int) -> str:
    """The approvals queue at the request: every approver decides there."""
    return reverse("cases:approval_queue") + f"#approval-{approval_id}"


def _zone(row: Mapping[str, Any], prefix: str) -> Any:
    return zone_for_regions(row[f"{prefix}home_region_id"], row[f"{prefix}village_id"])


def _supervisors_for(case_supervisor_id: int | None, org_id: int, members: Any) -> list[int]:
    """The case's own supervisor while they supervise in its organisation, else all of
    the organisation's supervisors."""
    supervisors = holders(members, org_id, [Role.SUPERVISOR])
    if case_supervisor_id is not None and case_supervisor_id in supervisors:
        return [case_supervisor_id]
    return supervisors


def _works_in(user_field: str, org_field: str) -> Exists:
    """The user still works cases in the organisation (an active membership, an active account)."""
    return Exists(
        Membership.objects.filter(
            user_id=OuterRef(user_field),
            organisation_id=OuterRef(org_field),
            role__in=CASE_ROLES,
            is_active=True,
            user__is_active=True,
        )
    )


_ORG_ZONE_FIELDS = ("case__organisation__home_region_id", "case__organisation__village_id")


def _reminder_with_key(key: Any) -> Any:
    return Reminder.objects.filter(key=key)


def follow_up_settled(follow_up_id: int) -> int:
    """Drop the open reminders of a follow-up that was done or missed (a service may call
    this in its transaction; the rules also do it within a minute). A missed aftercare
    visit keeps its escalation."""
    return cancel(key_prefix=f"follow-up:{follow_up_id}:")


# --- Follow-ups: the day before and on the day ------------------------------------------


def _cancel_follow_up_reminders(now: datetime.datetime) -> None:
    # Valid while the follow-up is still pending, for that day, in the organisation the
    # reminder was planned for (a transferred case moves on) — and, for the assignee's own
    # reminder, still theirs.
    for kind, mine in (
        (NotificationKind.FOLLOW_UP_DUE, {"assignee_id": OuterRef("recipient_id")}),
        (NotificationKind.FOLLOW_UP_OVERDUE, {}),
    ):
        cancel_unless(
            key_prefix="follow-up:",
            kinds=[kind],
            now=now,
            annotations={"fu": data_int("follow_up"), "due": data_date("due_on")},
            data_keys=["follow_up", "due_on"],
            valid=Exists(
                FollowUp.objects.filter(
                    pk=OuterRef("fu"),
                    status=FollowUpStatus.PENDING,
                    due_on=OuterRef("due"),
                    case__organisation_id=OuterRef("organisation_id"),
                    **mine,
                )
            ),
        )


def _follow_up_data(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "follow_up": row["pk"],
        "case": row["case_id"],
        "case_number": row["case__number"],
        "follow_up_kind": row["kind"],
        "due_on": row["due_on"].isoformat(),
        **extra,
    }


@rule
def plan_follow_up_reminders(now: datetime.datetime) -> None:
    """The assignee hears about a pending follow-up the day before and on the day: in the
    bell from the start of that local day, by e-mail from 07:00 local."""
    _cancel_follow_up_reminders(now)
    first, last = local_dates_span(now)
    # The keys of a row's reminders, in SQL (inside the Exists: the follow-up is the outer row).
    day_key, before_key = (
        key_expr(
            "follow-up:", OuterRef("pk"), ":", iso_date(OuterRef("due_on")), f":{moment}:", OuterRef("assignee_id")
        )
        for moment in ("day", "before")
    )
    rows = (
        FollowUp.objects.filter(status=FollowUpStatus.PENDING, due_on__gte=first, due_on__lte=last + DAY)
        .filter(_works_in("assignee_id", "case__organisation_id"))
        # Nothing left to plan: the day's reminder is there, or the one of the day before
        # while no zone has reached the due day yet.
        .exclude(Exists(_reminder_with_key(day_key)))
        .exclude(Q(due_on__gt=last) & Exists(_reminder_with_key(before_key)))
        .values(
            "pk", "kind", "due_on", "assignee_id", "case_id", "case__number", "case__organisation_id", *_ORG_ZONE_FIELDS
        )
    )
    planned = []
    for row in rows:
        tz = _zone(row, "case__organisation__")
        today = local_date(now, tz)
        if row["due_on"] == today + DAY:
            moment = "before"
        elif row["due_on"] == today:
            moment = "day"
        else:
            continue
        planned.append(
            Planned(
                key=f"follow-up:{row['pk']}:{row['due_on'].isoformat()}:{moment}:{row['assignee_id']}",
                kind=NotificationKind.FOLLOW_UP_DUE,
                recipient_id=row["assignee_id"],
                due_at=local_moment(today, 0, tz),
                email_from=local_moment(today, MORNING_HOUR, tz),
                organisation_id=row["case__organisation_id"],
                link=_follow_ups_link(row["case_id"]),
                data=_follow_up_data(row, moment=moment),
            )
        )
    plan(planned)


# --- Follow-ups overdue: escalation to the supervisor --------------------------------------


def _overdue_band(now: datetime.datetime, days: int) -> tuple[datetime.date, datetime.date]:
    """Due dates whose escalation day (due + days + 1) is today somewhere, or was within CATCH_UP."""
    first, last = local_dates_span(now)
    return first - datetime.timedelta(days=days + 1 + CATCH_UP_DAYS), last - datetime.timedelta(days=days + 1)


def _escalation_values(qs: Any) -> Any:
    return qs.values(
        "pk",
        "kind",
        "due_on",
        "case_id",
        "case__number",
        "case__organisation_id",
        "case__supervisor_id",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__username",
        *_ORG_ZONE_FIELDS,
    )


def _escalations(
    rows: list[dict[str, Any]],
    *,
    now: datetime.datetime,
    kind: str,
    prefix: str,
    name: str,
    first_day: Any,
    data: Any,
    late: datetime.timedelta = CATCH_UP,
) -> list[Planned]:
    """Planned escalations of follow-up rows to their supervisors. `first_day(row)` is the
    local day the escalation belongs to (due at 07:00 local); it is planned on that day or
    up to `late` later."""
    members = members_by_org({r["case__organisation_id"] for r in rows}, [Role.SUPERVISOR])
    planned = []
    for row in rows:
        tz = _zone(row, "case__organisation__")
        today = local_date(now, tz)
        day = first_day(row)
        if not day <= today <= day + late:
            continue
        org_id = row["case__organisation_id"]
        for user_id in _supervisors_for(row["case__supervisor_id"], org_id, members):
            planned.append(
                Planned(
                    key=f"{prefix}:{row['pk']}:{row['due_on'].isoformat()}:{name}:{user_id}",
                    kind=kind,
                    recipient_id=user_id,
                    due_at=local_moment(day, MORNING_HOUR, tz),
                    organisation_id=org_id,
                    link=_follow_ups_link(row["case_id"]),
                    data=data(row),
                )
            )
    return planned


@rule
def plan_follow_up_escalations(now: datetime.datetime) -> None:
    """A follow-up (not aftercare) still pending more than ATENSI_FOLLOW_UP_ESCALATE_DAYS
    days after its due day goes to the case's supervisor at 07:00 local."""
    days = escalate_days()
    low, high = _overdue_band(now, days)
    rows = list(
        _escalation_values(
            FollowUp.objects.filter(status=FollowUpStatus.PENDING, due_on__gte=low, due_on__lte=high).exclude(
                kind=FollowUpKind.AFTERCARE
            )
        )
    )
    after = datetime.timedelta(days=days + 1)
    plan(
        _escalations(
            rows,
            now=now,
            kind=NotificationKind.FOLLOW_UP_OVERDUE,
            prefix="follow-up",
            name="overdue",
            first_day=lambda row: row["due_on"] + after,
            data=lambda row: _follow_up_data(row, assignee=_assignee(row), days=days),
        )
    )


def _assignee(row: Mapping[str, Any]) -> str:
    return person(row["assignee__first_name"], row["assignee__last_name"], row["assignee__username"])


# --- Aftercare missed ----------------------------------------------------------------------


def _aftercare_still_relevant() -> Q:
    return Q(case__stage__in=AFTERCARE_STAGES) | Q(case__stage=Stage.CLOSED, case__closure_reason__in=AFTERCARE_KEPT_ON)


def _last_termination() -> Subquery:
    """When the case last entered termination (its timeline), which scheduled the current
    aftercare visits; visits retired by an earlier return or closure are older."""
    return Subquery(
        TimelineEntry.objects.filter(
            case_id=OuterRef("case_id"), kind=TimelineKind.STAGE, data__to_stage=Stage.TERMINASI
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )


@rule
def plan_aftercare_escalations(now: datetime.datetime) -> None:
    """An aftercare visit of the current aftercare that was marked missed (escalated on its
    day, 07:00 local) or is still pending ATENSI_FOLLOW_UP_ESCALATE_DAYS days after it (the
    morning after that) goes to the case's supervisor. One escalation per visit."""
    cancel_unless(
        key_prefix="aftercare:",
        kinds=[NotificationKind.AFTERCARE_MISSED],
        now=now,
        annotations={"fu": data_int("follow_up"), "due": data_date("due_on")},
        data_keys=["follow_up", "due_on"],
        valid=Exists(
            FollowUp.objects.filter(
                _aftercare_still_relevant(),
                pk=OuterRef("fu"),
                due_on=OuterRef("due"),
                status__in=[FollowUpStatus.PENDING, FollowUpStatus.MISSED],
                case__organisation_id=OuterRef("organisation_id"),
            )
        ),
    )
    days = escalate_days()
    low, high = _overdue_band(now, days)
    _first, last = local_dates_span(now)
    aftercare = FollowUp.objects.filter(kind=FollowUpKind.AFTERCARE)
    overdue = list(
        _escalation_values(aftercare.filter(status=FollowUpStatus.PENDING, due_on__gte=low, due_on__lte=high))
    )
    missed = list(
        _escalation_values(
            aftercare.filter(
                _aftercare_still_relevant(), status=FollowUpStatus.MISSED, due_on__gte=low, due_on__lte=last
            )
            .annotate(terminated_at=_last_termination())
            .filter(created_at__gte=F("terminated_at"))
        )
    )
    after = datetime.timedelta(days=days + 1)
    # Marked missed on any day up to the overdue escalation (and its catching up): after
    # that it was escalated as overdue while still pending.
    for status, rows, first_day, late in (
        ("overdue", overdue, lambda row: row["due_on"] + after, CATCH_UP),
        ("missed", missed, lambda row: row["due_on"], after + CATCH_UP),
    ):
        plan(
            _escalations(
                rows,
                now=now,
                kind=NotificationKind.AFTERCARE_MISSED,
                prefix="aftercare",
                name="missed",
                first_day=first_day,
                late=late,
                data=lambda row, status=status: _follow_up_data(row, assignee=_assignee(row), days=days, status=status),
            )
        )


# --- Cases stalled in a stage ----------------------------------------------------------------


@rule
def plan_stage_reminders(now: datetime.datetime) -> None:
    """A case longer than ATENSI_STAGE_DEADLINE_DAYS[stage] days in its stage reminds its
    case manager (else its supervisors) once per stage entry, at the first 07:00 local after
    the deadline passed."""
    cancel_unless(
        key_prefix="case:",
        kinds=[NotificationKind.STAGE_STALLED],
        now=now,
        data_keys=["case", "stage_since", "stage"],
        annotations={
            "case_pk": data_int("case"),
            "entered": data_datetime("stage_since"),
            "in_stage": data_text("stage"),
        },
        valid=Exists(
            Case.objects.filter(
                pk=OuterRef("case_pk"),
                stage=OuterRef("in_stage"),
                stage_changed_at=OuterRef("entered"),
                organisation_id=OuterRef("organisation_id"),
            )
        ),
    )
    deadlines = stage_deadlines()
    if not deadlines:
        return
    # The cases of past_stage_deadline(now) whose deadline passed within CATCH_UP.
    band = Q()
    for stage, limit in stage_deadline_limits(now).items():
        band |= Q(stage=stage, stage_changed_at__gt=limit - CATCH_UP, stage_changed_at__lte=limit)
    rows = list(
        Case.objects.filter(band).values(
            "pk",
            "number",
            "stage",
            "stage_changed_at",
            "organisation_id",
            "case_manager_id",
            "supervisor_id",
            "organisation__home_region_id",
            "organisation__village_id",
        )
    )
    members = members_by_org({r["organisation_id"] for r in rows}, CASE_ROLES)
    planned = []
    for row in rows:
        org_id = row["organisation_id"]
        tz = _zone(row, "organisation__")
        days = deadlines[row["stage"]]
        due_at = first_local_hour_at_or_after(row["stage_changed_at"] + datetime.timedelta(days=days), MORNING_HOUR, tz)
        manager = row["case_manager_id"]
        recipients = (
            [manager]
            if manager is not None and manager in holders(members, org_id, CASE_ROLES)
            else _supervisors_for(row["supervisor_id"], org_id, members)
        )
        entered = row["stage_changed_at"].astimezone(datetime.UTC).isoformat()
        for user_id in recipients:
            planned.append(
                Planned(
                    key=f"case:{row['pk']}:stage:{row['stage']}:{entered}:{user_id}",
                    kind=NotificationKind.STAGE_STALLED,
                    recipient_id=user_id,
                    due_at=due_at,
                    organisation_id=org_id,
                    link=_case_link(row["pk"]),
                    data={
                        "case": row["pk"],
                        "case_number": row["number"],
                        "stage": row["stage"],
                        "stage_since": entered,
                        "entered_on": local_date(row["stage_changed_at"], tz).isoformat(),
                        "days": days,
                    },
                )
            )
    plan(planned)


# --- Approvals left waiting -------------------------------------------------------------------


@rule
def plan_approval_reminders(now: datetime.datetime) -> None:
    """An approval waiting longer than ATENSI_APPROVAL_WAITING_DAYS days reminds the
    organisation's supervisors other than the one who asked (else its approvers), at the
    first 07:00 local after."""
    cancel_unless(
        key_prefix="approval:",
        kinds=[NotificationKind.APPROVAL_WAITING],
        now=now,
        annotations={"approval_pk": data_int("approval"), "case_org": data_int("case_organisation")},
        data_keys=["approval"],
        # Still pending, in the organisation it was planned for (a Dinas Sosial's
        # supervisor hears under their Dinas Sosial: the case's is in the data).
        valid=Exists(
            Approval.objects.filter(
                Q(case__organisation_id=OuterRef("organisation_id")) | Q(case__organisation_id=OuterRef("case_org")),
                pk=OuterRef("approval_pk"),
                status=ApprovalStatus.PENDING,
            )
        ),
    )
    waiting = datetime.timedelta(days=approval_waiting_days())
    limit = now - waiting
    rows = list(
        Approval.objects.filter(
            status=ApprovalStatus.PENDING, requested_at__gt=limit - CATCH_UP, requested_at__lte=limit
        ).values(
            "pk",
            "kind",
            "requested_at",
            "requested_by_id",
            "requested_by__first_name",
            "requested_by__last_name",
            "requested_by__username",
            "case_id",
            "case__number",
            "case__organisation_id",
            *_ORG_ZONE_FIELDS,
        )
    )
    members = members_by_org({r["case__organisation_id"] for r in rows}, [Role.SUPERVISOR])
    recipients = {
        row["pk"]: {
            user_id: row["case__organisation_id"]
            for user_id in holders(members, row["case__organisation_id"], [Role.SUPERVISOR])
            if user_id != row["requested_by_id"]
        }
        for row in rows
    }
    # No other supervisor there: the escalation goes to the request's approvers (its org
    # admins, or the covering Dinas Sosial's supervisors), as the request did.
    orphans = [pk for pk, people in recipients.items() if not people]
    if orphans:
        found = Approval.objects.filter(pk__in=orphans).select_related("case")
        for pk, approvers in approvers_for_many(found).items():
            recipients[pk] = {u.pk: approvers.via[u.pk] for u in approvers.users}
    planned = []
    for row in rows:
        tz = _zone(row, "case__organisation__")
        due_at = first_local_hour_at_or_after(row["requested_at"] + waiting, MORNING_HOUR, tz)
        for user_id, org_id in recipients[row["pk"]].items():
            planned.append(
                Planned(
                    key=f"approval:{row['pk']}:waiting:{user_id}",
                    kind=NotificationKind.APPROVAL_WAITING,
                    recipient_id=user_id,
                    due_at=due_at,
                    organisation_id=org_id,
                    link=_approvals_link(row["pk"]),
                    data={
                        "approval": row["pk"],
                        "case_organisation": row["case__organisation_id"],
                        "case": row["case_id"],
                        "case_number": row["case__number"],
                        "approval_kind": row["kind"],
                        "requested_on": local_date(row["requested_at"], tz).isoformat(),
                        "requester": person(
                            row["requested_by__first_name"],
                            row["requested_by__last_name"],
                            row["requested_by__username"],
                        ),
                    },
                )
            )
    plan(planned)


# --- How the notifications read ------------------------------------------------------------


def _label(choices: Any, code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def _date(iso: str) -> str:
    return date_format(datetime.date.fromisoformat(iso), "DATE_FORMAT")


@register(NotificationKind.FOLLOW_UP_DUE)
def _follow_up_due(data: dict[str, Any]) -> str:
    values = {
        "what": _label(FollowUpKind, data["follow_up_kind"]),
        "case": data["case_number"],
        "date": _date(data["due_on"]),
    }
    if data.get("moment") == "before":
        return _("Reminder: %(what)s on case %(case)s is due tomorrow, %(date)s.") % values
    return _("Reminder: %(what)s on case %(case)s is due today, %(date)s.") % values


@register(NotificationKind.FOLLOW_UP_OVERDUE)
def _follow_up_overdue(data: dict[str, Any]) -> str:
    days = int(data["days"])
    return ngettext(
        "%(what)s on case %(case)s, assigned to %(assignee)s, was due on %(date)s and is more than "
        "%(days)s day overdue.",
        "%(what)s on case %(case)s, assigned to %(assignee)s, was due on %(date)s and is more than "
        "%(days)s days overdue.",
        days,
    ) % {
        "what": _label(FollowUpKind, data["follow_up_kind"]),
        "case": data["case_number"],
        "assignee": data["assignee"],
        "date": _date(data["due_on"]),
        "days": days,
    }


@register(NotificationKind.AFTERCARE_MISSED)
def _aftercare_missed(data: dict[str, Any]) -> str:
    values = {"case": data["case_number"], "assignee": data["assignee"], "date": _date(data["due_on"])}
    if data.get("status") == "missed":
        return _("The aftercare visit on case %(case)s due on %(date)s was missed (assigned to %(assignee)s).") % values
    days = int(data["days"])
    return ngettext(
        "The aftercare visit on case %(case)s due on %(date)s is more than %(days)s day overdue "
        "(assigned to %(assignee)s).",
        "The aftercare visit on case %(case)s due on %(date)s is more than %(days)s days overdue "
        "(assigned to %(assignee)s).",
        days,
    ) % {**values, "days": days}


@register(NotificationKind.STAGE_STALLED)
def _stage_stalled(data: dict[str, Any]) -> str:
    days = int(data["days"])
    return ngettext(
        "Case %(case)s has been at the stage “%(stage)s” since %(date)s, more than %(days)s day.",
        "Case %(case)s has been at the stage “%(stage)s” since %(date)s, more than %(days)s days.",
        days,
    ) % {
        "case": data["case_number"],
        "stage": _label(Stage, data["stage"]),
        "date": _date(data["entered_on"]),
        "days": days,
    }


@register(NotificationKind.APPROVAL_WAITING)
def _approval_waiting(data: dict[str, Any]) -> str:
    return _("%(requester)s asked on %(date)s for approval of the %(what)s of case %(case)s; it is still waiting.") % {
        "requester": data["requester"],
        "date": _date(data["requested_on"]),
        "what": _label(ApprovalKind, data["approval_kind"]).lower(),
        "case": data["case_number"],
    }
