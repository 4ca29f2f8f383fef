"""Reads of the workforce registry: who may see it, the filtered directory, and its CSV export.

The registry of field workers (PSM, TKSK, Sakti Peksos, PKH facilitators, certified social
workers, disability facilitators) is shared between organisations for coordination: anyone
who acts for an organisation may read it. The NIK is personal data: only administrators of
the worker's own organisation (and national administrators) see it in full.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from atensi.core import keyset
from atensi.core.access import actor_for
from atensi.core.spreadsheets import spreadsheet_safe

from .models import REGION_CODE_LENGTHS, Organisation, Region, User, WorkforceMember
from .permissions import can_see_workforce

# A certificate (or anything else with an end date) this close to its end needs renewing.
CERTIFICATE_EXPIRING_DAYS = 60
PAGE_SIZE = 50
PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-.]*$")


class ActiveFilter:
    ACTIVE = "active"
    INACTIVE = "inactive"
    ALL = "all"


class CertificateFilter:
    ANY = ""
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True)
class WorkforceFilters:
    region: Region | None = None
    kinds: tuple[str, ...] = ()
    organisation: Organisation | None = None
    active: str = ActiveFilter.ACTIVE
    certificate: str = CertificateFilter.ANY
    q: str = ""


_CURSOR_SALT = "stakeholders.workforce.cursor"


@dataclass(frozen=True)
class Cursor:
    """A position in the (name, id) order, carried in the URL as an opaque token."""

    name: str
    id: int

    def encode(self) -> str:
        return keyset.encode_cursor(self.name, self.id, salt=_CURSOR_SALT)

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """The cursor in `token`, or None for anything malformed (then the list starts over)."""
        position = keyset.decode_cursor(token, salt=_CURSOR_SALT)
        return cls(name=position[0], id=position[1]) if position else None


@dataclass(frozen=True)
class WorkerRow:
    """A line of the directory: the worker (annotated `certificate_state`) and their NIK as
    this user may see it (masked unless they administer the worker's organisation)."""

    worker: WorkforceMember
    shown_nik: str


@dataclass
class WorkforcePage:
    rows: list[WorkerRow] = field(default_factory=list)
    next_cursor: str | None = None
    prev_cursor: str | None = None


def workforce_visible_to(user: User) -> QuerySet[WorkforceMember]:
    """The one scoping queryset for workforce records: list, export and admin use it.

    Every working member of an organisation may read the whole registry (coordination
    between organisations is its purpose); viewers and people without a role see nothing.
    """
    if not can_see_workforce(user):
        return WorkforceMember.objects.none()
    return WorkforceMember.objects.all()


def nik_org_ids(user: User) -> frozenset[int] | None:
    """Organisations whose workers' full NIK `user` may see; None means all (superuser)."""
    actor = actor_for(user)
    if actor.is_superuser:
        return None
    return actor.org_ids_with_perm("stakeholders.change_organisation")


def nik_shown_to(user: User) -> Callable[[WorkforceMember], str]:
    """How a worker's NIK is shown to `user`: full to their organisation's admins, else masked."""
    full_for = nik_org_ids(user)

    def shown(worker: WorkforceMember) -> str:
        if full_for is None or worker.organisation_id in full_for:
            return worker.nik
        return worker.masked_nik

    return shown


def serves_region(region: Region) -> Exists:
    """Workers with a region served that is `region`, lies inside it, or contains it.

    Kemendagri codes carry their parents' codes as prefixes, so "inside" is a prefix match
    on the served code and "contains" is membership in the region's own prefixes.
    """
    through = WorkforceMember.regions.through
    prefixes = [region.code[:n] for n in sorted(REGION_CODE_LENGTHS.values()) if n <= len(region.code)]
    return Exists(
        through.objects.filter(workforcemember_id=OuterRef("pk")).filter(
            Q(region__code__startswith=region.code) | Q(region__code__in=prefixes)
        )
    )


def certificate_state(today: datetime.date) -> Case:
    """'expired', 'expiring' (within CERTIFICATE_EXPIRING_DAYS) or '' — computed by the database."""
    soon = today + datetime.timedelta(days=CERTIFICATE_EXPIRING_DAYS)
    return Case(
        When(certificate_expires__lt=today, then=Value(CertificateFilter.EXPIRED)),
        When(certificate_expires__lte=soon, then=Value(CertificateFilter.EXPIRING)),
        default=Value(""),
    )


def workforce_filtered(
    *, user: User, filters: WorkforceFilters, today: datetime.date | None = None
) -> QuerySet[WorkforceMember]:
    """The workers `user` may see that match `filters`, ordered by name, with what a list shows."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=CERTIFICATE_EXPIRING_DAYS)
    qs = workforce_visible_to(user)
    if filters.region is not None:
        qs = qs.filter(serves_region(filters.region))
    if filters.kinds:
        qs = qs.filter(kind__in=list(filters.kinds))
    if filters.organisation is not None:
        qs = qs.filter(organisation=filters.organisation)
    if filters.active == ActiveFilter.ACTIVE:
        qs = qs.filter(is_active=True)
    elif filters.active == ActiveFilter.INACTIVE:
        qs = qs.filter(is_active=False)
    if filters.certificate == CertificateFilter.EXPIRED:
        qs = qs.filter(certificate_expires__lt=today)
    elif filters.certificate == CertificateFilter.EXPIRING:
        qs = qs.filter(certificate_expires__gte=today, certificate_expires__lte=soon)
    if filters.q.strip():
        qs = qs.filter(name__icontains=filters.q.strip())
    return (
        qs.select_related("organisation")
        .prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("code").only("code", "name", "level")))
        .annotate(certificate_state=certificate_state(today))
        .order_by("name", "id")
    )


def workforce_directory(
    *,
    user: User,
    filters: WorkforceFilters,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    today: datetime.date | None = None,
) -> WorkforcePage:
    """One page of the directory, keyset-paginated on (name, id).

    `after`/`before` are cursor tokens from a previous page; a malformed token starts over.
    Each row is a WorkerRow.
    """
    qs = workforce_filtered(user=user, filters=filters, today=today)
    after_cursor, before_cursor = Cursor.decode(after), Cursor.decode(before)
    page = WorkforcePage()
    if before_cursor is not None:
        rows = list(
            qs.filter(Q(name__lt=before_cursor.name) | Q(name=before_cursor.name, id__lt=before_cursor.id)).order_by(
                "-name", "-id"
            )[: page_size + 1]
        )
        has_prev = len(rows) > page_size
        members = list(reversed(rows[:page_size]))
        has_next = True
    else:
        if after_cursor is not None:
            qs = qs.filter(Q(name__gt=after_cursor.name) | Q(name=after_cursor.name, id__gt=after_cursor.id))
        rows = list(qs[: page_size + 1])
        has_next = len(rows) > page_size
        members = rows[:page_size]
        has_prev = after_cursor is not None
    if members:
        if has_next:
            page.next_cursor = Cursor(members[-1].name, members[-1].pk).encode()
        if has_prev:
            page.prev_cursor = Cursor(members[0].name, members[0].pk).encode()
    shown = nik_shown_to(user)
    page.rows = [WorkerRow(worker=worker, shown_nik=shown(worker)) for worker in members]
    return page


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return str(spreadsheet_safe("" if value is None else str(value)))


def _phone_cell(value: str) -> str:
    # A validated phone number such as +62 812 3456 7890 is data, not a formula: keep its "+".
    return value if PHONE_CHARS.match(value or "") else _cell(value)


CSV_HEADER = (
    "name",
    "kind",
    "organisation",
    "regions_served",
    "phone",
    "certificate_number",
    "certificate_expires",
    "nik",
    "active",
)


def workforce_rows(*, user: User, workers: Iterable[WorkforceMember]) -> list[list[object]]:
    """The export's rows, in CSV_HEADER's order: NIK masked unless `user` administers the
    worker's organisation, every cell safe for spreadsheets."""
    shown = nik_shown_to(user)
    return [
        [
            _cell(w.name),
            _cell(w.get_kind_display()),
            _cell(w.organisation.name),
            _cell("; ".join(r.name for r in w.regions.all())),
            _phone_cell(w.phone),
            _cell(w.certificate_number),
            w.certificate_expires.isoformat() if w.certificate_expires else "",
            shown(w),
            "1" if w.is_active else "0",
        ]
        for w in workers
    ]
