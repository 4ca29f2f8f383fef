"""What the apps register with the kernel and with the case pages, once loaded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from atensi.core import access, localtime, reminders, retention
from atensi.core.models import Notification
from atensi.core.notification_kinds import kind_choices, kind_label, validate_kind
from cases import pages

EVERY_KIND = {
    "referral_received",
    "referral_accepted",
    "referral_declined",
    "referral_cancelled",
    "referral_completed",
    "referral_message",
    "follow_up_due",
    "follow_up_overdue",
    "aftercare_missed",
    "referral_answer_soon",
    "referral_overdue",
    "stage_stalled",
    "agreement_expiring",
    "approval_waiting",
    "approval_requested",
    "approval_decided",
    "report_case_opened",
    "cases_reassigned",
    "contact_requested",
    "subject_access_recorded",
    "subject_access_due",
    "subject_access_overdue",
    "denied_access_burst",
    "export_ready",
    "export_failed",
}


def test_every_app_registers_its_notification_kinds() -> None:
    assert {value for value, _label in kind_choices()} == EVERY_KIND
    with translation.override("en"):
        assert kind_label("follow_up_due") == "Follow-up due"
        assert kind_label("agreement_expiring") == "Agreement about to expire"


def test_an_unregistered_kind_is_refused_as_choices_did() -> None:
    validate_kind("referral_received")
    with pytest.raises(ValidationError) as refused:
        validate_kind("no_such_kind")
    assert refused.value.code == "invalid_choice"
    notification = Notification(kind="no_such_kind")
    with pytest.raises(ValidationError) as invalid:
        notification.clean_fields(exclude=["recipient"])
    assert "kind" in invalid.value.message_dict


def test_every_app_registers_its_reminder_rules() -> None:
    modules = {rule.__module__ for rule in reminders._RULES}
    assert {"stakeholders.reminders", "cases.reminders", "referrals.reminders"} <= modules


def test_an_unregistered_kind_reads_as_its_code() -> None:
    assert kind_label("no_such_kind") == "no_such_kind"


def test_stakeholders_provides_memberships_checks_zones_and_a_clean_up() -> None:
    assert access._roles_of is not None
    assert access._role_permissions
    assert reminders._DELIVERY_CHECKS
    assert localtime._user_zones is not None
    assert "import_previews" in retention._SWEEPS


def test_referrals_fill_the_case_pages() -> None:
    assert "referrals/case_tab.html" in pages.TABS
    assert [p.template for p in pages.PANELS] == ["referrals/case_panel.html"]
    assert [link.template for link in pages.PLAN_ITEM_LINKS] == ["referrals/plan_item_link.html"]
