"""What stakeholders notify about (registered with atensi.core.notification_kinds)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from atensi.core.notification_kinds import register_kinds


@register_kinds
class NotificationKind(models.TextChoices):
    # A reminder (stakeholders.reminders).
    AGREEMENT_EXPIRING = "agreement_expiring", _("Agreement about to expire")
    # Someone asked for many records not theirs to see (stakeholders.denials).
    DENIED_ACCESS_BURST = "denied_access_burst", _("Many refused requests by one account")
