"""The benchmark's data set, in three layers: core, cases, referrals.

- **core**: organisations (38 provincial Dinas Sosial, the rest in national proportions),
  users and their memberships, and the named accounts scenarios log in as.
- **cases**: BENCH_SCALE x 100,000 children, one case each, in a skewed set of
  organisations: BA-BENCH holds a tenth (100,000 at scale 10), a few others tens of
  thousands, the long tail a few dozen each (Zipf-like); common first names are common
  (a Zipf law over the name list, the most frequent Indonesian names first).
- **referrals**: BENCH_SCALE x 50,000 received by BA-BENCH and BENCH_SCALE x 10,000
  between the other case organisations.

A section asks for the layers it reads (BENCH_NEEDS in its module); a layer brings the
ones below it. Rows go in with COPY (tests/bench/bulk.py), indexes and foreign keys after,
audit triggers off and the history rows written in bulk; the few accounts a scenario logs
in as are made through the services, the way the portal makes them. Deterministic: each
layer draws from its own seeded stream, so the same scale gives the same rows whether the
layers are built in one run or several. Sizes at scale 10: 10,000 organisations, about
56,000 users, 1,000,000 cases, 600,000 referrals.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
from tests.bench.bulk import Copier, bulk_load, history

LAYERS = ("core", "cases", "referrals")  # each needs the ones before it
BASE_ORGANISATIONS = 1000
BASE_USERS = 5000
SEED = 20260101
BENCH_PASSWORD = "bench-password-2026"  # every account in the data set has it
BATCH = 2000
BIG = "BA-BENCH"  # the organisation every scenario's heavy page is about


def scale_from_env() -> float:
    raw = os.environ.get("BENCH_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"BENCH_SCALE must be a number, not {raw!r}") from None
    if scale <= 0:
        raise ValueError("BENCH_SCALE must be greater than 0")
    return scale


def layers_for(needs: set[str]) -> list[str]:
    """The layers to build for `needs`: each one asked for and every layer below it."""
    unknown = needs - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown data-set layers: {', '.join(sorted(unknown))}")
    top = max((LAYERS.index(n) for n in needs), default=0)
    return list(LAYERS[: top + 1])


# The named accounts: key -> username.
ACCOUNTS = {
    "social_worker": "bench.peksos",  # social worker in two organisations, supervisor in a third
    "superuser": "bench.admin",
    "case_supervisor": "bench.supervisor",  # supervisor of BA-BENCH
    "case_worker": "bench.caseworker",  # social worker of BA-BENCH only: a caseload of its own
    "referral_officer": "bench.rujukan",  # referral officer of BA-BENCH and of the biggest sender
}


@dataclass
class DataSet:
    scale: float
    password: str  # of every account, bulk or named
    layers: list[str] = field(default_factory=list)
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


def load(scale: float, layers: list[str], sizes: dict[str, int]) -> DataSet:
    """The DataSet of a database that holds `layers` (its named accounts looked up)."""
    found = dict(User.objects.filter(username__in=ACCOUNTS.values()).values_list("username", "pk"))
    accounts = {key: found[name] for key, name in ACCOUNTS.items() if name in found}
    return DataSet(scale=scale, password=BENCH_PASSWORD, layers=list(layers), accounts=accounts, sizes=sizes)


def build_layer(layer: str, scale: float) -> dict[str, int]:
    """Build one layer (the ones below it are in the database) and return its sizes."""
    builder = {"core": build_core, "cases": build_cases, "referrals": build_referrals}[layer]
    with transaction.atomic():
        builder(scale)
    return {"core": count_rows, "cases": count_case_rows, "referrals": count_referral_rows}[layer]()


def _zipf(count: int, *, offset: float = 0.0, power: float = 1.0) -> list[float]:
    """Cumulative weights of a Zipf law over `count` ranks (for rng.choices(cum_weights=...))."""
    return list(itertools.accumulate(1 / (rank + offset) ** power for rank in range(1, count + 1)))


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, at least 1 each, summing to `total`."""
    raw = [total * w / sum(weights) for w in weights]
    sizes = [max(1, int(r)) for r in raw]
    diff = total - sum(sizes)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[: max(diff, 0)]:
        sizes[i] += 1
    if diff < 0:  # the minimum of 1 took more than there was: the largest gives it back
        sizes[sizes.index(max(sizes))] += diff
    return sizes


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


def build_core(scale: float) -> None:
    rng = random.Random(SEED)
    fake = Faker("id_ID")
    fake.seed_instance(SEED)
    password_hash = make_password(BENCH_PASSWORD)  # once; every bulk user shares the string
    with bulk_load([Organisation, User, Membership]):
        orgs = Copier(Organisation)
        users = Copier(User)
        org_ids = _build_organisations(rng, fake, orgs, max(2 * PROVINCES, round(BASE_ORGANISATIONS * scale)))
        user_ids = _build_users(rng, fake, users, max(10, round(BASE_USERS * scale)), password_hash)
        orgs.close()
        users.close()
        memberships = Copier(Membership)
        _build_memberships(rng, memberships, user_ids, org_ids)
        memberships.close()
        for copier in (orgs, users, memberships):
            history(copier.table, since_id=copier.first_id, at="now()")
    _named_accounts()


def _build_organisations(rng: random.Random, fake: Faker, copier: Copier, total: int) -> list[tuple[int, str, bool]]:
    """(id, kind, active) of every organisation."""
    made: list[tuple[int, str, bool]] = []
    provinces = []
    for i in range(1, min(PROVINCES, total) + 1):
        kind = OrganisationKind.DINSOS_PROVINSI
        pk = copier.add(code=f"DINSOS-P{i:02d}", name=f"Dinas Sosial Provinsi {fake.state()}", kind=kind)
        provinces.append(pk)
        made.append((pk, kind, True))
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
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
        active = rng.random() > 0.03
        pk = copier.add(
            code=f"{KIND_PREFIX[kind]}-{i:06d}",
            name=name[:200],
            kind=kind,
            parent_id=parent,
            is_active=active,
            notes=fake.sentence() if rng.random() < 0.2 else "",
        )
        made.append((pk, kind, active))
    return made


def _build_users(rng: random.Random, fake: Faker, copier: Copier, total: int, password_hash: str) -> list[int]:
    ids = []
    for i in range(1, total + 1):
        first, last = fake.first_name(), fake.last_name()
        username = f"{_slug(first)}.{_slug(last)}{i}"
        ids.append(
            copier.add(
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
    return ids


def _build_memberships(
    rng: random.Random, copier: Copier, user_ids: list[int], orgs: list[tuple[int, str, bool]]
) -> None:
    all_orgs = [pk for pk, _kind, _active in orgs]
    active_orgs = [pk for pk, _kind, active in orgs if active]
    roles, weights = list(ROLE_WEIGHTS), list(ROLE_WEIGHTS.values())
    seen: set[tuple[int, int, str]] = set()
    for user_id in user_ids:
        # Most people work for one organisation; some hold roles in two or three.
        count = rng.choices((0, 1, 2, 3), (2, 78, 15, 5))[0]
        for _ in range(count):
            org = rng.choice(active_orgs if rng.random() > 0.02 else all_orgs)
            key = (user_id, org, rng.choices(roles, weights)[0])
            if key in seen:
                continue
            seen.add(key)
            copier.add(user_id=key[0], organisation_id=key[1], role=key[2], is_active=rng.random() > 0.05)


def _named_accounts() -> None:
    """The accounts scenarios log in as, made the portal's way (services)."""
    balai = organisation_create(
        code=BIG,
        name='Balai Anak "Bench" Jambi',
        kind=OrganisationKind.BALAI,
        notes="Benchmark home organisation",
    )
    active = Organisation.objects.filter(is_active=True).order_by("pk")
    lksa = active.filter(kind=OrganisationKind.LKSA).first()
    dinsos = active.filter(kind=OrganisationKind.DINSOS_KABKOTA).first()
    if lksa is None or dinsos is None:
        raise ValueError("the data set has no active LKSA or Dinas Sosial kab/kota: raise BENCH_SCALE")
    worker = user_create(
        username=ACCOUNTS["social_worker"],
        email="bench.peksos@example.org",
        first_name="Rina",
        last_name="Pekerja Sosial",
        password=BENCH_PASSWORD,
    )
    membership_add(organisation=balai, user=worker, role=Role.SOCIAL_WORKER)
    membership_add(organisation=lksa, user=worker, role=Role.SOCIAL_WORKER)
    membership_add(organisation=dinsos, user=worker, role=Role.SUPERVISOR)  # sees the Staff page
    user_create(
        username=ACCOUNTS["superuser"],
        email="bench.admin@example.org",
        first_name="Admin",
        last_name="Nasional",
        password=BENCH_PASSWORD,
        is_staff=True,
        is_superuser=True,
    )


def count_rows() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "organisations (active)": Organisation.objects.filter(is_active=True).count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "memberships (active)": Membership.objects.filter(is_active=True).count(),
    }


# --- Cases ---------------------------------------------------------------------------------
#
# BENCH_SCALE x 100,000 cases of children. BA-BENCH holds a tenth of them; the rest go to
# BENCH_SCALE x 200 active residential or social-service organisations of the data set
# (where the bench's social worker holds no role) along a Zipf law, so a few hold tens of
# thousands and most a few dozen. Each organisation has a supervisor and a social worker
# per 400 cases or so (at least two), who manage its cases (5 % have no manager yet).
# One beneficiary per case, in the villages of Jambi and West Sumatra (the test
# database's); 60 % with a NIK built as Dukcapil builds one, about 3 % of cases
# confidential, a quarter closed, a third of the open ones with a pending follow-up (some
# overdue). Numbers are the real `<ORG-CODE>/<YEAR>/<SEQ>` and CaseSequence is set past
# them, so the services can go on. History: an insert event for every row, and an update
# event for every case past its first stage.

BASE_CASES = 100_000
BIG_SHARE = 0.1
BASE_CASE_ORGANISATIONS = 200
CASES_PER_WORKER = 400
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
# The most frequent given names first: the Zipf law makes them the common ones.
COMMON_FEMALE = ("Siti", "Nur", "Putri", "Dewi", "Sri", "Aisyah", "Fitri", "Ayu", "Nabila", "Zahra")
COMMON_MALE = ("Muhammad", "Ahmad", "Agus", "Budi", "Rizki", "Andi", "Dimas", "Fajar", "Bayu", "Arif")


def _names(common: tuple[str, ...], others: tuple[str, ...]) -> tuple[list[str], list[float]]:
    names = [*common, *(n for n in others if n not in common)]
    return names, _zipf(len(names), offset=1.0)


def _case_organisations(scale: float) -> list[Organisation]:
    """BA-BENCH first, then active residential or social-service organisations of the data
    set where the bench's social worker holds no role (their own figures stay theirs)."""
    kinds = {OrganisationKind.LKSA, OrganisationKind.BALAI, OrganisationKind.LPKS, OrganisationKind.DINSOS_KABKOTA}
    big = Organisation.objects.get(code=BIG)
    taken = Membership.objects.filter(user__username=ACCOUNTS["social_worker"]).values("organisation_id")
    others = list(
        Organisation.objects.filter(is_active=True, kind__in=kinds)
        .exclude(pk__in=taken)
        .exclude(pk=big.pk)
        .order_by("pk")[: max(19, round(BASE_CASE_ORGANISATIONS * scale)) - 1]
    )
    return [big, *others]


def _case_sizes(scale: float, organisations: int) -> list[int]:
    """Cases per organisation: BA-BENCH's tenth first, the rest along a Zipf law."""
    total = max(200, round(BASE_CASES * scale))
    big = max(100, round(total * BIG_SHARE))
    weights = [1 / (rank + 5) for rank in range(1, organisations)]
    return [big, *_split(total - big, weights)]


def _case_staff(
    rng: random.Random, orgs: list[Organisation], sizes: list[int], password_hash: str
) -> tuple[dict[int, list[int]], dict[int, int]]:
    """A supervisor and social workers per organisation (COPY); BA-BENCH's named staff join them."""
    from faker.providers.person.id_ID import Provider as Names

    named = dict(User.objects.filter(username__in=ACCOUNTS.values()).values_list("username", "pk"))
    users, memberships = Copier(User), Copier(Membership)
    workers: dict[int, list[int]] = {}
    supervisors: dict[int, int] = {}
    for org, size in zip(orgs, sizes, strict=True):
        for i in range(max(2, round(size / CASES_PER_WORKER)) + 1):
            username = f"case.{org.pk}.{i}"
            pk = users.add(
                username=username,
                email=f"{username}@example.org",
                first_name=rng.choice(Names.first_names_female),
                last_name=rng.choice(Names.last_names),
                password=password_hash,
            )
            role = Role.SUPERVISOR if i == 0 else Role.SOCIAL_WORKER
            memberships.add(user_id=pk, organisation_id=org.pk, role=role)
            if role == Role.SUPERVISOR:
                supervisors[org.pk] = pk
            else:
                workers.setdefault(org.pk, []).append(pk)
    users.close()
    memberships.close()
    for copier in (users, memberships):
        history(copier.table, since_id=copier.first_id, at="now()")
    big = orgs[0].pk
    supervisors[big] = named[ACCOUNTS["case_supervisor"]]
    workers[big].append(named[ACCOUNTS["case_worker"]])
    return workers, supervisors


def _case_accounts(orgs: list[Organisation], sizes: list[int]) -> None:
    """BA-BENCH's named supervisor, social worker and referral officer (services)."""
    big = orgs[0]
    for key, first, last in (
        ("case_supervisor", "Budi", "Koordinator"),
        ("case_worker", "Sari", "Pendamping"),
        ("referral_officer", "Dedi", "Rujukan"),
    ):
        user = user_create(
            username=ACCOUNTS[key],
            email=f"{ACCOUNTS[key]}@example.org",
            first_name=first,
            last_name=last,
            password=BENCH_PASSWORD,
        )
        if key == "referral_officer":
            membership_add(organisation=big, user=user, role=Role.REFERRAL_OFFICER)
            # ... and of the biggest other case organisation, the one that sends the most.
            biggest = orgs[1 + sizes[1:].index(max(sizes[1:]))]
            membership_add(organisation=biggest, user=user, role=Role.REFERRAL_OFFICER)
        else:
            membership_add(
                organisation=big, user=user, role=Role.SUPERVISOR if key == "case_supervisor" else Role.SOCIAL_WORKER
            )


def build_cases(scale: float) -> None:
    from faker.providers.person.id_ID import Provider as Names

    from atensi.core.models import AmpkCategory, Cluster
    from cases.models import Approval, Beneficiary, Case, CaseSequence, FollowUp, TimelineEntry
    from cases.occupancy import occupancy_recount_all
    from stakeholders.models import Region

    rng = random.Random(SEED + 4)  # its own stream: the layers below stay what they were
    orgs = _case_organisations(scale)
    sizes = _case_sizes(scale, len(orgs))
    _case_accounts(orgs, sizes)
    big = orgs[0].pk
    password_hash = User.objects.filter(username__startswith="case.").values_list("password", flat=True).first()
    password_hash = password_hash or make_password(BENCH_PASSWORD)
    villages = list(
        Region.objects.filter(level=4, code__regex=r"^1[35]").order_by("code").values_list("code", flat=True)
    )
    jambi = [v for v in villages if v.startswith("15")]
    clusters = dict(Cluster.objects.values_list("code", "pk"))
    ampk = list(AmpkCategory.objects.order_by("pk").values_list("pk", flat=True))
    female = _names(COMMON_FEMALE, Names.first_names_female)
    male = _names(COMMON_MALE, Names.first_names_male)
    surnames = _names((), Names.last_names)
    now = timezone.now()
    local = timezone.get_current_timezone()
    today = now.astimezone(local).date()
    codes = {o.pk: o.code for o in orgs}
    stages, stage_weights = list(CASE_STAGE_WEIGHTS), list(itertools.accumulate(CASE_STAGE_WEIGHTS.values()))
    risks, risk_weights = list(CASE_RISK_WEIGHTS), list(itertools.accumulate(CASE_RISK_WEIGHTS.values()))
    bases, basis_weights = list(CASE_BASIS_WEIGHTS), list(itertools.accumulate(CASE_BASIS_WEIGHTS.values()))

    with bulk_load(
        [
            User,
            Membership,
            Beneficiary,
            Beneficiary.ampk_categories.through,
            Case,
            CaseSequence,
            TimelineEntry,
            FollowUp,
            Approval,
        ]
    ):
        workers, supervisors = _case_staff(rng, orgs, sizes, password_hash)
        children = Copier(Beneficiary)
        links = Copier(Beneficiary.ampk_categories.through)
        cases = Copier(Case)
        timeline = Copier(TimelineEntry)
        follow_ups = Copier(FollowUp)
        approvals = Copier(Approval)
        nik_sequence: dict[str, int] = {}
        sequences: dict[tuple[int, int], int] = {}
        for org_id, count in zip(codes, sizes, strict=True):
            area = jambi if org_id == big else villages
            # Numbers follow the opening order within the organisation and year.
            opened_at = sorted(now - dt.timedelta(seconds=rng.randrange(4 * 365 * 86400)) for _ in range(count))
            for opened in opened_at:
                sex = "F" if rng.random() < 0.48 else "M"
                names, weights = female if sex == "F" else male
                words = rng.choices(names, cum_weights=weights, k=2)
                name = " ".join(
                    [words[0]]
                    + ([words[1]] if rng.random() < 0.5 else [])
                    + rng.choices(surnames[0], cum_weights=surnames[1])
                )
                opened_on = opened.astimezone(local).date()
                born = opened_on - dt.timedelta(days=rng.randrange(365, 17 * 365))
                village = rng.choice(area)
                nik = ""
                if rng.random() < 0.6:
                    prefix = f"{village[:6]}{born.day + (40 if sex == 'F' else 0):02d}{born:%m%y}"
                    nik_sequence[prefix] = nik_sequence.get(prefix, 0) + 1
                    nik = f"{prefix}{nik_sequence[prefix]:04d}"
                cluster = clusters["anak"] if rng.random() < 0.9 else clusters["penyandang_disabilitas"]
                child = children.add(
                    organisation_id=org_id,
                    full_name=name,
                    alias=rng.choice(names) if rng.random() < 0.15 else "",
                    sex=sex,
                    birth_date=born,
                    nik=nik,
                    village_id=village,
                    regency_code=village[:4],
                    cluster_id=cluster,
                    created_by_id=supervisors[org_id],
                    created_at=opened,
                    updated_at=opened,
                )
                if rng.random() < 0.4:
                    for pk in rng.sample(ampk, rng.randint(1, 2)):
                        links.add(beneficiary_id=child, ampkcategory_id=pk)
                year = opened_on.year
                sequence = sequences[(org_id, year)] = sequences.get((org_id, year), 0) + 1
                stage = rng.choices(stages, cum_weights=stage_weights)[0]
                closed = stage == "closed"
                manager = rng.choice(workers[org_id]) if rng.random() > 0.05 else None
                opened_by = manager or supervisors[org_id]
                source = rng.choice(CASE_SOURCES)
                stage_at = (
                    opened if stage == "pendekatan_awal" else min(now, opened + dt.timedelta(days=rng.randint(1, 300)))
                )
                closed_at = min(now, opened + dt.timedelta(days=rng.randint(30, 700))) if closed else None
                case = cases.add(
                    number=f"{codes[org_id]}/{year}/{sequence:04d}",
                    organisation_id=org_id,
                    year=year,
                    sequence=sequence,
                    beneficiary_id=child,
                    case_manager_id=manager,
                    supervisor_id=supervisors[org_id],
                    cluster_id=cluster,
                    basis=rng.choices(bases, cum_weights=basis_weights)[0],
                    source=source,
                    risk_level=rng.choices(risks, cum_weights=risk_weights)[0],
                    is_confidential=rng.random() < 0.03,
                    summary="Data bench.",
                    stage=stage,
                    stage_changed_at=closed_at or stage_at,
                    opened_at=opened,
                    closed_at=closed_at,
                    closure_reason=rng.choice(CLOSURE_REASONS) if closed else "",
                    created_by_id=opened_by,
                    updated_at=closed_at or stage_at,
                )
                timeline.add(case_id=case, kind="opened", at=opened, actor_id=opened_by, data={"source": source})
                if not closed and rng.random() < 1 / 3:
                    assignee = manager or supervisors[org_id]
                    follow_ups.add(
                        case_id=case,
                        # What the trigger would copy from the case (triggers are off here).
                        organisation_id=org_id,
                        supervisor_id=supervisors[org_id],
                        kind=rng.choice(("home_visit", "case_review", "plan_review")),
                        due_on=today + dt.timedelta(days=rng.randint(-30, 60)),
                        assignee_id=assignee,
                        created_by_id=assignee,
                        created_at=stage_at,
                    )
                # A plan waiting for the supervisor's approval, as a busy team has some.
                if stage == "perencanaan" and manager is not None and rng.random() < 0.05:
                    approvals.add(
                        case_id=case,
                        organisation_id=org_id,
                        kind="plan",
                        status="pending",
                        requested_by_id=manager,
                        requested_at=stage_at,
                        request_note="Data bench.",
                    )
        counters = Copier(CaseSequence)
        for (org_id, year), last in sequences.items():
            counters.add(organisation_id=org_id, year=year, last=last)
        for copier in (children, links, cases, timeline, follow_ups, approvals, counters):
            copier.close()
            history(copier.table, since_id=copier.first_id)
        history(
            cases.table,
            since_id=cases.first_id,
            label="update",
            at='"stage_changed_at"',
            where="stage <> 'pendekatan_awal'",
        )
    occupancy_recount_all()


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        return int(cursor.fetchone()[0])


def count_case_rows() -> dict[str, int]:
    from cases.models import Approval, Beneficiary, Case, FollowUp

    big = Case.objects.filter(organisation__code=BIG)
    return {
        "beneficiaries": Beneficiary.objects.count(),
        "… of which with a NIK": Beneficiary.objects.exclude(nik="").count(),
        "cases": Case.objects.count(),
        "… open": Case.objects.exclude(stage="closed").count(),
        "… confidential": Case.objects.filter(is_confidential=True).count(),
        "… in BA-BENCH (the list's organisation)": big.count(),
        "… open in BA-BENCH": big.exclude(stage="closed").count(),
        "… managed by bench.caseworker (open)": big.filter(case_manager__username=ACCOUNTS["case_worker"])
        .exclude(stage="closed")
        .count(),
        "case organisations": Case.objects.values("organisation_id").distinct().count(),
        "follow-ups pending": FollowUp.objects.filter(status="pending").count(),
        "approvals pending": Approval.objects.filter(status="pending").count(),
        "history events of cases": _count("cases_caseevent"),
    }


# --- Referrals -----------------------------------------------------------------------------
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
# History: an insert event for every referral and an update event for every answered
# one; no timeline entries or notifications (the lists do not read them).

BASE_REFERRALS = 50_000
BASE_OTHER_REFERRALS = 10_000
REFERRAL_STATUS_WEIGHTS = {"sent": 6, "accepted": 20, "completed": 45, "declined": 20, "cancelled": 9}
REFERRAL_URGENCY_WEIGHTS = {"emergency": 10, "high": 30, "normal": 60}
REFERRAL_KIND_WEIGHTS = {"service": 70, "handover": 20, "transfer": 10}
REFERRAL_DEADLINE_HOURS = {"emergency": 24, "high": 72, "normal": 168}
HANDOVER_REASONS = ("school", "civil_registry", "work", "health", "religion", "family_support")
DECLINE_REASONS = ("no_capacity", "out_of_area", "not_our_service", "not_eligible", "incomplete")


def build_referrals(scale: float) -> None:
    """The referrals of the data set (see above)."""
    import datetime as dt

    from atensi.core.models import ServiceComponent
    from cases.models import Case
    from referrals.models import Referral

    rng = random.Random(SEED + 5)  # its own stream: the rows above stay what they were
    big = Organisation.objects.get(code=BIG)
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

    with bulk_load([Referral, Referral.components.through]):
        referrals, links = Copier(Referral), Copier(Referral.components.through)
        for i, (case_id, sender_id, sent_by_id, child) in enumerate(chosen):
            receiver_id = big.pk if i < to_big else _other(rng, senders, sender_id)
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
            pk = referrals.add(
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
            if kind == "service":
                for component in rng.sample(components, rng.randint(1, 2)):
                    links.add(referral_id=pk, servicecomponent_id=component)
        for copier in (referrals, links):
            copier.close()
            history(copier.table, since_id=copier.first_id, at='"sent_at"' if copier is referrals else "")
        history(
            referrals.table,
            since_id=referrals.first_id,
            label="update",
            at='"answered_at"',
            where="answered_at IS NOT NULL",
        )


def _other(rng: random.Random, organisations: list[int], but: int) -> int:
    while True:
        chosen = rng.choice(organisations)
        if chosen != but:
            return chosen


def count_referral_rows() -> dict[str, int]:
    from referrals.models import Referral

    inbox = Referral.objects.filter(receiver__code=BIG)
    return {
        "referrals": Referral.objects.count(),
        "… received by BA-BENCH (the inbox's organisation)": inbox.count(),
        "… waiting for BA-BENCH's answer": inbox.filter(status="sent").count(),
        "… of which overdue": inbox.filter(status="sent", respond_by__lt=timezone.now()).count(),
        "… accepted by BA-BENCH, not completed yet": inbox.filter(status="accepted").count(),
    }
