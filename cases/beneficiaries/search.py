"""The search before registration: an exact NIK match, then possible duplicates by name
(pg_trgm), born within a year, in the same kab/kota — across all organisations.

A match registered with an organisation the user does not work with is never shown by
name: it is "registered with <organisation>, born <year>", so the worker can ask that
organisation for a referral without learning who the child is. A child with a
confidential case there is not even that: only "registered elsewhere", with a signed
token to ask the holders to make contact (cases.beneficiaries.contact) — the searcher
learns that no new record is needed, not where the child is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.core import signing
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Greatest, Upper

from stakeholders.models import User

from ..models import Beneficiary, Case, Sex
from ..selectors import beneficiaries_visible_to

# Fuzzy matching: names shorter than this match too much to mean anything.
NAME_SEARCH_MIN_LENGTH = 3
NAME_SEARCH_MAX_LENGTH = 200
DUPLICATE_LIMIT = 10


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
    # Held in a confidential case by an organisation the user does not work with: the
    # organisation and the birth year are withheld; `contact_token` asks them to call.
    confidential: bool = False
    contact_token: str = ""

    @property
    def sex_label(self) -> str:
        return str(Sex(self.sex).label) if self.sex in Sex.values else ""


@dataclass(frozen=True)
class SearchResult:
    nik_match: Match | None
    matches: list[Match]
    searched: bool
    # Matches of other organisations' children were withheld: the user reached the hourly limit.
    limited: bool = False

    @property
    def foreign(self) -> list[Match]:
        """The matches of children the user may not see (other organisations')."""
        return [m for m in ([self.nik_match] if self.nik_match else []) + self.matches if not m.visible]


CONTACT_SALT = "cases.beneficiaries.contact"


def _held_confidentially() -> Exists:
    return Exists(Case.objects.filter(beneficiary_id=OuterRef("pk"), is_confidential=True))


def _match(b: Beneficiary, *, visible: bool, score: float = 0.0) -> Match:
    if not visible and getattr(b, "held_confidentially", False):
        return Match(
            pk=b.pk,
            visible=False,
            organisation_id=0,
            organisation_name="",
            birth_year=None,
            birth_date_estimated=False,
            sex="",
            score=score,
            confidential=True,
            contact_token=signing.dumps(b.pk, salt=CONTACT_SALT),
        )
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


def visible_ids(user: User, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    return set(beneficiaries_visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def nik_match(*, user: User, nik: str) -> Match | None:
    """The living record with exactly this NIK, whoever registered it."""
    if not nik:
        return None
    found = (
        Beneficiary.objects.filter(nik=nik, merged_into__isnull=True)
        .annotate(held_confidentially=_held_confidentially())
        .select_related("organisation", "village")
        .order_by()
        .first()
    )
    if found is None:
        return None
    return _match(found, visible=bool(visible_ids(user, [found.pk])))


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
        qs.annotate(score=score, held_confidentially=_held_confidentially())
        .select_related("organisation", "village")
        .order_by("-score", "full_name", "pk")[:limit]
    )


def possible_duplicates(
    *,
    user: User,
    full_name: str,
    birth_year: int | None = None,
    regency_code: str = "",
    nik: str = "",
    exclude_ids: Iterable[int] = (),
) -> list[Match]:
    found = similar_beneficiaries(
        full_name=full_name, birth_year=birth_year, regency_code=regency_code, nik=nik, exclude_ids=exclude_ids
    )
    visible = visible_ids(user, [b.pk for b in found])
    return [_match(b, visible=b.pk in visible, score=float(getattr(b, "score", 0.0))) for b in found]


def beneficiary_search(
    *, user: User, full_name: str = "", nik: str = "", birth_year: int | None = None, regency_code: str = ""
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
