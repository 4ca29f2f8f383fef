"""The admin site: Django's, with a "view on site" shortcut that answers 404 rather than
crash for models that have no table of their own (pghistory's event browsers, built from
a query over every event table: asking them for one row by id raised a ProgrammingError),
and behind the second factor.

Installed through `atensi.core.admin_apps.PortalAdminConfig` in place of django.contrib.admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY


def view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404(_("Not found.")) from None
    # A model without a table (an unmanaged one, or a proxy of one) cannot be asked for a row.
    concrete = model._meta.concrete_model if model is not None else None
    if model is None or concrete is None or not model._meta.managed or not concrete._meta.managed:
        raise Http404(_("Not found."))
    return shortcut(request, content_type_id, object_id)


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        # Admin is behind the second factor: staff always need one (stakeholders.second_factor,
        # whose middleware asks for it first); a session it has not verified never gets here.
        return super().has_permission(request) and bool(request.session.get(DEVICE_ID_SESSION_KEY))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super().get_urls()
        replaced = path("r/<int:content_type_id>/<path:object_id>/", self.admin_view(view_on_site), name="view_on_site")
        return [replaced if getattr(u, "name", None) == "view_on_site" else u for u in urls]
