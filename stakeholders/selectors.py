"""Reads of organisations and memberships, scoped to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Left, Upper
from django.http import Http404

from atensi.core.access import actor_for, get_or_404
from atensi.core.models import AccessLog

from .agreements import agreements_editable_by as agreements_editable_by  # re-exported: stakeholders/agreements.py
from .agreements import agreements_visible_to as agreements_visible_to  # re-exported: stakeholders/agreements.py
from .finder import nearest_organisations as nearest_organisations  # re-exported: stakeholders/finder.py
from .models import (
    REGION_CODE_LENGTHS,
    Agreement,
    Membership,
    Organisation,
    OrganisationKind,
    ReachTarget,
    Region,
    RegionLevel,
    User,
)
from .permissions import REPORT_ROLES, FigureScope, is_national_admin
from .roles import Role
from .workforce import workforce_visible_to as workforce_visible_to  # re-exported: stakeholders/workforce.py


def organisations_administered_by(user: User) -> QuerySet[Organisation]:
    """Organisations whose profile and staff the user may manage."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=actor.org_ids_with_perm("stakeholders.change_organisation"))


def organisations_reportable_by(user: User) -> QuerySet[Organisation]:
    """Organisations whose monthly report `user` may read (permissions.REPORT_ROLES), by name."""
    actor = actor_for(user)
    qs = Organisation.objects.filter(is_active=True)
    if not actor.is_superuser:
        qs = qs.filter(pk__in=actor.org_ids(*REPORT_ROLES))
    return qs.order_by("name", "pk")


def report_regions(figures: FigureScope) -> list[Region]:
    """The provinces and kab/kota whose monthly report a reader of `figures` may choose: every
    province for a national reader; else the regions their Dinas Sosial covers, and the
    kab/kota of a covered province."""
    if figures.national:
        return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("name"))
    if not figures.region_codes:
        return []
    provinces = [code for code in figures.region_codes if len(code) == 2]
    return list(
        Region.objects.filter(
            Q(code__in=figures.region_codes) | Q(parent_id__in=provinces, level=RegionLevel.REGENCY)
        ).order_by("code")
    )


def report_region_get(*, figures: FigureScope, code: str) -> Region:
    """A province or kab/kota whose figures a reader of `figures` may read; else not found."""
    region = get_or_404(
        Region.objects.filter(level__in=[RegionLevel.PROVINCE, RegionLevel.REGENCY]), code=(code or "").strip()
    )
    if not figures.covers_region(region.code):
        raise Http404
    return region


def organisations_with_admin_role(user: User) -> QuerySet[Organisation]:
    """Organisations the user administers by membership (a superuser's own, not every one):
    where they may record something new in an organisation's name."""
    return Organisation.objects.filter(pk__in=actor_for(user).org_ids_with_perm("stakeholders.change_organisation"))


def organisation_active_get(*, organisation_id: int | str, exclude_id: int | None = None) -> Organisation | None:
    """An active organisation by id (its name only), or None; organisations are public in the directory."""
    qs = Organisation.objects.filter(pk=organisation_id, is_active=True)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.only("pk", "name").first()


def organisations_with_staff_visible_to(user: User) -> QuerySet[Organisation]:
    """Organisations whose staff list the user may read (supervisors and org admins)."""
    actor = actor_for(user)
    if actor.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=actor.org_ids_with_perm("stakeholders.view_membership"))


def memberships_visible_to(user: User) -> QuerySet[Membership]:
    """The one scoping queryset for memberships: admin, staff pages and exports use it."""
    actor = actor_for(user)
    qs = Membership.objects.select_related("user", "organisation")
    if actor.is_superuser:
        return qs
    return qs.filter(organisation_id__in=actor.org_ids_with_perm("stakeholders.view_membership"))


def users_visible_to(user: User) -> QuerySet[User]:
    """Users the requester may see in admin: themselves and staff of organisations they manage."""
    actor = actor_for(user)
    if actor.is_superuser:
        return User.objects.all()
    orgs = actor.org_ids_with_perm("stakeholders.view_membership")
    return User.objects.filter(Q(pk=actor.user_id) | Q(memberships__organisation_id__in=orgs)).distinct()


def organisation_staff_get(*, user: User, organisation_id: object) -> Organisation:
    """An organisation whose staff `user` may see, or 404."""
    return get_or_404(organisations_with_staff_visible_to(user), pk=organisation_id)


def access_log_visible_to(user: User) -> QuerySet[AccessLog]:
    """The access log a person may search: all of it for national administrators; for a
    supervisor, the entries about their organisations' records; nothing for anyone else."""
    if is_national_admin(user):
        return AccessLog.objects.all()
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    return AccessLog.objects.filter(organisation_id__in=supervised) if supervised else AccessLog.objects.none()


def people_second_factor_resettable_by(user: User) -> QuerySet[User]:
    """Whose lost phone the user may reset (permissions.reset_second_factor_refusal, as a
    query): anyone for a national administrator, else the people of the organisations the
    user administers; never the user themselves."""
    if is_national_admin(user):
        people = User.objects.all() if user.is_superuser else User.objects.filter(is_superuser=False)
    else:
        administered = actor_for(user).org_ids(Role.ORG_ADMIN)
        people = User.objects.filter(
            pk__in=Membership.objects.filter(organisation_id__in=administered, is_active=True).values("user_id")
        )
        # Never an account reaching further than the organisation (permissions.wider_access_refusal).
        national = Membership.objects.filter(is_active=True, role=Role.NATIONAL_ADMIN).values("user_id")
        people = people.filter(is_staff=False, is_superuser=False).exclude(pk__in=national)
    return people.exclude(pk=user.pk)


def with_second_factor(user_ids: Iterable[int]) -> set[int]:
    """Which of these people have an authenticator app set up (one query)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return set(TOTPDevice.objects.filter(user_id__in=list(user_ids), confirmed=True).values_list("user_id", flat=True))


def organisation_staff_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-is_active", "user__first_name", "user__username", "role")
    )


def memberships_of_user(user: User) -> QuerySet[Membership]:
    """The user's own active roles, for their home page and navigation."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return (
        Membership.objects.filter(user_id=user.pk, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )


def organisation_agreements(*, organisation: Organisation) -> QuerySet[Agreement]:
    """The agreements an organisation is party to, with all parties, newest expiry first."""
    return organisation.agreements.prefetch_related("parties").order_by("-valid_until", "pk")


def agreements_with_documents_for(user: User) -> QuerySet[Agreement]:
    """Agreements whose document `user` may open: those of organisations they act for.

    An agreement's text is between its parties; everyone else sees only that it exists.
    """
    actor = actor_for(user)
    if actor.is_superuser:
        return Agreement.objects.all()
    return Agreement.objects.filter(parties__in=actor.org_ids()).distinct()


def organisations_covering(*, region: Region, kinds: Iterable[str] = ()) -> QuerySet[Organisation]:
    """Active organisations whose coverage includes `region` (a village, usually).

    Coverage holds provinces, regencies/cities or districts; a region is covered when one
    of them is the region itself or contains it, which with Kemendagri codes is "one of
    the region's code prefixes" — an indexed IN over at most four codes.
    """
    qs = Organisation.objects.filter(is_active=True, coverage__code__in=region.ancestors_codes())
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    return qs.distinct().order_by("name", "pk")


# The Dinas Sosial, provincial and of a kab/kota: the government's social service that
# oversees the organisations of the regions it covers.
SOCIAL_SERVICE_KINDS: tuple[str, ...] = (OrganisationKind.DINSOS_KABKOTA, OrganisationKind.DINSOS_PROVINSI)


def region_code_prefixes(code: str) -> list[str]:
    """The code of a region and of every region containing it ("1571011001" -> "15",
    "1571", "157101", "1571011001"): the codes a covering coverage entry can have."""
    return [code[:n] for n in sorted(REGION_CODE_LENGTHS.values()) if n <= len(code)]


def _location_codes(organisation: Organisation) -> list[str]:
    codes = {
        c for code in (organisation.village_id, organisation.home_region_id) if code for c in region_code_prefixes(code)
    }
    return sorted(codes)


def social_services_covering(organisation: Organisation) -> QuerySet[Organisation]:
    """The active Dinas Sosial (kab/kota and provincial) whose coverage includes where the
    organisation is (its village, and its home province or kab/kota), itself excluded;
    nothing for an organisation placed nowhere."""
    codes = _location_codes(organisation)
    if not codes:
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(is_active=True, kind__in=SOCIAL_SERVICE_KINDS, coverage__code__in=codes)
        .exclude(pk=organisation.pk)
        .distinct()
        .order_by("name", "pk")
    )


def _remembered(user: User, name: str, wanted: frozenset[int], ask: Callable[[], Iterable[int]]) -> frozenset[int]:
    """`ask()` for `wanted`, once per user object (a request's): remembered on it as the
    actor is, under `name`. Nothing wanted: nothing asked."""
    cache: dict[frozenset[int], frozenset[int]] = getattr(user, name, None) or {}
    if wanted not in cache:
        cache[wanted] = frozenset(ask()) if wanted else frozenset()
        setattr(user, name, cache)
    return cache[wanted]


def social_services_among(user: User, organisation_ids: Iterable[int]) -> frozenset[int]:
    """Which of `organisation_ids` are active Dinas Sosial (one query, then remembered on
    the user object for the request): most supervisors work at a Balai or an LKSA, and a
    query need not ask about coverage for them."""
    wanted = frozenset(organisation_ids)
    return _remembered(
        user,
        "_atensi_social_services",
        wanted,
        lambda: Organisation.objects.filter(pk__in=wanted, is_active=True, kind__in=SOCIAL_SERVICE_KINDS).values_list(
            "pk", flat=True
        ),
    )


def social_service_covers(
    *, organisation_ids: Iterable[int], village: str, home_region: str, organisation: str
) -> Exists:
    """In a query: one of `organisation_ids` is an active Dinas Sosial whose coverage
    includes the outer row's organisation (`village`, `home_region`: OuterRef names of its
    place; `organisation`: of its id, which is never its own Dinas Sosial) — what
    `social_services_covering` answers for one organisation, for many rows at once."""
    lengths = sorted(REGION_CODE_LENGTHS.values())
    place = Q()
    for n in lengths:
        place |= Q(region_id=Left(OuterRef(village), n))
    for n in lengths[:2]:
        place |= Q(region_id=Left(OuterRef(home_region), n))
    return Exists(
        Organisation.coverage.through.objects.filter(
            place,
            organisation_id__in=sorted(set(organisation_ids)),
            organisation__is_active=True,
            organisation__kind__in=SOCIAL_SERVICE_KINDS,
        ).exclude(organisation_id=OuterRef(organisation))
    )


def organisations_covered(user: User, social_services: Iterable[int]) -> frozenset[int]:
    """The organisations one of `social_services` (active Dinas Sosial) covers, never a
    Dinas Sosial itself by its own coverage: social_service_covers asked once over the
    organisations, then remembered on the user object for the request. A query over many
    rows (a country's pending approvals) then checks a list of ids instead of evaluating
    coverage row by row."""
    wanted = frozenset(social_services)

    def ask() -> Iterable[int]:
        covers = social_service_covers(
            organisation_ids=wanted, village="village_id", home_region="home_region_id", organisation="pk"
        )
        return Organisation.objects.filter(covers).values_list("pk", flat=True)

    return _remembered(user, "_atensi_organisations_covered", wanted, ask)


# --- Regions: the picker's reads (reference data, the same for every user) ---------------

REGION_QUERY_MAX_LENGTH = 100
REGION_SEARCH_MIN_LENGTH = 3
# The label's parts, nearest first: a village's parent chain is three deep.
REGION_PATH = "parent__parent__parent"


def regions_with_path() -> QuerySet[Region]:
    """Regions with their parent chain joined, so `region_label` costs no query."""
    return Region.objects.select_related(REGION_PATH)


def region_code_from_query(query: str) -> str | None:
    """The digits of a query typed as a code ("15.71.01", "1571 01"), or None for a name."""
    digits = "".join(query.replace(".", " ").split())
    return digits if digits.isdigit() else None


def region_search(
    *, query: str, within: str | None = None, levels: Iterable[int] = (3, 4), limit: int = 15
) -> list[Region]:
    """Regions whose name looks like `query` (typos tolerated) or whose code starts with it.

    Name matching is pg_trgm word similarity on UPPER(name), which the `region_name_trgm`
    GIN index answers; exact and prefix matches come first, then the closest, then the
    higher level. `within` is a code prefix (a province or a regency/city) that scopes
    the search. Queries too short to mean anything find nothing.
    """
    text = " ".join(query.split())[:REGION_QUERY_MAX_LENGTH]
    qs = Region.objects.filter(level__in=list(levels))
    if within:
        qs = qs.filter(code__startswith=within)
    code = region_code_from_query(text)
    if code is not None:
        if not 2 <= len(code) <= REGION_CODE_LENGTHS[RegionLevel.VILLAGE]:
            return []
        return list(qs.filter(code__startswith=code).select_related(REGION_PATH).order_by("level", "code")[:limit])
    if len(text) < REGION_SEARCH_MIN_LENGTH:
        return []
    needle = text.upper()
    rank = {
        "exact": Case(When(uname=needle, then=Value(True)), default=Value(False)),
        "prefix": Case(When(uname__startswith=needle, then=Value(True)), default=Value(False)),
        "word_score": TrigramWordSimilarity(needle, "uname"),
        "score": TrigramSimilarity("uname", needle),
    }
    order = ["-exact", "-prefix", "-word_score", "-score", "level", "name", "code"]
    # Rank on the bare table through region_name_trgm, then join the parent chain of
    # the few winners only: joining first means hashing all 91,000 regions.
    ranked = qs.annotate(uname=Upper("name")).filter(uname__trigram_word_similar=needle).annotate(**rank)
    best = ranked.order_by(*order).values("code")[:limit]
    found = regions_with_path().filter(code__in=Subquery(best)).annotate(uname=Upper("name"), **rank)
    return list(found.order_by(*order))


def region_children(*, parent_code: str | None) -> QuerySet[Region]:
    """The regions directly under `parent_code`, by name; the provinces when it is empty."""
    if not parent_code:
        return Region.objects.filter(level=RegionLevel.PROVINCE).order_by("name")
    return Region.objects.filter(parent_id=parent_code).order_by("name", "code")


def region_get(*, code: str) -> Region | None:
    """The region with this code (dots allowed) and its parent chain, or None."""
    digits = region_code_from_query(code)
    if not digits:
        return None
    return regions_with_path().filter(code=digits).first()


def region_label(region: Region) -> str:
    """The full path, nearest first: "Telanaipura, Telanaipura, Kota Jambi, Jambi".

    Free for regions from `regions_with_path()`; one query per missing parent otherwise.
    """
    names: list[str] = []
    current: Region | None = region
    while current is not None:
        names.append(current.name)
        current = current.parent
    return ", ".join(names)


def members_by_org(org_ids: Iterable[int], roles: Iterable[str]) -> dict[int, dict[str, list[int]]]:
    """{organisation id: {role: [user ids]}} of active memberships of active users, in one
    query; user ids in ascending order. For the reminder rules and notifications of the
    apps, so a rule never asks per row (not scoped: nobody sees the result)."""
    ids = sorted({pk for pk in org_ids if pk is not None})
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    if not ids:
        return found
    rows = (
        Membership.objects.filter(organisation_id__in=ids, role__in=list(roles), is_active=True, user__is_active=True)
        .order_by("organisation_id", "role", "user_id")
        .values_list("organisation_id", "role", "user_id")
    )
    for org_id, role, user_id in rows:
        found[org_id][role].append(user_id)
    return found


def holders(members: dict[int, dict[str, list[int]]], org_id: int, roles: Iterable[str]) -> list[int]:
    """User ids holding any of `roles` in the organisation (from `members_by_org`), sorted."""
    by_role = members.get(org_id, {})
    return sorted({user_id for role in roles for user_id in by_role.get(role, [])})


# --- Figures ---------------------------------------------------------------------------------


def organisation_figures_get(*, scope: FigureScope, organisation_id: object) -> Organisation:
    """An organisation whose own figures the reader may read (`figure_scope_for`), else 404."""
    try:
        pk = int(str(organisation_id))
    except ValueError:
        raise Http404 from None
    if not scope.reads_organisation(pk):
        raise Http404
    return get_or_404(Organisation.objects.select_related("home_region"), pk=pk)


def organisations_named(ids: Iterable[int], *, national: bool = True) -> list[tuple[int, str]]:
    """(id, name) of these organisations, by name (`national=False`: but national ones)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    qs = Organisation.objects.filter(pk__in=wanted)
    if not national:
        qs = qs.filter(is_national=False)
    return list(qs.order_by("name").values_list("pk", "name"))


def regions_named(*, parent_code: str = "", codes: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) of the provinces (no parent), of the regions directly under `parent_code`,
    or of exactly `codes`, by code."""
    if codes is not None:
        qs = Region.objects.filter(code__in=sorted(set(codes)))
    elif parent_code:
        qs = Region.objects.filter(parent_id=parent_code)
    else:
        qs = Region.objects.filter(level=RegionLevel.PROVINCE)
    return list(qs.order_by("code").values_list("code", "name"))


def reach_target_for(*, organisation_id: int, year: int) -> int | None:
    """The organisation's target of children reached in `year`, if one is set."""
    return (
        ReachTarget.objects.filter(organisation_id=organisation_id, year=year).values_list("target", flat=True).first()
    )


def organisations_by_ids(ids: Iterable[int]) -> list[Organisation]:
    """The organisations of these ids, by name (a choice among those a rule allowed)."""
    return list(Organisation.objects.filter(pk__in=list(ids)).order_by("name", "pk"))
