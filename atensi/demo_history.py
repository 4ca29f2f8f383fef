"""Fourteen months of demo cases, so every dashboard has something to show: children of a few
kab/kota of Jambi, opened and closed month by month at Balai Anak "Alyatama" (by two more
social workers, so peksos.alyatama's own list stays the short one the README walks through)
and at LKSA Harapan Mulia, with follow-ups, aftercare visits done and due, a few plans
waiting for approval, and Alyatama's reach target.

Not at LKSA Kasih Bunda, where the browser journey transfers a case from Alyatama: a
transferred case keeps its year and sequence, and the receiver's own numbers may already
hold them (the unique (organisation, year, sequence) refuses the move).

Deterministic (everything follows from a case's index and today's date) and idempotent
(nothing is added once an organisation's first history child exists). Written in bulk,
keeping the rules the services keep: gap-free case numbers per organisation and year (the
counter rows are moved on), one open case per child, closed cases with a reason and a
time, and the occupancy recounted. Open history cases are never residential: the occupancy
the README and the finder's demo describe stays as it was.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from atensi.core.localtime import WIB, local_moment
from atensi.core.models import AmpkCategory, Cluster
from cases.beneficiaries import estimated_birth_date
from cases.models import (
    OPEN_STAGES,
    Approval,
    Basis,
    Beneficiary,
    Case,
    CaseSequence,
    ClosureReason,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    RiskLevel,
    Sex,
)
from cases.services import occupancy_recount
from stakeholders.models import Organisation, ReachTarget, User
from stakeholders.roles import Role
from stakeholders.services import membership_add, user_create

MONTHS = 14
FIRST_NAMES = (
    "Agus", "Bayu", "Citra", "Dimas", "Eka", "Fitri", "Gilang", "Hana", "Indra", "Joko",
    "Kirana", "Lutfi", "Melati", "Nanda", "Oki", "Puspa", "Raka", "Salsa", "Tegar", "Wulan",
)  # fmt: skip
LAST_NAMES = ("Saputra", "Lestari", "Hidayat", "Permata", "Nugroho", "Anggraini", "Wibowo", "Rahayu")
REGENCIES = ("1571", "1571", "1505", "1504", "1509")  # Kota Jambi twice as often, Muaro Jambi, Batang Hari, Bungo
AMPK = ("penelantaran", "kekerasan", "eksploitasi", "disabilitas", "", "anak_jalanan")
OPEN_BASES = (Basis.KELUARGA, Basis.KOMUNITAS)
RISKS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)
MISSED_REASON = "Keluarga pindah, tidak dapat dihubungi."
CLOSURES = (ClosureReason.GOALS_MET, ClosureReason.GOALS_MET, ClosureReason.MOVED_AWAY, ClosureReason.LOST_CONTACT)


@dataclass(frozen=True)
class History:
    org: str
    workers: tuple[str, ...]  # usernames of the case managers, in turn
    supervisor: str | None
    per_month: int
    offset: int  # where in the name list this organisation's children start
    reach_target: int | None = None


HISTORIES = (
    History("BA-ALYATAMA", ("dedi.alyatama", "maya.alyatama"), "supervisor.alyatama", 8, 0, reach_target=120),
    History("LKSA-HARAPANMULIA", ("pengasuh.harapan",), None, 2, 120),
)
# The social workers the history adds: username, first name, last name, organisation.
HISTORY_WORKERS = (
    ("dedi.alyatama", "Dedi", "Kurniawan", "BA-ALYATAMA"),
    ("maya.alyatama", "Maya", "Sari", "BA-ALYATAMA"),
    ("pengasuh.harapan", "Lestari", "Pengasuh", "LKSA-HARAPANMULIA"),
)


def history_name(index: int) -> str:
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


def _month_start(today: datetime.date, back: int) -> datetime.date:
    index = today.year * 12 + today.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def load_history(orgs: dict[str, Organisation]) -> int:
    """Every organisation's history, once; the number of cases added."""
    password = settings.ATENSI_DEMO_PASSWORD
    for username, first, last, org_code in HISTORY_WORKERS:
        worker = User.objects.filter(username=username).first()
        if worker is None:
            worker = user_create(
                username=username, email=f"{username}@atensi.local", first_name=first, last_name=last, password=password
            )
        membership_add(organisation=orgs[org_code], user=worker, role=Role.SOCIAL_WORKER)
    created = sum(_load_one(history, orgs[history.org]) for history in HISTORIES)
    today = timezone.localdate()
    for history in HISTORIES:
        if history.reach_target and not ReachTarget.objects.filter(organisation=orgs[history.org]).exists():
            ReachTarget.objects.bulk_create(
                [
                    ReachTarget(organisation=orgs[history.org], year=year, target=history.reach_target)
                    for year in (today.year - 1, today.year)
                ]
            )
    return created


def _load_one(history: History, org: Organisation) -> int:
    count = history.per_month * MONTHS
    names = [history_name(history.offset + i) for i in range(count)]
    if Beneficiary.objects.filter(organisation=org, full_name=names[0]).exists():
        return 0
    now = timezone.now()
    today = now.astimezone(WIB).date()
    users = {u.username: u for u in User.objects.filter(username__in=[*history.workers, history.supervisor or ""])}
    workers = [users[name] for name in history.workers]
    supervisor = users.get(history.supervisor or "")
    anak = Cluster.objects.get(code="anak")
    disability = Cluster.objects.get(code="penyandang_disabilitas")
    ampk = {c.code: c for c in AmpkCategory.objects.filter(code__in=[code for code in AMPK if code])}
    children = Beneficiary.objects.bulk_create(
        [
            Beneficiary(
                organisation=org,
                full_name=name,
                sex=Sex.FEMALE if i % 2 else Sex.MALE,
                birth_date=estimated_birth_date(6 + i % 12, today=today),
                birth_date_estimated=True,
                birthplace="Jambi",
                regency_code=REGENCIES[i % len(REGENCIES)],
                cluster=disability if i % 9 == 4 else anak,
                created_by=workers[i % len(workers)],
            )
            for i, name in enumerate(names)
        ]
    )
    links = Beneficiary.ampk_categories.through
    links.objects.bulk_create(
        [
            links(beneficiary_id=child.pk, ampkcategory_id=ampk[AMPK[i % len(AMPK)]].pk)
            for i, child in enumerate(children)
            if AMPK[i % len(AMPK)] in ampk
        ]
    )
    cases = [_case(history, org, i, child, workers, supervisor, today, now) for i, child in enumerate(children)]
    _number(org, cases)
    Case.objects.bulk_create(cases)
    _records(cases, today)
    occupancy_recount(organisation=org)
    return len(cases)


def _case(
    history: History,
    org: Organisation,
    i: int,
    child: Beneficiary,
    workers: list[User],
    supervisor: User | None,
    today: datetime.date,
    now: datetime.datetime,
) -> Case:
    back = (i // history.per_month) % MONTHS
    day = _month_start(today, back) + datetime.timedelta(days=(i * 5) % 26)
    day = min(day, today)
    opened = min(local_moment(day, 8 + i % 9, WIB, minute=(i * 7) % 60), now)
    closed: datetime.datetime | None = None
    if back >= 2 and i % 3:
        closed = opened + datetime.timedelta(days=30 + (i * 11) % 90)
        closed = closed if closed < now else None
    worker = workers[i % len(workers)]
    stage = "closed" if closed else OPEN_STAGES[(i + back) % len(OPEN_STAGES)]
    return Case(
        organisation=org,
        beneficiary=child,
        case_manager=worker,
        supervisor=supervisor,
        cluster_id=child.cluster_id,
        basis=(Basis.RESIDENSIAL if i % 4 == 0 else Basis.KELUARGA) if closed else OPEN_BASES[i % 2],
        source=("walk_in", "community_report", "police", "school", "pkh")[i % 5],
        risk_level=RISKS[i % len(RISKS)],
        summary="Data demo: riwayat kasus untuk dasbor.",
        stage=stage,
        stage_changed_at=closed or opened,
        opened_at=opened,
        closed_at=closed,
        closure_reason=CLOSURES[i % len(CLOSURES)] if closed else "",
        created_by=worker,
    )


def _number(org: Organisation, cases: list[Case]) -> None:
    """Numbers as case_open gives them: the next of the organisation's year, gap-free."""
    years = sorted({case.opened_at.astimezone(WIB).year for case in cases})
    last = {year: 0 for year in years}
    for sequence in CaseSequence.objects.select_for_update().filter(organisation=org, year__in=years):
        last[sequence.year] = sequence.last
    for case in sorted(cases, key=lambda c: c.opened_at):
        year = case.opened_at.astimezone(WIB).year
        last[year] += 1
        case.year, case.sequence = year, last[year]
        case.number = f"{org.code}/{year}/{last[year]:04d}"
    for year, value in last.items():
        updated = CaseSequence.objects.filter(organisation=org, year=year).update(last=value)
        if not updated:
            CaseSequence.objects.create(organisation=org, year=year, last=value)


def _records(cases: list[Case], today: datetime.date) -> None:
    """Follow-ups (a few overdue), aftercare visits after closing, plans waiting for approval."""
    follow_ups: list[FollowUp] = []
    approvals: list[Approval] = []
    for i, case in enumerate(cases):
        manager = case.case_manager
        if manager is None:
            continue
        if case.closed_at is None and i % 4 == 0:
            due = today + datetime.timedelta(days=(i % 10) - 3)
            follow_ups.append(
                FollowUp(case=case, kind=FollowUpKind.HOME_VISIT, due_on=due, assignee=manager, created_by=manager)
            )
        if case.closed_at is not None and i % 2:
            for months in (1, 3):
                due = case.closed_at.astimezone(WIB).date() + datetime.timedelta(days=30 * months)
                # Past visits were done, or missed with a reason (nothing to escalate today).
                status = FollowUpStatus.PENDING
                if due < today:
                    status = FollowUpStatus.MISSED if i % 5 == 1 else FollowUpStatus.DONE
                follow_ups.append(
                    FollowUp(
                        case=case,
                        kind=FollowUpKind.AFTERCARE,
                        due_on=due,
                        assignee=manager,
                        created_by=manager,
                        status=status,
                        missed_reason=MISSED_REASON if status == FollowUpStatus.MISSED else "",
                        # Done on the day it was due, in the morning of Jambi.
                        completed_at=(
                            datetime.datetime.combine(due, datetime.time(10), tzinfo=WIB)
                            if status == FollowUpStatus.DONE
                            else None
                        ),
                    )
                )
        if case.closed_at is None and case.stage == "perencanaan" and case.supervisor_id:
            approvals.append(Approval(case=case, kind="plan", requested_by=manager, requested_at=case.stage_changed_at))
    FollowUp.objects.bulk_create(follow_ups)
    Approval.objects.bulk_create(approvals)
