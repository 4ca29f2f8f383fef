"""What referrals notify about (registered with atensi.core.notification_kinds)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from atensi.core.notification_kinds import register_kinds


@register_kinds
class NotificationKind(models.TextChoices):
    # Events, in the bell the moment they happen (referrals.notify).
    REFERRAL_RECEIVED = "referral_received", _("Referral received")
    REFERRAL_ACCEPTED = "referral_accepted", _("Referral accepted")
    REFERRAL_DECLINED = "referral_declined", _("Referral declined")
    REFERRAL_CANCELLED = "referral_cancelled", _("Referral cancelled")
    REFERRAL_COMPLETED = "referral_completed", _("Referral completed")
    REFERRAL_MESSAGE = "referral_message", _("Message on a referral")
    # Reminders and escalations (referrals.reminders).
    REFERRAL_ANSWER_SOON = "referral_answer_soon", _("Referral waiting for an answer")
    REFERRAL_OVERDUE = "referral_overdue", _("Referral not answered in time")
