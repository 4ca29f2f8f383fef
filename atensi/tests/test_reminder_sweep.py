"""The sweep task (atensi.core.tasks.reminders_sweep) without a broker: what it queues, and what it
does when the broker refuses. The real broker and worker: tests/integration/test_reminder_delivery.py."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from atensi.core import reminders
from atensi.core.models import Reminder
from atensi.core.reminders import CLAIM_BATCH, DELIVERY_BATCH, Planned, plan
from atensi.core.tasks import reminders_deliver, reminders_sweep
from cases.notification_kinds import NotificationKind

pytestmark = pytest.mark.django_db


def due(user: Any, count: int) -> list[Planned]:
    moment = timezone.now() - datetime.timedelta(minutes=1)
    return [
        Planned(
            key=f"sweep-test:{i}:{user.pk}",
            kind=NotificationKind.FOLLOW_UP_DUE,
            recipient_id=user.pk,
            due_at=moment,
            data={"case_number": f"BA-UJI/2026/{i:04d}", "due_on": "2026-11-23", "follow_up_kind": "home_visit"},
        )
        for i in range(count)
    ]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the sweep queues, in order, instead of sending it to a broker."""
    queued: list[tuple[str, Any]] = []
    monkeypatch.setattr(reminders_deliver, "delay", lambda reminder_ids: queued.append(("deliver", reminder_ids)))
    monkeypatch.setattr(reminders_sweep, "apply_async", lambda **options: queued.append(("sweep", options)))
    monkeypatch.setattr(reminders, "_RULES", [])
    return queued


def test_a_full_batch_queues_the_next_sweep_behind_its_deliveries(owner: Any, sent: list[tuple[str, Any]]) -> None:
    plan(due(owner, CLAIM_BATCH + 1))
    assert reminders_sweep() == {"claimed": CLAIM_BATCH, "queued": CLAIM_BATCH}
    # The claim goes out in batches, each reminder in one of them, then the next sweep.
    assert [kind for kind, _ in sent] == ["deliver"] * (CLAIM_BATCH // DELIVERY_BATCH) + ["sweep"]
    batches = [ids for kind, ids in sent if kind == "deliver"]
    assert {len(ids) for ids in batches} == {DELIVERY_BATCH}
    assert len({pk for ids in batches for pk in ids}) == CLAIM_BATCH
    # The next one skips the rules (beat's sweep ran them) and keeps no result.
    assert sent[-1][1] == {"kwargs": {"rules": False}, "ignore_result": True}
    sent.clear()
    assert reminders_sweep(rules=False) == {"claimed": 1, "queued": 1}
    assert [kind for kind, _ in sent] == ["deliver"]  # not a full batch: the chain ends


def test_the_chained_sweep_leaves_the_rules_to_beats(owner: Any, sent: list[tuple[str, Any]]) -> None:
    runs: list[datetime.datetime] = []
    reminders._RULES.append(runs.append)
    reminders_sweep(rules=False)
    assert runs == []
    reminders_sweep()
    assert len(runs) == 1


def test_a_broker_refusal_is_logged_and_leaves_the_claims_to_expire(
    owner: Any, sent: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plan(due(owner, 3))

    def refuse(reminder_ids: list[int]) -> None:
        raise OperationalError("Error 111 connecting to redis. Connection refused.")

    monkeypatch.setattr(reminders_deliver, "delay", refuse)
    with caplog.at_level(logging.WARNING, logger="atensi.core.tasks"):
        assert reminders_sweep() == {"claimed": 3, "queued": 0}
    assert "the broker refused a delivery; 3 left to a later sweep" in caplog.text
    assert Reminder.objects.filter(claimed_at__isnull=False, delivered_at__isnull=True).count() == 3
    assert sent == []
