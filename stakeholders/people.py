"""The people directory of national administrators: every account, whatever its
organisation, found by name, username or e-mail; a person's organisations and roles,
whether they have a second factor, when they last signed in; and signing a person out
everywhere (permissions.end_sessions_refusal).

Fifty thousand accounts are never listed unfiltered: a search of at least
PEOPLE_QUERY_MIN_LENGTH characters is asked for first. Each word must be in the first
name, the last name, the username or the e-mail; every LIKE is the expression of a trigram
index on the user table (user_*_trgm), so a word is found anywhere in a name without a
scan. Pages are keyed on (username, id), never on an offset.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from atensi.core import keyset
from atensi.core.access import get_or_404
from atensi.core.errors import require

from .models import Membership, User
from .permissions import can_search_people, end_sessions_refusal
from .roles import Role
from .selectors import people_second_factor_resettable_by, with_second_factor
from .services import end_sessions

PEOPLE_QUERY_MIN_LENGTH = 3
PEOPLE_QUERY_MAX_LENGTH = 100
PAGE_SIZE = 50
_CURSOR_SALT = "stakeholders.people"
_ORDER = (("username", False), ("pk", False))


@dataclass(frozen=True)
class Holding:
    organisation_id: int
    organisation_name: str
    role: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass(frozen=True)
class PersonRow:
    pk: int
    name: str
    username: str
    email: str
    is_active: bool
    last_login: datetime.datetime | None
    holdings: list[Holding]
    has_second_factor: bool


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    next_cursor: str | None
    searched: bool  # False: the query was too short to search with


def people_visible_to(user: User) -> QuerySet[User]:
    """Every account for a national administrator; nobody for anyone else (their pages 404)."""
    return User.objects.all() if can_search_people(user) else User.objects.none()


def person_get(*, user: User, person_id: object) -> User:
    return get_or_404(people_visible_to(user), pk=person_id)


def people_sessions_endable_by(user: User) -> QuerySet[User]:
    """Whom the user may sign out everywhere (permissions.end_sessions_refusal, as a query):
    the same people as for a second-factor reset, whose rule has the same shape."""
    return people_second_factor_resettable_by(user)


def clean_query(query: str) -> str:
    return " ".join((query or "").split())[:PEOPLE_QUERY_MAX_LENGTH]


def _matching(query: str) -> Q:
    condition = Q()
    for word in query.split():
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return condition


def people_page(*, user: User, query: str, after: str | None, size: int = PAGE_SIZE) -> PeoplePage:
    """One page of the people matching `query` (see the module's docstring), by username."""
    text = clean_query(query)
    if len(text) < PEOPLE_QUERY_MIN_LENGTH:
        return PeoplePage(rows=[], next_cursor=None, searched=False)
    qs = people_visible_to(user).filter(_matching(text)).order_by("username", "pk")
    cursor = keyset.decode_cursor(after, salt=_CURSOR_SALT)
    if cursor is not None:
        qs = qs.filter(keyset.rows_after(_ORDER, [cursor[0]], cursor[1]))
    people = list(qs.only("pk", "first_name", "last_name", "username", "email", "is_active", "last_login")[: size + 1])
    next_cursor = None
    if len(people) > size:
        people = people[:size]
        next_cursor = keyset.encode_cursor(people[-1].username, people[-1].pk, salt=_CURSOR_SALT)
    return PeoplePage(rows=person_rows(people), next_cursor=next_cursor, searched=True)


def person_rows(people: list[User]) -> list[PersonRow]:
    """Rows for these people: two queries whatever their number (their active roles, and
    who has an authenticator app)."""
    ids = [p.pk for p in people]
    holdings: dict[int, list[Holding]] = defaultdict(list)
    memberships = (
        Membership.objects.filter(user_id__in=ids, is_active=True)
        .order_by("organisation__name", "role")
        .values_list("user_id", "organisation_id", "organisation__name", "role")
    )
    for user_id, organisation_id, organisation_name, role in memberships:
        holdings[user_id].append(Holding(organisation_id, organisation_name, role))
    secured = with_second_factor(ids) if ids else set()
    return [
        PersonRow(
            pk=p.pk,
            name=p.get_full_name(),
            username=p.username,
            email=p.email,
            is_active=p.is_active,
            last_login=p.last_login,
            holdings=holdings[p.pk],
            has_second_factor=p.pk in secured,
        )
        for p in people
    ]


@transaction.atomic
def person_sessions_end(*, by: User, user: User) -> None:
    """Every session of `user` ends at its next request (their session version is raised,
    in their history with who did it): a stolen laptop, a computer left signed in."""
    require(end_sessions_refusal(by, user))
    locked = User.objects.select_for_update().get(pk=user.pk)
    end_sessions(locked)
