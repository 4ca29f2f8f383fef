"""Demo organisations and accounts for development. Never loadable in production."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from atensi.models import Cluster, ServiceComponent
from stakeholders.models import Agreement, Organisation, Region, User, WorkforceMember
from stakeholders.roles import Role
from stakeholders.services import (
    agreement_create,
    membership_add,
    organisation_create,
    user_create,
    workforce_create,
)


@dataclass(frozen=True)
class DemoOrg:
    code: str
    name: str
    kind: str
    region: str  # Kemendagri code (dots allowed) of the home province or regency/city
    notes: str = ""
    village: str = ""  # only where the organisation's name says where it is, or it is fictional
    coverage: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ("anak",)
    components: tuple[str, ...] = ()
    capacity: int | None = None
    occupancy: int = 0
    accreditation: str = ""
    phone: str = ""


ALL_COMPONENTS = (
    "hidup_layak",
    "perawatan_sosial",
    "dukungan_keluarga",
    "terapi",
    "vokasional",
    "bantuan_sosial",
    "aksesibilitas",
)

# From shared/reference/seed_organisations.csv (real organisations named in the
# programme's news releases): their home region is real; their pin sits on the centre of
# that region until the organisation places it, and the coverage of the Balai is the
# demo's assumption. Organisations marked fictional are invented for demonstrations.
DEMO_ORGANISATIONS = [
    DemoOrg(
        "BA-ALYATAMA",
        'Balai Anak "Alyatama" Jambi',
        "balai",
        "15.71",
        "Kemensos children's centre; held an ATENSI audience with Dinas Sosial Provinsi Jambi, 1 Sep 2020",
        coverage=("15", "16", "17", "19"),
        components=ALL_COMPONENTS,
        capacity=100,
        occupancy=64,
    ),
    DemoOrg(
        "DINSOS-JAMBI",
        "Dinas Sosial Provinsi Jambi",
        "dinsos_provinsi",
        "15",
        "Divisions: fakir miskin, pemberdayaan sosial, perlindungan dan jaminan sosial",
        coverage=("15",),
        clusters=("anak", "penyandang_disabilitas", "lanjut_usia", "tuna_sosial_kpo", "napza"),
        components=("bantuan_sosial", "hidup_layak"),
    ),
    DemoOrg(
        "PKH-JAMBI",
        "Koordinator Wilayah PKH Provinsi Jambi",
        "pkh",
        "15",
        "PKH regional coordinator; PKH facilitators co-facilitate child and family capacity building",
        coverage=("15",),
        components=("dukungan_keluarga", "bantuan_sosial"),
    ),
    DemoOrg(
        "BA-RUMBAI",
        'Balai Anak "Rumbai" Pekanbaru',
        "balai",
        "14.71",
        "Kemensos children's centre; coordinates with West Sumatra districts",
        coverage=("14", "13", "21"),
        components=ALL_COMPONENTS,
        capacity=100,
        occupancy=71,
    ),
    DemoOrg(
        "DINSOS-PADANG",
        "Dinas Sosial Kota Padang",
        "dinsos_kabkota",
        "13.71",
        "4 Sakti Peksos; runs LPKS Lubuk Minturun as temporary shelter",
        coverage=("13.71",),
        clusters=("anak", "penyandang_disabilitas", "lanjut_usia", "tuna_sosial_kpo", "napza"),
        components=("bantuan_sosial", "hidup_layak", "dukungan_keluarga"),
    ),
    DemoOrg(
        "DINSOS-LIMAPULUHKOTA",
        "Dinas Sosial Kabupaten Lima Puluh Kota",
        "dinsos_kabkota",
        "13.07",
        coverage=("13.07",),
        components=("bantuan_sosial",),
    ),
    DemoOrg(
        "DINSOS-TANAHDATAR",
        "Dinas Sosial Kabupaten Tanah Datar",
        "dinsos_kabkota",
        "13.04",
        coverage=("13.04",),
        components=("bantuan_sosial",),
    ),
    DemoOrg(
        "LPKS-LUBUKMINTURUN",
        "LPKS Lubuk Minturun",
        "lpks",
        "13.71",
        "Temporary service place",
        village="13.71.11.1002",
        coverage=("13.71",),
        components=("perawatan_sosial", "hidup_layak"),
        capacity=20,
        occupancy=6,
    ),
    DemoOrg(
        "BA-HANDAYANI",
        'Balai Anak "Handayani" Jakarta',
        "balai",
        "31",
        coverage=("31",),
        components=ALL_COMPONENTS,
        capacity=100,
        occupancy=80,
    ),
    DemoOrg(
        "BPL-BEKASI",
        "Balai Pangudi Luhur Bekasi",
        "balai",
        "32.75",
        "Runs family-based ATENSI in Bekasi; works with PSM and TKSK",
        coverage=("32.75", "32.16"),
        clusters=("tuna_sosial_kpo",),
        components=("dukungan_keluarga", "terapi", "vokasional"),
    ),
    DemoOrg(
        "LKSA-KASIHBUNDA",
        "LKSA Kasih Bunda Kota Jambi",
        "lksa",
        "15.71",
        "Fictional LKSA for demonstrations",
        village="15.71.01.1004",
        coverage=("15.71",),
        components=("perawatan_sosial", "hidup_layak", "dukungan_keluarga"),
        capacity=40,
        occupancy=32,
        accreditation="B",
        phone="0741 123456",
    ),
    DemoOrg(
        "LKSA-HARAPANMULIA",
        "LKSA Harapan Mulia Kota Jambi",
        "lksa",
        "15.71",
        "Fictional LKSA for demonstrations (full)",
        village="15.71.09.1001",
        coverage=("15.71",),
        components=("perawatan_sosial", "hidup_layak", "terapi"),
        capacity=30,
        occupancy=30,
        accreditation="A",
    ),
    DemoOrg(
        "LKSA-NURULIMAN",
        "LKSA Nurul Iman Muaro Jambi",
        "lksa",
        "15.05",
        "Fictional LKSA for demonstrations",
        village="15.05.02.1010",
        coverage=("15.05",),
        clusters=("anak", "penyandang_disabilitas"),
        components=("perawatan_sosial", "aksesibilitas", "vokasional"),
        capacity=25,
        occupancy=12,
        accreditation="C",
    ),
    DemoOrg(
        "LKSA-TUNASBANGSA",
        "LKSA Tunas Bangsa Batanghari",
        "lksa",
        "15.04",
        "Fictional LKSA for demonstrations",
        village="15.04.03.1001",
        coverage=("15.04",),
        components=("perawatan_sosial", "hidup_layak"),
        capacity=35,
        occupancy=20,
    ),
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
    clusters=(),
)


def _code(value: str) -> str:
    return value.replace(".", "")


def _profile(demo: DemoOrg) -> dict[str, Any]:
    home = Region.objects.filter(code=_code(demo.region)).first()
    if home is None:
        raise ImproperlyConfigured("Load the regions first: manage.py load_regions")
    village = Region.objects.filter(code=_code(demo.village)).first() if demo.village else None
    profile: dict[str, Any] = {
        "home_region": home,
        "village": village,
        "coverage": list(Region.objects.filter(code__in=[_code(c) for c in demo.coverage])),
        "clusters": list(Cluster.objects.filter(code__in=demo.clusters)),
        "components": list(ServiceComponent.objects.filter(code__in=demo.components)),
        "capacity": demo.capacity,
        "occupancy": demo.occupancy,
        "accreditation": demo.accreditation,
        "phone": demo.phone,
    }
    if village is None:
        # No street address for the real organisations: the pin marks their region.
        profile.update(latitude=home.latitude, longitude=home.longitude)
    if demo.accreditation:
        profile["accreditation_expires"] = datetime.date(2028, 12, 31)
    return profile


def ensure_demo_allowed() -> None:
    # Two locks: the setting (False in production.py) and the settings module's name,
    # so a production override of the flag alone cannot open the door.
    if not getattr(settings, "ATENSI_DEMO_DATA_ALLOWED", False) or (settings.SETTINGS_MODULE or "").endswith(
        "production"
    ):
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
            org = organisation_create(
                code=demo.code, name=demo.name, kind=demo.kind, notes=demo.notes, **_profile(demo)
            )
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
    admin_user = User.objects.get(username="admin")
    for username, first, last, org_code, role in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username, email=f"{username}@atensi.local", first_name=first, last_name=last, password=password
            )
            created_users += 1
        org = orgs[org_code or NATIONAL_ORG.code]
        membership_add(organisation=org, user=user, role=role)
    workers = _load_workforce(orgs, by=admin_user)
    agreements = _load_agreements(orgs, by=admin_user)
    return {"organisations": created_orgs, "users": created_users, "workforce": workers, "agreements": agreements}


# Fictional field workers. NIK: issuing kecamatan + DDMMYY (women +40) + sequence.
# kind, name, NIK, organisation, regions served, certificate expiry in days from today
DEMO_WORKFORCE: list[tuple[str, str, str, str, tuple[str, ...], int | None]] = [
    ("tksk", "Hendra Saputra", "1571010503850001", "DINSOS-JAMBI", ("15.71.01",), None),
    ("psm", "Yusuf Hidayat", "1571011208790002", "DINSOS-JAMBI", ("15.71.01", "15.71.10"), None),
    ("psm", "Siti Aminah", "1571095506880003", "DINSOS-JAMBI", ("15.71.09",), None),
    ("pendamping_pkh", "Ahmad Fauzi", "1571021107900004", "PKH-JAMBI", ("15.71",), None),
    ("pendamping_pkh", "Rahmi Yanti", "1371114402910005", "DINSOS-PADANG", ("13.71",), None),
    ("sakti_peksos", "Fitri Handayani", "1371115009870006", "DINSOS-PADANG", ("13.71.11",), None),
    ("pekerja_sosial", "Rina Marlina", "1571014101860007", "BA-ALYATAMA", ("15",), 540),
    ("pekerja_sosial", "Dedi Kurniawan", "1571040302840008", "BA-ALYATAMA", ("15",), 25),
    ("pekerja_sosial", "Maya Sari", "1505024806890009", "LKSA-NURULIMAN", ("15.05",), -10),
    ("pendamping_disabilitas", "Agus Salim", "1504031509820010", "DINSOS-JAMBI", ("15.04",), None),
]


def _load_workforce(orgs: dict[str, Organisation], *, by: User) -> int:
    created = 0
    today = timezone.localdate()
    psm_user = User.objects.filter(username="psm.jambi").first()
    for kind, name, nik, org_code, regions, cert_days in DEMO_WORKFORCE:
        if WorkforceMember.objects.filter(nik=nik, kind=kind).exists():
            continue
        workforce_create(
            organisation=orgs[org_code],
            by=by,
            kind=kind,
            name=name,
            nik=nik,
            phone=f"0812{nik[-8:]}",
            regions=list(Region.objects.filter(code__in=[_code(r) for r in regions])),
            certificate_number=f"PEKSOS/{nik[-4:]}/2024" if cert_days is not None else "",
            certificate_expires=today + datetime.timedelta(days=cert_days) if cert_days is not None else None,
            user=psm_user if name == "Yusuf Hidayat" else None,
        )
        created += 1
    return created


# A one-page PDF saying what it is, so the demo can show the parties-only download.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 60>>stream\nBT /F1 18 Tf 72 770 Td (Contoh PKS - data demo ATENSI) Tj ET\nendstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# number, title, parties, starts (days from today), lasts (days), with document
DEMO_AGREEMENTS: list[tuple[str, str, tuple[str, ...], int, int, bool]] = [
    (
        "PKS/001/BA-ALYATAMA/2026",
        "Kerja sama layanan ATENSI anak di Provinsi Jambi (contoh)",
        ("BA-ALYATAMA", "DINSOS-JAMBI"),
        -180,
        730,
        True,
    ),
    (
        "PKS/014/DINSOS-JAMBI/2025",
        "Pengasuhan sementara anak di LKSA (contoh)",
        ("DINSOS-JAMBI", "LKSA-KASIHBUNDA", "LKSA-HARAPANMULIA"),
        -335,
        365,
        True,
    ),
    (
        "MoU/07/PKH-JAMBI/2024",
        "Pendampingan keluarga penerima PKH (contoh, berakhir)",
        ("PKH-JAMBI", "BA-ALYATAMA"),
        -800,
        730,
        False,
    ),
]


def _load_agreements(orgs: dict[str, Organisation], *, by: User) -> int:
    created = 0
    today = timezone.localdate()
    for number, title, parties, starts, lasts, with_document in DEMO_AGREEMENTS:
        if Agreement.objects.filter(number=number).exists():
            continue
        valid_from = today + datetime.timedelta(days=starts)
        agreement_create(
            by=by,
            number=number,
            title=title,
            scope="Data demo: bukan perjanjian sungguhan.",
            signed_on=valid_from - datetime.timedelta(days=14),
            valid_from=valid_from,
            valid_until=valid_from + datetime.timedelta(days=lasts),
            parties=[orgs[code] for code in parties],
            document=ContentFile(DEMO_PDF, name=f"{number.replace('/', '-')}.pdf") if with_document else None,
        )
        created += 1
    return created
