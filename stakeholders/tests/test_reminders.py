"""Agreements about to expire: the parties' administrators hear 60, 30 and 7 days before,
at 07:00 their own organisation's local time — once each, not after a renewal, and
nobody else."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from atensi.core.localtime import WIB, WIT, WITA
from atensi.core.models import Notification, Reminder
from atensi.core.notifications import notification_text
from atensi.core.reminders import claim_due, deliver
from stakeholders import services
from stakeholders.models import Agreement, Membership, Organisation
from stakeholders.notification_kinds import NotificationKind
from stakeholders.reminders import plan_agreement_reminders
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

UNTIL = datetime.date(2027, 3, 31)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def local(day: datetime.date, hour: int, tz: ZoneInfo, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def before(n: int) -> datetime.date:
    return UNTIL - datetime.timedelta(days=n)


def sweep(moment: datetime.datetime) -> list[Notification]:
    with time_machine.travel(moment, tick=False):
        now = timezone.now()
        with transaction.atomic():
            plan_agreement_reminders(now)
        seen = set(Notification.objects.values_list("pk", flat=True))
        for reminder_id in claim_due(now=now):
            deliver(reminder_id, now=now)
        return list(Notification.objects.exclude(pk__in=seen).order_by("pk"))


@pytest.fixture
def parties() -> dict[str, Any]:
    """An MoU between a balai in Jambi (WIB), a Dinas Sosial in Makassar (WITA) and an LKSA
    in Jayapura (WIT), each with an administrator and a social worker."""
    orgs = {
        "wib": OrganisationFactory(code="BA-JAMBI", name="Balai Jambi", home_region_id="15"),
        "wita": OrganisationFactory(code="DINSOS-MKS", name="Dinas Sosial Makassar", home_region_id="7371"),
        "wit": OrganisationFactory(code="LKSA-JPR", name="LKSA Jayapura", home_region_id="9171"),
    }
    admins = {k: member(organisation=o, role=Role.ORG_ADMIN, username=f"admin-{k}") for k, o in orgs.items()}
    workers = {k: member(organisation=o, role=Role.SOCIAL_WORKER, username=f"worker-{k}") for k, o in orgs.items()}
    with time_machine.travel(datetime.datetime(2026, 4, 1, 9, 0, tzinfo=WIB), tick=False):
        agreement = services.agreement_create(
            by=admins["wib"],
            number="012/PKS/2026",
            title="Rujukan rehabilitasi anak",
            signed_on=datetime.date(2026, 4, 1),
            valid_from=datetime.date(2026, 4, 1),
            valid_until=UNTIL,
            parties=list(orgs.values()),
        )
    return {"orgs": orgs, "admins": admins, "workers": workers, "agreement": agreement}


ZONES = {"wib": WIB, "wita": WITA, "wit": WIT}


@pytest.mark.parametrize("zone", list(ZONES))
def test_each_partys_admin_hears_at_seven_local_60_30_and_7_days_before(zone: str, parties: dict[str, Any]) -> None:
    tz = ZONES[zone]
    admin = parties["admins"][zone]
    agreement = parties["agreement"]
    mine = Notification.objects.filter(recipient=admin)
    for days in (60, 30, 7):
        sweep(local(before(days) - datetime.timedelta(days=1), 23, tz, 59))
        assert not mine.filter(data__days=days).exists()
        sweep(local(before(days), 6, tz, 59))
        assert not mine.filter(data__days=days).exists()
        sweep(local(before(days), 7, tz))
        told = mine.get(data__days=days)
        assert told.kind == NotificationKind.AGREEMENT_EXPIRING and told.organisation == parties["orgs"][zone]
        assert told.link == reverse("stakeholders:agreement_edit", args=[agreement.pk])
    texts = [notification_text(n) for n in mine.order_by("pk")]
    assert texts == [
        "Agreement 012/PKS/2026 (Rujukan rehabilitasi anak) expires on March 31, 2027, in 60 days.",
        "Agreement 012/PKS/2026 (Rujukan rehabilitasi anak) expires on March 31, 2027, in 30 days.",
        "Agreement 012/PKS/2026 (Rujukan rehabilitasi anak) expires on March 31, 2027, in 7 days.",
    ]
    reminder = Reminder.objects.get(recipient=admin, data__days=7)
    assert reminder.due_at == local(before(7), 7, tz)
    assert reminder.key == f"agreement:{agreement.pk}:2027-03-31:7:{admin.pk}"


def test_the_same_moment_is_a_different_day_across_the_parties(parties: dict[str, Any]) -> None:
    # 23:30 in Jambi the day before; already the day itself in Makassar and Jayapura.
    eve = local(before(30) - datetime.timedelta(days=1), 23, WIB, 30)
    assert sweep(eve) == []  # nobody's 07:00 yet
    planned = {r.recipient.username: r.due_at for r in Reminder.objects.select_related("recipient")}
    assert planned == {"admin-wita": local(before(30), 7, WITA), "admin-wit": local(before(30), 7, WIT)}


def test_reminded_once_however_often_the_rule_runs(parties: dict[str, Any]) -> None:
    for minute in (0, 0, 1, 30):
        sweep(local(before(30), 7, WITA, minute))
    assert Notification.objects.filter(recipient=parties["admins"]["wita"]).count() == 1
    for hour in (8, 12, 23):
        sweep(local(before(30), hour, WIB))
    assert Notification.objects.filter(data__days=30).count() == 3
    assert Reminder.objects.filter(data__days=30).count() == 3


def test_only_the_parties_admins_hear(parties: dict[str, Any], outsider: Any, org_admin: Any) -> None:
    sweep(local(before(7), 8, WIB))
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "admin-wib",
        "admin-wita",
        "admin-wit",
    }
    assert not Notification.objects.filter(recipient__in=[outsider, org_admin, *parties["workers"].values()]).exists()


def test_an_inactive_party_or_admin_hears_nothing(parties: dict[str, Any]) -> None:
    Organisation.objects.filter(pk=parties["orgs"]["wit"].pk).update(is_active=False)
    Membership.objects.filter(user=parties["admins"]["wita"]).update(is_active=False)
    told = sweep(local(before(7), 8, WIB))
    assert [n.recipient.username for n in told] == ["admin-wib"]


def test_a_renewal_cancels_what_was_planned_and_reminds_afresh(parties: dict[str, Any]) -> None:
    agreement = parties["agreement"]
    sweep(local(before(7), 0, WIB, 30))  # planned for 07:00 in each party's own time
    waiting = Reminder.objects.get(recipient=parties["admins"]["wib"])
    assert waiting.delivered_at is None
    renewed = datetime.date(2028, 3, 31)
    with time_machine.travel(local(before(7), 6, WIB), tick=False):
        services.agreement_update(agreement=agreement, by=parties["admins"]["wib"], valid_until=renewed)
    assert sweep(local(before(7), 7, WIB)) == []
    waiting.refresh_from_db()
    assert waiting.cancelled_at is not None
    # The renewed agreement is reminded 60 days before its new date.
    told = sweep(local(renewed - datetime.timedelta(days=60), 8, WIB))
    assert {n.data["valid_until"] for n in told} == {"2028-03-31"}
    assert len(told) == 3


def test_a_party_that_left_is_not_reminded(parties: dict[str, Any]) -> None:
    agreement = parties["agreement"]
    sweep(local(before(7), 0, WIB, 30))
    agreement.parties.remove(parties["orgs"]["wib"])
    told = sweep(local(before(7), 7, WIB))
    assert {n.recipient.username for n in told} == {"admin-wita", "admin-wit"}
    assert Reminder.objects.get(recipient=parties["admins"]["wib"]).cancelled_at is not None


def test_an_agreement_recorded_late_gets_only_the_reminders_still_ahead(parties: dict[str, Any]) -> None:
    late = Agreement.objects.create(
        number="099/MOU/2027",
        title="Pendampingan ABH",
        signed_on=before(20),
        valid_from=before(20),
        valid_until=UNTIL + datetime.timedelta(days=1),
    )
    late.parties.set([parties["orgs"]["wib"], parties["orgs"]["wita"]])
    told = sweep(local(before(20), 9, WIB))
    assert not [n for n in told if n.data["agreement"] == late.pk]
    told = sweep(local(before(6), 8, WIB))  # 7 days before its end
    assert sorted(n.data["days"] for n in told if n.data["agreement"] == late.pk) == [7, 7]


def test_the_rule_costs_a_few_queries(parties: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    orgs = list(parties["orgs"].values())
    for n in range(10):
        extra = Agreement.objects.create(
            number=f"{n}/PKS", title="PKS", signed_on=before(300), valid_from=before(300), valid_until=UNTIL
        )
        extra.parties.set(orgs)
    with time_machine.travel(local(before(7), 8, WIB), tick=False), django_assert_max_num_queries(5):
        plan_agreement_reminders(timezone.now())
    assert Reminder.objects.count() == 11 * 3
