"""Admin for the case file: read-only and scoped.

Cases are changed in the portal, through the services that keep the timeline, the
numbering and the approvals right; admin is for looking things up and reading a
record's change history (pghistory). Staff who are not superusers see only what the
portal's scoping functions give them, confidential cases included in the same way.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from atensi.core.access import record_access
from atensi.core.admin import PortalAdmin
from stakeholders.http import request_user

from . import selectors
from .models import Beneficiary, BeneficiaryMerge, Case, Report, SubjectAccessRequest
from .subject_access.selectors import subject_access_requests_for


class ReadOnlyAdmin[M: Model](PortalAdmin[M]):
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Opening a child's record in admin is a view of personal data like any other.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            record_access(user=request_user(request), obj=obj, action="view", request=request)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin[Case]):
    scope = staticmethod(selectors.cases_readable_by)
    list_display = ["number", "beneficiary", "organisation", "stage", "risk_level", "is_confidential", "opened_at"]
    # A date filter, not a date hierarchy: the hierarchy reads every case's year (280 ms
    # at 1,000,000 cases), the filter's periods are ranges on the case_opened_at index.
    list_filter = ["stage", "risk_level", "is_confidential", "basis", "cluster", "opened_at"]
    search_fields = ["number", "beneficiary__full_name"]
    list_select_related = ["beneficiary", "organisation"]
    ordering = ["-opened_at"]
    show_full_result_count = False  # a second count of the whole table on every filtered page


@admin.register(Beneficiary)
class BeneficiaryAdmin(ReadOnlyAdmin[Beneficiary]):
    scope = staticmethod(selectors.beneficiaries_visible_to)
    list_display = ["full_name", "sex", "birth_date", "organisation", "regency_code", "created_at"]
    list_filter = ["sex", "cluster"]
    search_fields = ["full_name", "alias", "=nik"]
    list_select_related = ["organisation"]
    # Newest first, by the key: by name (the model's order) sorted a million children on
    # every page (310 ms).
    ordering = ["-pk"]
    show_full_result_count = False
    # The records confirmed different, or merged, are usually other organisations'
    # children: their names are not for this page.
    exclude = ["photo", "distinct_from", "merged_into"]


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin[Report]):
    scope = staticmethod(selectors.reports_visible_to)
    list_display = ["reference", "child_label", "urgency", "status", "created_at"]
    list_filter = ["status", "urgency", "channel", "created_at"]
    show_full_result_count = False


@admin.register(BeneficiaryMerge)
class BeneficiaryMergeAdmin(ReadOnlyAdmin[BeneficiaryMerge]):
    superuser_only = True
    list_display = ["merged_at", "survivor", "merged", "merged_by"]
    list_select_related = ["survivor", "merged", "merged_by"]


@admin.register(SubjectAccessRequest)
class SubjectAccessRequestAdmin(ReadOnlyAdmin[SubjectAccessRequest]):
    """The register, to look a request up: it is kept in the portal (recorded, answered,
    refused through its services), so admin only reads it, scoped like the portal."""

    scope = staticmethod(subject_access_requests_for)
    list_display = ["pk", "organisation", "beneficiary", "requester_name", "status", "received_at", "due_at"]
    list_filter = ["status", "requester_relation"]
    list_select_related = ["organisation", "beneficiary"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
