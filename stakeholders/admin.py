"""Admin for users, organisations and memberships: scoped, and writing through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.core.admin import PortalAdmin
from atensi.core.errors import ApplicationError

from . import selectors, services
from .http import request_user
from .models import Agreement, ImportBatch, Membership, Organisation, ReachTarget, Region, User, WorkforceMember
from .second_factor import reset_second_factor

# Second-factor devices are credentials: their owner sets them up in the portal and an
# administrator resets them (the action below, or the staff page); admin never edits them.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


class MembershipInline(admin.TabularInline[Membership, User]):
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
class UserAdmin(PortalAdmin[User], DjangoUserAdmin[User]):
    scope = staticmethod(selectors.users_visible_to)
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff", "last_login"]
    # Not by organisation: a filter lists every one of them (10,000 links on every page);
    # an organisation's people are its memberships (MembershipAdmin, searchable).
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    show_full_result_count = False
    search_fields = ["username", "first_name", "last_name", "email"]
    inlines = [MembershipInline]
    actions = ["end_user_sessions", "reset_second_factors"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("ATENSI", {"fields": ("phone", "preferred_language")}),
    )

    @admin.action(description=_("End the selected users' sessions (sign them out everywhere)"))
    def end_user_sessions(self, request: HttpRequest, queryset: Any) -> None:
        users = list(queryset)
        for user in users:
            services.end_sessions(user)
        self.message_user(request, _("%(count)s users were signed out everywhere.") % {"count": len(users)})

    @admin.action(description=_("Reset the selected users' second factor (a lost phone)"))
    def reset_second_factors(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for user in queryset:
            try:
                reset_second_factor(by=request_user(request), user=user)
            except ApplicationError as error:
                self.message_user(request, f"{user}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("The second factor of %(count)s users was reset.") % {"count": done})

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a national admin hands out admin rights; org admins manage roles
            # through memberships.
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly


@admin.register(Region)
class RegionAdmin(PortalAdmin[Region]):
    """Read-only: regions come from `load_regions`. Searchable for the autocompletes."""

    scope = staticmethod(lambda user: Region.objects.all())
    list_display = ["dotted_code", "name", "level", "parent", "postal_code", "latitude", "longitude"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    ordering = ["code"]
    show_full_result_count = False  # counting 91,599 rows on every search is wasted work

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Public reference data: any admin user may look regions up (and use the autocompletes).
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # "15.71.01" finds by code; a name uses the trigram index on upper(name).
        term = search_term.strip().replace(".", "")
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)


class OrganisationAdminForm(forms.ModelForm[Organisation]):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The same region rules the service applies, shown on the form instead of a 500.
        candidate = Organisation(
            village=cleaned.get("village", self.instance.village if self.instance.pk else None),
            home_region=cleaned.get("home_region", self.instance.home_region if self.instance.pk else None),
        )
        try:
            services.organisation_check_regions(candidate, cleaned.get("coverage"))
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(PortalAdmin[Organisation]):
    form = OrganisationAdminForm
    scope = staticmethod(selectors.organisations_administered_by)
    list_display = ["code", "name", "kind", "home_region", "accreditation", "capacity", "is_active", "updated_at"]
    list_filter = ["kind", "is_active", "is_national", "accreditation", "clusters", "components"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "home_region", "village", "coverage"]
    filter_horizontal = ["clusters", "components"]
    list_select_related = ["home_region"]
    # The occupancy is the count of open residential cases (recount_occupancy), not typed in.
    readonly_fields = ["occupancy", "created_at", "updated_at"]
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "parent", "is_active", "is_national")}),
        (_("Location"), {"fields": ("home_region", "address", "village", "latitude", "longitude", "coverage")}),
        (_("Contact"), {"fields": ("phone", "whatsapp", "email")}),
        (
            _("Services"),
            {
                "fields": (
                    "clusters",
                    "components",
                    "capacity",
                    "occupancy",
                    "accreditation",
                    "accreditation_expires",
                    "registration_number",
                )
            },
        ),
        (None, {"fields": ("notes", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("code")  # the code is in every case number already issued
        if not request.user.is_superuser:
            readonly += list(services.ORGANISATION_NATIONAL_FIELDS)
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        fields = services.ORGANISATION_EDITABLE_FIELDS
        try:
            if change:
                changes = {f: form.cleaned_data[f] for f in form.changed_data if f in fields}
                services.organisation_update(organisation=obj, by=request_user(request), **changes)
            else:
                profile = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data and f != "parent"}
                created = services.organisation_create(
                    code=obj.code,
                    name=obj.name,
                    kind=profile.pop("kind"),
                    parent=obj.parent,
                    notes=profile.pop("notes", ""),
                    by=request_user(request),
                    **{k: v for k, v in profile.items() if k not in ("name",)},
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            raise ValidationError(str(exc)) from exc

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The services above already set the many-to-many fields; the admin's own
        # save_m2m would write them a second time, outside the service's checks.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Membership)
class MembershipAdmin(PortalAdmin[Membership]):
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
                services.membership_set_active(membership=obj, by=request_user(request), active=obj.is_active)
            else:
                created = services.membership_add(
                    organisation=obj.organisation, user=obj.user, role=obj.role, by=request_user(request)
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            messages.error(request, str(exc))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and not request.user.is_superuser and "organisation" in form.base_fields:
            field = form.base_fields["organisation"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = selectors.organisations_administered_by(request_user(request))
        return form


@admin.register(WorkforceMember)
class WorkforceMemberAdmin(PortalAdmin[WorkforceMember]):
    # National admins only: organisations maintain their workforce by import, where
    # every row goes through the same validation.
    superuser_only = True
    list_display = ["name", "kind", "organisation", "phone", "certificate_expires", "is_active"]
    list_filter = ["kind", "is_active", "organisation__kind"]
    search_fields = ["name", "nik", "organisation__name", "organisation__code"]
    autocomplete_fields = ["organisation", "regions", "user"]
    list_select_related = ["organisation"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Agreement)
class AgreementAdmin(PortalAdmin[Agreement]):
    superuser_only = True
    list_display = ["number", "title", "signed_on", "valid_from", "valid_until", "status_display"]
    search_fields = ["number", "title", "parties__name", "parties__code"]
    list_filter = ["valid_until"]
    autocomplete_fields = ["parties", "created_by"]
    date_hierarchy = "valid_until"
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("status"))
    def status_display(self, obj: Agreement) -> str:
        return str(obj.get_status_display())


@admin.register(ImportBatch)
class ImportBatchAdmin(PortalAdmin[ImportBatch]):
    superuser_only = True
    list_display = ["created_at", "kind", "organisation", "uploaded_by", "filename", "status", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["filename", "organisation__name", "uploaded_by__username"]
    list_select_related = ["organisation", "uploaded_by"]
    exclude = ["rows"]  # thousands of rows of JSON are not for reading in a form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReachTarget)
class ReachTargetAdmin(PortalAdmin[ReachTarget]):
    """Annual reach targets: set nationally, by superusers only."""

    superuser_only = True
    deletable = True  # a number for planning, no record of anyone
    list_display = ["organisation", "year", "target"]
    list_filter = ["year"]
    search_fields = ["organisation__name", "organisation__code"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Which organisation and year a target is for is fixed once set; the number changes.
        return ["organisation", "year"] if obj else []

    def save_model(self, request: HttpRequest, obj: ReachTarget, form: Any, change: bool) -> None:
        try:
            saved = services.reach_target_set(
                organisation=obj.organisation, year=obj.year, target=obj.target, by=request_user(request)
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return
        obj.pk = saved.pk
