"""The home page, "Hari ini": the person's work, composed from the apps' selectors.

The sections follow the roles the user holds anywhere, each shown once: case work (social
workers and supervisors: their follow-ups, their cases that changed since they last looked,
cases late in their stage, aftercare due), supervision (approvals, the intake queue,
escalations, caseload), referrals to answer (referral officers), a reporter's own reports.
Whoever holds none of these (viewers, org admins) gets the short page.

Each list is one query of at most LIST_SIZE + 1 rows. A list that fits is its own count;
the counts of the longer ones are capped (atensi.core.counting) and all come in one query.
So the page costs at most the same number of queries whatever the data: a test holds it
to that.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.counting import Tally, capped_counts
from atensi.core.fragments import cached_fragment, fragment_key
from atensi.core.localtime import format_local, local_date, organisation_timezone
from atensi.core.widgets import format_html
from atensi.dashboards.compose import team_caseload
from cases import work_selectors as work
from cases.approvals import approvals_waiting_for
from cases.figures import UNASSIGNED
from cases.lists import month_of
from cases.models import ApprovalKind, FollowUpKind, ReportStatus, Stage, TimelineKind
from cases.selectors import CASE_MANAGER_ROLES, CASE_ROLES, INTAKE_ROLES, display_name, report_queue_for
from referrals.models import Referral, ReferralKind
from referrals.selectors import (
    accepted_without_outcome,
    inbox_for,
    inbox_overdue,
    inbox_waiting,
    oldest_accepted_without_outcome,
)
from stakeholders.models import Membership, User
from stakeholders.roles import Role

LIST_SIZE = 10


@dataclass(frozen=True)
class Item:
    """One line of a section: what it is, a detail, and where it leads."""

    url: str
    title: str
    detail: str = ""
    badge: str = ""
    badge_tone: str = "secondary"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    count: Tally
    items: list[Item]
    empty: str
    # The filtered list behind the count, where there is one the user may see.
    list_url: str = ""
    # How many of the counted are overdue, where the section says so.
    overdue: Tally | None = None

    @property
    def items_html(self) -> SafeString:
        """The section's lines, written here (a page has a hundred; a template costs more)."""
        return _joined(
            format_html(
                '<li class="list-group-item"><a href="{}" class="fw-semibold text-break" data-testid="item-{}">{}</a>'
                "{}{}</li>",
                item.url,
                self.key,
                item.title,
                format_html(' <span class="badge text-bg-{} ms-1">{}</span>', item.badge_tone, item.badge)
                if item.badge
                else "",
                format_html('<div class="small text-body-secondary text-break">{}</div>', item.detail)
                if item.detail
                else "",
            )
            for item in self.items
        )


def _joined(parts: Iterable[SafeString]) -> SafeString:
    return mark_safe("\n".join(parts))  # noqa: S308 - every part made by format_html


@dataclass(frozen=True)
class Draft:
    """A section before the counts: the querysets to count go into the page's one count query."""

    key: str
    title: str
    # What to count when the items are not the whole list (None: `total` is its length).
    counted: QuerySet[Any] | None
    items: list[Item]
    empty: str
    list_url: str = ""
    overdue: QuerySet[Any] | None = None
    # The items are the whole list: their number is the count, which the count query leaves out.
    whole: bool = False
    # The list's length where it was read whole but only its head is shown.
    total: int | None = None


def _head(queryset: QuerySet[Any]) -> tuple[list[Any], bool]:
    """The first LIST_SIZE rows of a list, and whether they are all of it (one row more is
    read to know). Most of a day's lists are short: their count costs nothing then."""
    rows = list(queryset[: LIST_SIZE + 1])
    return rows[:LIST_SIZE], len(rows) <= LIST_SIZE


@dataclass(frozen=True)
class CaseloadLine:
    """A case manager's open cases and those with an overdue follow-up, each the count of
    the case list it links to (the organisation dashboard's caseload, cases.figures)."""

    name: str
    open_cases: int
    overdue_cases: int
    open_url: str
    overdue_url: str

    # The badges' words, made here: a hundred {% blocktranslate count %} tags cost more.
    @property
    def open_label(self) -> str:
        return ngettext("%(count)s open case", "%(count)s open cases", self.open_cases) % {
            "count": localize(self.open_cases)
        }

    @property
    def overdue_label(self) -> str:
        return ngettext(
            "%(count)s with an overdue follow-up", "%(count)s with an overdue follow-up", self.overdue_cases
        ) % {"count": localize(self.overdue_cases)}


def _caseload_html(lines: list[CaseloadLine]) -> SafeString:
    return _joined(
        format_html(
            '<li class="list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2" '
            'data-testid="caseload-row"><span class="text-break">{}</span><span class="d-flex flex-wrap gap-1">'
            '<a href="{}" class="badge text-bg-primary text-decoration-none text-wrap">{}</a> '
            '<a href="{}" class="badge {} text-decoration-none text-wrap">{}</a></span></li>',
            line.name,
            line.open_url,
            line.open_label,
            line.overdue_url,
            "text-bg-danger" if line.overdue_cases else "text-bg-light",
            line.overdue_label,
        )
        for line in lines
    )


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    sections: list[Section]
    # The caseload card's lines (None: no caseload card; empty: no case managers yet).
    caseload: SafeString | None = None
    unassigned: Tally | None = None
    # When the caseload was counted, where it comes from figures counted ahead ("" if now).
    caseload_counted: str = ""


@dataclass(frozen=True)
class GroupDraft:
    key: str
    title: str
    drafts: list[Draft]
    caseload: SafeString | None = None
    unassigned: QuerySet[Any] | None = None
    caseload_counted: str = ""


@dataclass(frozen=True)
class Today:
    groups: list[Group]
    # Nobody's work to show: viewers, org admins (their dashboard comes to this page).
    short: bool

    def approvals_waiting(self) -> int | None:
        """The exact number of requests waiting for the user's decision, if the page counted
        it (the navigation's badge then need not count it again)."""
        for group in self.groups:
            for section in group.sections:
                if group.key == "supervision" and section.key == "approvals" and not section.count.is_capped:
                    return section.count.value
        return None


def _case_list(**filters: Any) -> str:
    return reverse("cases:case_list") + "?" + urlencode(filters)


def _case_url(case_id: int) -> str:
    return reverse("cases:case_detail", args=[case_id])


def _follow_ups_url(case_id: int) -> str:
    return reverse("cases:case_notes", args=[case_id]) + "#follow-ups"


def _local_days(memberships: Iterable[Membership], now: datetime.datetime, roles: Iterable[str]) -> dict[int, Any]:
    wanted = set(roles)
    return {
        m.organisation_id: local_date(now, organisation_timezone(m.organisation))
        for m in memberships
        if m.role in wanted
    }


def _days_late(due_on: datetime.date, today: datetime.date) -> str:
    days = (today - due_on).days
    return ngettext("%(days)s day overdue", "%(days)s days overdue", days) % {"days": days}


def _follow_up_kind(kind: str) -> str:
    return str(FollowUpKind(kind).label) if kind in FollowUpKind.values else kind


# A follow-up line's fields, read as values: no model rows for a line of text.
_FOLLOW_UP_FIELDS = (
    "pk",
    "kind",
    "due_on",
    "case_id",
    "organisation_id",
    "case__number",
    "case__beneficiary__full_name",
)


def _follow_up_item(row: dict[str, Any], days: dict[int, Any], *, late: bool) -> Item:
    due_on = row["due_on"]
    today = days.get(row["organisation_id"], due_on)
    return Item(
        url=_follow_ups_url(row["case_id"]),
        title=f"{row['case__number']} · {row['case__beneficiary__full_name']}",
        detail=_("%(what)s, due %(date)s")
        % {"what": _follow_up_kind(row["kind"]), "date": date_format(due_on, "DATE_FORMAT")},
        badge=_days_late(due_on, today) if late and today > due_on else "",
        badge_tone="danger",
    )


def _stage(stage: str) -> str:
    return str(Stage(stage).label) if stage in Stage.values else stage


_CHANGE_FIELDS = ("pk", "number", "stage", "child_name")


def _change_item(row: dict[str, Any], detail: str) -> Item:
    """A case of `cases_touched_since_looked`, read as values (its annotations are no model fields)."""
    return Item(url=_case_url(row["pk"]), title=f"{row['number']} · {row['child_name']}", detail=detail)


def _newest_first(rows: list[dict[str, Any]], moment: str) -> list[dict[str, Any]]:
    """The rows with a `moment`, the newest first (then the highest id, as the lists' order)."""
    return sorted(
        (row for row in rows if row[moment] is not None), key=lambda row: (row[moment], row["pk"]), reverse=True
    )


def _timeline_kind(kind: str | None) -> str:
    return str(TimelineKind(kind).label) if kind in TimelineKind.values else ""


@dataclass(frozen=True)
class Head:
    """The first LIST_SIZE rows of a list and whether they are all of it; then either its
    length (the list was read whole) or the list to count (only its head was read)."""

    rows: list[dict[str, Any]]
    whole: bool
    total: int | None = None
    counted: QuerySet[Any] | None = None

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> Head:
        return cls(rows[:LIST_SIZE], whole=len(rows) <= LIST_SIZE, total=len(rows))

    @classmethod
    def read(cls, queryset: QuerySet[Any]) -> Head:
        """The head of a list read on its own (its lines' fields), the list itself counted."""
        rows, whole = _head(queryset.values(*_FOLLOW_UP_FIELDS))
        return cls(rows, whole=whole, counted=queryset)


# The follow-ups of the day read at once, split here; beyond this many (a worker far
# behind), each list is read on its own, its head only, and counted to the cap.
FOLLOW_UPS_READ = 1000
# What splitting needs: no join (the case's number and the child's name are read for the
# lines shown only).
_DAY_FIELDS = ("pk", "kind", "due_on", "case_id", "organisation_id")


def _follow_up_heads(user: User, days: dict[int, Any], mine: work.MyCases) -> tuple[Head, Head, Head]:
    """Due today, overdue, aftercare due this month: the day's follow-ups in one read of the
    follow-ups alone, split here by each organisation's local day; the titles of the lines
    shown in a second."""
    rows = list(work.follow_ups_of_the_day(user=user, days=days, mine=mine).values(*_DAY_FIELDS)[: FOLLOW_UPS_READ + 1])
    if len(rows) > FOLLOW_UPS_READ:
        return (
            Head.read(work.follow_ups_due_today(user=user, days=days, mine=mine)),
            Head.read(work.follow_ups_overdue(user=user, days=days, mine=mine)),
            Head.read(work.aftercare_due_this_month(user=user, days=days, mine=mine)),
        )
    due, overdue, aftercare = [], [], []
    for row in rows:
        today = days[row["organisation_id"]]
        if row["due_on"] == today:
            due.append(row)
        elif row["due_on"] < today:
            overdue.append(row)
        first, last = month_of(today)
        if row["kind"] == FollowUpKind.AFTERCARE and first <= row["due_on"] <= last:
            aftercare.append(row)
    shown = [row for part in (due, overdue, aftercare) for row in part[:LIST_SIZE]]
    titles = work.follow_up_titles([row["pk"] for row in shown])
    for row in shown:
        row["case__number"], row["case__beneficiary__full_name"] = titles[row["pk"]]
    return Head.of(due), Head.of(overdue), Head.of(aftercare)


def _case_work(user: User, days: dict[int, Any], now: datetime.datetime) -> GroupDraft:
    mine = work.my_case_ids(user=user, days=days, now=now)
    managed = mine.managed
    touched = work.cases_touched_since_looked(user=user, now=now, case_ids=managed)
    late = work.cases_past_stage_deadline(user=user, now=now, case_ids=managed)
    due_head, overdue_head, aftercare_head = _follow_up_heads(user, days, mine)
    # The user manages no case: those lists are empty without asking (their querysets are
    # none(), without the annotations values() would name). Cases assigned and cases changed
    # come in one read of every case touched, split here: no more rows than cases managed.
    touched_rows = list(touched.values(*_CHANGE_FIELDS, "assigned_at", "changed_at", "changed_kind")) if managed else []
    assigned_rows = _newest_first(touched_rows, "assigned_at")
    changed_rows = _newest_first(touched_rows, "changed_at")
    late_rows, late_whole = (
        ([], True)
        if not managed
        else _head(late.values("pk", "number", "stage", "beneficiary__full_name", "stage_changed_at"))
    )
    drafts = [
        Draft(
            "due_today",
            _("Follow-ups due today"),
            due_head.counted,
            [_follow_up_item(f, days, late=False) for f in due_head.rows],
            _("No follow-ups today."),
            whole=due_head.whole,
            total=due_head.total,
        ),
        Draft(
            "overdue",
            _("Overdue follow-ups"),
            overdue_head.counted,
            [_follow_up_item(f, days, late=True) for f in overdue_head.rows],
            _("No overdue follow-ups."),
            _case_list(scope="mine", overdue=1),
            whole=overdue_head.whole,
            total=overdue_head.total,
        ),
        Draft(
            "assigned",
            _("Assigned to me since I last looked"),
            None,
            [
                _change_item(
                    row,
                    _("%(stage)s, assigned %(time)s ago")
                    % {"stage": _stage(row["stage"]), "time": timesince(row["assigned_at"], now)},
                )
                for row in assigned_rows[:LIST_SIZE]
            ],
            _("No newly assigned cases."),
            total=len(assigned_rows),
        ),
        Draft(
            "changed",
            _("Changed by others since I last looked"),
            None,
            [
                _change_item(
                    row,
                    _("%(what)s, %(time)s ago")
                    % {"what": _timeline_kind(row["changed_kind"]), "time": timesince(row["changed_at"], now)},
                )
                for row in changed_rows[:LIST_SIZE]
            ],
            _("Nobody else changed your cases since you last looked."),
            total=len(changed_rows),
        ),
        Draft(
            "stage_late",
            _("Past the stage deadline"),
            late,
            [
                Item(
                    url=_case_url(c["pk"]),
                    title=f"{c['number']} · {c['beneficiary__full_name']}",
                    detail=_("%(stage)s since %(date)s")
                    % {"stage": _stage(c["stage"]), "date": date_format(c["stage_changed_at"], "DATE_FORMAT")},
                    badge=_("late"),
                    badge_tone="warning",
                )
                for c in late_rows
            ],
            _("No case is past its stage deadline."),
            _case_list(scope="mine", stage_late=1),
            whole=late_whole,
        ),
        Draft(
            "aftercare",
            _("Aftercare visits due this month"),
            aftercare_head.counted,
            [_follow_up_item(f, days, late=True) for f in aftercare_head.rows],
            _("No aftercare visits due this month."),
            _case_list(scope="mine", aftercare_due=1),
            whole=aftercare_head.whole,
            total=aftercare_head.total,
        ),
    ]
    return GroupDraft("case-work", _("My case work"), drafts)


def _person(row: dict[str, Any], prefix: str) -> str:
    """person_name of a person read as values (`prefix`: the path to them)."""
    return display_name(row[prefix + "first_name"], row[prefix + "last_name"], row[prefix + "username"])


_APPROVAL_FIELDS = (
    "pk",
    "kind",
    "requested_at",
    "case__number",
    "requested_by__first_name",
    "requested_by__last_name",
    "requested_by__username",
)


def _approval_item(row: dict[str, Any], now: datetime.datetime) -> Item:
    kind = row["kind"]
    what = ApprovalKind(kind).label if kind in ApprovalKind.values else kind
    # The queue, not the case: an approver from outside the organisation (its org admins,
    # a Dinas Sosial) may decide without reading the child's file, so no name here either.
    return Item(
        url=reverse("cases:approval_queue") + f"#approval-{row['pk']}",
        title=row["case__number"],
        detail=_("%(what)s, asked by %(who)s") % {"what": what, "who": _person(row, "requested_by__")},
        badge=_("waiting %(time)s") % {"time": timesince(row["requested_at"], now)},
        badge_tone="warning",
    )


def _intake(user: User, now: datetime.datetime) -> Draft:
    queue = report_queue_for(user).select_related("village").order_by("created_at", "pk")
    rows, whole = _head(queue)
    return Draft(
        "intake",
        _("Reports in the intake queue"),
        queue,
        [
            Item(
                url=reverse("cases:report_detail", args=[r.public_id]),
                title=r.village.name,
                detail=_("reported %(time)s ago") % {"time": timesince(r.created_at, now)},
            )
            for r in rows
        ],
        _("No reports are waiting for triage."),
        reverse("cases:report_queue"),
        whole=whole,
    )


def _caseload(user: User, memberships: list[Membership], now: datetime.datetime) -> tuple[SafeString, str]:
    """The supervised teams' case managers, the busiest first (the first CASELOAD_LIMIT),
    those with no open case included, as the card's lines; and when the counts were made,
    if not now. Counts made ahead (a Balai too large to count live) change only when they
    are counted again: when every organisation's were, the lines are kept drawn for a
    minute (atensi.core.fragments), keyed by the moments of those counts, so only a
    colleague's new name waits that long."""
    supervised = [m.organisation for m in memberships if m.role == Role.SUPERVISOR]
    rows, counted_at, moments = team_caseload(supervised, now)

    def draw() -> str:
        load = {row.user_id: (row.open_total, row.overdue) for row in rows if row.user_id != UNASSIGNED}
        people = [(pk, name, *load.get(pk, (0, 0))) for pk, name in work.case_managers_of_team(user)]
        # The busiest first; links only for the lines shown (a team may have hundreds of people).
        people.sort(key=lambda person: (-person[2], -person[3], person[1]))
        base = reverse("cases:case_list")  # once: a hundred links below
        return _caseload_html(
            [
                CaseloadLine(
                    name=name,
                    open_cases=open_cases,
                    overdue_cases=overdue_cases,
                    open_url=f"{base}?case_manager={pk}&status=open",
                    overdue_url=f"{base}?case_manager={pk}&overdue=1",
                )
                for pk, name, open_cases, overdue_cases in people[: work.CASELOAD_LIMIT]
            ]
        )

    zone = organisation_timezone(supervised[0]) if supervised else None
    counted = format_local(counted_at, zone) if counted_at is not None and zone is not None else ""
    if moments is None:  # some counted now: they change with any case, never kept
        return mark_safe(draw()), counted  # noqa: S308 - written by format_html
    key = fragment_key("caseload", user.pk, get_language(), moments)
    return cached_fragment(key, draw), counted


def _supervision(
    user: User, memberships: list[Membership], days: dict[int, Any], now: datetime.datetime, *, intake: bool
) -> GroupDraft:
    approvals = approvals_waiting_for(user).order_by("requested_at", "pk")
    escalated = work.team_follow_ups_escalated(user=user, days=days)
    approval_rows, approvals_whole = _head(approvals.values(*_APPROVAL_FIELDS))
    escalated_rows, escalated_whole = _head(
        escalated.values(*_FOLLOW_UP_FIELDS, "assignee__first_name", "assignee__last_name", "assignee__username")
    )
    drafts = [
        Draft(
            "approvals",
            _("Approvals waiting"),
            approvals,
            [_approval_item(a, now) for a in approval_rows],
            _("No plan or closure is waiting for your approval."),
            reverse("cases:approval_queue"),
            whole=approvals_whole,
        ),
    ]
    if intake:
        drafts.append(_intake(user, now))
    drafts.append(
        Draft(
            "escalated",
            _("Escalations: your team's long overdue follow-ups"),
            escalated,
            [
                Item(
                    url=_follow_ups_url(f["case_id"]),
                    title=f"{f['case__number']} · {f['case__beneficiary__full_name']}",
                    detail=_("%(what)s, assigned to %(who)s, due %(date)s")
                    % {
                        "what": _follow_up_kind(f["kind"]),
                        "who": _person(f, "assignee__"),
                        "date": date_format(f["due_on"], "DATE_FORMAT"),
                    },
                    badge=_days_late(f["due_on"], days.get(f["organisation_id"], f["due_on"])),
                    badge_tone="danger",
                )
                for f in escalated_rows
            ],
            _("No follow-up of your team is long overdue."),
            _case_list(overdue=1, status="open"),
            whole=escalated_whole,
        )
    )
    caseload, counted = _caseload(user, memberships, now)
    return GroupDraft(
        "supervision",
        _("Supervision"),
        drafts,
        caseload=caseload,
        unassigned=work.open_cases_without_manager(user),
        caseload_counted=counted,
    )


def _referral_item(referral: Referral, now: datetime.datetime) -> Item:
    kind = ReferralKind(referral.kind).label if referral.kind in ReferralKind.values else referral.kind
    late = referral.respond_by < now
    return Item(
        url=reverse("referrals:detail", args=[referral.pk]),
        title=referral.sender.name,
        detail=_("%(kind)s, answer due by %(deadline)s")
        % {"kind": kind, "deadline": format_local(referral.respond_by, organisation_timezone(referral.receiver))},
        badge=_("overdue") if late else "",
        badge_tone="danger",
    )


def _referrals(user: User, now: datetime.datetime) -> GroupDraft:
    to_answer = inbox_for(user)
    accepted = accepted_without_outcome(user)
    oldest = list(oldest_accepted_without_outcome(user, limit=LIST_SIZE + 1))
    inbox = reverse("referrals:inbox")
    drafts = [
        Draft(
            "to_answer",
            _("Referrals to answer"),
            inbox_waiting(user),
            [_referral_item(r, now) for r in to_answer[:LIST_SIZE]],
            _("No referral is waiting for your answer."),
            inbox,
            overdue=inbox_overdue(user, now=now),
        ),
        Draft(
            "accepted",
            _("Accepted referrals without an outcome"),
            accepted,
            [
                Item(
                    url=reverse("referrals:detail", args=[r.pk]),
                    title=r.sender.name,
                    detail=_("accepted %(time)s ago") % {"time": timesince(r.answered_at or r.sent_at, now)},
                )
                for r in oldest[:LIST_SIZE]
            ],
            _("Every accepted referral has its outcome."),
            inbox + "?" + urlencode({"status": "accepted"}),
            whole=len(oldest) <= LIST_SIZE,
        ),
    ]
    return GroupDraft("referrals", _("Referrals"), drafts)


_REPORT_TONES: dict[str, str] = {
    ReportStatus.NEW: "secondary",
    ReportStatus.CASE_OPENED: "success",
    ReportStatus.DISMISSED: "dark",
}


def _reports(user: User, now: datetime.datetime) -> GroupDraft:
    mine = work.my_reports(user)
    rows, whole = _head(mine)
    draft = Draft(
        "reports",
        _("My reports and what happened to them"),
        mine,
        [
            Item(
                url=reverse("cases:report_detail", args=[r.public_id]),
                title=r.village.name,
                detail=_("reported %(time)s ago") % {"time": timesince(r.created_at, now)},
                badge=str(r.get_status_display()),
                badge_tone=_REPORT_TONES.get(r.status, "secondary"),
            )
            for r in rows
        ],
        _("You have not reported anyone yet."),
        reverse("cases:report_mine"),
        whole=whole,
    )
    return GroupDraft("reports", _("My reports"), [draft])


def _drafts(user: User, memberships: list[Membership], now: datetime.datetime) -> list[GroupDraft]:
    actor = actor_for(user)
    roles = actor.all_roles()
    parts = []
    # A supervisor's day starts with the team (approvals, escalations), then their own cases.
    if Role.SUPERVISOR in roles:
        days = _local_days(memberships, now, [Role.SUPERVISOR])
        parts.append(_supervision(user, memberships, days, now, intake=bool(actor.org_ids(*INTAKE_ROLES))))
    if roles & set(CASE_MANAGER_ROLES):
        parts.append(_case_work(user, _local_days(memberships, now, CASE_ROLES), now))
    if Role.INTAKE_OFFICER in roles and Role.SUPERVISOR not in roles:
        parts.append(GroupDraft("intake", _("Intake"), [_intake(user, now)]))
    if Role.REFERRAL_OFFICER in roles:
        parts.append(_referrals(user, now))
    if Role.COMMUNITY_REPORTER in roles:
        parts.append(_reports(user, now))
    return parts


def _count(draft: Draft, tallies: dict[str, Tally], group: str) -> Tally:
    if draft.total is not None:
        return Tally(draft.total)
    return Tally(len(draft.items)) if draft.whole else tallies[f"{group}:{draft.key}"]


def today_for(user: User, memberships: list[Membership]) -> Today:
    """The user's day: the groups of sections their roles call for, every count in one query."""
    now = timezone.now()
    parts = _drafts(user, memberships, now)
    counted: dict[str, QuerySet[Any]] = {}
    for part in parts:
        for d in part.drafts:
            if d.counted is not None and not d.whole and d.total is None:
                counted[f"{part.key}:{d.key}"] = d.counted
            if d.overdue is not None:
                counted[f"{part.key}:{d.key}:overdue"] = d.overdue
        if part.unassigned is not None:
            counted[f"{part.key}:unassigned"] = part.unassigned
    tallies = capped_counts(user.pk, counted)
    groups = [
        Group(
            key=part.key,
            title=part.title,
            sections=[
                Section(
                    key=d.key,
                    title=d.title,
                    count=_count(d, tallies, part.key),
                    items=d.items,
                    empty=d.empty,
                    list_url=d.list_url,
                    overdue=tallies.get(f"{part.key}:{d.key}:overdue"),
                )
                for d in part.drafts
            ],
            caseload=part.caseload,
            unassigned=tallies.get(f"{part.key}:unassigned"),
            caseload_counted=part.caseload_counted,
        )
        for part in parts
    ]
    return Today(groups=groups, short=not groups)
