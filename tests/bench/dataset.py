"""The benchmark's data set: a realistic number of organisations, users and memberships.

Volume goes in with bulk_create (the audit triggers still fire, as they do for any
insert); the few accounts a scenario logs in as are made through the services, the
way the portal makes them. Deterministic: the same scale gives the same rows.

BENCH_SCALE multiplies the default sizes (1000 organisations, 5000 users):
BENCH_SCALE=0.1 for a quick run, BENCH_SCALE=10 for a large province-wide install.
Later issues add their own builders here (cases, referrals, ...) and their counts to
`DataSet.sizes`.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from stakeholders.models import Membership, Organisation, OrganisationKind, User
from stakeholders.roles import Role
from stakeholders.services import membership_add, organisation_create, user_create

BASE_ORGANISATIONS = 1000
BASE_USERS = 5000
SEED = 20260101
BENCH_PASSWORD = "bench-password-2026"  # every account in the data set has it
BATCH = 2000


def scale_from_env() -> float:
    raw = os.environ.get("BENCH_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"BENCH_SCALE must be a number, not {raw!r}") from None
    if scale <= 0:
        raise ValueError("BENCH_SCALE must be greater than 0")
    return scale


@dataclass
class DataSet:
    scale: float
    password: str  # of every account, bulk or named
    accounts: dict[str, int] = field(default_factory=dict)  # named accounts: key -> user id
    sizes: dict[str, int] = field(default_factory=dict)  # for the report: kind -> rows
    extra: dict[str, Any] = field(default_factory=dict)  # for later scenarios' own objects

    def account(self, key: str) -> User:
        """A fresh copy of a named account: scenarios may change it (inside their transaction)."""
        return User.objects.get(pk=self.accounts[key])

    @property
    def social_worker(self) -> User:
        """Three active memberships: social worker in two organisations, supervisor in a third."""
        return self.account("social_worker")


# Kinds in roughly the proportions of a national install (provinces are added apart).
KIND_WEIGHTS = {
    OrganisationKind.DINSOS_KABKOTA: 30,
    OrganisationKind.LKSA: 25,
    OrganisationKind.LPKS: 8,
    OrganisationKind.PKH: 10,
    OrganisationKind.BALAI: 4,
    OrganisationKind.HEALTH: 8,
    OrganisationKind.EDUCATION: 3,
    OrganisationKind.DUKCAPIL: 3,
    OrganisationKind.LABOUR: 2,
    OrganisationKind.KEMENAG: 2,
    OrganisationKind.POLICE: 2,
    OrganisationKind.BAPAS: 1,
    OrganisationKind.UPTD_PPA: 2,
}
KIND_PREFIX = {
    OrganisationKind.DINSOS_PROVINSI: "DINSOS-P",
    OrganisationKind.DINSOS_KABKOTA: "DINSOS",
    OrganisationKind.LKSA: "LKSA",
    OrganisationKind.LPKS: "LPKS",
    OrganisationKind.PKH: "PKH",
    OrganisationKind.BALAI: "BA",
    OrganisationKind.HEALTH: "RS",
    OrganisationKind.EDUCATION: "DISDIK",
    OrganisationKind.DUKCAPIL: "DUKCAPIL",
    OrganisationKind.LABOUR: "DISNAKER",
    OrganisationKind.KEMENAG: "KEMENAG",
    OrganisationKind.POLICE: "UPPA",
    OrganisationKind.BAPAS: "BAPAS",
    OrganisationKind.UPTD_PPA: "UPTDPPA",
}
KIND_NAME = {
    OrganisationKind.DINSOS_KABKOTA: "Dinas Sosial {place}",
    OrganisationKind.LKSA: "LKSA {word} {place}",
    OrganisationKind.LPKS: "LPKS {word} {place}",
    OrganisationKind.PKH: "UPPKH {place}",
    OrganisationKind.BALAI: 'Balai Anak "{word}" {place}',
    OrganisationKind.HEALTH: "Puskesmas {place}",
    OrganisationKind.EDUCATION: "Dinas Pendidikan {place}",
    OrganisationKind.DUKCAPIL: "Dukcapil {place}",
    OrganisationKind.LABOUR: "Dinas Tenaga Kerja {place}",
    OrganisationKind.KEMENAG: "Kantor Kemenag {place}",
    OrganisationKind.POLICE: "Unit PPA Polres {place}",
    OrganisationKind.BAPAS: "Bapas {place}",
    OrganisationKind.UPTD_PPA: "UPTD PPA {place}",
}
PROVINCES = 38
ROLE_WEIGHTS = {
    Role.SOCIAL_WORKER: 40,
    Role.REFERRAL_OFFICER: 15,
    Role.SUPERVISOR: 10,
    Role.INTAKE_OFFICER: 10,
    Role.ORG_ADMIN: 5,
    Role.COMMUNITY_REPORTER: 15,
    Role.VIEWER: 5,
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower()) or "x"


def _build_organisations(rng: random.Random, fake: Faker, total: int) -> list[Organisation]:
    provinces = [
        Organisation(
            code=f"DINSOS-P{i:02d}",
            name=f"Dinas Sosial Provinsi {fake.state()}",
            kind=OrganisationKind.DINSOS_PROVINSI,
        )
        for i in range(1, min(PROVINCES, total) + 1)
    ]
    Organisation.objects.bulk_create(provinces, batch_size=BATCH)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    others = []
    for i in range(1, total - len(provinces) + 1):
        kind = rng.choices(kinds, weights)[0]
        # Local offices and institutions sit under their province; the rest stand alone.
        parent = (
            rng.choice(provinces)
            if kind in (OrganisationKind.DINSOS_KABKOTA, OrganisationKind.LKSA, OrganisationKind.PKH)
            else None
        )
        city = fake.city()
        place = city if city.startswith("Kota") else f"{rng.choice(('Kota', 'Kabupaten'))} {city}"
        name = KIND_NAME[kind].format(place=place, word=fake.last_name())
        others.append(
            Organisation(
                code=f"{KIND_PREFIX[kind]}-{i:06d}",
                name=name[:200],
                kind=kind,
                parent=parent,
                is_active=rng.random() > 0.03,
                notes=fake.sentence() if rng.random() < 0.2 else "",
            )
        )
    Organisation.objects.bulk_create(others, batch_size=BATCH)
    return [*provinces, *others]


def _build_users(rng: random.Random, fake: Faker, total: int, password_hash: str) -> list[User]:
    users = []
    for i in range(1, total + 1):
        first, last = fake.first_name(), fake.last_name()
        username = f"{_slug(first)}.{_slug(last)}{i}"
        users.append(
            User(
                username=username,
                email=f"{username}@example.org",
                first_name=first,
                last_name=last,
                password=password_hash,
                phone=f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.7 else "",
                preferred_language=User.Language.ENGLISH if rng.random() < 0.1 else User.Language.INDONESIAN,
                is_active=rng.random() > 0.03,
            )
        )
    return User.objects.bulk_create(users, batch_size=BATCH)


def _build_memberships(rng: random.Random, users: list[User], orgs: list[Organisation]) -> list[Membership]:
    active_orgs = [o for o in orgs if o.is_active]
    roles, weights = list(ROLE_WEIGHTS), list(ROLE_WEIGHTS.values())
    seen: set[tuple[int, int, str]] = set()
    memberships = []
    for user in users:
        # Most people work for one organisation; some hold roles in two or three.
        count = rng.choices((0, 1, 2, 3), (2, 78, 15, 5))[0]
        for _ in range(count):
            org = rng.choice(active_orgs if rng.random() > 0.02 else orgs)
            key = (user.pk, org.pk, rng.choices(roles, weights)[0])
            if key in seen:
                continue
            seen.add(key)
            memberships.append(
                Membership(user_id=key[0], organisation_id=key[1], role=key[2], is_active=rng.random() > 0.05)
            )
    return Membership.objects.bulk_create(memberships, batch_size=BATCH)


def _named_accounts(orgs: list[Organisation]) -> User:
    """The accounts scenarios log in as, made the portal's way (services)."""
    balai = organisation_create(
        code="BA-BENCH",
        name='Balai Anak "Bench" Jambi',
        kind=OrganisationKind.BALAI,
        notes="Benchmark home organisation",
    )
    lksa = next(o for o in orgs if o.kind == OrganisationKind.LKSA and o.is_active)
    dinsos = next(o for o in orgs if o.kind == OrganisationKind.DINSOS_KABKOTA and o.is_active)
    worker = user_create(
        username="bench.peksos",
        email="bench.peksos@example.org",
        first_name="Rina",
        last_name="Pekerja Sosial",
        password=BENCH_PASSWORD,
    )
    membership_add(organisation=balai, user=worker, role=Role.SOCIAL_WORKER)
    membership_add(organisation=lksa, user=worker, role=Role.SOCIAL_WORKER)
    membership_add(organisation=dinsos, user=worker, role=Role.SUPERVISOR)  # sees the Staff page
    return worker


def build(scale: float) -> DataSet:
    """Create the data set in the (empty) test database and ANALYZE it."""
    rng = random.Random(SEED)
    fake = Faker("id_ID")
    fake.seed_instance(SEED)
    password_hash = make_password(BENCH_PASSWORD)  # once; every bulk user shares the string
    with transaction.atomic():
        orgs = _build_organisations(rng, fake, max(2 * PROVINCES, round(BASE_ORGANISATIONS * scale)))
        users = _build_users(rng, fake, max(10, round(BASE_USERS * scale)), password_hash)
        _build_memberships(rng, users, orgs)
        worker = _named_accounts(orgs)
    case_supervisor = build_cases(scale, orgs, worker, password_hash)
    build_referrals(scale)
    with connection.cursor() as cursor:
        # Fresh bulk-loaded tables: give the planner the statistics autovacuum would.
        cursor.execute("ANALYZE")
    data = DataSet(
        scale=scale,
        password=BENCH_PASSWORD,
        accounts={"social_worker": worker.pk, "case_supervisor": case_supervisor.pk},
    )
    data.sizes = {**count_rows(), **count_case_rows(), **count_referral_rows()}
    return data


def count_rows() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "organisations (active)": Organisation.objects.filter(is_active=True).count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "memberships (active)": Membership.objects.filter(is_active=True).count(),
    }


# --- Cases (issue 4) ---------------------------------------------------------------------
#
# BENCH_SCALE x 100,000 cases of children in 20 organisations: the bench's BA-BENCH holds
# 10,000 of them (its supervisor is the `case_supervisor` account), 19 organisations of the
# data set share the rest. One beneficiary per case, in the villages of Jambi and West
# Sumatra (the test database's); 60 % with a NIK built as Dukcapil builds one, about 3 %
# of cases confidential, a quarter closed, a third of the open ones with a pending
# follow-up (some overdue). Bulk inserts, audit triggers on; numbers are the real
# `<ORG-CODE>/<YEAR>/<SEQ>` and CaseSequence is set past them, so the services can go on.

BASE_CASES = 100_000
BASE_BIG_ORG_CASES = 10_000
CASE_ORGANISATIONS = 20
WORKERS_PER_CASE_ORG = 8
CASE_STAGE_WEIGHTS = {
    "pendekatan_awal": 12,
    "asesmen": 14,
    "perencanaan": 10,
    "intervensi": 20,
    "monitoring_evaluasi": 10,
    "terminasi": 4,
    "bimbingan_lanjut": 5,
    "closed": 25,
}
CASE_RISK_WEIGHTS = {"low": 30, "medium": 45, "high": 20, "critical": 5}
CASE_BASIS_WEIGHTS = {"keluarga": 60, "komunitas": 20, "residensial": 20}
CASE_SOURCES = ("community_report", "walk_in", "police", "school", "court", "pkh", "referral")
CLOSURE_REASONS = ("goals_met", "transferred", "moved_away", "turned_18", "lost_contact", "refused")


def _case_organisations(orgs: list[Organisation], big: Organisation, worker: User) -> list[Organisation]:
    """BA-BENCH first, then 19 active residential or social-service organisations of the
    data set where the bench's social worker holds no role (their own figures stay theirs)."""
    kinds = {OrganisationKind.LKSA, OrganisationKind.BALAI, OrganisationKind.LPKS, OrganisationKind.DINSOS_KABKOTA}
    taken = set(Membership.objects.filter(user=worker).values_list("organisation_id", flat=True))
    others = [o for o in orgs if o.is_active and o.kind in kinds and o.pk not in taken and o.pk != big.pk]
    return [big, *others[: CASE_ORGANISATIONS - 1]]


def _case_staff(
    rng: random.Random, orgs: list[Organisation], password_hash: str
) -> tuple[dict[int, list[int]], dict[int, int], User]:
    """Social workers and a supervisor per organisation (bulk), and the named supervisor of
    BA-BENCH (through the services)."""
    from faker.providers.person.id_ID import Provider as Names

    users, roles = [], []
    for org in orgs:
        for i in range(WORKERS_PER_CASE_ORG + 1):
            first, last = rng.choice(Names.first_names_female), rng.choice(Names.last_names)
            username = f"case.{org.pk}.{i}"
            users.append(
                User(
                    username=username,
                    email=f"{username}@example.org",
                    first_name=first,
                    last_name=last,
                    password=password_hash,
                )
            )
            roles.append((org.pk, Role.SUPERVISOR if i == 0 else Role.SOCIAL_WORKER))
    users = User.objects.bulk_create(users, batch_size=BATCH)
    Membership.objects.bulk_create(
        [
            Membership(user_id=u.pk, organisation_id=org_id, role=role)
            for u, (org_id, role) in zip(users, roles, strict=True)
        ],
        batch_size=BATCH,
    )
    workers: dict[int, list[int]] = {}
    supervisors: dict[int, int] = {}
    for user, (org_id, role) in zip(users, roles, strict=True):
        if role == Role.SUPERVISOR:
            supervisors[org_id] = user.pk
        else:
            workers.setdefault(org_id, []).append(user.pk)
    named = user_create(
        username="bench.supervisor",
        email="bench.supervisor@example.org",
        first_name="Budi",
        last_name="Koordinator",
        password=BENCH_PASSWORD,
    )
    membership_add(organisation=orgs[0], user=named, role=Role.SUPERVISOR)
    supervisors[orgs[0].pk] = named.pk
    return workers, supervisors, named


def _case_sizes(scale: float) -> list[int]:
    """Cases per organisation: BA-BENCH's share first, the rest split evenly."""
    total = max(200, round(BASE_CASES * scale))
    big = max(100, round(BASE_BIG_ORG_CASES * scale))
    rest = total - big
    share, extra = divmod(rest, CASE_ORGANISATIONS - 1)
    return [big, *(share + (1 if i < extra else 0) for i in range(CASE_ORGANISATIONS - 1))]


def _insert(model: Any, rows: list[Any]) -> list[Any]:
    """bulk_create in batches, each its own transaction.

    pghistory's insert trigger calls _pgh_attach_context(), whose EXCEPTION block opens a
    subtransaction per audited row; inside one long transaction every batch then costs more
    than the one before (measured: +0.1 s per 2,000 rows, so 100,000 cases took minutes).
    Committing each batch keeps the load linear.
    """
    done: list[Any] = []
    for start in range(0, len(rows), BATCH):
        done += model.objects.bulk_create(rows[start : start + BATCH])
    return done


def build_cases(scale: float, orgs: list[Organisation], worker: User, password_hash: str) -> User:
    """The cases of the data set (see above); returns BA-BENCH's named supervisor."""
    import datetime as dt

    from faker.providers.person.id_ID import Provider as Names

    from atensi.core.models import AmpkCategory, Cluster
    from cases.models import Beneficiary, Case, CaseSequence, FollowUp, TimelineEntry
    from cases.occupancy import occupancy_recount_all
    from stakeholders.models import Region

    rng = random.Random(SEED + 4)  # its own stream: the rows above stay what they were
    big = Organisation.objects.get(code="BA-BENCH")
    case_orgs = _case_organisations(orgs, big, worker)
    workers, supervisors, named = _case_staff(rng, case_orgs, password_hash)
    villages = list(
        Region.objects.filter(level=4, code__regex=r"^1[35]").order_by("code").values_list("code", flat=True)
    )
    jambi = [v for v in villages if v.startswith("15")]
    clusters = dict(Cluster.objects.values_list("code", "pk"))
    ampk = list(AmpkCategory.objects.values_list("pk", flat=True))
    now = timezone.now()
    today = timezone.localdate(now)
    nik_sequence: dict[str, int] = {}

    def pick(weights: dict[str, int]) -> str:
        return rng.choices(list(weights), list(weights.values()))[0]

    children: list[Beneficiary] = []
    plans: list[tuple[int, dt.datetime]] = []  # (organisation, opened at) per child, in order
    for org, count in zip(case_orgs, _case_sizes(scale), strict=True):
        area = jambi if org.pk == big.pk else villages
        for _ in range(count):
            sex = "F" if rng.random() < 0.48 else "M"
            first_names = Names.first_names_female if sex == "F" else Names.first_names_male
            name = " ".join(
                [rng.choice(first_names)]
                + ([rng.choice(first_names)] if rng.random() < 0.5 else [])
                + [rng.choice(Names.last_names)]
            )
            opened = now - dt.timedelta(seconds=rng.randrange(4 * 365 * 86400))
            born = timezone.localdate(opened) - dt.timedelta(days=rng.randrange(365, 17 * 365))
            village = rng.choice(area)
            nik = ""
            if rng.random() < 0.6:
                prefix = f"{village[:6]}{born.day + (40 if sex == 'F' else 0):02d}{born:%m%y}"
                nik_sequence[prefix] = nik_sequence.get(prefix, 0) + 1
                nik = f"{prefix}{nik_sequence[prefix]:04d}"
            children.append(
                Beneficiary(
                    organisation_id=org.pk,
                    full_name=name,
                    alias=rng.choice(first_names) if rng.random() < 0.15 else "",
                    sex=sex,
                    birth_date=born,
                    nik=nik,
                    village_id=village,
                    regency_code=village[:4],
                    cluster_id=clusters["anak"] if rng.random() < 0.9 else clusters["penyandang_disabilitas"],
                    created_by_id=supervisors[org.pk],
                )
            )
            plans.append((org.pk, opened))
    children = _insert(Beneficiary, children)
    AmpkLink = Beneficiary.ampk_categories.through
    AmpkLink.objects.bulk_create(
        [
            AmpkLink(beneficiary_id=child.pk, ampkcategory_id=pk)
            for child in children
            if rng.random() < 0.4
            for pk in rng.sample(ampk, rng.randint(1, 2))
        ],
        batch_size=BATCH,
    )
    codes = {o.pk: o.code for o in case_orgs}
    # Numbers follow the opening order within each organisation and year.
    order = sorted(range(len(children)), key=lambda i: (plans[i][0], plans[i][1]))
    sequences: dict[tuple[int, int], int] = {}
    cases = []
    for i in order:
        org_id, opened = plans[i]
        year = timezone.localdate(opened).year
        sequences[(org_id, year)] = sequences.get((org_id, year), 0) + 1
        stage = pick(CASE_STAGE_WEIGHTS)
        closed = stage == "closed"
        manager = rng.choice(workers[org_id]) if rng.random() > 0.05 else None
        cases.append(
            Case(
                number=f"{codes[org_id]}/{year}/{sequences[(org_id, year)]:04d}",
                organisation_id=org_id,
                year=year,
                sequence=sequences[(org_id, year)],
                beneficiary_id=children[i].pk,
                case_manager_id=manager,
                supervisor_id=supervisors[org_id],
                cluster_id=children[i].cluster_id,
                basis=pick(CASE_BASIS_WEIGHTS),
                source=rng.choice(CASE_SOURCES),
                risk_level=pick(CASE_RISK_WEIGHTS),
                is_confidential=rng.random() < 0.03,
                summary="Data bench.",
                stage=stage,
                stage_changed_at=opened,
                opened_at=opened,
                closed_at=min(now, opened + dt.timedelta(days=rng.randint(30, 700))) if closed else None,
                closure_reason=rng.choice(CLOSURE_REASONS) if closed else "",
                created_by_id=manager or supervisors[org_id],
            )
        )
    cases = _insert(Case, cases)
    CaseSequence.objects.bulk_create(
        [CaseSequence(organisation_id=org, year=year, last=last) for (org, year), last in sequences.items()],
        batch_size=BATCH,
    )
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                case_id=c.pk, kind="opened", at=c.opened_at, actor_id=c.created_by_id, data={"source": c.source}
            )
            for c in cases
        ],
        batch_size=BATCH,
    )
    follow_ups = []
    for c in cases:
        if c.stage == "closed" or rng.random() >= 1 / 3:
            continue
        assignee = c.case_manager_id or c.supervisor_id
        follow_ups.append(
            FollowUp(
                case_id=c.pk,
                kind=rng.choice(("home_visit", "case_review", "plan_review")),
                due_on=today + dt.timedelta(days=rng.randint(-30, 60)),
                assignee_id=assignee,
                created_by_id=assignee,
            )
        )
    _insert(FollowUp, follow_ups)
    occupancy_recount_all()
    return named


def count_case_rows() -> dict[str, int]:
    from cases.models import Beneficiary, Case, FollowUp

    big = Case.objects.filter(organisation__code="BA-BENCH")
    return {
        "beneficiaries": Beneficiary.objects.count(),
        "… of which with a NIK": Beneficiary.objects.exclude(nik="").count(),
        "cases": Case.objects.count(),
        "… open": Case.objects.exclude(stage="closed").count(),
        "… confidential": Case.objects.filter(is_confidential=True).count(),
        "… in BA-BENCH (the list's organisation)": big.count(),
        "… open in BA-BENCH": big.exclude(stage="closed").count(),
        "follow-ups pending": FollowUp.objects.filter(status="pending").count(),
    }


# --- Referrals (issue 5) -----------------------------------------------------------------
#
# BENCH_SCALE x 50,000 referrals received by BA-BENCH (the inbox's organisation), sent by
# the 19 other case organisations, and BENCH_SCALE x 10,000 more between those 19 (about
# 500 received by each), so BA-BENCH's are not the whole table. Each referral is about a
# different case (so the "one live referral per case and receiver" constraints hold).
# About 6 % wait for an answer, sent in the last 9 days (those past their deadline are
# overdue); the rest were sent over the last two years and answered, mostly within the
# deadline: accepted, completed, declined, or cancelled by the sender (half before, half
# after acceptance). Service referrals ask for one or two components, handovers name their
# reason; transfers are never accepted here (an accepted one would have moved the case).
# Bulk inserts, audit triggers on; no timeline entries or notifications (the lists do not
# read them).

BASE_REFERRALS = 50_000
BASE_OTHER_REFERRALS = 10_000
REFERRAL_STATUS_WEIGHTS = {"sent": 6, "accepted": 20, "completed": 45, "declined": 20, "cancelled": 9}
REFERRAL_URGENCY_WEIGHTS = {"emergency": 10, "high": 30, "normal": 60}
REFERRAL_KIND_WEIGHTS = {"service": 70, "handover": 20, "transfer": 10}
REFERRAL_DEADLINE_HOURS = {"emergency": 24, "high": 72, "normal": 168}
HANDOVER_REASONS = ("school", "civil_registry", "work", "health", "religion", "family_support")
DECLINE_REASONS = ("no_capacity", "out_of_area", "not_our_service", "not_eligible", "incomplete")


def build_referrals(scale: float) -> int:
    """The referrals of the data set (see above); returns how many."""
    import datetime as dt

    from atensi.core.models import ServiceComponent
    from cases.models import Case
    from referrals.models import Referral

    rng = random.Random(SEED + 5)  # its own stream: the rows above stay what they were
    big = Organisation.objects.get(code="BA-BENCH")
    # Each case with the child as a referral records them when sent (services.child_summary).
    cases = [
        (
            pk,
            org_id,
            by,
            {
                "full_name": name,
                "sex": sex,
                "birth_date": born.isoformat() if born else "",
                "birth_date_estimated": estimated,
                "regency_code": regency,
            },
        )
        for pk, org_id, by, name, sex, born, estimated, regency in Case.objects.exclude(organisation=big)
        .order_by("pk")
        .values_list(
            "pk",
            "organisation_id",
            "created_by_id",
            "beneficiary__full_name",
            "beneficiary__sex",
            "beneficiary__birth_date",
            "beneficiary__birth_date_estimated",
            "beneficiary__regency_code",
        )
    ]
    senders = sorted({org_id for _pk, org_id, _by, _child in cases})
    staff: dict[int, list[int]] = {}
    for org_id, user_id in (
        Membership.objects.filter(
            organisation_id__in=[big.pk, *senders], role__in=(Role.SUPERVISOR, Role.SOCIAL_WORKER)
        )
        .order_by("pk")
        .values_list("organisation_id", "user_id")
    ):
        staff.setdefault(org_id, []).append(user_id)
    to_big = min(len(cases), max(100, round(BASE_REFERRALS * scale)))
    between = min(len(cases) - to_big, max(20, round(BASE_OTHER_REFERRALS * scale)))
    chosen = rng.sample(cases, to_big + between)
    components = list(ServiceComponent.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()

    def pick(weights: dict[str, int]) -> str:
        return rng.choices(list(weights), list(weights.values()))[0]

    referrals: list[Referral] = []
    wanted: list[list[int]] = []  # the components of each referral, in order
    for i, (case_id, sender_id, sent_by_id, child) in enumerate(chosen):
        receiver_id = big.pk if i < to_big else rng.choice([o for o in senders if o != sender_id])
        status = pick(REFERRAL_STATUS_WEIGHTS)
        kind = pick(REFERRAL_KIND_WEIGHTS)
        if kind == "transfer" and status in ("accepted", "completed"):
            kind = "service"
        urgency = pick(REFERRAL_URGENCY_WEIGHTS)
        fields: dict[str, Any] = {}
        if status == "sent":
            sent = now - dt.timedelta(seconds=rng.randrange(9 * 86400))
        else:
            sent = now - dt.timedelta(seconds=rng.randrange(10 * 86400, 730 * 86400))
            # Most answer within the deadline, some late: a log-normal around a day.
            answered = sent + dt.timedelta(hours=min(20 * 24, rng.lognormvariate(3.2, 1.0)))
            answerer = rng.choice(staff[receiver_id])
            if status != "cancelled" or rng.random() < 0.5:
                fields.update(answered_at=answered, answered_by_id=answerer)
            if status == "declined":
                fields.update(decline_reason=rng.choice(DECLINE_REASONS))
            if status == "completed":
                done = min(now, answered + dt.timedelta(days=rng.randint(5, 120)))
                fields.update(completed_at=done, completed_by_id=answerer, outcome="Layanan selesai (data bench).")
            if status == "cancelled":
                fields.update(
                    cancelled_at=min(now, answered + dt.timedelta(days=rng.randint(0, 30))),
                    cancelled_by_id=sent_by_id,
                    cancel_reason="Keluarga pindah (data bench).",
                )
        referrals.append(
            Referral(
                case_id=case_id,
                kind=kind,
                sender_id=sender_id,
                receiver_id=receiver_id,
                sent_by_id=sent_by_id,
                sent_at=sent,
                urgency=urgency,
                respond_by=sent + dt.timedelta(hours=REFERRAL_DEADLINE_HOURS[urgency]),
                reason="Data bench: anak membutuhkan layanan lanjutan.",
                handover_reason=rng.choice(HANDOVER_REASONS) if kind == "handover" else "",
                sharing_basis="consent",
                child_summary=child,
                status=status,
                **fields,
            )
        )
        wanted.append(rng.sample(components, rng.randint(1, 2)) if kind == "service" else [])
    referrals = _insert(Referral, referrals)
    Link = Referral.components.through
    links = [
        Link(referral_id=referral.pk, servicecomponent_id=pk)
        for referral, picked in zip(referrals, wanted, strict=True)
        for pk in picked
    ]
    _insert(Link, links)
    return len(referrals)


def count_referral_rows() -> dict[str, int]:
    from referrals.models import Referral

    inbox = Referral.objects.filter(receiver__code="BA-BENCH")
    return {
        "referrals": Referral.objects.count(),
        "… received by BA-BENCH (the inbox's organisation)": inbox.count(),
        "… waiting for BA-BENCH's answer": inbox.filter(status="sent").count(),
        "… of which overdue": inbox.filter(status="sent", respond_by__lt=timezone.now()).count(),
        "… accepted by BA-BENCH, not completed yet": inbox.filter(status="accepted").count(),
    }
