"""Demo organisations and accounts for development. Never loadable in production."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from stakeholders.models import Organisation, User
from stakeholders.roles import Role
from stakeholders.services import membership_add, organisation_create, user_create


@dataclass(frozen=True)
class DemoOrg:
    code: str
    name: str
    kind: str
    region: str  # Kemendagri code of the home province or kab/kota (wired to regions later)
    notes: str = ""


# From shared/reference/seed_organisations.csv (real organisations named in the
# programme's news releases), plus one fictional LKSA in Kota Jambi for demos.
DEMO_ORGANISATIONS = [
    DemoOrg(
        "BA-ALYATAMA",
        'Balai Anak "Alyatama" Jambi',
        "balai",
        "15",
        "Kemensos children's centre; held an ATENSI audience with Dinas Sosial Provinsi Jambi, 1 Sep 2020",
    ),
    DemoOrg(
        "DINSOS-JAMBI",
        "Dinas Sosial Provinsi Jambi",
        "dinsos_provinsi",
        "15",
        "Divisions: fakir miskin, pemberdayaan sosial, perlindungan dan jaminan sosial",
    ),
    DemoOrg(
        "PKH-JAMBI",
        "Koordinator Wilayah PKH Provinsi Jambi",
        "pkh",
        "15",
        "PKH regional coordinator; PKH facilitators co-facilitate child and family capacity building",
    ),
    DemoOrg(
        "BA-RUMBAI",
        'Balai Anak "Rumbai" Pekanbaru',
        "balai",
        "14",
        "Kemensos children's centre; coordinates with West Sumatra districts",
    ),
    DemoOrg(
        "DINSOS-PADANG",
        "Dinas Sosial Kota Padang",
        "dinsos_kabkota",
        "13.71",
        "4 Sakti Peksos; runs LPKS Lubuk Minturun as temporary shelter",
    ),
    DemoOrg("DINSOS-LIMAPULUHKOTA", "Dinas Sosial Kabupaten Lima Puluh Kota", "dinsos_kabkota", "13.07"),
    DemoOrg("DINSOS-TANAHDATAR", "Dinas Sosial Kabupaten Tanah Datar", "dinsos_kabkota", "13.04"),
    DemoOrg("LPKS-LUBUKMINTURUN", "LPKS Lubuk Minturun", "lpks", "13.71", "Temporary service place"),
    DemoOrg("BA-HANDAYANI", 'Balai Anak "Handayani" Jakarta', "balai", "31"),
    DemoOrg(
        "BPL-BEKASI",
        "Balai Pangudi Luhur Bekasi",
        "balai",
        "32.75",
        "Runs family-based ATENSI in Bekasi; works with PSM and TKSK",
    ),
    DemoOrg("LKSA-KASIHBUNDA", "LKSA Kasih Bunda Kota Jambi", "lksa", "15.71", "Fictional LKSA for demonstrations"),
]

# username, first name, last name, organisation code, role
DEMO_ACCOUNTS: list[tuple[str, str, str, str | None, str]] = [
    ("peksos.alyatama", "Rina", "Pekerja Sosial", "BA-ALYATAMA", Role.SOCIAL_WORKER),
    ("supervisor.alyatama", "Budi", "Koordinator", "BA-ALYATAMA", Role.SUPERVISOR),
    ("dinsos.jambi", "Sari", "Petugas Rujukan", "DINSOS-JAMBI", Role.REFERRAL_OFFICER),
    ("pkh.jambi", "Ahmad", "Pendamping PKH", "PKH-JAMBI", Role.REFERRAL_OFFICER),
    ("lksa.jambi", "Dewi", "Pengasuh", "LKSA-KASIHBUNDA", Role.SOCIAL_WORKER),
    ("psm.jambi", "Yusuf", "PSM", "DINSOS-JAMBI", Role.COMMUNITY_REPORTER),
    ("peksos.rumbai", "Andi", "Pekerja Sosial", "BA-RUMBAI", Role.SOCIAL_WORKER),
    ("viewer.nasional", "Direktorat", "Rehsos Anak", None, Role.VIEWER),
]
NATIONAL_ORG = DemoOrg(
    "KEMENSOS-REHSOS",
    "Direktorat Rehabilitasi Sosial Anak, Kemensos",
    "other",
    "31",
    "National directorate (aggregate viewers)",
)


def ensure_demo_allowed() -> None:
    # Two locks: the setting (False in production.py) and the settings module's name,
    # so a production override of the flag alone cannot open the door.
    if not getattr(settings, "ATENSI_DEMO_DATA_ALLOWED", False) or settings.SETTINGS_MODULE.endswith("production"):
        raise ImproperlyConfigured("Demo data (with known passwords) cannot be loaded with these settings.")


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    """Create what is missing; leave what exists. Running it twice changes nothing."""
    ensure_demo_allowed()
    created_orgs = created_users = 0
    orgs: dict[str, Organisation] = {}
    for demo in [*DEMO_ORGANISATIONS, NATIONAL_ORG]:
        org = Organisation.objects.filter(code=demo.code).first()
        if org is None:
            org = organisation_create(code=demo.code, name=demo.name, kind=demo.kind, notes=demo.notes)
            created_orgs += 1
        orgs[demo.code] = org
    password = settings.ATENSI_DEMO_PASSWORD
    if not User.objects.filter(username="admin").exists():
        user_create(
            username="admin",
            email="admin@atensi.local",
            first_name="Admin",
            password=password,
            is_staff=True,
            is_superuser=True,
        )
        created_users += 1
    for username, first, last, org_code, role in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username, email=f"{username}@atensi.local", first_name=first, last_name=last, password=password
            )
            created_users += 1
        org = orgs[org_code or NATIONAL_ORG.code]
        membership_add(organisation=org, user=user, role=role)
    return {"organisations": created_orgs, "users": created_users}
