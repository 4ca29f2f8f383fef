"""django.contrib.admin with the portal's admin site (atensi.core.admin_site): a module of
its own, imported while the apps load, before any model may be."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "atensi.core.admin_site.PortalAdminSite"
