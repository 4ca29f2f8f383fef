"""The case lists ("my cases", all cases of the organisation): filters, search, sorting,
keyset pages, and the rows of the CSV/XLSX export of the same filtered list.

Everything starts from `cases.selectors.cases_visible_to(user)`. A confidential case whose
child the user may not see (`identity_visible` False) is listed *masked*: its number, its
stage and its organisation, nothing else, in the page and in the export alike. Masking has
to hold against questions as well as answers, so:

- a masked case is found by its number, never by the child's name or NIK;
- a filter on anything but the stage and the organisation (risk, cluster, AMPK category,
  case manager, kab/kota, province, basis, dates, overdue or aftercare follow-up, stage
  deadline) returns only cases whose child the user may see: otherwise the filter would say
  what a masked case is about ("AMPK: victim of sexual violence", "in Kota Jambi");
- sorting by risk or by the next follow-up puts masked cases last, for the same reason.

Days are the organisation's own (WIB, WITA, WIT by its province, atensi.core.localtime):
"opened on 1 March" at a Balai in Makassar starts at 00:00 WITA; "overdue" is a due date
before the organisation's local today; "aftercare due" is a pending aftercare visit in the
organisation's current local month. Each is one condition per zone, in SQL.

Pages are keyed on the sort's own columns and the id, never on an offset, with the
position carried in a signed cursor (atensi.core.keyset): page 40 costs what page 1 costs.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Case as CaseWhen  # Django's conditional expression, not our Case model
from django.db.models import (
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core import keyset
from atensi.core.access import actor_for
from atensi.core.counting import CAP, Tally, capped_counts
from atensi.core.localtime import (
    DEFAULT_ZONE,
    PROVINCE_ZONES,
    ZONES,
    local_date,
    local_moment,
    organisation_timezone,
)
from atensi.core.models import Cluster
from atensi.core.spreadsheets import spreadsheet_safe
from atensi.core.values import is_nik_shaped, normalise_nik
from stakeholders.models import Region, User
from stakeholders.roles import Role

from .models import (
    OPEN_STAGES,
    STAGE_ORDER,
    Basis,
    Beneficiary,
    Case,
    CaseSource,
    ClosureReason,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    RiskLevel,
    Sex,
    Stage,
)
from .selectors import cases_visible_to, past_stage_deadline, person_name

PAGE_SIZE = 50
UNASSIGNED = "none"  # the case manager filter's "not assigned to anyone"
# The annotation cases_visible_to() adds: may the user see who the child is?
IDENTITY_VISIBLE = Q(identity_visible=True)
_CURSOR_SALT = "cases.lists.cursor"
# Sorts on a date put "nothing due" and masked cases after every real date.
_NEVER = datetime.date(9999, 12, 31)
_MASKED_RANK = 99
# The most urgent first.
RISK_ORDER: list[str] = [RiskLevel.CRITICAL, RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW]
# A whole case number as people type it: "ba-alyatama/2026/12" is BA-ALYATAMA/2026/0012.
WHOLE_NUMBER = re.compile(r"^(?P<code>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<year>[0-9]{4})/(?P<sequence>[0-9]{1,9})$")


class Scope:
    MINE = "mine"
    ALL = "all"


class Status:
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


class Sort:
    NEWEST = "newest"
    OLDEST = "oldest"
    STAGE = "stage"
    RISK = "risk"
    DUE = "due"


# The list filtered by a NIK: ?nik_ref=<a reference to the NIK kept for the user>
# (atensi.core.stash), given by the POSTed "find by NIK" form.
NIK_REF = "nik_ref"
NIK_PURPOSE = "case-list-nik"


class SearchKind:
    NONE = ""
    NIK = "nik"
    NUMBER = "number"
    NAME = "name"


@dataclass(frozen=True)
class CaseFilters:
    scope: str = Scope.ALL
    status: str = Status.OPEN
    stages: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    cluster: str = ""  # Cluster.code
    ampk: str = ""  # AmpkCategory.code
    case_manager: str = ""  # a user id, or UNASSIGNED
    kabkota: str = ""  # Region code, 4 digits
    overdue: bool = False
    confidential: bool = False
    q: str = ""
    sort: str = Sort.NEWEST
    # Whole local days of the case's organisation, both ends included.
    opened_from: datetime.date | None = None
    opened_to: datetime.date | None = None
    closed_from: datetime.date | None = None
    closed_to: datetime.date | None = None
    basis: str = ""  # Basis value
    aftercare_due: bool = False
    stage_late: bool = False
    organisation: int | None = None  # an organisation id
    province: str = ""  # the child's province, Region code, 2 digits
    # A NIK search comes by reference (atensi.core.stash), never as `q` in the URL: the
    # reference, kept in the page's links; nothing matches when it no longer resolves.
    nik_ref: str = ""
    match_none: bool = False

    @property
    def reads_identity(self) -> bool:
        """Does a filter look at more than a masked case shows (number, stage, organisation)?"""
        return bool(
            self.risks
            or self.cluster
            or self.ampk
            or self.case_manager
            or self.kabkota
            or self.province
            or self.overdue
            or self.basis
            or self.aftercare_due
            or self.stage_late
            or self.opened_from
            or self.opened_to
            or self.closed_from
            or self.closed_to
        )


def uses_more_filters(filters: CaseFilters) -> bool:
    """Is one of the filters the list folds away (dates, basis, deadlines, where) in use?"""
    return bool(
        filters.opened_from
        or filters.opened_to
        or filters.closed_from
        or filters.closed_to
        or filters.basis
        or filters.aftercare_due
        or filters.stage_late
        or filters.organisation is not None
        or filters.province
    )


def default_scope(user: User) -> str:
    """Supervisors start from all cases of their organisation, everyone else from their own."""
    actor = actor_for(user)
    return Scope.ALL if actor.is_superuser or actor.org_ids(Role.SUPERVISOR) else Scope.MINE


def search_kind(q: str) -> str:
    """What the search text is: a NIK (16 digits, spaces allowed), a case number (it has a
    digit or a slash: names have neither), otherwise a name."""
    q = q.strip()
    if not q:
        return SearchKind.NONE
    if is_nik_shaped(normalise_nik(q)):
        return SearchKind.NIK
    if "/" in q or any(ch.isdigit() for ch in q):
        return SearchKind.NUMBER
    return SearchKind.NAME


# --- The filtered list -----------------------------------------------------------------


def pending_follow_ups() -> QuerySet[FollowUp]:
    """Pending follow-ups of the outer query's case."""
    return FollowUp.objects.filter(case_id=OuterRef("pk"), status=FollowUpStatus.PENDING)


def next_due() -> Subquery[DateField[datetime.date | None, datetime.date | None]]:
    """The earliest pending follow-up of the case (the partial index follow_up_case_due)."""
    return Subquery(pending_follow_ups().order_by("due_on").values("due_on")[:1], output_field=DateField())


# --- The organisation's own days ----------------------------------------------------------

_NOT_DEFAULT_ZONE = sorted(code for code, tz in PROVINCE_ZONES.items() if tz is not DEFAULT_ZONE)


def with_org_province(qs: QuerySet[Case]) -> QuerySet[Case]:
    """`qs` with `org_province`: the province code its organisation's zone follows (its
    home region, else its village; '' for neither, which is WIB)."""
    return qs.alias(
        org_province=Substr(Coalesce("organisation__home_region_id", "organisation__village_id", Value("")), 1, 2)
    )


def in_zone(tz: datetime.tzinfo) -> Q:
    """Cases of organisations in zone `tz` (on a queryset from with_org_province)."""
    if tz is DEFAULT_ZONE:
        return ~Q(org_province__in=_NOT_DEFAULT_ZONE)
    return Q(org_province__in=sorted(code for code, zone in PROVINCE_ZONES.items() if zone is tz))


def on_local_days(field_name: str, first: datetime.date | None, last: datetime.date | None) -> Q:
    """`field_name` (a moment) falls on the local days `first`..`last` (either open) of the
    case's organisation."""
    condition = Q(pk__in=[])
    for tz in ZONES:
        bounds = Q()
        if first is not None:
            bounds &= Q(**{f"{field_name}__gte": local_moment(first, 0, tz)})
        if last is not None:
            bounds &= Q(**{f"{field_name}__lt": local_moment(last + datetime.timedelta(days=1), 0, tz)})
        condition |= in_zone(tz) & bounds
    return condition


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def overdue_follow_up(now: datetime.datetime) -> Q:
    """A pending follow-up due before the organisation's local today."""
    condition = Q(pk__in=[])
    for tz in ZONES:
        today = local_date(now, tz)
        condition |= in_zone(tz) & Q(Exists(pending_follow_ups().filter(due_on__lt=today)))
    return condition


def aftercare_due(now: datetime.datetime) -> Q:
    """A pending aftercare visit due in the organisation's current local month."""
    condition = Q(pk__in=[])
    for tz in ZONES:
        first, last = month_of(local_date(now, tz))
        visits = pending_follow_ups().filter(kind=FollowUpKind.AFTERCARE, due_on__gte=first, due_on__lte=last)
        condition |= in_zone(tz) & Q(Exists(visits))
    return condition


def cases_matching(*, user: User, filters: CaseFilters, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The cases `user` may know exist that match `filters`, unordered (count it, page it, export it).
    Days are each organisation's own at `now`."""
    now = now or timezone.now()
    qs = with_org_province(cases_visible_to(user))
    if filters.match_none:
        return qs.none()
    if filters.organisation is not None:
        qs = qs.filter(organisation_id=filters.organisation)
    if filters.scope == Scope.MINE:
        qs = qs.filter(case_manager_id=actor_for(user).user_id)
    if filters.status == Status.OPEN:
        qs = qs.filter(stage__in=OPEN_STAGES)
    elif filters.status == Status.CLOSED:
        qs = qs.filter(stage=Stage.CLOSED)
    if filters.stages:
        qs = qs.filter(stage__in=list(filters.stages))
    if filters.confidential:
        qs = qs.filter(is_confidential=True)
    if filters.reads_identity:
        qs = qs.filter(IDENTITY_VISIBLE)
    if filters.risks:
        qs = qs.filter(risk_level__in=list(filters.risks))
    if filters.cluster:
        qs = qs.filter(cluster__code=filters.cluster)
    if filters.ampk:
        # Exists, not a join: a join through the many-to-many could repeat a case.
        links = Beneficiary.ampk_categories.through.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"), ampkcategory__code=filters.ampk
        )
        qs = qs.filter(Exists(links))
    if filters.case_manager == UNASSIGNED:
        qs = qs.filter(case_manager__isnull=True)
    elif filters.case_manager:
        qs = qs.filter(case_manager_id=int(filters.case_manager))
    if filters.kabkota:
        qs = qs.filter(beneficiary__regency_code=filters.kabkota)
    if filters.province:
        qs = qs.filter(beneficiary__regency_code__startswith=filters.province)
    if filters.basis:
        qs = qs.filter(basis=filters.basis)
    if filters.overdue:
        qs = qs.filter(overdue_follow_up(now))
    if filters.aftercare_due:
        qs = qs.filter(aftercare_due(now))
    if filters.stage_late:
        qs = qs.filter(past_stage_deadline(now))
    if filters.opened_from or filters.opened_to:
        qs = qs.filter(on_local_days("opened_at", filters.opened_from, filters.opened_to))
    if filters.closed_from or filters.closed_to:
        qs = qs.filter(on_local_days("closed_at", filters.closed_from, filters.closed_to))
    return _search(qs, filters.q)


def _search(qs: QuerySet[Case], q: str) -> QuerySet[Case]:
    kind = search_kind(q)
    q = q.strip()
    if kind == SearchKind.NIK:
        # merged_into IS NULL lets the planner use the partial unique index beneficiary_nik_unique.
        return qs.filter(IDENTITY_VISIBLE, beneficiary__nik=normalise_nik(q), beneficiary__merged_into__isnull=True)
    if kind == SearchKind.NUMBER:
        whole = WHOLE_NUMBER.match(q.replace(" ", ""))
        if whole is not None:
            # A whole number: equality on the unique index, zero-padded the way numbers are issued.
            issued = f"{whole['code'].upper()}/{whole['year']}/{int(whole['sequence']):04d}"
            return qs.filter(number__in=[issued, q.replace(" ", "")])
        # Part of a number: UPPER("number"::text) LIKE UPPER('%…%'), the expression of the trigram
        # index case_number_trgm, so a prefix ("BA-ALYATAMA/2026") and a tail ("0012") both work.
        return qs.filter(number__icontains=q)
    if kind == SearchKind.NAME:
        # Every word in the name or the alias, in any order; each LIKE is the expression of the
        # trigram index beneficiary_name_trgm / beneficiary_alias_trgm.
        condition = Q()
        for word in q.split():
            condition &= Q(beneficiary__full_name__icontains=word) | Q(beneficiary__alias__icontains=word)
        return qs.filter(condition, IDENTITY_VISIBLE)
    return qs


# --- Sorting and keyset pages -----------------------------------------------------------

# Each sort: the columns it orders by (name, descending), the last one always the id.
SORT_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    Sort.NEWEST: (("opened_at", True), ("id", True)),
    Sort.OLDEST: (("opened_at", False), ("id", False)),
    Sort.STAGE: (("stage_rank", False), ("opened_at", True), ("id", True)),
    Sort.RISK: (("risk_rank", False), ("opened_at", True), ("id", True)),
    Sort.DUE: (("due_key", False), ("opened_at", True), ("id", True)),
}


def ordered(qs: QuerySet[Case], sort: str) -> QuerySet[Case]:
    """`qs` with the sort's columns annotated and ordered by them."""
    sort = sort if sort in SORT_KEYS else Sort.NEWEST
    if sort == Sort.STAGE:
        qs = qs.annotate(
            stage_rank=CaseWhen(
                *(When(stage=stage, then=Value(i)) for i, stage in enumerate(STAGE_ORDER)),
                output_field=IntegerField(),
            )
        )
    elif sort == Sort.RISK:
        qs = qs.annotate(
            risk_rank=CaseWhen(
                When(identity_visible=False, then=Value(_MASKED_RANK)),
                *(When(risk_level=risk, then=Value(i)) for i, risk in enumerate(RISK_ORDER)),
                default=Value(_MASKED_RANK),
                output_field=IntegerField(),
            )
        )
    elif sort == Sort.DUE:
        qs = qs.annotate(
            due_key=CaseWhen(
                When(identity_visible=True, then=Coalesce(next_due(), Value(_NEVER))),
                default=Value(_NEVER),
                output_field=DateField(),
            )
        )
    return qs.order_by(*(f"-{name}" if desc else name for name, desc in SORT_KEYS[sort]))


# A keyset position: when the case was opened, the next due date, or a number.
CursorValue = datetime.datetime | datetime.date | int


def _encode_value(value: object) -> object:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _decode_value(name: str, value: object) -> CursorValue:
    if name == "opened_at":
        if not isinstance(value, str):
            raise ValueError(name)
        parsed = datetime.datetime.fromisoformat(value)
        if timezone.is_naive(parsed):
            raise ValueError("naive")
        return parsed
    if name == "due_key":
        if not isinstance(value, str):
            raise ValueError(name)
        return datetime.date.fromisoformat(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(name)


def encode_cursor(case: Case, sort: str) -> str:
    keys = SORT_KEYS[sort][:-1]
    values = [sort, *(_encode_value(getattr(case, name)) for name, _desc in keys)]
    return keyset.encode_cursor(json.dumps(values), case.pk, salt=_CURSOR_SALT)


def decode_cursor(token: str | None, sort: str) -> tuple[list[CursorValue], int] | None:
    """The (values, id) a page starts after; None (the first page) for anything that does not
    decode, or that was made for another sort."""
    position = keyset.decode_cursor(token, salt=_CURSOR_SALT)
    if position is None:
        return None
    raw, pk = position
    try:
        values = json.loads(raw)
        if not isinstance(values, list) or not values or values[0] != sort:
            return None
        keys = SORT_KEYS[sort][:-1]
        if len(values) != len(keys) + 1:
            return None
        return [_decode_value(name, v) for (name, _desc), v in zip(keys, values[1:], strict=True)], pk
    except (ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class CaseRow:
    """One line of the list, already masked: the template cannot show what is not here."""

    pk: int
    number: str
    organisation: str
    stage: str
    stage_code: str
    masked: bool
    organisation_id: int = 0
    confidential: bool = False
    child: str = ""
    alias: str = ""
    age: int | None = None
    age_estimated: bool = False
    risk: str = ""
    risk_code: str = ""
    case_manager: str = ""
    regency: str = ""
    next_due: datetime.date | None = None
    overdue: bool = False
    opened: datetime.date | None = None


@dataclass
class CasePage:
    rows: list[CaseRow] = field(default_factory=list)
    next_cursor: str | None = None
    is_first: bool = True


def labels(choices: type[models.Choices]) -> dict[str, str]:
    """{value: label} of a TextChoices in the current language: a dictionary lookup per row
    instead of Django's get_FOO_display(), which rebuilds its choice list on every call."""
    return {value: str(label) for value, label in choices.choices}


def regency_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))


# A search by text is counted to this many: who finds more refines the words.
SEARCH_CAP = 100


def case_total(matching: QuerySet[Case], *, user: User, filters: CaseFilters) -> Tally:
    """How many cases the list holds. Exact for a list by its filters (what a dashboard's
    figure links to, and equals); for a search by text, exact up to SEARCH_CAP and "100+"
    beyond, counted in the list's order so that it stops there. A common first name
    matches thousands of children: counting them all read every case of the organisation
    (150 ms); counting to 1,000 walked 14,000 of them, or, as the planner's guess of the
    matches went, hashed them all again (170 ms). To 100 it walks about 1,500 (2 ms)."""
    if not filters.q:
        exact = matching.count()
        return Tally(exact, cap=max(exact, CAP))
    sort = filters.sort if filters.sort in SORT_KEYS else Sort.NEWEST
    return capped_counts(user.pk, {"total": ordered(matching, sort)}, ordered=True, cap=SEARCH_CAP)["total"]


def case_page(
    qs: QuerySet[Case],
    *,
    sort: str,
    cursor: str | None = None,
    size: int = PAGE_SIZE,
    today: datetime.date | None = None,
) -> CasePage:
    """One page of `qs` (from cases_matching) in `sort` order, after `cursor`."""
    today = today or timezone.localdate()
    sort = sort if sort in SORT_KEYS else Sort.NEWEST
    qs = ordered(qs, sort)
    after = decode_cursor(cursor, sort)
    if after is not None:
        qs = qs.filter(keyset.rows_after(SORT_KEYS[sort], *after))
    qs = qs.select_related("organisation", "beneficiary", "case_manager").annotate(next_due_on=next_due())
    found = list(qs[: size + 1])
    has_more = len(found) > size
    found = found[:size]
    regencies = regency_names(c.beneficiary.regency_code for c in found if c.identity_visible)  # type: ignore[attr-defined]
    names = {"stage": labels(Stage), "risk": labels(RiskLevel)}
    return CasePage(
        rows=[case_row(c, regencies=regencies, names=names, today=today) for c in found],
        next_cursor=encode_cursor(found[-1], sort) if has_more and found else None,
        is_first=after is None,
    )


def case_row(
    case: Case, *, regencies: dict[str, str], today: datetime.date, names: dict[str, dict[str, str]] | None = None
) -> CaseRow:
    names = names or {"stage": labels(Stage), "risk": labels(RiskLevel)}
    stage = names["stage"].get(case.stage, case.stage)
    organisation = case.organisation.name
    if not getattr(case, "identity_visible", False):
        return CaseRow(
            pk=case.pk,
            number=case.number,
            organisation=organisation,
            stage=stage,
            stage_code=case.stage,
            masked=True,
            organisation_id=case.organisation_id,
        )
    child = case.beneficiary
    due = getattr(case, "next_due_on", None)
    # Overdue and the day opened are the organisation's own days, as the filters count them.
    tz = organisation_timezone(case.organisation)
    return CaseRow(
        pk=case.pk,
        number=case.number,
        organisation=organisation,
        stage=stage,
        stage_code=case.stage,
        masked=False,
        organisation_id=case.organisation_id,
        confidential=case.is_confidential,
        child=child.full_name,
        alias=child.alias,
        age=child.age(today),
        age_estimated=child.birth_date_estimated,
        risk=names["risk"].get(case.risk_level, case.risk_level),
        risk_code=case.risk_level,
        case_manager=person_name(case.case_manager),
        regency=regencies.get(child.regency_code, ""),
        next_due=due,
        overdue=due is not None and due < local_date(timezone.now(), tz),
        opened=local_date(case.opened_at, tz),
    )


# --- Export -------------------------------------------------------------------------------


def export_headers() -> list[str]:
    return [
        _("Case number"),
        _("Organisation"),
        _("Stage"),
        _("Child's name"),
        _("Alias"),
        _("Sex"),
        _("Birth date"),
        _("Birth date is an estimate"),
        _("Age"),
        _("NIK"),
        _("Kab/kota"),
        _("Village"),
        _("Cluster"),
        _("Basis"),
        _("Source"),
        _("Risk level"),
        _("Confidential"),
        _("Case manager"),
        _("Supervisor"),
        _("Next follow-up"),
        _("Follow-up overdue"),
        _("Opened"),
        _("Closed"),
        _("Closure reason"),
    ]


def export_rows(*, user: User, cases: list[Case], today: datetime.date | None = None) -> list[list[object]]:
    """One list per case in export_headers' order, masked as on the page, safe for spreadsheets.

    The full NIK only for supervisors of the owning organisation; everyone else gets the
    masked form (first six and last four digits). `cases` come with their organisation and
    beneficiary; clusters, people and villages are looked up once per call (an export's
    chunk), not built as objects on every row.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    actor = actor_for(user)
    supervised = actor.org_ids(Role.SUPERVISOR)
    shown = [c for c in cases if getattr(c, "identity_visible", False)]
    regencies = regency_names(c.beneficiary.regency_code for c in shown)
    clusters = {c.pk: c.name for c in Cluster.objects.filter(pk__in={c.cluster_id for c in shown})}
    people_ids = {i for c in shown for i in (c.case_manager_id, c.supervisor_id) if i is not None}
    people = {u.pk: person_name(u) for u in User.objects.filter(pk__in=people_ids)}
    village_codes = {c.beneficiary.village_id for c in shown if c.beneficiary.village_id is not None}
    villages = dict(Region.objects.filter(code__in=village_codes).values_list("code", "name"))
    blank_after_stage = [""] * (len(export_headers()) - 3)
    stage, sex, basis, source = labels(Stage), labels(Sex), labels(Basis), labels(CaseSource)
    risk, closure = labels(RiskLevel), labels(ClosureReason)
    yes, no = _("yes"), _("no")
    zones: dict[int, ZoneInfo] = {}
    rows: list[list[object]] = []
    for case in cases:
        head: list[object] = [case.number, case.organisation.name, stage.get(case.stage, case.stage)]
        if not getattr(case, "identity_visible", False):
            rows.append([spreadsheet_safe(v) for v in head + blank_after_stage])
            continue
        child = case.beneficiary
        due = getattr(case, "next_due_on", None)
        tz = zones.get(case.organisation_id)
        if tz is None:
            tz = zones[case.organisation_id] = organisation_timezone(case.organisation)
        row = [
            *head,
            child.full_name,
            child.alias,
            sex.get(child.sex, child.sex),
            child.birth_date,
            (yes if child.birth_date_estimated else no) if child.birth_date else "",
            child.age(today),
            child.nik if case.organisation_id in supervised else child.masked_nik,
            regencies.get(child.regency_code, ""),
            villages.get(child.village_id, "") if child.village_id else "",
            clusters.get(case.cluster_id, ""),
            basis.get(case.basis, case.basis),
            source.get(case.source, case.source),
            risk.get(case.risk_level, case.risk_level),
            yes if case.is_confidential else no,
            people.get(case.case_manager_id, "") if case.case_manager_id else "",
            people.get(case.supervisor_id, "") if case.supervisor_id else "",
            due,
            (yes if due < local_date(now, tz) else no) if due else "",
            local_date(case.opened_at, tz),
            local_date(case.closed_at, tz) if case.closed_at else None,
            closure.get(case.closure_reason, case.closure_reason),
        ]
        rows.append([spreadsheet_safe(v) for v in row])
    return rows


def export_filename(extension: str, today: datetime.date) -> str:
    return f"cases-{today:%Y%m%d}.{extension}"
