"""Demo organisations and accounts for development. Never loadable in production."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.core.models import AmpkCategory, Cluster, Notification, Reminder, ServiceComponent
from atensi.core.values import build_nik
from atensi.demo_history import load_history
from cases.beneficiaries import beneficiary_create, estimated_birth_date
from cases.documents import consent_create
from cases.models import Beneficiary, Case, FollowUp, FollowUpKind, FollowUpStatus
from cases.records import follow_up_create, note_create
from cases.services import case_open
from referrals.models import Referral, ReferralStatus
from referrals.services import referral_send
from stakeholders.models import Agreement, Organisation, Region, User, WorkforceMember
from stakeholders.roles import Role
from stakeholders.second_factor import AUTHENTICATOR, is_required
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
    capacity: int | None = None  # residential places; occupancy is counted from open residential cases
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
    ),
    DemoOrg(
        "BA-HANDAYANI",
        'Balai Anak "Handayani" Jakarta',
        "balai",
        "31",
        coverage=("31",),
        components=ALL_COMPONENTS,
        capacity=100,
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
        accreditation="B",
        phone="0741 123456",
    ),
    DemoOrg(
        "LKSA-HARAPANMULIA",
        "LKSA Harapan Mulia Kota Jambi",
        "lksa",
        "15.71",
        "Fictional LKSA for demonstrations",
        village="15.71.09.1001",
        coverage=("15.71",),
        components=("perawatan_sosial", "hidup_layak", "terapi"),
        capacity=30,
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
    ("kabid.jambi", "Hendra", "Kepala Bidang Rehsos", "DINSOS-JAMBI", Role.SUPERVISOR),
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
    if not settings.ATENSI_DEMO_DATA_ALLOWED or (settings.SETTINGS_MODULE or "").endswith("production"):
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
    # The directorate reads the figures of all of Indonesia (marked on older demo data too).
    Organisation.objects.filter(code=NATIONAL_ORG.code, is_national=False).update(is_national=True)
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
    _give_demo_authenticators()
    workers = _load_workforce(orgs, by=admin_user)
    agreements = _load_agreements(orgs, by=admin_user)
    cases = _load_cases(orgs)
    referrals = _load_referrals(orgs)
    _make_demo_overdue()
    history = load_history(orgs)
    return {
        "organisations": created_orgs,
        "users": created_users,
        "workforce": workers,
        "agreements": agreements,
        "cases": cases,
        "referrals": referrals,
        "history cases": history,
    }


# The demo's authenticator key, the same for every demo account that needs a second factor
# (README; `manage.py demo_otp <username>` prints its current code). Development only, like
# the password: demo data is refused under production settings.
DEMO_TOTP_KEY_BASE32 = "ATENSIDEMOKEY234ATENSIDEMOKEY234"
DEMO_TOTP_KEY = base64.b32decode(DEMO_TOTP_KEY_BASE32).hex()


def _give_demo_authenticators() -> None:
    """An authenticator with the demo key for each demo account whose roles require one."""
    for user in User.objects.filter(username__in=["admin", *(row[0] for row in DEMO_ACCOUNTS)]):
        if is_required(user) and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, key=DEMO_TOTP_KEY, confirmed=True)


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


def _one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (objects, cross-reference table, trailer), as
    uploads read PDFs through (atensi.core.uploads)."""
    content = f"BT /F1 18 Tf 72 770 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return out


# A one-page PDF saying what it is, so the demo can show the parties-only download.
DEMO_PDF = _one_page_pdf("Contoh PKS - data demo ATENSI")

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


# --- Cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCase:
    """A fictional child and the case opened for them. Ages, not birth dates, so the
    children stay children whenever the demo is loaded; the NIK is built from the birth
    date, the sex and the kecamatan where it was issued, as a real one is."""

    org: str
    case_manager: str
    supervisor: str | None
    full_name: str
    sex: str
    age: int
    birthday: tuple[int, int]  # (month, day)
    village: str
    nik_sequence: str = ""  # empty: no NIK known (and the birth date is an estimate)
    alias: str = ""
    birthplace: str = "Jambi"
    school_status: str = "in_school"
    school_name: str = ""
    religion: str = "islam"
    address: str = ""
    ampk: tuple[str, ...] = ()
    basis: str = "keluarga"
    source: str = "walk_in"
    risk_level: str = "medium"
    is_confidential: bool = False
    summary: str = ""
    visit: str = ""  # a home visit logged today, with a follow-up in a week
    follow_up_days: int | None = None  # a case review due in so many days


DEMO_CASES: list[DemoCase] = [
    DemoCase(
        "BA-ALYATAMA",
        "peksos.alyatama",
        "supervisor.alyatama",
        "Muhammad Rizky Pratama",
        "M",
        13,
        (3, 14),
        "15.71.01.1004",
        nik_sequence="0001",
        alias="Rizky",
        school_name="SMP Negeri 7 Kota Jambi",
        address="Jl. Sumantri Brojonegoro RT 05",
        ampk=("penelantaran",),
        source="school",
        summary="Sering tidak masuk sekolah; ibu bekerja di luar kota, tinggal dengan nenek yang sakit.",
        visit="Kunjungan rumah: nenek bersedia mengikuti konseling keluarga. Rizky kembali bersekolah dua hari ini.",
        follow_up_days=0,  # a case review due today: the reminder shows in the bell
    ),
    DemoCase(
        "BA-ALYATAMA",
        "peksos.alyatama",
        "supervisor.alyatama",
        "Nur Aisyah Putri",
        "F",
        16,
        (8, 21),
        "15.71.08.1006",
        nik_sequence="0002",
        alias="Aisyah",
        school_name="SMA Negeri 3 Kota Jambi",
        address="Lorong Mawar No. 12, Jelutung",
        ampk=("kekerasan",),
        basis="residensial",
        source="police",
        risk_level="high",
        summary="Korban kekerasan fisik di rumah; ditempatkan sementara di balai sambil asesmen keluarga.",
        follow_up_days=3,
    ),
    DemoCase(
        "BA-ALYATAMA",
        "peksos.alyatama",
        "supervisor.alyatama",
        "Dinda Ayu Lestari",
        "F",
        15,
        (11, 5),
        "15.71.03.1003",
        nik_sequence="0003",
        school_name="SMP Negeri 12 Kota Jambi",
        ampk=("kejahatan_seksual",),
        source="police",
        risk_level="critical",
        is_confidential=True,
        summary="Rujukan Unit PPA Polresta Jambi. Pendampingan psikososial dan proses hukum.",
        follow_up_days=2,
    ),
    DemoCase(
        "BA-ALYATAMA",
        "peksos.alyatama",
        "supervisor.alyatama",
        "Andi Saputra",
        "M",
        14,
        (7, 1),
        "15.71.04.1003",
        alias="Ucok",
        birthplace="",
        school_status="out_of_school",
        address="Sekitar Pasar Angso Duo",
        ampk=("eksploitasi",),
        basis="komunitas",
        source="community_report",
        risk_level="high",
        summary="Berjualan di pasar sampai malam; putus sekolah sejak kelas 5. Keluarga belum ditemukan.",
        visit="Bertemu Andi di pasar bersama PSM; dia mau datang ke rumah singgah hari Sabtu.",
    ),
    DemoCase(
        "BA-ALYATAMA",
        "peksos.alyatama",
        "supervisor.alyatama",
        "Fajar Ramadhan",
        "M",
        9,
        (6, 2),
        "15.71.11.1002",
        nik_sequence="0004",
        school_name="SD Negeri 140 Kota Jambi",
        address="Jl. Lingkar Selatan, Payo Selincah",
        ampk=("disabilitas",),
        source="pkh",
        risk_level="low",
        summary="Anak dengan disabilitas fisik dari keluarga penerima PKH; perlu alat bantu dan terapi.",
    ),
    DemoCase(
        "LKSA-KASIHBUNDA",
        "lksa.jambi",
        None,
        "Putri Maharani",
        "F",
        12,
        (1, 30),
        "15.71.01.1004",
        nik_sequence="0005",
        school_name="SD Negeri 47 Kota Jambi",
        ampk=("penelantaran",),
        basis="residensial",
        source="referral",
        summary="Yatim piatu; dirujuk Dinas Sosial untuk pengasuhan di LKSA sambil penelusuran keluarga.",
    ),
]


def demo_nik(*, village: str, birth_date: datetime.date, sex: str, sequence: str) -> str:
    """A NIK as Dukcapil builds it: the kecamatan (digits 1-6 of the village code), the
    birth date as DDMMYY with 40 added to the day for girls, then a sequence number."""
    return build_nik(district_code=_code(village)[:6], birth_date=birth_date, sex=sex, sequence=sequence)


def _demo_birth_date(demo: DemoCase, today: datetime.date) -> datetime.date:
    month, day = demo.birthday
    # Born `age` years ago, or a year earlier when this year's birthday is still to come.
    year = today.year - demo.age - (1 if (month, day) > (today.month, today.day) else 0)
    return datetime.date(year, month, day)


def _load_cases(orgs: dict[str, Organisation]) -> int:
    """The demo children and their cases, through the services; nothing twice."""
    created = 0
    today = timezone.localdate()
    anak = Cluster.objects.get(code="anak")
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in={c.case_manager for c in DEMO_CASES} | {c.supervisor for c in DEMO_CASES if c.supervisor}
        )
    }
    for demo in DEMO_CASES:
        org = orgs[demo.org]
        worker = users[demo.case_manager]
        child = Beneficiary.objects.filter(organisation=org, full_name=demo.full_name, merged_into__isnull=True).first()
        if child is None:
            village = Region.objects.get(code=_code(demo.village))
            if demo.nik_sequence:
                birth_date = _demo_birth_date(demo, today)
                nik = demo_nik(village=demo.village, birth_date=birth_date, sex=demo.sex, sequence=demo.nik_sequence)
            else:
                birth_date, nik = estimated_birth_date(demo.age, today=today), ""
            child = beneficiary_create(
                by=worker,
                organisation=org,
                ampk_categories=list(AmpkCategory.objects.filter(code__in=demo.ampk)),
                full_name=demo.full_name,
                alias=demo.alias,
                sex=demo.sex,
                birth_date=birth_date,
                birth_date_estimated=not demo.nik_sequence,
                birthplace=demo.birthplace,
                nik=nik,
                school_status=demo.school_status,
                school_name=demo.school_name,
                religion=demo.religion,
                address=demo.address,
                village=village,
                cluster=anak,
            )
        if Case.objects.filter(organisation=org, beneficiary=child).exists():
            continue
        case = case_open(
            organisation=org,
            beneficiary=child,
            opened_by=worker,
            cluster=anak,
            basis=demo.basis,
            source=demo.source,
            risk_level=demo.risk_level,
            is_confidential=demo.is_confidential,
            summary=demo.summary,
            case_manager=worker,
            supervisor=users[demo.supervisor] if demo.supervisor else None,
        )
        if demo.visit:
            note_create(
                case=case,
                by=worker,
                kind="home_visit",
                occurred_on=today,
                narrative=demo.visit,
                next_step="Kunjungan rumah berikutnya.",
                follow_up_kind="home_visit",
                follow_up_due_on=today + datetime.timedelta(days=7),
                follow_up_assignee=worker,
            )
        if demo.follow_up_days is not None:
            follow_up_create(
                case=case,
                by=worker,
                kind="case_review",
                due_on=today + datetime.timedelta(days=demo.follow_up_days),
                assignee=worker,
                description="Telaah kasus bersama supervisor.",
            )
        created += 1
    return created


# Referrals waiting in the demo inboxes: (child, receiver, components, guardian, relation, reason).
DEMO_REFERRALS: list[tuple[str, str, tuple[str, ...], str, str, str]] = [
    (
        "Putri Maharani",
        "DINSOS-JAMBI",
        ("dukungan_keluarga",),
        "Rusmini",
        "grandparent",
        "Mohon bantuan penelusuran keluarga besar Putri di Kota Jambi untuk rencana reunifikasi.",
    ),
    (
        "Fajar Ramadhan",
        "PKH-JAMBI",
        ("dukungan_keluarga", "aksesibilitas"),
        "Wati",
        "mother",
        "Keluarga penerima PKH; mohon pendampingan keluarga dan bantuan alat bantu gerak untuk Fajar.",
    ),
]


def _load_referrals(orgs: dict[str, Organisation]) -> int:
    """A waiting referral in the inboxes of Dinas Sosial and PKH, each sent after the
    guardian's consent to share with the receiver; nothing twice."""
    created = 0
    today = timezone.localdate()
    for child, receiver_code, components, guardian, relation, reason in DEMO_REFERRALS:
        case = Case.objects.select_related("case_manager").filter(beneficiary__full_name=child).first()
        receiver = orgs[receiver_code]
        if case is None or Referral.objects.filter(case=case, receiver=receiver).exists():
            continue
        # Every demo case has its case manager, who gives consent and refers.
        manager = case.case_manager
        if manager is None:
            continue
        consent_create(
            case=case,
            by=manager,
            given_on=today,
            given_by_name=guardian,
            relation=relation,
            share_with=[receiver],
        )
        referral_send(
            case=case,
            by=manager,
            receiver=receiver,
            kind="service",
            reason=reason,
            components=list(ServiceComponent.objects.filter(code__in=components)),
            shared_sections=["identity", "family"],
        )
        created += 1
    return created


def _make_demo_overdue() -> None:
    """Something overdue to show the escalations: a home visit of Andi's that nobody
    recorded (due five days ago, escalated to supervisor.alyatama) and LKSA Kasih Bunda's
    referral to Dinas Sosial left unanswered past its deadline (escalated to its
    supervisor, kabid.jambi). The services refuse past dates, so the demo moves them back;
    only once, the first time the demo is loaded."""
    today = timezone.localdate()
    andi = Case.objects.select_related("case_manager").filter(beneficiary__full_name="Andi Saputra").first()
    manager = andi.case_manager if andi is not None else None
    if andi is not None and manager is not None and not FollowUp.objects.filter(case=andi, due_on__lt=today).exists():
        visit = follow_up_create(
            case=andi,
            by=manager,
            kind=FollowUpKind.HOME_VISIT,
            due_on=today,
            assignee=andi.case_manager,
            description="Kunjungan ke rumah singgah bersama PSM.",
        )
        FollowUp.objects.filter(pk=visit.pk, status=FollowUpStatus.PENDING).update(
            due_on=today - datetime.timedelta(days=5)
        )
    now = timezone.now()
    sent_at, respond_by = now - datetime.timedelta(days=8), now - datetime.timedelta(days=1)
    late = list(
        Referral.objects.filter(
            case__beneficiary__full_name="Putri Maharani",
            receiver__code="DINSOS-JAMBI",
            status=ReferralStatus.SENT,
            respond_by__gt=now,
        ).values_list("pk", flat=True)
    )
    Referral.objects.filter(pk__in=late).update(sent_at=sent_at, respond_by=respond_by)
    # The arrival's notification and its e-mail (not sent yet) were written with the
    # deadline it had when sent: they tell the moved one, the bell dated a week back.
    arrivals = list(Notification.objects.filter(key__in=[f"referral:{pk}:sent" for pk in late]))
    for notification in arrivals:
        notification.data = {**notification.data, "respond_by": respond_by.isoformat()}
        notification.created_at = sent_at
        notification.save(update_fields=["data", "created_at"])
    for reminder in Reminder.objects.filter(notification__in=arrivals):
        reminder.data = {**reminder.data, "respond_by": respond_by.isoformat()}
        reminder.save(update_fields=["data"])
