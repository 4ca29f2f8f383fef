"""Admin for referrals: the response deadlines are edited here; referrals are read-only
(answers go through the services, which keep each answer to exactly one)."""

from __future__ import annotations

from django.contrib import admin

from atensi.core.admin import PortalAdmin
from cases.admin import ReadOnlyAdmin

from . import selectors
from .models import Referral, ResponseDeadline


@admin.register(ResponseDeadline)
class ResponseDeadlineAdmin(PortalAdmin[ResponseDeadline]):
    list_display = ["urgency", "hours"]
    superuser_only = True
    national_policy = True


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin[Referral]):
    scope = staticmethod(selectors.referrals_visible_to)
    list_display = ["case", "kind", "sender", "receiver", "status", "urgency", "sent_at", "respond_by"]
    # A date filter, not a date hierarchy (every referral's year: 200 ms at 600,000), and
    # newest first by the key: by the moment sent (the model's order) sorted all of them
    # (1.4 s).
    list_filter = ["status", "kind", "urgency", "sent_at"]
    list_select_related = ["case", "sender", "receiver"]
    ordering = ["-pk"]
    show_full_result_count = False
    # The list shows case numbers, which a receiver may not see before accepting; the
    # organisations work in the portal's pages, the admin is for the superuser.
    superuser_only = True
