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
    with connection.cursor() as cursor:
        # Fresh bulk-loaded tables: give the planner the statistics autovacuum would.
        cursor.execute("ANALYZE")
    data = DataSet(scale=scale, password=BENCH_PASSWORD, accounts={"social_worker": worker.pk})
    data.sizes = count_rows()
    return data


def count_rows() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "organisations (active)": Organisation.objects.filter(is_active=True).count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "memberships (active)": Membership.objects.filter(is_active=True).count(),
    }
