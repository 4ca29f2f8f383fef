"""Reminder rules of cases: follow-ups the day before and on the day, in the bell from the
start of the organisation's local day (WIB, WITA, WIT) and by e-mail from 07:00 local,
escalation of overdue follow-ups and missed aftercare to the supervisor, cases stalled in
a stage, approvals left waiting — each planned once however often the rules run,
cancelled once settled, and never told to anyone outside the organisation."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atensi.core.localtime import WIB, WIT, WITA
from atensi.core.models import Notification, Reminder
from atensi.core.notifications import mark_read, notification_text
from atensi.core.reminders import claim_due, deliver
from cases import reminders, workflow
from cases.models import Approval, ApprovalKind, ClosureReason, FollowUp, FollowUpKind, FollowUpStatus, Stage
from cases.notification_kinds import NotificationKind
from cases.records import follow_up_mark
from cases.tests.factories import open_case
from cases.tests.workflow_helpers import give_consent, move, plan_item, to_planning, to_stage
from stakeholders.models import Membership
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DUE = datetime.date(2026, 11, 23)  # a Monday
ZONES: dict[str, tuple[str, ZoneInfo]] = {"wib": ("15", WIB), "wita": ("73", WITA), "wit": ("91", WIT)}
RULES = (
    reminders.plan_follow_up_reminders,
    reminders.plan_follow_up_escalations,
    reminders.plan_aftercare_escalations,
    reminders.plan_stage_reminders,
    reminders.plan_approval_reminders,
)


def local(day: datetime.date, hour: int, tz: ZoneInfo, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def sweep(moment: datetime.datetime, *, deliver_due: bool = True) -> list[Notification]:
    """At `moment`: run every case rule (as the minute sweep does), then claim and deliver
    what is due. Returns the notifications this sweep delivered."""
    with time_machine.travel(moment, tick=False):
        now = timezone.now()
        for planning in RULES:
            with transaction.atomic():
                planning(now)
        before = set(Notification.objects.values_list("pk", flat=True))
        if deliver_due:
            for reminder_id in claim_due(now=now):
                deliver(reminder_id, now=now)
        return list(Notification.objects.exclude(pk__in=before).order_by("pk"))


def texts(notifications: list[Notification]) -> list[str]:
    return [notification_text(n) for n in notifications]


class Place:
    """An organisation in one zone with a worker, two supervisors and a case."""

    def __init__(self, name: str, region: str, tz: ZoneInfo, *, supervisor: bool = True) -> None:
        self.tz = tz
        self.org = OrganisationFactory(code=f"BA-{name.upper()}", name=f"Balai {name}", home_region_id=region)
        self.worker = member(organisation=self.org, role=Role.SOCIAL_WORKER, username=f"worker-{name}")
        self.boss = member(organisation=self.org, role=Role.SUPERVISOR, username=f"boss-{name}")
        self.other_boss = member(organisation=self.org, role=Role.SUPERVISOR, username=f"boss2-{name}")
        self.case = open_case(organisation=self.org, by=self.worker, supervisor=self.boss if supervisor else None)

    def follow_up(self, due_on: datetime.date = DUE, **fields: Any) -> FollowUp:
        fields.setdefault("kind", FollowUpKind.HOME_VISIT)
        fields.setdefault("assignee", self.worker)
        return FollowUp.objects.create(case=self.case, due_on=due_on, created_by=self.worker, **fields)


@pytest.fixture(params=list(ZONES))
def place(request: Any) -> Place:
    region, tz = ZONES[request.param]
    return Place(request.param, region, tz)


@pytest.fixture
def outsiders(other_org: Any, outsider: Any) -> list[Any]:
    return [outsider, member(organisation=other_org, role=Role.SUPERVISOR, username="boss-elsewhere")]


# --- Follow-ups: the day before and on the day -------------------------------------------------


def test_the_assignee_hears_the_day_before_and_on_the_day_bell_at_dawn_email_at_seven(
    place: Place, outsiders: list[Any]
) -> None:
    follow_up = place.follow_up()
    tz = place.tz
    assert sweep(local(DUE - days(2), 23, tz, 30)) == []
    assert not Reminder.objects.exists()  # two days before, locally: nothing yet

    # The bell from the start of the local day before...
    [told] = sweep(local(DUE - days(1), 0, tz, 1))
    before = Reminder.objects.get()
    assert before.key == f"follow-up:{follow_up.pk}:2026-11-23:before:{place.worker.pk}"
    assert told.recipient == place.worker and told.kind == NotificationKind.FOLLOW_UP_DUE
    assert told.organisation == place.org
    assert told.link == reverse("cases:case_notes", args=[place.case.pk]) + "#follow-ups"
    assert notification_text(told) == (
        f"Reminder: Home visit on case {place.case.number} is due tomorrow, Nov. 23, 2026."
    )
    # ...the e-mail waits for 07:00 local: nobody is e-mailed at night.
    assert before.email_from == local(DUE - days(1), 7, tz) and before.delivered_at is None
    assert sweep(local(DUE - days(1), 6, tz, 59)) == [] and mail.outbox == []
    assert sweep(local(DUE - days(1), 7, tz)) == []  # no second bell
    assert [m.to for m in mail.outbox] == [[place.worker.email]]
    before.refresh_from_db()
    assert before.delivered_at == local(DUE - days(1), 7, tz)

    assert sweep(local(DUE - days(1), 23, tz, 59)) == []
    [today] = sweep(local(DUE, 0, tz, 1))
    assert today.recipient == place.worker
    assert notification_text(today) == f"Reminder: Home visit on case {place.case.number} is due today, Nov. 23, 2026."
    assert place.case.beneficiary.full_name not in notification_text(today)
    sweep(local(DUE, 7, tz))
    assert len(mail.outbox) == 2 and "Nov. 23, 2026" not in mail.outbox[1].subject
    assert not Notification.objects.filter(recipient__in=outsiders).exists()


def test_the_morning_email_is_not_sent_when_the_bell_was_read_in_the_night(place: Place) -> None:
    place.follow_up()
    [_bell] = sweep(local(DUE, 0, place.tz, 1))
    with time_machine.travel(local(DUE, 6, place.tz), tick=False):
        mark_read(user=place.worker)
    sweep(local(DUE, 7, place.tz))
    assert mail.outbox == []
    assert Reminder.objects.get().delivered_at == local(DUE, 7, place.tz)  # done, not retried


def test_on_the_day_is_each_organisations_own_day() -> None:
    places = {name: Place(name, region, tz) for name, (region, tz) in ZONES.items()}
    follow_ups = {name: p.follow_up() for name, p in places.items()}
    # 23:30 in Jambi on the 22nd, already 00:30 on the 23rd in Makassar and 01:30 in Jayapura.
    moment = datetime.datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    sweep(moment, deliver_due=False)
    planned = {r.recipient_id: r for r in Reminder.objects.all()}
    wib, wita, wit = (planned[places[n].worker.pk] for n in ("wib", "wita", "wit"))
    assert wib.key == f"follow-up:{follow_ups['wib'].pk}:2026-11-23:before:{places['wib'].worker.pk}"
    # In the bell from the start of each one's local day, e-mailed from its 07:00.
    assert (wib.due_at, wib.email_from) == (local(DUE - days(1), 0, WIB), local(DUE - days(1), 7, WIB))
    assert wita.key.endswith(f":day:{places['wita'].worker.pk}") and wita.due_at == local(DUE, 0, WITA)
    assert wit.key.endswith(f":day:{places['wit'].worker.pk}") and wit.due_at == local(DUE, 0, WIT)
    assert wit.email_from == datetime.datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert wita.email_from == datetime.datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_a_follow_up_is_reminded_once_however_often_the_rules_run(place: Place) -> None:
    place.follow_up()
    tz = place.tz
    told = []
    for hour, minute in ((0, 0), (0, 0), (0, 1), (6, 30), (6, 59), (7, 0), (7, 0), (7, 1), (15, 0)):
        told += sweep(local(DUE - days(1), hour, tz, minute))
    assert len(told) == 1 and len(mail.outbox) == 1
    # Claimed and delivered again by a stray task: still once.
    deliver(Reminder.objects.get().pk)
    assert Notification.objects.count() == 1 and Reminder.objects.count() == 1 and len(mail.outbox) == 1


def test_a_follow_up_already_reminded_is_not_even_written_again(place: Place) -> None:
    place.follow_up()
    sweep(local(DUE, 7, place.tz))
    with time_machine.travel(local(DUE, 9, place.tz), tick=False), CaptureQueriesContext(connection) as queries:
        reminders.plan_follow_up_reminders(timezone.now())
    assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert Reminder.objects.count() == 1


def test_a_follow_up_created_after_seven_is_reminded_at_once_and_not_for_past_days(place: Place) -> None:
    tz = place.tz
    with time_machine.travel(local(DUE, 15, tz), tick=False):
        place.follow_up(due_on=DUE)  # due today: no "day before" any more
        place.follow_up(due_on=DUE - days(1), kind=FollowUpKind.CASE_REVIEW)  # yesterday: nothing
    told = sweep(local(DUE, 15, tz, 1))
    assert texts(told) == [f"Reminder: Home visit on case {place.case.number} is due today, Nov. 23, 2026."]
    assert Reminder.objects.count() == 1


@pytest.mark.parametrize("outcome", ["done", "missed"])
def test_a_settled_follow_up_cancels_its_reminders(outcome: str) -> None:
    place = Place("wita", "73", WITA)
    follow_up = place.follow_up()
    with time_machine.travel(local(DUE - days(2), 12, WITA), tick=False):
        reminders.plan_follow_up_reminders(timezone.now())  # nothing yet: two days ahead
    sweep(local(DUE, 0, WITA, 30), deliver_due=False)  # planned: the bell at once, the e-mail at 07:00
    reminder = Reminder.objects.get()
    with time_machine.travel(local(DUE, 6, WITA), tick=False):
        follow_up_mark(follow_up=follow_up, by=place.worker, outcome=outcome, reason="Keluarga tidak di rumah.")
    assert sweep(local(DUE, 7, WITA)) == []
    reminder.refresh_from_db()
    assert reminder.cancelled_at == local(DUE, 7, WITA) and reminder.delivered_at is None
    assert not Notification.objects.exists() and mail.outbox == []
    assert Reminder.objects.count() == 1  # nothing planned again


def test_a_follow_up_settled_after_the_nights_bell_is_not_emailed_in_the_morning() -> None:
    place = Place("wit", "91", WIT)
    follow_up = place.follow_up()
    [_bell] = sweep(local(DUE, 0, WIT, 30))
    with time_machine.travel(local(DUE, 6, WIT), tick=False):
        follow_up_mark(follow_up=follow_up, by=place.worker, outcome="done", reason="")
    assert sweep(local(DUE, 7, WIT)) == []
    assert mail.outbox == [] and Reminder.objects.get().cancelled_at == local(DUE, 7, WIT)


def test_a_service_may_drop_a_follow_ups_reminders_at_once(place: Place) -> None:
    follow_up = place.follow_up()
    other = place.follow_up(kind=FollowUpKind.CASE_REVIEW)
    sweep(local(DUE, 0, place.tz, 30))
    assert reminders.follow_up_settled(follow_up.pk) == 1
    assert list(Reminder.objects.filter(cancelled_at__isnull=True).values_list("key", flat=True)) == [
        f"follow-up:{other.pk}:2026-11-23:day:{place.worker.pk}"
    ]


def test_reminders_of_these_kinds_planned_elsewhere_are_left_alone(place: Place) -> None:
    from atensi.core.reminders import Planned, plan

    with time_machine.travel(local(DUE, 6, place.tz), tick=False):
        plan(
            [
                Planned(
                    key=f"manual:1:due:{place.worker.pk}",
                    kind=NotificationKind.FOLLOW_UP_DUE,
                    recipient_id=place.worker.pk,
                    due_at=timezone.now(),
                    data={"case_number": "X/1", "due_on": "2026-11-23", "follow_up_kind": "home_visit"},
                )
            ]
        )
    [told] = sweep(local(DUE, 6, place.tz, 1))
    assert notification_text(told) == "Reminder: Home visit on case X/1 is due today, Nov. 23, 2026."


def test_someone_who_left_the_organisation_is_not_reminded(place: Place, outsider: Any) -> None:
    place.follow_up()
    place.follow_up(assignee=outsider, kind=FollowUpKind.CASE_REVIEW)  # never allowed, never told
    Membership.objects.filter(user=place.worker).update(is_active=False)
    assert sweep(local(DUE, 7, place.tz)) == []
    assert not Reminder.objects.exists()


# --- Overdue follow-ups escalate ------------------------------------------------------------


def test_an_overdue_follow_up_escalates_to_the_case_supervisor(place: Place, outsiders: list[Any]) -> None:
    follow_up = place.follow_up()
    tz = place.tz
    sweep(local(DUE, 7, tz))  # the day's reminder
    # Three days overdue is not yet more than three.
    assert sweep(local(DUE + days(3), 23, tz, 59)) == []
    assert sweep(local(DUE + days(4), 6, tz, 59)) == []
    [escalated] = sweep(local(DUE + days(4), 7, tz))
    assert escalated.recipient == place.boss and escalated.kind == NotificationKind.FOLLOW_UP_OVERDUE
    assert escalated.organisation == place.org
    text = notification_text(escalated)
    assert text == (
        f"Home visit on case {place.case.number}, assigned to {place.worker.get_full_name()}, was due on "
        "Nov. 23, 2026 and is more than 3 days overdue."
    )
    assert place.case.beneficiary.full_name not in text
    assert Reminder.objects.get(kind=NotificationKind.FOLLOW_UP_OVERDUE).key == (
        f"follow-up:{follow_up.pk}:2026-11-23:overdue:{place.boss.pk}"
    )
    assert sweep(local(DUE + days(5), 7, tz)) == []  # once
    assert not Notification.objects.filter(recipient__in=[place.other_boss, *outsiders]).exists()


def test_without_a_case_supervisor_every_supervisor_of_the_organisation_hears(outsiders: list[Any]) -> None:
    place = Place("wit", "91", WIT, supervisor=False)
    place.follow_up()
    told = sweep(local(DUE + days(4), 7, WIT))
    assert {n.recipient for n in told} == {place.boss, place.other_boss}


def test_a_case_supervisor_who_no_longer_supervises_is_replaced_by_the_organisations() -> None:
    place = Place("wib", "15", WIB)
    place.follow_up()
    Membership.objects.filter(user=place.boss).update(is_active=False)
    told = sweep(local(DUE + days(4), 7, WIB))
    assert [n.recipient for n in told] == [place.other_boss]


def test_a_follow_up_done_before_the_escalation_goes_out_is_not_escalated() -> None:
    place = Place("wita", "73", WITA)
    follow_up = place.follow_up()
    sweep(local(DUE + days(4), 0, WITA, 5), deliver_due=False)  # planned for 07:00
    assert Reminder.objects.filter(kind=NotificationKind.FOLLOW_UP_OVERDUE).exists()
    with time_machine.travel(local(DUE + days(4), 6, WITA), tick=False):
        follow_up_mark(follow_up=follow_up, by=place.worker, outcome="done")
    assert sweep(local(DUE + days(4), 7, WITA)) == []


def test_the_escalation_delay_is_a_setting(settings: Any) -> None:
    settings.ATENSI_FOLLOW_UP_ESCALATE_DAYS = 1
    place = Place("wib", "15", WIB)
    place.follow_up()
    assert sweep(local(DUE + days(1), 7, WIB)) == []
    told = sweep(local(DUE + days(2), 7, WIB))
    assert [n.kind for n in told] == [NotificationKind.FOLLOW_UP_OVERDUE]
    assert "more than 1 day overdue" in notification_text(told[0])


def test_an_escalation_missed_during_an_outage_is_caught_up_but_old_ones_are_left() -> None:
    place = Place("wib", "15", WIB)
    place.follow_up()
    place.follow_up(due_on=DUE - days(10), kind=FollowUpKind.PLAN_REVIEW)  # long forgotten
    # The sweep did not run for a day and a half.
    told = sweep(local(DUE + days(5), 18, WIB))
    assert [(n.kind, n.data["due_on"]) for n in told] == [(NotificationKind.FOLLOW_UP_OVERDUE, "2026-11-23")]


# --- Aftercare ---------------------------------------------------------------------------------


TERMINATED = datetime.datetime(2026, 8, 23, 10, 0, tzinfo=WITA)


@pytest.fixture
def aftercare() -> tuple[Place, list[FollowUp]]:
    place = Place("wita", "73", WITA)
    with time_machine.travel(TERMINATED, tick=False):
        to_stage(place.case, place.worker, place.boss, Stage.TERMINASI)
    visits = list(FollowUp.objects.filter(case=place.case, kind=FollowUpKind.AFTERCARE).order_by("due_on"))
    assert [v.due_on for v in visits] == [datetime.date(2026, 9, 23), DUE, datetime.date(2027, 2, 23)]
    return place, visits


def test_a_missed_aftercare_visit_escalates_to_the_supervisor(aftercare: Any, outsiders: list[Any]) -> None:
    place, visits = aftercare
    visit = visits[1]
    with time_machine.travel(local(DUE, 16, WITA), tick=False):
        follow_up_mark(follow_up=visit, by=place.worker, outcome="missed", reason="Keluarga pindah.")
    [escalated] = sweep(local(DUE, 16, WITA, 1))
    assert escalated.recipient == place.boss and escalated.kind == NotificationKind.AFTERCARE_MISSED
    assert notification_text(escalated) == (
        f"The aftercare visit on case {place.case.number} due on Nov. 23, 2026 was missed "
        f"(assigned to {place.worker.get_full_name()})."
    )
    assert "pindah" not in notification_text(escalated)  # the worker's reason may name people
    assert sweep(local(DUE + days(1), 7, WITA)) == []
    assert sweep(local(DUE + days(4), 7, WITA)) == []  # once, not again as overdue
    assert not Notification.objects.filter(recipient__in=outsiders).exists()


def test_an_aftercare_visit_marked_missed_in_advance_escalates_on_its_day(aftercare: Any) -> None:
    place, visits = aftercare
    with time_machine.travel(local(DUE - days(20), 9, WITA), tick=False):
        follow_up_mark(follow_up=visits[1], by=place.worker, outcome="missed", reason="Keluarga pindah.")
    assert sweep(local(DUE - days(20), 9, WITA, 1)) == []
    assert sweep(local(DUE, 6, WITA)) == []
    [escalated] = sweep(local(DUE, 7, WITA))
    assert escalated.kind == NotificationKind.AFTERCARE_MISSED


def test_an_aftercare_visit_left_pending_escalates_once_as_missed_aftercare(aftercare: Any) -> None:
    place, visits = aftercare
    visit = visits[1]
    told = sweep(local(DUE + days(4), 7, WITA))
    # The escalation of an aftercare visit is "aftercare missed", not "follow-up overdue".
    assert [n.kind for n in told] == [NotificationKind.AFTERCARE_MISSED]
    assert told[0].recipient == place.boss
    assert "is more than 3 days overdue" in notification_text(told[0])
    with time_machine.travel(local(DUE + days(5), 9, WITA), tick=False):
        follow_up_mark(follow_up=visit, by=place.worker, outcome="missed", reason="Tidak ada di rumah.")
    assert sweep(local(DUE + days(5), 9, WITA, 1)) == []
    assert not Notification.objects.filter(kind=NotificationKind.FOLLOW_UP_OVERDUE).exists()


def test_aftercare_retired_by_going_back_is_not_escalated_even_after_terminating_again(aftercare: Any) -> None:
    place, visits = aftercare
    with time_machine.travel(TERMINATED + days(5), tick=False):
        move(place.case, place.worker, Stage.INTERVENSI, note="Anak kembali putus sekolah.")
    visits[0].refresh_from_db()
    assert visits[0].status == FollowUpStatus.MISSED
    assert sweep(local(datetime.date(2026, 9, 23), 8, WITA)) == []  # back in intervention
    with time_machine.travel(TERMINATED + days(40), tick=False):
        move(place.case, place.worker, Stage.MONITORING_EVALUASI)
        move(place.case, place.worker, Stage.TERMINASI)  # a new aftercare schedule
    # The retired visit of the first schedule falls due: the case is in termination again,
    # but that visit is not part of its current aftercare.
    assert sweep(local(DUE, 8, WITA)) == []
    assert not Notification.objects.filter(kind=NotificationKind.AFTERCARE_MISSED).exists()


def test_aftercare_retired_by_a_closure_is_not_escalated(aftercare: Any) -> None:
    place, _visits = aftercare
    with time_machine.travel(TERMINATED + days(3), tick=False):
        move(place.case, place.worker, Stage.BIMBINGAN_LANJUT)
        approval = workflow.approval_request(
            case=place.case,
            kind=ApprovalKind.CLOSURE,
            by=place.worker,
            closure_reason=ClosureReason.MOVED_AWAY,
            closure_summary="Keluarga pindah ke luar provinsi.",
        )
        workflow.approval_decide(approval=approval, by=place.boss, approve=True)
    assert FollowUp.objects.filter(case=place.case, status=FollowUpStatus.MISSED).count() == 3
    assert sweep(local(datetime.date(2026, 9, 23), 8, WITA)) == []
    assert sweep(local(DUE + days(4), 8, WITA)) == []


# --- Stages --------------------------------------------------------------------------------------


OPENED = datetime.datetime(2026, 11, 2, 15, 0, tzinfo=WIT)  # a Monday afternoon in Jayapura


@pytest.fixture
def stalled() -> Place:
    with time_machine.travel(OPENED, tick=False):
        return Place("wit", "91", WIT)


def test_a_case_stalled_in_engagement_reminds_its_case_manager_once(stalled: Place, outsiders: list[Any]) -> None:
    place = stalled
    assert sweep(OPENED + days(7) - datetime.timedelta(minutes=1)) == []
    assert not Reminder.objects.exists()
    assert sweep(OPENED + days(7) + datetime.timedelta(minutes=1)) == []  # planned for the next morning
    reminder = Reminder.objects.get()
    assert reminder.due_at == local(datetime.date(2026, 11, 10), 7, WIT)
    [told] = sweep(local(datetime.date(2026, 11, 10), 7, WIT))
    assert told.recipient == place.worker and told.kind == NotificationKind.STAGE_STALLED
    assert told.link == reverse("cases:case_detail", args=[place.case.pk])
    assert notification_text(told) == (
        f"Case {place.case.number} has been at the stage “Intake and engagement” since Nov. 2, 2026, more than 7 days."
    )
    for later in (8, 9, 12):
        assert sweep(OPENED + days(later)) == []
    assert not Notification.objects.filter(recipient__in=[place.boss, *outsiders]).exists()


def test_moving_on_cancels_it_and_each_stage_entry_is_reminded_again(stalled: Place) -> None:
    place = stalled
    sweep(OPENED + days(7) + datetime.timedelta(hours=1))  # planned for the next morning
    with time_machine.travel(OPENED + days(7) + datetime.timedelta(hours=2), tick=False):
        give_consent(place.case, place.worker)
        move(place.case, place.worker, Stage.ASESMEN)
    assert sweep(local(datetime.date(2026, 11, 10), 7, WIT)) == []
    assert Reminder.objects.get().cancelled_at is not None
    # Fourteen days in assessment.
    entered = OPENED + days(7) + datetime.timedelta(hours=2)
    assert sweep(entered + days(14) - datetime.timedelta(minutes=1)) == []
    [told] = sweep(local(datetime.date(2026, 11, 24), 7, WIT))
    assert "“Assessment” since Nov. 9, 2026, more than 14 days" in notification_text(told)
    # Sent back to engagement: a new entry, a new reminder a week later.
    back = entered + days(16)
    with time_machine.travel(back, tick=False):
        move(place.case, place.worker, Stage.PENDEKATAN_AWAL, note="Keluarga menolak asesmen.")
    again = sweep(back + days(8))
    assert [n.data["stage"] for n in again] == [Stage.PENDEKATAN_AWAL]
    assert Notification.objects.filter(kind=NotificationKind.STAGE_STALLED).count() == 2


def test_a_stalled_case_whose_manager_left_goes_to_its_supervisor(stalled: Place) -> None:
    place = stalled
    Membership.objects.filter(user=place.worker).update(is_active=False)
    told = sweep(OPENED + days(8))
    assert [n.recipient for n in told] == [place.boss]


def test_stage_deadlines_are_a_setting(settings: Any, stalled: Place) -> None:
    settings.ATENSI_STAGE_DEADLINE_DAYS = {"pendekatan_awal": 3}
    told = sweep(OPENED + days(4))
    assert "more than 3 days" in notification_text(told[0])


# --- Approvals -----------------------------------------------------------------------------------


@pytest.fixture
def waiting() -> tuple[Place, Approval, datetime.datetime]:
    place = Place("wita", "73", WITA)
    requested = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=WITA)
    with time_machine.travel(requested, tick=False):
        to_planning(place.case, place.worker)
        plan_item(place.case, place.worker)
        # A supervisor asks: the other supervisor should decide.
        approval = workflow.approval_request(case=place.case, kind=ApprovalKind.PLAN, by=place.boss)
    return place, approval, requested


def test_an_approval_waiting_two_days_reminds_the_other_supervisors(waiting: Any, outsiders: list[Any]) -> None:
    place, approval, requested = waiting
    assert sweep(requested + days(2) - datetime.timedelta(minutes=1)) == []
    assert sweep(requested + days(2) + datetime.timedelta(minutes=1)) == []  # planned for the next morning
    [told] = sweep(local(datetime.date(2026, 11, 5), 7, WITA))
    assert told.recipient == place.other_boss and told.kind == NotificationKind.APPROVAL_WAITING
    assert told.link == reverse("cases:approval_queue") + f"#approval-{approval.pk}"
    assert notification_text(told) == (
        f"{place.boss.get_full_name()} asked on Nov. 2, 2026 for approval of the intervention plan of case "
        f"{place.case.number}; it is still waiting."
    )
    assert sweep(local(datetime.date(2026, 11, 6), 7, WITA)) == []
    assert not Notification.objects.filter(recipient__in=[place.boss, place.worker, *outsiders]).exists()


def test_a_decided_approval_cancels_its_reminder(waiting: Any) -> None:
    place, approval, requested = waiting
    sweep(requested + days(2) + datetime.timedelta(hours=1))
    assert Reminder.objects.filter(kind=NotificationKind.APPROVAL_WAITING).count() == 1
    with time_machine.travel(local(datetime.date(2026, 11, 5), 6, WITA), tick=False):
        workflow.approval_decide(approval=approval, by=place.other_boss, approve=True)
    assert sweep(local(datetime.date(2026, 11, 5), 7, WITA)) == []
    assert Reminder.objects.get(kind=NotificationKind.APPROVAL_WAITING).cancelled_at is not None


# --- Cost -------------------------------------------------------------------------------------


def test_the_rules_cost_the_same_few_queries_however_many_rows(django_assert_max_num_queries: Any) -> None:
    places = [Place(name, region, tz) for name, (region, tz) in ZONES.items()]
    for place in places:
        for n in range(8):
            place.follow_up(due_on=DUE, kind=FollowUpKind.CASE_REVIEW)
            place.follow_up(due_on=DUE - days(4 + n % 2))
    with time_machine.travel(local(DUE, 8, WIB), tick=False):
        now = timezone.now()
        for planning in RULES:
            with django_assert_max_num_queries(8):
                planning(now)
    assert Reminder.objects.filter(kind=NotificationKind.FOLLOW_UP_DUE).count() == 3 * 8
    assert Reminder.objects.filter(kind=NotificationKind.FOLLOW_UP_OVERDUE).exists()
