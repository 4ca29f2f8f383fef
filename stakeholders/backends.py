"""Authentication backend: a user's permissions are those of the roles they actively hold."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import QuerySet

from .roles import group_name


class MembershipBackend(ModelBackend):
    """Group permissions come from active memberships, not from hand-edited user.groups.

    Revoking a membership (is_active=False) takes its permissions away at once; there
    is no second list of groups to keep in step.
    """

    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        roles = user_obj.memberships.filter(is_active=True, organisation__is_active=True).values_list("role", flat=True)
        names = {group_name(role) for role in roles}
        return Permission.objects.filter(group__name__in=names)
