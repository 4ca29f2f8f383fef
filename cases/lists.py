"""The case lists ("my cases", all cases of the organisation): filters, search, sorting,
keyset pages, and the rows of the CSV/XLSX export of the same filtered list.

Everything starts from `cases.selectors.cases_visible_to(user)`. A confidential case whose
child the user may not see (`identity_visible` False) is listed *masked*: its number, its
stage and its organisation, nothing else, in the page and in the export alike. Masking has
to hold against questions as well as answers, so:

- a masked case is found by its number, never by the child's name or NIK;
- a filter on anything but the stage (risk, cluster, AMPK category, case manager, kab/kota,
  overdue follow-up) returns only cases whose child the user may see: otherwise the filter
  would say what a masked case is about ("AMPK: victim of sexual violence", "in Kota Jambi");
- sorting by risk or by the next follow-up puts masked cases last, for the same reason.

Pages are keyed on the sort's own columns and the id, never on an offset, with the
position carried in a signed cursor (atensi.core.keyset): page 40 costs what page 1 costs.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core import keyset
from atensi.core.access import actor_for
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
    FollowUpStatus,
    RiskLevel,
    Sex,
    Stage,
)
from .selectors import cases_visible_to, person_name

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

    @property
    def reads_identity(self) -> bool:
        """Does a filter look at more than a masked case shows (number, stage, organisation)?"""
        return bool(self.risks or self.cluster or self.ampk or self.case_manager or self.kabkota or self.overdue)


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


def cases_matching(*, user: User, filters: CaseFilters, today: datetime.date | None = None) -> QuerySet[Case]:
    """The cases `user` may know exist that match `filters`, unordered (count it, page it, export it)."""
    today = today or timezone.localdate()
    qs = cases_visible_to(user)
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
    if filters.overdue:
        qs = qs.filter(Exists(pending_follow_ups().filter(due_on__lt=today)))
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
            pk=case.pk, number=case.number, organisation=organisation, stage=stage, stage_code=case.stage, masked=True
        )
    child = case.beneficiary
    due = getattr(case, "next_due_on", None)
    return CaseRow(
        pk=case.pk,
        number=case.number,
        organisation=organisation,
        stage=stage,
        stage_code=case.stage,
        masked=False,
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
        overdue=due is not None and due < today,
        opened=timezone.localdate(case.opened_at),
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


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def export_rows(*, user: User, cases: list[Case], today: datetime.date | None = None) -> list[list[object]]:
    """One list per case in export_headers' order, masked as on the page, safe for spreadsheets.

    The full NIK only for supervisors of the owning organisation; everyone else gets the
    masked form (first six and last four digits).
    """
    today = today or timezone.localdate()
    actor = actor_for(user)
    supervised = actor.org_ids(Role.SUPERVISOR)
    regencies = regency_names(c.beneficiary.regency_code for c in cases if getattr(c, "identity_visible", False))
    blank_after_stage = [""] * (len(export_headers()) - 3)
    stage, sex, basis, source = labels(Stage), labels(Sex), labels(Basis), labels(CaseSource)
    risk, closure = labels(RiskLevel), labels(ClosureReason)
    rows: list[list[object]] = []
    for case in cases:
        head: list[object] = [case.number, case.organisation.name, stage.get(case.stage, case.stage)]
        if not getattr(case, "identity_visible", False):
            rows.append([spreadsheet_safe(v) for v in head + blank_after_stage])
            continue
        child = case.beneficiary
        due = getattr(case, "next_due_on", None)
        row = [
            *head,
            child.full_name,
            child.alias,
            sex.get(child.sex, child.sex),
            child.birth_date,
            _yes_no(child.birth_date_estimated) if child.birth_date else "",
            child.age(today),
            child.nik if case.organisation_id in supervised else child.masked_nik,
            regencies.get(child.regency_code, ""),
            child.village.name if child.village else "",
            case.cluster.name,
            basis.get(case.basis, case.basis),
            source.get(case.source, case.source),
            risk.get(case.risk_level, case.risk_level),
            _yes_no(case.is_confidential),
            person_name(case.case_manager),
            person_name(case.supervisor),
            due,
            _yes_no(due is not None and due < today) if due else "",
            timezone.localdate(case.opened_at),
            timezone.localdate(case.closed_at) if case.closed_at else None,
            closure.get(case.closure_reason, case.closure_reason),
        ]
        rows.append([spreadsheet_safe(v) for v in row])
    return rows


def export_filename(extension: str, today: datetime.date) -> str:
    return f"cases-{today:%Y%m%d}.{extension}"
