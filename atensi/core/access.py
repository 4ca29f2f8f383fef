"""The access-scoping primitive every app builds on.

`actor_for(user)` answers one question once per request: for which organisations
does this user act, and in which roles. Each model family then has one scoping
function built on it (e.g. `memberships_visible_to(user)`, `cases_visible_to(user)`),
used by every list, detail, export, admin queryset and task. Anything outside the
scope is "not found" (404), never "forbidden": an outsider must not learn that a
record exists.

The memberships behind an actor are the stakeholders app's: it registers them when it
loads (`register_memberships`), so the kernel reads no app's models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from .clientip import client_ip

_CACHE_ATTR = "_atensi_actor"

# The (organisation id, role) pairs of a user's active memberships of active organisations.
RolesOf = Callable[[int], Iterable[tuple[int, str]]]
_roles_of: RolesOf | None = None
# role -> the permissions ("app.codename") it grants.
_role_permissions: Mapping[str, Collection[str]] = {}


def register_memberships(*, roles_of: RolesOf, role_permissions: Mapping[str, Collection[str]]) -> None:
    """Where actors come from: called once by the app that holds the memberships."""
    global _roles_of, _role_permissions
    _roles_of = roles_of
    _role_permissions = role_permissions


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    is_superuser: bool = False
    is_staff: bool = False
    # organisation id -> the roles held there (active memberships of active organisations)
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def org_ids(self, *roles: str) -> frozenset[int]:
        """Organisations where the user holds any of `roles` (any role if none given)."""
        if not roles:
            return frozenset(self.roles)
        wanted = set(roles)
        return frozenset(org for org, held in self.roles.items() if held & wanted)

    def has_role(self, organisation_id: int, *roles: str) -> bool:
        held = self.roles.get(organisation_id, frozenset())
        return bool(held & set(roles)) if roles else bool(held)

    def org_ids_with_perm(self, perm: str) -> frozenset[int]:
        """Organisations where one of the user's roles grants `perm` ("app.codename")."""
        return frozenset(
            org for org, held in self.roles.items() if any(perm in _role_permissions.get(r, ()) for r in held)
        )

    def all_roles(self) -> frozenset[str]:
        return frozenset().union(*self.roles.values()) if self.roles else frozenset()


ANONYMOUS = Actor(user_id=None)


def actor_for(user: AbstractUser) -> Actor:
    """The user's organisations and roles; one query, cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached: Actor | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if _roles_of is None:
        raise ImproperlyConfigured("No app registered the memberships (atensi.core.access.register_memberships).")
    roles: dict[int, set[str]] = {}
    if user.is_active:
        for org_id, role in _roles_of(user.pk):
            roles.setdefault(org_id, set()).add(role)
    actor = Actor(
        user_id=user.pk,
        is_superuser=bool(user.is_superuser and user.is_active),
        is_staff=bool(user.is_staff and user.is_active),
        roles={org: frozenset(r) for org, r in roles.items()},
    )
    setattr(user, _CACHE_ATTR, actor)
    return actor


def forget_actor(user: AbstractUser) -> None:
    """Drop the cached actor, e.g. after the user's memberships changed in this request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


_ID = re.compile(r"[0-9]{1,18}")


def is_id(value: Any) -> bool:
    """A database id as typed in a URL or a form: ASCII digits that fit a bigint.

    (str.isdigit() also accepts "²" and other digits int() refuses.)
    """
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class RefusedByScope(Http404):
    """A 404 for a record that exists but is not the requester's to see: the same answer as
    for a record that does not exist, but a denial to record (stakeholders.denials)."""

    def __init__(self, target_type: str, target_id: str) -> None:
        super().__init__(_("Not found."))
        self.target_type = target_type
        self.target_id = target_id


def get_or_404[M: Model](queryset: QuerySet[M], **lookup: Any) -> M:
    """Fetch one object from an already scoped queryset; anything else is a 404. When the
    record exists outside the scope (one more query, on refusals only), the 404 says which."""
    try:
        return queryset.get(**lookup)
    except (ValueError, TypeError):
        # A malformed id in the URL is "not found" as well.
        raise Http404(_("Not found.")) from None
    except ObjectDoesNotExist:
        try:
            found = queryset.model._base_manager.filter(**lookup).values_list("pk", flat=True).first()
        except (ValueError, TypeError):
            found = None
        if found is not None:
            raise RefusedByScope(queryset.model._meta.label_lower, str(found)) from None
        raise Http404(_("Not found.")) from None


def record_access(
    *,
    user: AbstractUser,
    obj: Model,
    action: str = "view",
    request: HttpRequest | None = None,
    organisation_id: int | None = None,
) -> None:
    """Log that `user` saw (or downloaded, exported) `obj`. Called by the views that show personal data."""
    from .models import AccessLog

    AccessLog.objects.create(
        user_id=getattr(user, "pk", None),
        action=action,
        target_type=obj._meta.label_lower,
        target_id=str(obj.pk),
        target_label=str(obj)[:200],
        organisation_id=organisation_id,
        path=(request.get_full_path()[:300] if request is not None else ""),
        ip_address=(client_ip(request) if request is not None else None),
    )


def record_access_many(
    *, user: AbstractUser, objects: Iterable[Model], action: str, request: HttpRequest | None = None
) -> None:
    """One bulk insert for an export of many records."""
    from .models import AccessLog

    path = request.get_full_path()[:300] if request is not None else ""
    ip = client_ip(request) if request is not None else None
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                user_id=getattr(user, "pk", None),
                action=action,
                target_type=obj._meta.label_lower,
                target_id=str(obj.pk),
                target_label=str(obj)[:200],
                path=path,
                ip_address=ip,
            )
            for obj in objects
        ],
        batch_size=1000,
    )
