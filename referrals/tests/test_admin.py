"""The referrals admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from referrals.admin import ReferralAdmin
from referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_the_admin_of_referrals_is_for_the_superuser(officer):
    """Security review: a staff member of a receiver reads no referral in the admin."""
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    request = RequestFactory().get("/admin/referrals/referral/")
    request.user = officer
    admin = ReferralAdmin(Referral, site)
    assert not admin.has_view_permission(request)
    assert not admin.get_queryset(request).exists() or not admin.has_module_permission(request)
