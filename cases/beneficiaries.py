"""Beneficiaries and their families: identity checks (NIK, KK, birth date, AMPK age), the
search before registration (exact NIK, fuzzy name), registration and edits, family
members, the private photo, and merging two records of one person.

A match registered with an organisation the user does not work with is never shown by
name: it is "registered with <organisation>, born <year>", so the worker can ask that
organisation for a referral without learning who the child is.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Greatest, Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.access import actor_for
from atensi.errors import ApplicationError
from atensi.uploads import IMAGE_KINDS, check_upload
from atensi.values import (
    NikFacts,
    is_kk_shaped,
    nik_problem,
    normalise_kk,
    normalise_nik,
    normalise_phone,
    parse_nik,
    validate_phone,
)
from stakeholders.models import Organisation, Region, RegionLevel
from stakeholders.roles import Role

from .models import (
    OPEN_STAGES,
    Beneficiary,
    BeneficiaryMerge,
    Case,
    FamilyMember,
    Sex,
    TimelineKind,
)
from .selectors import CASE_ROLES, beneficiaries_visible_to, cases_readable_by
from .services import full_clean_or_raise, timeline_add

# Fuzzy matching: names shorter than this match too much to mean anything.
NAME_SEARCH_MIN_LENGTH = 3
NAME_SEARCH_MAX_LENGTH = 200
DUPLICATE_LIMIT = 10
PHOTO_MAX_BYTES = 5 * 1024 * 1024
ADULT_AGE = 18
# How far the merge walks a chain of merged records (A → B → C) to find the survivor.
MERGE_CHAIN_LIMIT = 10

# Editable identity and situation fields (the M2M ones are handled apart).
BENEFICIARY_FIELDS: tuple[str, ...] = (
    "full_name",
    "alias",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "birthplace",
    "nik",
    "kk_number",
    "dtks_id",
    "disability",
    "school_status",
    "school_name",
    "school_grade",
    "religion",
    "address",
    "village",
    "cluster",
)
BENEFICIARY_M2M: tuple[str, ...] = ("ppks_types", "ampk_categories")
# What a merge copies from the merged record when the survivor has nothing there.
MERGE_FILL_FIELDS: tuple[str, ...] = (
    "alias",
    "birthplace",
    "nik",
    "kk_number",
    "dtks_id",
    "disability",
    "school_status",
    "school_name",
    "school_grade",
    "religion",
    "address",
    "village",
    "photo",
)
FAMILY_FIELDS: tuple[str, ...] = (
    "relation",
    "name",
    "nik",
    "phone",
    "occupation",
    "receives_pkh",
    "other_aid",
    "is_legal_guardian",
    "lives_with_beneficiary",
)

# --- Identity checks ---------------------------------------------------------------------


def _dmy(value: datetime.date) -> str:
    return value.strftime("%d-%m-%Y")


def estimated_birth_date(age: int, *, today: datetime.date | None = None) -> datetime.date:
    """An approximate age as a birth date: 1 July of (this year − age), never in the future."""
    today = today or timezone.localdate()
    return min(datetime.date(today.year - age, 7, 1), today)


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def nik_district_known(code: str) -> bool:
    return Region.objects.filter(code=code, level=RegionLevel.DISTRICT).exists()


@dataclass
class IdentityCheck:
    """What is wrong (field, message) and what deserves a second look (warnings)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nik_parts: NikFacts | None = None

    def raise_first(self) -> None:
        if self.errors:
            name, message = self.errors[0]
            raise ApplicationError(message, field=name)


def identity_check(
    *,
    nik: str = "",
    kk_number: str = "",
    sex: str = "",
    birth_date: datetime.date | None = None,
    birth_date_estimated: bool = False,
    has_ampk: bool = False,
    today: datetime.date | None = None,
) -> IdentityCheck:
    """Check a person's identifiers against each other.

    - NIK: 16 digits, a real date in digits 7-12 (day + 40 for women); if a birth date and
      a sex are given they must agree with it, and the message says which part does not.
      An estimated birth date (from an approximate age) is not compared.
    - Digits 1-6 not a kecamatan of today's list: only a warning, codes change.
    - KK: 16 digits, nothing more (family card numbers follow no checkable pattern).
    - No birth date in the future; no AMPK category for someone 18 or over.
    """
    today = today or timezone.localdate()
    check = IdentityCheck()
    if birth_date is not None and birth_date > today:
        check.errors.append(
            (
                "birth_date",
                _("The birth date %(date)s is in the future. Check the year.") % {"date": _dmy(birth_date)},
            )
        )
    if kk_number and not is_kk_shaped(kk_number):
        check.errors.append(
            (
                "kk_number",
                _("A family card (KK) number has exactly 16 digits; %(value)s has %(count)d characters.")
                % {"value": kk_number, "count": len(kk_number)},
            )
        )
    if nik:
        try:
            parts = parse_nik(nik, today=today)
        except ValidationError as exc:
            check.errors.append(("nik", str(exc.messages[0])))
        else:
            check.nik_parts = parts
            check.errors.extend(
                _nik_disagreements(parts, sex=sex, birth_date=birth_date, estimated=birth_date_estimated)
            )
            if parts.birth_date > today:
                check.errors.append(
                    (
                        "nik",
                        _("The NIK says born %(date)s, which is in the future. Check digits 7 to 12.")
                        % {"date": _dmy(parts.birth_date)},
                    )
                )
            if not nik_district_known(parts.district_code):
                check.warnings.append(
                    _(
                        "Digits 1 to 6 of the NIK (%(code)s) are not a kecamatan in today's list of regions. "
                        "Codes change when regions are split, so the NIK was accepted; please compare it "
                        "with the family card (KK)."
                    )
                    % {"code": parts.district_code}
                )
    if has_ampk and birth_date is not None and birth_date <= today:
        age = age_on(birth_date, today)
        if age >= ADULT_AGE:
            check.errors.append(
                (
                    "ampk_categories",
                    _(
                        "AMPK categories are for children under 18, and this person is %(age)d. "
                        "Remove the AMPK categories or correct the birth date."
                    )
                    % {"age": age},
                )
            )
    return check


def _nik_disagreements(
    parts: NikFacts, *, sex: str, birth_date: datetime.date | None, estimated: bool
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if sex and sex != parts.sex:
        if parts.sex == Sex.FEMALE:
            message = _("The NIK's day of birth is above 40, which means female, but the sex entered is %(sex)s.")
        else:
            message = _("The NIK's day of birth is 40 or below, which means male, but the sex entered is %(sex)s.")
        problems.append(("nik", message % {"sex": Sex(sex).label}))
    if birth_date is not None and not estimated:
        # A NIK writes the year with two digits: 1915 and 2015 are the same NIK.
        nik_date = parts.birth_date
        if (nik_date.day, nik_date.month, nik_date.year % 100) != (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        ):
            problems.append(
                (
                    "nik",
                    _("The NIK says born %(nik_date)s but the birth date entered is %(entered)s.")
                    % {"nik_date": _dmy(nik_date), "entered": _dmy(birth_date)},
                )
            )
    return problems


# --- Search before create ------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A registered person that may be the one being searched for.

    `full_name`, `alias` and `village_name` are empty unless `visible`: a match the user
    may not see is only "registered with <organisation>, born <year>".
    """

    pk: int
    visible: bool
    organisation_id: int
    organisation_name: str
    birth_year: int | None
    birth_date_estimated: bool
    sex: str
    full_name: str = ""
    alias: str = ""
    village_name: str = ""
    score: float = 0.0

    @property
    def sex_label(self) -> str:
        return str(Sex(self.sex).label) if self.sex in Sex.values else ""


@dataclass(frozen=True)
class SearchResult:
    nik_match: Match | None
    matches: list[Match]
    searched: bool


def _match(b: Beneficiary, *, visible: bool, score: float = 0.0) -> Match:
    return Match(
        pk=b.pk,
        visible=visible,
        organisation_id=b.organisation_id,
        organisation_name=b.organisation.name,
        birth_year=b.birth_date.year if b.birth_date else None,
        birth_date_estimated=b.birth_date_estimated,
        sex=b.sex if visible else "",
        full_name=b.full_name if visible else "",
        alias=b.alias if visible else "",
        village_name=(b.village.name if b.village else "") if visible else "",
        score=score,
    )


def _visible_ids(user: Any, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    return set(beneficiaries_visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def nik_match(*, user: Any, nik: str) -> Match | None:
    """The living record with exactly this NIK, whoever registered it."""
    if not nik:
        return None
    found = (
        Beneficiary.objects.filter(nik=nik, merged_into__isnull=True)
        .select_related("organisation", "village")
        .order_by()
        .first()
    )
    if found is None:
        return None
    return _match(found, visible=bool(_visible_ids(user, [found.pk])))


def name_needle(full_name: str) -> str:
    return " ".join((full_name or "").split()).upper()[:NAME_SEARCH_MAX_LENGTH]


def similar_beneficiaries(
    *,
    full_name: str,
    birth_year: int | None = None,
    regency_code: str = "",
    nik: str = "",
    exclude_ids: Iterable[int] = (),
    limit: int = DUPLICATE_LIMIT,
) -> list[Beneficiary]:
    """Living records whose name or alias looks like `full_name` (pg_trgm, typos tolerated),
    born within a year of `birth_year`, in the same kab/kota — across all organisations.

    The `%` operator on UPPER(full_name) and UPPER(alias) is answered by the
    beneficiary_name_trgm and beneficiary_alias_trgm GIN indexes. A record without a
    birth date or a kab/kota is kept (it might be the same child); one with a different
    NIK is not (it is certainly someone else).
    """
    needle = name_needle(full_name)
    if len(needle) < NAME_SEARCH_MIN_LENGTH:
        return []
    qs = (
        Beneficiary.objects.filter(merged_into__isnull=True)
        .annotate(uname=Upper("full_name"), ualias=Upper("alias"))
        .filter(Q(uname__trigram_similar=needle) | Q(ualias__trigram_similar=needle))
    )
    if birth_year:
        near = Q(birth_date__year__gte=birth_year - 1, birth_date__year__lte=birth_year + 1)
        qs = qs.filter(Q(birth_date__isnull=True) | near)
    if regency_code:
        qs = qs.filter(Q(regency_code=regency_code) | Q(regency_code=""))
    if nik:
        qs = qs.filter(Q(nik="") | Q(nik=nik))
    exclude = list(exclude_ids)
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    score = Greatest(TrigramSimilarity("uname", needle), TrigramSimilarity("ualias", needle))
    return list(
        qs.annotate(score=score).select_related("organisation", "village").order_by("-score", "full_name", "pk")[:limit]
    )


def possible_duplicates(
    *,
    user: Any,
    full_name: str,
    birth_year: int | None = None,
    regency_code: str = "",
    nik: str = "",
    exclude_ids: Iterable[int] = (),
) -> list[Match]:
    found = similar_beneficiaries(
        full_name=full_name, birth_year=birth_year, regency_code=regency_code, nik=nik, exclude_ids=exclude_ids
    )
    visible = _visible_ids(user, [b.pk for b in found])
    return [_match(b, visible=b.pk in visible, score=float(getattr(b, "score", 0.0))) for b in found]


def beneficiary_search(
    *, user: Any, full_name: str = "", nik: str = "", birth_year: int | None = None, regency_code: str = ""
) -> SearchResult:
    """The registration entry point: an exact NIK match first, then possible duplicates."""
    exact = nik_match(user=user, nik=nik)
    searched = bool(nik) or len(name_needle(full_name)) >= NAME_SEARCH_MIN_LENGTH
    matches = possible_duplicates(
        user=user,
        full_name=full_name,
        birth_year=birth_year,
        regency_code=regency_code,
        nik=nik,
        exclude_ids=[exact.pk] if exact else [],
    )
    return SearchResult(nik_match=exact, matches=matches, searched=searched)


# --- Who may do what ------------------------------------------------------------------------


def registering_organisations(user: Any) -> list[Organisation]:
    """Organisations where the user works cases, i.e. may register a person."""
    ids = actor_for(user).org_ids(*CASE_ROLES)
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")) if ids else []


def can_edit_beneficiary(user: Any, beneficiary: Beneficiary) -> bool:
    """Workers of the organisation that registered the person, or that owns one of their open cases."""
    orgs = actor_for(user).org_ids(*CASE_ROLES)
    if not orgs:
        return False
    if beneficiary.organisation_id in orgs:
        return True
    return Case.objects.filter(beneficiary=beneficiary, organisation_id__in=orgs, stage__in=OPEN_STAGES).exists()


def _require_editor(*, user: Any, beneficiary: Beneficiary) -> None:
    if beneficiary.merged_into_id:
        raise ApplicationError(_("This record was merged into another one; make your changes there."))
    if not can_edit_beneficiary(user, beneficiary):
        raise ApplicationError(
            _(
                "Only the workers of the organisation that registered %(name)s, or of one that has an open case "
                "for them, can change this record."
            )
            % {"name": beneficiary.full_name}
        )


def _related_org_ids(beneficiary_ids: Collection[int]) -> dict[int, set[int]]:
    """For each person: the organisation that registered them and those owning one of their cases."""
    related: dict[int, set[int]] = {pk: set() for pk in beneficiary_ids}
    for pk, org_id in Beneficiary.objects.filter(pk__in=list(beneficiary_ids)).values_list("pk", "organisation_id"):
        related[pk].add(org_id)
    rows = (
        Case.objects.filter(beneficiary_id__in=list(beneficiary_ids))
        .order_by()
        .values_list("beneficiary_id", "organisation_id")
    )
    for pk, org_id in rows.distinct():
        related[pk].add(org_id)
    return related


def merge_organisations(*, user: Any, first_id: int, second_id: int) -> set[int]:
    """Organisations where the user is a supervisor and that registered or own a case of both people."""
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    if not supervised:
        return set()
    related = _related_org_ids([first_id, second_id])
    return set(supervised) & related.get(first_id, set()) & related.get(second_id, set())


def may_merge_anything(user: Any) -> bool:
    return bool(actor_for(user).org_ids(Role.SUPERVISOR))


def mergeable_with(*, user: Any, beneficiary: Beneficiary) -> list[Match]:
    """Possible duplicates of `beneficiary` that the user may see and merge with it."""
    if not may_merge_anything(user):
        return []
    found = possible_duplicates(
        user=user,
        full_name=beneficiary.full_name,
        birth_year=beneficiary.birth_date.year if beneficiary.birth_date else None,
        regency_code=beneficiary.regency_code,
        nik=beneficiary.nik,
        exclude_ids=[beneficiary.pk],
    )
    visible = [m for m in found if m.visible]
    if not visible:
        return []
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    related = _related_org_ids([beneficiary.pk, *(m.pk for m in visible)])
    mine = related[beneficiary.pk] & set(supervised)
    return [m for m in visible if mine & related[m.pk]]


# --- Registration and edits -----------------------------------------------------------------


class PossibleDuplicates(ApplicationError):
    """Registration stopped: records that may be the same person need a "not the same" each."""

    def __init__(self, candidates: list[Match]) -> None:
        super().__init__(
            _(
                "This child may already be registered. Look at the possible matches below and tick "
                "“not the same child” for each one that is someone else, then save again."
            ),
            extra={"candidates": candidates},
        )
        self.candidates = candidates


def nik_taken_message(*, user: Any, match: Match) -> str:
    if match.visible:
        return _("%(name)s is already registered with this NIK. Open their record instead of registering again.") % {
            "name": match.full_name
        }
    return _(
        "A person with this NIK is registered with %(org)s. Ask them for a referral or a transfer "
        "instead of registering the child again."
    ) % {"org": match.organisation_name}


def _regency_code(village: Region | None) -> str:
    return village.code[:4] if village is not None else ""


def _check_identity(values: dict[str, Any], *, has_ampk: bool) -> IdentityCheck:
    check = identity_check(
        nik=values.get("nik", ""),
        kk_number=values.get("kk_number", ""),
        sex=values.get("sex", ""),
        birth_date=values.get("birth_date"),
        birth_date_estimated=bool(values.get("birth_date_estimated")),
        has_ampk=has_ampk,
    )
    check.raise_first()
    return check


def _clean_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(BENEFICIARY_FIELDS)
    if unknown:
        raise ValueError(f"Not a beneficiary field: {sorted(unknown)}")
    cleaned = dict(values)
    if "nik" in cleaned:
        cleaned["nik"] = normalise_nik(cleaned["nik"])
    if "kk_number" in cleaned:
        cleaned["kk_number"] = normalise_kk(cleaned["kk_number"])
    for name in ("full_name", "alias"):
        if name in cleaned:
            cleaned[name] = " ".join((cleaned[name] or "").split())
    return cleaned


@transaction.atomic
def beneficiary_create(
    *,
    by: Any,
    organisation: Organisation,
    ampk_categories: Iterable[Any] = (),
    ppks_types: Iterable[Any] = (),
    not_same_as: Collection[int] = (),
    **values: Any,
) -> Beneficiary:
    """Register a person for `organisation`.

    The duplicate search runs here again, whatever the form showed: an exact NIK match
    is refused; every fuzzy match must be in `not_same_as` (the user ticked "not the same
    child"), and those confirmations are kept in `distinct_from`.
    """
    actor = actor_for(by)
    if not actor.has_role(organisation.pk, *CASE_ROLES):
        raise ApplicationError(_("You do not work cases for %(org)s.") % {"org": organisation.name})
    if not organisation.is_active:
        raise ApplicationError(_("%(org)s is not active in the portal.") % {"org": organisation.name})
    values = _clean_values(values)
    ampk = list(ampk_categories)
    ppks = list(ppks_types)
    if not values.get("full_name"):
        raise ApplicationError(_("Enter the person's full name."), field="full_name")
    _check_identity(values, has_ampk=bool(ampk))

    nik = values.get("nik", "")
    exact = nik_match(user=by, nik=nik)
    if exact is not None:
        raise ApplicationError(nik_taken_message(user=by, match=exact), field="nik", extra={"match": exact})
    birth_date = values.get("birth_date")
    village = values.get("village")
    candidates = possible_duplicates(
        user=by,
        full_name=values["full_name"],
        birth_year=birth_date.year if birth_date else None,
        regency_code=_regency_code(village),
        nik=nik,
    )
    confirmed = set(not_same_as)
    if any(c.pk not in confirmed for c in candidates):
        raise PossibleDuplicates(candidates)

    beneficiary = Beneficiary(organisation=organisation, created_by=by, **values)
    beneficiary.regency_code = _regency_code(village)
    full_clean_or_raise(beneficiary)
    try:
        with transaction.atomic():
            beneficiary.save()
    except IntegrityError:
        # Someone registered this NIK in the same instant.
        raise ApplicationError(
            _("A person with this NIK was registered a moment ago. Search again to find them."), field="nik"
        ) from None
    if ampk:
        beneficiary.ampk_categories.set(ampk)
    if ppks:
        beneficiary.ppks_types.set(ppks)
    distinct = [c.pk for c in candidates if c.pk in confirmed]
    if distinct:
        beneficiary.distinct_from.add(*distinct)
    return beneficiary


def _conflict(name: str) -> ApplicationError:
    return ApplicationError(
        _(
            "Someone else saved changes to %(name)s while you were editing. Nothing of yours was saved: "
            "reload the page to see their changes, then make yours again."
        )
        % {"name": name}
    )


@transaction.atomic
def beneficiary_update(
    *,
    beneficiary: Beneficiary,
    by: Any,
    expected_updated_at: datetime.datetime | None,
    ampk_categories: Iterable[Any] | None = None,
    ppks_types: Iterable[Any] | None = None,
    **values: Any,
) -> list[str]:
    """Change a person's record; returns the names of the fields that changed.

    `expected_updated_at` is when the editor loaded the form: if the record changed since,
    nothing is saved and the editor is told to reload.
    """
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    _require_editor(user=by, beneficiary=locked)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise _conflict(locked.full_name)
    values = _clean_values(values)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, values[name])
    ampk = list(ampk_categories) if ampk_categories is not None else list(locked.ampk_categories.all())
    _check_identity({name: getattr(locked, name) for name in BENEFICIARY_FIELDS}, has_ampk=bool(ampk))
    if "nik" in changed and locked.nik:
        exact = nik_match(user=by, nik=locked.nik)
        if exact is not None and exact.pk != locked.pk:
            raise ApplicationError(nik_taken_message(user=by, match=exact), field="nik")
    if "village" in changed:
        locked.regency_code = _regency_code(locked.village)
        changed.append("regency_code")
    full_clean_or_raise(locked)
    m2m_changed: list[str] = []
    for name, new in (("ampk_categories", ampk_categories), ("ppks_types", ppks_types)):
        if new is None:
            continue
        new_ids = {getattr(obj, "pk", obj) for obj in new}
        if new_ids != set(getattr(locked, name).values_list("pk", flat=True)):
            m2m_changed.append(name)
            getattr(locked, name).set(list(new_ids))
    if changed or m2m_changed:
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise ApplicationError(
                _("A person with this NIK was registered a moment ago. Search for them first."), field="nik"
            ) from None
    beneficiary.refresh_from_db()
    return [*changed, *m2m_changed]


# --- Photo -------------------------------------------------------------------------------------


def photo_content_type(name: str | None) -> str | None:
    """The content type a stored photo is served with, from the kind it was stored as."""
    name = name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = next((k for k in IMAGE_KINDS if ext in k.extensions), None)
    return kind.content_type if kind else None


def _delete_file_later(storage: Any, name: str | None) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def beneficiary_photo_set(*, beneficiary: Beneficiary, by: Any, file: Any) -> Beneficiary:
    """Store a JPEG or PNG as the person's photo (judged by its bytes); the old one is removed."""
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    _require_editor(user=by, beneficiary=locked)
    kind = check_upload(file, kinds=IMAGE_KINDS, max_bytes=PHOTO_MAX_BYTES, field="photo")
    old = locked.photo.name if locked.photo else ""
    # The stored name carries the kind the bytes were judged to be, never the user's name.
    file.name = f"photo.{kind.extensions[0]}"
    locked.photo.save(file.name, file, save=False)
    locked.save(update_fields=["photo", "updated_at"])
    _delete_file_later(locked.photo.storage, old)
    beneficiary.refresh_from_db()
    return locked


@transaction.atomic
def beneficiary_photo_remove(*, beneficiary: Beneficiary, by: Any) -> Beneficiary:
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    _require_editor(user=by, beneficiary=locked)
    old = locked.photo.name if locked.photo else ""
    if old:
        storage = locked.photo.storage
        locked.photo = ""
        locked.save(update_fields=["photo", "updated_at"])
        _delete_file_later(storage, old)
    beneficiary.refresh_from_db()
    return locked


# --- Family ------------------------------------------------------------------------------------


def _family_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(FAMILY_FIELDS)
    if unknown:
        raise ValueError(f"Not a family member field: {sorted(unknown)}")
    cleaned = dict(values)
    if "nik" in cleaned:
        # A family member's NIK: its format only (nobody enters their birth date here).
        cleaned["nik"] = normalise_nik(cleaned["nik"])
        problem = nik_problem(cleaned["nik"])
        if problem:
            raise ApplicationError(problem, field="nik")
    if "phone" in cleaned:
        cleaned["phone"] = normalise_phone(cleaned["phone"])
        try:
            validate_phone(cleaned["phone"])
        except ValidationError as exc:
            raise ApplicationError(str(exc.messages[0]), field="phone") from None
    if "name" in cleaned:
        cleaned["name"] = " ".join((cleaned["name"] or "").split())
    return cleaned


@transaction.atomic
def family_member_add(*, beneficiary: Beneficiary, by: Any, **values: Any) -> FamilyMember:
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    _require_editor(user=by, beneficiary=locked)
    member = FamilyMember(beneficiary=locked, **_family_values(values))
    full_clean_or_raise(member)
    member.save()
    return member


@transaction.atomic
def family_member_update(
    *, member: FamilyMember, by: Any, expected_updated_at: datetime.datetime | None, **values: Any
) -> list[str]:
    locked = FamilyMember.objects.select_for_update().select_related("beneficiary").get(pk=member.pk)
    _require_editor(user=by, beneficiary=locked.beneficiary)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise _conflict(locked.name)
    values = _family_values(values)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, values[name])
    full_clean_or_raise(locked)
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    member.refresh_from_db()
    return changed


# --- Merge ---------------------------------------------------------------------------------------


def merged_survivor(beneficiary: Beneficiary) -> Beneficiary | None:
    """The living record a merged one ended up in (following A → B → C), or None."""
    current = beneficiary
    for _step in range(MERGE_CHAIN_LIMIT):
        if current.merged_into_id is None:
            return current if current.pk != beneficiary.pk else None
        nxt = Beneficiary.objects.filter(pk=current.merged_into_id).first()
        if nxt is None:
            return None
        current = nxt
    return None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def _snapshot(b: Beneficiary) -> dict[str, Any]:
    names = [*BENEFICIARY_FIELDS, "regency_code", "photo", "organisation"]
    return {name: _json_value(getattr(b, name)) for name in names}


def _is_empty(value: Any) -> bool:
    if hasattr(value, "storage"):  # a FieldFile
        return not value.name
    return value in (None, "")


@transaction.atomic
def beneficiary_merge(*, survivor: Beneficiary, merged: Beneficiary, by: Any, reason: str) -> BeneficiaryMerge:
    """Join two records of one person: everything of `merged` moves to `survivor`.

    Cases (with their documents, consent, notes and timeline), family members and the
    "not the same person" confirmations move; the survivor's empty fields are filled
    from the merged record (NIK, KK, DTKS, birth date...). The merged record stays, with
    `merged_into` set and its NIK moved; BeneficiaryMerge keeps what moved and the old
    values, and each of the survivor's cases gets a timeline line. Nothing is deleted.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why these two records are the same person."), field="reason")
    if survivor.pk == merged.pk:
        raise ApplicationError(_("Choose two different records to merge."))
    # Lock both rows, always in the same order, so two merges cannot deadlock or interleave.
    locked = Beneficiary.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
    rows = {b.pk: b for b in locked}
    keep, gone = rows[survivor.pk], rows[merged.pk]
    if keep.merged_into_id or gone.merged_into_id:
        raise ApplicationError(_("One of these records was already merged into another one. Reload the page."))
    if not merge_organisations(user=by, first_id=keep.pk, second_id=gone.pk):
        raise ApplicationError(
            _(
                "Only a supervisor of an organisation that registered both records, or has a case for both, "
                "can merge them."
            )
        )
    if len(_visible_ids(by, [keep.pk, gone.pk])) != 2:
        raise ApplicationError(_("You can merge only records you can open yourself."))
    if keep.nik and gone.nik and keep.nik != gone.nik:
        raise ApplicationError(
            _(
                "The two records have different NIKs (%(first)s and %(second)s), so they are different people "
                "or one NIK is wrong. Correct the wrong NIK first, then merge."
            )
            % {"first": keep.nik, "second": gone.nik}
        )
    # Only numbers of cases the supervisor may read are named (a confidential one is not).
    readable = cases_readable_by(by)
    open_keep = dict(readable.filter(beneficiary=keep, stage__in=OPEN_STAGES).values_list("organisation_id", "number"))
    open_gone = dict(readable.filter(beneficiary=gone, stage__in=OPEN_STAGES).values_list("organisation_id", "number"))
    orgs_keep = set(
        Case.objects.filter(beneficiary=keep, stage__in=OPEN_STAGES).values_list("organisation_id", flat=True)
    )
    orgs_gone = set(
        Case.objects.filter(beneficiary=gone, stage__in=OPEN_STAGES).values_list("organisation_id", flat=True)
    )
    clash = sorted(orgs_keep & orgs_gone)
    if clash:
        org = Organisation.objects.get(pk=clash[0])
        if clash[0] in open_keep and clash[0] in open_gone:
            message = _(
                "Both records have an open case at %(org)s (%(first)s and %(second)s). A child can have only one "
                "open case per organisation: close one of them first, then merge."
            ) % {"org": org.name, "first": open_keep[clash[0]], "second": open_gone[clash[0]]}
        else:
            # Another organisation's case numbers are theirs to tell.
            message = _(
                "Both records have an open case at %(org)s. A child can have only one open case per "
                "organisation: ask them to close one of them first, then merge."
            ) % {"org": org.name}
        raise ApplicationError(message)

    survivor_before = _snapshot(keep)
    merged_record = _snapshot(gone)
    filled: dict[str, Any] = {}
    for name in MERGE_FILL_FIELDS:
        value = getattr(gone, name)
        if _is_empty(getattr(keep, name)) and not _is_empty(value):
            # The photo moves as its stored name: the file itself stays where it is.
            setattr(keep, name, value.name if name == "photo" else value)
            filled[name] = _json_value(value)
    # A real birth date beats a missing or an estimated one.
    if gone.birth_date and (keep.birth_date is None or (keep.birth_date_estimated and not gone.birth_date_estimated)):
        keep.birth_date, keep.birth_date_estimated = gone.birth_date, gone.birth_date_estimated
        filled["birth_date"] = gone.birth_date.isoformat()
        filled["birth_date_estimated"] = gone.birth_date_estimated
    if "village" in filled:
        keep.regency_code = _regency_code(keep.village)
        filled["regency_code"] = keep.regency_code
    check = identity_check(
        nik=keep.nik,
        kk_number=keep.kk_number,
        sex=keep.sex,
        birth_date=keep.birth_date,
        birth_date_estimated=keep.birth_date_estimated,
    )
    if check.errors:
        raise ApplicationError(
            _("After the merge the record would not agree with itself: %(problem)s Correct one record first.")
            % {"problem": check.errors[0][1]}
        )

    now = timezone.now()
    case_ids = list(Case.objects.filter(beneficiary=gone).values_list("pk", flat=True))
    family_ids = list(FamilyMember.objects.filter(beneficiary=gone).values_list("pk", flat=True))
    earlier_ids = list(Beneficiary.objects.filter(merged_into=gone).values_list("pk", flat=True))
    distinct_ids = [pk for pk in gone.distinct_from.values_list("pk", flat=True) if pk != keep.pk]
    dropped_distinct = keep.pk in set(gone.distinct_from.values_list("pk", flat=True))
    added_ppks = sorted(
        set(gone.ppks_types.values_list("pk", flat=True)) - set(keep.ppks_types.values_list("pk", flat=True))
    )
    added_ampk: list[int] = []
    if not (keep.birth_date and age_on(keep.birth_date, timezone.localdate()) >= ADULT_AGE):
        added_ampk = sorted(
            set(gone.ampk_categories.values_list("pk", flat=True))
            - set(keep.ampk_categories.values_list("pk", flat=True))
        )

    # The merged record first gives up its NIK (one NIK, one living record), then points
    # at the survivor; only then may the survivor take the NIK.
    gone.nik = ""
    if "photo" in filled:
        gone.photo = ""  # the survivor has it now; one file, one record
    gone.merged_into = keep
    gone.save(update_fields=["nik", "photo", "merged_into", "updated_at"])
    keep.save(update_fields=[*(n for n in filled if n != "birth_date_estimated"), "birth_date_estimated", "updated_at"])
    Case.objects.filter(pk__in=case_ids).update(beneficiary=keep, updated_at=now)
    FamilyMember.objects.filter(pk__in=family_ids).update(beneficiary=keep, updated_at=now)
    Beneficiary.objects.filter(pk__in=earlier_ids).update(merged_into=keep, updated_at=now)
    if distinct_ids:
        keep.distinct_from.add(*distinct_ids)
    gone.distinct_from.clear()
    if added_ppks:
        keep.ppks_types.add(*added_ppks)
    if added_ampk:
        keep.ampk_categories.add(*added_ampk)

    merge = BeneficiaryMerge.objects.create(
        survivor=keep,
        merged=gone,
        reason=reason,
        merged_by=by,
        moved={
            "cases": case_ids,
            "family_members": family_ids,
            "earlier_merged_records": earlier_ids,
            "distinct_from": distinct_ids,
            "distinct_from_each_other": dropped_distinct,
            "ppks_types": added_ppks,
            "ampk_categories": added_ampk,
            "filled": filled,
            "survivor_before": survivor_before,
            "merged_record": merged_record,
        },
    )
    for case in Case.objects.filter(beneficiary=keep).order_by("pk"):
        timeline_add(
            case=case,
            kind=TimelineKind.MERGE,
            actor=by,
            obj=merge,
            at=now,
            merged_id=gone.pk,
            merged_name=gone.full_name,
        )
    survivor.refresh_from_db()
    merged.refresh_from_db()
    return merge
