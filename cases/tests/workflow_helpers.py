"""Helpers for workflow tests: the records other parts of the case file create (consent,
assessment, plan items) made directly, walks through the stages, and a thread race."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone, translation

from atensi.core.errors import ApplicationError
from atensi.core.models import ServiceComponent
from cases import workflow
from cases.models import (
    Approval,
    ApprovalKind,
    Assessment,
    Case,
    ClosureReason,
    Consent,
    PlanItem,
    PlanItemStatus,
    Relation,
    Stage,
    TimelineEntry,
    TimelineKind,
)


def give_consent(case: Case, by: Any, **fields: Any) -> Consent:
    fields.setdefault("given_by_name", "Ibu Sari")
    fields.setdefault("relation", Relation.MOTHER)
    fields.setdefault("given_on", timezone.localdate())
    return Consent.objects.create(case=case, recorded_by=by, **fields)


def assess(case: Case, by: Any) -> Assessment:
    return Assessment.objects.create(
        case=case, assessed_on=timezone.localdate(), problems="Putus sekolah", conclusion="Perlu dukungan", author=by
    )


def plan_item(case: Case, by: Any, **fields: Any) -> PlanItem:
    today = timezone.localdate()
    fields.setdefault("status", PlanItemStatus.PLANNED)
    return PlanItem.objects.create(
        case=case,
        component=ServiceComponent.objects.order_by("position").first(),
        service="Kembali ke sekolah",
        start_date=today,
        target_date=today + datetime.timedelta(days=90),
        created_by=by,
        **fields,
    )


def move(case: Case, by: Any, to: str, note: str = "") -> Case:
    return workflow.case_stage_move(case=case, by=by, to_stage=to, note=note)


def to_planning(case: Case, by: Any) -> Case:
    give_consent(case, by)
    move(case, by, Stage.ASESMEN)
    assess(case, by)
    return move(case, by, Stage.PERENCANAAN)


def approved_plan(case: Case, worker: Any, chief: Any) -> Approval:
    if not PlanItem.objects.filter(case=case).exists():
        plan_item(case, worker)
    approval = workflow.approval_request(case=case, kind=ApprovalKind.PLAN, by=worker)
    return workflow.approval_decide(approval=approval, by=chief, approve=True)


def to_stage(case: Case, worker: Any, chief: Any, target: str) -> Case:
    """Walk the case forward to `target`, meeting every requirement on the way."""
    case = to_planning(case, worker)
    if target == Stage.PERENCANAAN:
        return case
    approved_plan(case, worker, chief)
    for stage in (Stage.INTERVENSI, Stage.MONITORING_EVALUASI, Stage.TERMINASI, Stage.BIMBINGAN_LANJUT):
        case = move(case, worker, stage)
        if stage == target:
            return case
    raise AssertionError(target)


def close(case: Case, worker: Any, chief: Any, reason: str = ClosureReason.GOALS_MET) -> Approval:
    approval = workflow.approval_request(
        case=case, kind=ApprovalKind.CLOSURE, by=worker, closure_reason=reason, closure_summary="Anak kembali sekolah."
    )
    return workflow.approval_decide(approval=approval, by=chief, approve=True)


def stage_entries(case: Case) -> list[tuple[str, str]]:
    return [
        (e.data["from_stage"], e.data["to_stage"])
        for e in TimelineEntry.objects.filter(case=case, kind=TimelineKind.STAGE).order_by("at", "pk")
    ]


def race(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[str], list[BaseException]]:
    """Run the calls at the same moment in threads: (results, ApplicationError messages, other errors)."""
    barrier = threading.Barrier(len(calls))
    won: list[Any] = []
    lost: list[str] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        translation.activate("en")  # the fixture's override is per thread
        try:
            barrier.wait()
            won.append(call())
        except ApplicationError as exc:
            lost.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion of the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, lost, errors
