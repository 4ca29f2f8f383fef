"""Roles a user holds in an organisation, and what each role may do.

This module is the single definition of role permissions: the `role_groups` data
migration and the post_migrate sync build one auth Group per role from it, and the
access layer reads it to know in which organisations a user may do a thing.
Nothing about roles is clicked together in admin.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Social worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    REFERRAL_OFFICER = "referral_officer", _("Referral officer")
    INTAKE_OFFICER = "intake_officer", _("Intake officer")
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    COMMUNITY_REPORTER = "community_reporter", _("Community reporter")
    VIEWER = "viewer", _("Viewer (aggregates only)")
    # Only in an organisation marked national (Membership.clean, membership_add): receives
    # the security alerts, resets second factors anywhere, reads the whole access log.
    NATIONAL_ADMIN = "national_admin", _("National administrator")


_EVERYONE_IN_AN_ORG = {"stakeholders.view_organisation"}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.SOCIAL_WORKER: _EVERYONE_IN_AN_ORG,
    Role.SUPERVISOR: _EVERYONE_IN_AN_ORG | {"stakeholders.view_membership"},
    Role.REFERRAL_OFFICER: _EVERYONE_IN_AN_ORG,
    Role.INTAKE_OFFICER: _EVERYONE_IN_AN_ORG,
    Role.ORG_ADMIN: _EVERYONE_IN_AN_ORG
    | {
        "stakeholders.change_organisation",
        "stakeholders.view_membership",
        "stakeholders.add_membership",
        "stakeholders.change_membership",
        "stakeholders.view_user",
    },
    Role.COMMUNITY_REPORTER: set(),
    # Directorate and provincial viewers see aggregate figures, never personal data.
    Role.VIEWER: {"stakeholders.view_aggregates"},
    # National policies in admin (atensi.core.admin.PortalAdmin.national_policy): the
    # referral answer deadlines and the reference lists; never deleted.
    Role.NATIONAL_ADMIN: _EVERYONE_IN_AN_ORG
    | {"stakeholders.view_membership", "stakeholders.view_user"}
    | {"referrals.view_responsedeadline", "referrals.change_responsedeadline"}
    | {
        f"atensi.{verb}_{model}"
        for verb in ("view", "add", "change")
        for model in ("cluster", "servicecomponent", "ampkcategory", "ppkstype")
    },
}


def group_name(role: str) -> str:
    return f"role:{role}"


def sync_role_groups(apps: Any = None, *, verbosity: int = 0) -> None:
    """Create one Group per role and set its permissions exactly as ROLE_PERMISSIONS says.

    Idempotent; usable from a migration (historical `apps`) and from post_migrate.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    registry = apps or global_apps
    # Permissions are normally created after all migrations have run; make sure the
    # ones we are about to grant exist now.
    for app_config in registry.get_app_configs():
        if apps is not None:
            # Historical app configs carry no models_module; create_permissions skips
            # such apps unless told otherwise (the documented data-migration idiom).
            app_config.models_module = True
            create_permissions(app_config, apps=registry, verbosity=verbosity)
            app_config.models_module = None
        else:
            create_permissions(app_config, verbosity=verbosity)

    Group = registry.get_model("auth", "Group")
    Permission = registry.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is None:
                if apps is not None:
                    # A model of a later migration: the post_migrate sync grants it.
                    continue
                raise LookupError(f"Role {role} grants unknown permission {perm}")
            wanted.append(found)
        group.permissions.set(wanted)
