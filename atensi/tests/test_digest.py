"""The daily digest: at the person's hour in their organisation's local time, once a day,
listing what they have not read and were not e-mailed yet."""

from __future__ import annotations

import datetime
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from atensi.core import digest
from atensi.core.digest import DueDigest, digests_due, send_digest, send_due_digests
from atensi.core.localtime import WIB, WIT
from atensi.core.models import Notification, NotificationPreference
from atensi.core.notifications import notify
from atensi.core.tasks import notifications_digest
from referrals.notification_kinds import NotificationKind

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)


def at(hour: int, minute: int = 5, day: datetime.date = DAY, zone: ZoneInfo = WIB) -> Any:
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone), tick=False)


def wants_digest(user: Any, hour: int = 7, **extra: Any) -> NotificationPreference:
    return NotificationPreference.objects.create(user=user, digest=True, digest_hour=hour, **extra)


def tell(user: Any, key: str, sender: str = "Balai Uji") -> Notification:
    notify(
        recipients=[user],
        kind=NotificationKind.REFERRAL_RECEIVED,
        link="/referrals/1/",
        key=key,
        referral_kind="service",
        sender=sender,
        receiver="Dinas Sosial Uji",
        urgency="routine",
        respond_by="2026-11-25T03:00:00+00:00",
    )
    return Notification.objects.get(recipient=user, key=key)


def test_it_waits_for_the_hour_and_sends_once_a_day(owner: Any) -> None:
    wants_digest(owner)
    with at(6, 30):
        tell(owner, "a", sender="Balai Pertama")
        assert send_due_digests() == {"due": 0, "sent": 0, "failed": 0}
    with at(7, 0):
        assert send_due_digests()["sent"] == 1
    with at(8):
        tell(owner, "b", sender="Balai Kedua")
        assert send_due_digests()["due"] == 0  # today's is done
    with at(7, day=DAY + datetime.timedelta(days=1)):
        assert send_due_digests()["sent"] == 1
    first, second = mail.outbox
    assert first.to == [owner.email] and "Balai Pertama" in first.body and "Balai Kedua" not in first.body
    assert "Balai Kedua" in second.body and "Balai Pertama" not in second.body
    assert NotificationPreference.objects.get(user=owner).last_digest_on == DAY + datetime.timedelta(days=1)


def test_the_hour_is_the_organisations_local_time(owner: Any, org: Any) -> None:
    org.home_region_id = "91"  # Papua: WIT
    org.save(update_fields=["home_region"])
    wants_digest(owner)
    with at(6, 30):
        tell(owner, "a")
    # 05:05 in Jakarta is 07:05 in Jayapura (WIT): the digest is due there.
    with at(5):
        [due] = digests_due(timezone.now())
        assert due == DueDigest(user_id=owner.pk, day=DAY, zone=WIT)
    # Half past midnight in Jayapura is already the 24th there, its 07:00 still to come.
    with at(22, 30):
        assert digests_due(timezone.now()) == []  # the 23rd is done, the 24th's hour not come
    with at(5, day=DAY + datetime.timedelta(days=1)):
        [due] = digests_due(timezone.now())
        assert due.day == DAY + datetime.timedelta(days=1)


def test_each_person_is_due_at_their_own_organisations_seven_oclock(owner: Any, org: Any, outsider: Any) -> None:
    from stakeholders.models import Organisation

    Organisation.objects.filter(memberships__user=outsider).update(home_region_id="73")  # Sulawesi Selatan: WITA
    org.home_region_id = "15"  # Jambi: WIB
    org.save(update_fields=["home_region"])
    wants_digest(owner)
    wants_digest(outsider)
    with at(6):  # 07:05 WITA
        assert [d.user_id for d in digests_due(timezone.now())] == [outsider.pk]
    with at(7):
        assert {d.user_id for d in digests_due(timezone.now())} == {owner.pk, outsider.pk}


def test_people_without_an_organisation_count_in_the_site_zone(db: Any) -> None:
    from stakeholders.tests.factories import UserFactory

    loner = UserFactory(username="loner")
    wants_digest(loner, hour=9)
    with at(9, 0):
        assert digests_due(timezone.now()) == [DueDigest(user_id=loner.pk, day=DAY, zone=WIB)]


def test_it_lists_only_unread_not_yet_emailed_notifications_and_marks_them(owner: Any) -> None:
    wants_digest(owner)
    with at(6):
        unread = tell(owner, "unread", sender="Balai Belum Dibaca")
        read = tell(owner, "read", sender="Balai Sudah Dibaca")
        emailed = tell(owner, "emailed", sender="Balai Sudah Dikirim")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
        Notification.objects.filter(pk=emailed.pk).update(emailed_at=timezone.now())
    with time_machine.travel(datetime.datetime(2026, 11, 20, 6, tzinfo=WIB), tick=False):
        tell(owner, "old", sender="Balai Lama")  # before the first digest's look-back
    with at(7):
        send_due_digests()
    [message] = mail.outbox
    assert "Balai Belum Dibaca" in message.body
    for other in ("Balai Sudah Dibaca", "Balai Sudah Dikirim", "Balai Lama"):
        assert other not in message.body
    unread.refresh_from_db()
    read.refresh_from_db()
    assert unread.emailed_at is not None and read.emailed_at is None
    assert f"/notifications/{unread.pk}/" in message.body  # opens and marks it read


def test_a_day_with_nothing_unread_sends_nothing_and_is_done(owner: Any) -> None:
    wants_digest(owner)
    with at(7):
        assert send_due_digests() == {"due": 1, "sent": 0, "failed": 0}
    with at(9):
        tell(owner, "late")
        assert send_due_digests()["due"] == 0
    assert mail.outbox == []
    assert NotificationPreference.objects.get(user=owner).last_digest_on == DAY


@pytest.mark.parametrize("preference", [{"digest": False}, {"email_enabled": False, "digest": True}])
def test_nobody_without_the_digest_gets_one(owner: Any, preference: dict[str, bool]) -> None:
    NotificationPreference.objects.create(user=owner, **preference)
    with at(6):
        tell(owner, "a")
    with at(7):
        assert digests_due(timezone.now()) == []
        assert send_digest(due=DueDigest(user_id=owner.pk, day=DAY, zone=WIB), now=timezone.now()) is False
    assert mail.outbox == []


def test_people_without_an_address_get_none(owner: Any) -> None:
    wants_digest(owner)
    owner.email = ""
    owner.save(update_fields=["email"])
    with at(6):
        tell(owner, "a")
    with at(7):
        assert send_due_digests()["due"] == 0
    assert mail.outbox == []


def test_it_is_in_the_readers_language(owner: Any, colleague: Any) -> None:
    colleague.preferred_language = "en"
    colleague.save(update_fields=["preferred_language"])
    wants_digest(owner)
    wants_digest(colleague)
    with at(6):
        tell(owner, "a")
        tell(colleague, "a")
    with at(7):
        assert send_due_digests()["sent"] == 2
    by_reader = {message.to[0]: message for message in mail.outbox}
    assert by_reader[colleague.email].subject == "ATENSI Portal: 1 unread notification"
    assert "Service referral from Balai Uji" in by_reader[colleague.email].body
    assert "Rujukan layanan dari Balai Uji" in by_reader[owner.email].body
    html, mimetype = by_reader[owner.email].alternatives[0]
    assert mimetype == "text/html" and '<html lang="id">' in html


def test_a_long_list_is_cut_with_a_link_to_the_rest(owner: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.SITE_URL = "https://atensi.example.id"
    monkeypatch.setattr(digest, "DIGEST_MAX_ITEMS", 2)
    wants_digest(owner)
    with at(6):
        for n in range(5):
            tell(owner, f"n{n}", sender=f"Balai {n}")
    with at(7):
        send_due_digests()
    [message] = mail.outbox
    assert "Balai 4" in message.body and "Balai 3" in message.body and "Balai 2" not in message.body
    assert "https://atensi.example.id/notifications/\n" in message.body
    assert "5" in message.subject
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_one_failure_leaves_that_day_open_and_the_others_are_sent(
    owner: Any, colleague: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wants_digest(owner)
    wants_digest(colleague)
    real_send = digest.send_email

    def flaky(*, to: str, **kwargs: Any) -> None:
        if to == owner.email:
            raise ConnectionError("mailbox refused")
        real_send(to=to, **kwargs)

    monkeypatch.setattr(digest, "send_email", flaky)
    with at(6):
        tell(owner, "a")
        tell(colleague, "a")
    with at(7):
        assert send_due_digests() == {"due": 2, "sent": 1, "failed": 1}
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    assert NotificationPreference.objects.get(user=owner).last_digest_on is None
    assert Notification.objects.get(recipient=owner).emailed_at is None
    monkeypatch.setattr(digest, "send_email", real_send)
    with at(8):
        assert send_due_digests() == {"due": 1, "sent": 1, "failed": 0}
    assert len(mail.outbox) == 2


def test_the_task_sends_the_due_digests(owner: Any) -> None:
    wants_digest(owner)
    with at(6):
        tell(owner, "a")
    with at(7):
        assert notifications_digest.apply().get() == {"due": 1, "sent": 1, "failed": 0}
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_digest(owner: Any) -> None:
    wants_digest(owner)
    with at(6):
        tell(owner, "a")
    results: list[bool] = []
    barrier = threading.Barrier(2)
    with at(7):
        now = timezone.now()

        def run() -> None:
            try:
                barrier.wait()
                results.append(send_digest(due=DueDigest(user_id=owner.pk, day=DAY, zone=WIB), now=now))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
