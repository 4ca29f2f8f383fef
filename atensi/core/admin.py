"""Admin building blocks: scoped querysets, writes through services, pghistory on the History page.

Every ModelAdmin of the portal inherits PortalAdmin. Superusers see everything; other
staff see only what the model family's scoping function returns for them, the same
function the portal's own pages use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pghistory.models
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from pghistory.admin import core as pghistory_admin

from .models import AccessLog, AmpkCategory, Cluster, ErasureRun, PpksType, ReferenceItem, ServiceComponent

# Who edits the national policies (referral answer deadlines, the reference lists) besides
# superusers: the rule is stakeholders' (national administrators), registered at start-up.
_national_policy_editor: list[Callable[[Any], bool]] = []


def register_national_policy_editors(rule: Callable[[Any], bool]) -> None:
    _national_policy_editor[:] = [rule]


def edits_national_policies(user: Any) -> bool:
    return bool(user.is_superuser or (_national_policy_editor and _national_policy_editor[0](user)))


class PortalAdmin[M: Model](admin.ModelAdmin[M]):
    """Scoped, audited admin.

    `scope` is the model family's scoping function (user -> queryset). Non-superusers
    get exactly that; a record outside it is a 404 on every admin URL.

    Nothing is deleted from admin, by superusers neither: people, organisations, cases and
    their records are deactivated, withdrawn or closed through the services, and the
    retention run is the one documented deletion. `deletable` opens it for configuration
    that is no record of anyone (a reach target).
    """

    scope: Callable[[Any], QuerySet[M]] | None = None
    superuser_only = False
    deletable = False
    # A national policy (no record of anyone): superusers and national administrators
    # edit it, with the model permissions their role's group holds.
    national_policy = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        qs = super().get_queryset(request)
        if request.user.is_superuser or (self.national_policy and edits_national_policies(request.user)):
            return qs
        if self.superuser_only or type(self).scope is None:
            return qs.none()
        scoped = type(self).scope(request.user)  # type: ignore[misc]
        return qs.filter(pk__in=scoped.values("pk"))

    def _allowed(self, request: HttpRequest) -> bool:
        if self.national_policy and edits_national_policies(request.user):
            return True
        return bool(request.user.is_superuser or (not self.superuser_only and type(self).scope is not None))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self.deletable and self._allowed(request) and super().has_delete_permission(request, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The object's change history from pghistory (database triggers), newest first."""
        obj = self.get_object(request, unquote(object_id))  # scoped by get_queryset
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404(_("Not found."))
        events = (
            # pghistory's manager methods carry no annotations.
            pghistory.models.MiddlewareEvents.objects.tracks(obj)  # type: ignore[no-untyped-call]
            .select_related("user")
            .order_by("-pgh_created_at")[:500]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.model._meta,
            "events": events,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/atensi/object_history.html", context)


REFERENCE_ITEM_COLUMNS: tuple[str, ...] = ("code", "name_id", "name_en", "position", "is_active")


class ReferenceItemAdmin[M: ReferenceItem](PortalAdmin[M]):
    list_display = REFERENCE_ITEM_COLUMNS
    list_filter = ["is_active"]
    search_fields = ["code", "name_id", "name_en"]
    ordering = ["position", "code"]
    superuser_only = True
    national_policy = True


admin.site.register(Cluster, ReferenceItemAdmin)
admin.site.register(ServiceComponent, ReferenceItemAdmin)
admin.site.register(AmpkCategory, ReferenceItemAdmin)


@admin.register(PpksType)
class PpksTypeAdmin(ReferenceItemAdmin[PpksType]):
    list_display = (*REFERENCE_ITEM_COLUMNS, "cluster")
    list_filter = ["is_active", "cluster"]
    autocomplete_fields = ["cluster"]


@admin.register(AccessLog)
class AccessLogAdmin(PortalAdmin[AccessLog]):
    list_display = ["at", "user", "action", "target_type", "target_id", "target_label", "ip_address"]
    # A date filter, not a date hierarchy: the access log is the largest table of all, and
    # the hierarchy reads the year of every row.
    list_filter = ["action", "target_type", "at"]
    search_fields = ["target_id", "target_label", "user__username"]
    show_full_result_count = False
    list_select_related = ["user"]
    superuser_only = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ErasureRun)
class ErasureRunAdmin(PortalAdmin[ErasureRun]):
    """The account of every retention run: read-only, never deleted (it is the proof of the
    erasure), superusers only."""

    list_display = ["started_at", "finished_at", "status", "dry_run", "trigger", "triggered_by", "beneficiaries"]
    list_filter = ["status", "dry_run", "trigger"]
    date_hierarchy = "started_at"
    list_select_related = ["triggered_by"]
    readonly_fields = [
        "id",
        "started_at",
        "finished_at",
        "status",
        "dry_run",
        "trigger",
        "triggered_by",
        "beneficiaries",
        "beneficiary_ids",
        "counts",
        "error",
    ]
    superuser_only = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def restrict_events_browser() -> None:
    """pghistory's cross-table Events browser can show any object's history by id, so it
    is for superusers only; everyone else reads history per object, through the scoped
    History page above. Called from AppConfig.ready(): pghistory registers it in its own
    ready(), after admin autodiscovery.
    """
    for events_model in (pghistory.models.MiddlewareEvents, pghistory.models.Events):
        if not admin.site.is_registered(events_model):
            continue
        base = type(admin.site.get_model_admin(events_model))
        admin.site.unregister(events_model)

        class SuperuserEventsAdmin(base):  # type: ignore[misc,valid-type]
            # Nothing until a filter is chosen (PGHISTORY_ADMIN_ALL_EVENTS), and no count
            # of every event of every table beside it (0.9 s at 1,000,000 cases).
            show_full_result_count = False

            def get_list_filter(self, request: HttpRequest) -> Any:
                # One object's events only (?obj= and ?method=, what an object's History
                # page links to): by event model, label or model, pghistory's union of
                # every event table is read whole and sorted (16 s and 79 s at 1,000,000
                # cases). Any other parameter is then no filter here, and the admin refuses
                # it (a redirect with ?e=1).
                if request.GET.get("obj") and request.GET.get("method") in ("tracks", "references"):
                    return [pghistory_admin.MethodFilter, pghistory_admin.ObjFilter, pghistory_admin.BackFilter]
                return []

            def has_module_permission(self, request: HttpRequest) -> bool:
                return bool(request.user.is_superuser)

            def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
                return bool(request.user.is_superuser)

        admin.site.register(events_model, SuperuserEventsAdmin)
