"""Admin for users, organisations and memberships: scoped, and writing through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from atensi.admin import PortalAdmin
from atensi.errors import ApplicationError

from . import selectors, services
from .models import Membership, Organisation, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["organisation", "role", "is_active"]
    readonly_fields = ["organisation", "role", "is_active"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(PortalAdmin, DjangoUserAdmin):
    scope = staticmethod(selectors.users_visible_to)
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role", "memberships__organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]
    inlines = [MembershipInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("ATENSI", {"fields": ("phone", "preferred_language")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a national admin hands out admin rights; org admins manage roles
            # through memberships.
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly


@admin.register(Organisation)
class OrganisationAdmin(PortalAdmin):
    scope = staticmethod(selectors.organisations_administered_by)
    list_display = ["code", "name", "kind", "parent", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("code")  # the code is in every case number already issued
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        try:
            if change:
                changes = {
                    f: form.cleaned_data[f] for f in form.changed_data if f in services.ORGANISATION_EDITABLE_FIELDS
                }
                services.organisation_update(organisation=obj, by=request.user, **changes)
            else:
                created = services.organisation_create(
                    code=obj.code, name=obj.name, kind=obj.kind, parent=obj.parent, notes=obj.notes, by=request.user
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            raise ValidationError(str(exc)) from exc


@admin.register(Membership)
class MembershipAdmin(PortalAdmin):
    scope = staticmethod(selectors.memberships_visible_to)
    list_display = ["user", "organisation", "role", "is_active", "updated_at"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "organisation__name",
        "organisation__code",
    ]
    autocomplete_fields = ["user", "organisation"]
    list_select_related = ["user", "organisation"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A role is granted or revoked, never silently turned into another role.
        return ["user", "organisation", "role", "created_at", "updated_at"] if obj else []

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        try:
            if change:
                services.membership_set_active(membership=obj, by=request.user, active=obj.is_active)
            else:
                created = services.membership_add(
                    organisation=obj.organisation, user=obj.user, role=obj.role, by=request.user
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            messages.error(request, str(exc))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and not request.user.is_superuser and "organisation" in form.base_fields:
            field = form.base_fields["organisation"]
            field.queryset = selectors.organisations_administered_by(request.user)  # type: ignore[attr-defined]
        return form
