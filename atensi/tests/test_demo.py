"""Demo data: the accounts the README promises, loaded idempotently."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.demo import DEMO_ACCOUNTS, DEMO_TOTP_KEY_BASE32
from atensi.testing.second_factor import authenticator
from stakeholders.models import Membership, Organisation, User
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent():
    call_command("load_demo")
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("load_demo")
    call_command("load_reference")
    assert (Organisation.objects.count(), User.objects.count(), Membership.objects.count()) == counts


def test_demo_accounts_log_in_with_the_documented_password(client):
    call_command("load_demo")
    for username, *_rest in [("admin",), *DEMO_ACCOUNTS]:
        # Through the login page, as people do (and as login throttling needs: a request).
        response = client.post(reverse("login"), {"username": username, "password": "atensi-demo-2026"})
        assert response.status_code == 302, username
        client.logout()


def test_demo_accounts_that_need_a_second_factor_sign_in_with_the_demo_code(client, capsys):
    call_command("load_demo")
    client.post(reverse("login"), {"username": "supervisor.alyatama", "password": "atensi-demo-2026"})
    assert client.get(reverse("home"))["Location"].startswith(reverse("stakeholders:second_factor_verify"))
    capsys.readouterr()
    call_command("demo_otp", "supervisor.alyatama")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    response = client.post(reverse("stakeholders:second_factor_verify"), {"code": code, "next": "/"})
    assert response.status_code == 302 and client.get(reverse("home")).status_code == 200
    # The README's key is the key: an app set up with it shows the same code.
    assert DEMO_TOTP_KEY_BASE32 in (settings.BASE_DIR / "README.md").read_text()
    # A social worker signs in with the password alone; demo_otp names no code for them.
    assert not TOTPDevice.objects.filter(user__username="peksos.alyatama").exists()
    with pytest.raises(CommandError):
        call_command("demo_otp", "peksos.alyatama")


def test_demo_otp_never_prints_a_real_accounts_code(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    authenticator(boss)  # the tests' key, not the demo's
    with pytest.raises(CommandError, match="not the demo's"):
        call_command("demo_otp", boss.username)


def test_demo_roles_are_as_documented():
    call_command("load_demo")

    def roles(username):
        return set(Membership.objects.filter(user__username=username).values_list("organisation__code", "role"))

    assert roles("peksos.alyatama") == {("BA-ALYATAMA", "social_worker")}
    assert roles("supervisor.alyatama") == {("BA-ALYATAMA", "supervisor")}
    assert roles("dinsos.jambi") == {("DINSOS-JAMBI", "referral_officer")}
    assert roles("lksa.jambi") == {("LKSA-KASIHBUNDA", "social_worker")}
    assert roles("peksos.rumbai") == {("BA-RUMBAI", "social_worker")}
    assert User.objects.get(username="admin").is_superuser
    assert Organisation.objects.filter(kind="lksa", name__icontains="Kota Jambi").exists()


def test_reference_data_is_loaded_by_migrations():
    from atensi.core.models import AmpkCategory, Cluster, PpksType, ServiceComponent

    assert Cluster.objects.count() == 5
    assert ServiceComponent.objects.count() == 7
    assert AmpkCategory.objects.count() == 15
    assert PpksType.objects.count() == 26
    assert PpksType.objects.get(code="anak_jalanan").cluster.code == "anak"


def test_demo_workforce_and_agreements_show_every_status():
    from stakeholders.models import Agreement, WorkforceMember

    call_command("load_demo")
    call_command("load_demo")
    assert WorkforceMember.objects.count() == 10
    assert WorkforceMember.objects.get(name="Yusuf Hidayat").user.username == "psm.jambi"
    statuses = {a.number: a.status() for a in Agreement.objects.all()}
    assert sorted(statuses.values()) == ["active", "expired", "expiring"]
    assert Agreement.objects.filter(document="").count() == 1


def test_demo_cases_are_opened_once_with_consistent_niks():
    from atensi.core.validators import parse_nik
    from atensi.demo import DEMO_CASES
    from cases.models import Beneficiary, Case, FollowUp

    call_command("load_demo")
    counts = (Beneficiary.objects.count(), Case.objects.count(), FollowUp.objects.count())
    call_command("load_demo")
    assert (Beneficiary.objects.count(), Case.objects.count(), FollowUp.objects.count()) == counts
    names = [demo.full_name for demo in DEMO_CASES]
    story = Case.objects.filter(beneficiary__full_name__in=names)
    assert story.count() == len(DEMO_CASES)

    alyatama = story.filter(organisation__code="BA-ALYATAMA")
    assert alyatama.count() == 5
    assert set(alyatama.values_list("case_manager__username", "supervisor__username").distinct()) == {
        ("peksos.alyatama", "supervisor.alyatama")
    }
    assert alyatama.filter(is_confidential=True).count() == 1
    assert story.filter(organisation__code="LKSA-KASIHBUNDA", case_manager__username="lksa.jambi").count() == 1
    assert FollowUp.objects.filter(status="pending").count() >= 2
    for child in Beneficiary.objects.filter(full_name__in=names):
        assert child.is_child()
        assert child.regency_code == "1571"
        if child.nik:
            parts = parse_nik(child.nik)
            assert parts.district_code.startswith("1571")
            assert (parts.birth_date, parts.sex) == (child.birth_date, child.sex)
    assert Beneficiary.objects.exclude(nik="").count() == 5


def test_demo_history_gives_the_dashboards_fourteen_months_in_several_kab_kota_once():
    from django.utils import timezone

    from cases.models import Case, CaseSequence
    from stakeholders.models import ReachTarget

    call_command("load_demo")
    counts = (Case.objects.count(), User.objects.count(), ReachTarget.objects.count())
    call_command("load_demo")
    assert (Case.objects.count(), User.objects.count(), ReachTarget.objects.count()) == counts
    history = Case.objects.filter(summary__startswith="Data demo")
    assert history.filter(organisation__code="BA-ALYATAMA").count() == 112
    assert history.filter(organisation__code="LKSA-HARAPANMULIA").count() == 28
    months = {(c.opened_at.year, c.opened_at.month) for c in history}
    assert len(months) == 14
    assert history.filter(closed_at__isnull=False).count() > 40
    assert history.filter(closed_at__gt=timezone.now()).count() == 0
    assert set(history.values_list("beneficiary__regency_code", flat=True)) == {"1571", "1505", "1504", "1509"}
    assert set(history.filter(organisation__code="BA-ALYATAMA").values_list("case_manager__username", flat=True)) == {
        "dedi.alyatama",
        "maya.alyatama",
    }
    # Numbers stay gap-free per organisation and year, and the counters know it.
    for sequence in CaseSequence.objects.all():
        numbers = Case.objects.filter(organisation=sequence.organisation, year=sequence.year)
        assert sorted(numbers.values_list("sequence", flat=True)) == list(range(1, sequence.last + 1))


def test_demo_occupancy_is_the_open_residential_cases():
    call_command("load_demo")
    assert Organisation.objects.get(code="BA-ALYATAMA").occupancy == 1
    assert Organisation.objects.get(code="LKSA-KASIHBUNDA").occupancy == 1
    assert Organisation.objects.get(code="LKSA-HARAPANMULIA").occupancy == 0


def test_demo_inboxes_hold_a_waiting_referral_each():
    from referrals.models import Referral, ReferralStatus
    from referrals.selectors import inbox_waiting_count

    call_command("load_demo")
    call_command("load_demo")
    waiting = Referral.objects.filter(status=ReferralStatus.SENT)
    assert set(waiting.values_list("receiver__code", flat=True)) == {"DINSOS-JAMBI", "PKH-JAMBI"}
    assert waiting.count() == 2
    assert inbox_waiting_count(User.objects.get(username="dinsos.jambi")) == 1
    assert inbox_waiting_count(User.objects.get(username="pkh.jambi")) == 1
    assert inbox_waiting_count(User.objects.get(username="peksos.rumbai")) == 0


def test_demo_has_something_due_today_and_something_overdue():
    from django.utils import timezone

    from cases.models import FollowUp, FollowUpStatus
    from referrals.models import Referral, ReferralStatus

    call_command("load_demo")
    call_command("load_demo")
    today = timezone.localdate()
    pending = FollowUp.objects.filter(status=FollowUpStatus.PENDING, assignee__username="peksos.alyatama")
    assert pending.filter(due_on=today).exists()
    assert pending.filter(due_on__lt=today).count() == 1
    overdue = Referral.objects.filter(status=ReferralStatus.SENT, respond_by__lt=timezone.now())
    assert list(overdue.values_list("receiver__code", flat=True)) == ["DINSOS-JAMBI"]
    assert Membership.objects.filter(user__username="kabid.jambi", role="supervisor").exists()


def test_the_overdue_demo_referrals_arrival_tells_the_moved_deadline():
    from django.utils import translation

    from atensi.core.localtime import WIB, format_local
    from atensi.core.models import Notification, Reminder
    from atensi.core.notifications import notification_text
    from referrals.models import Referral, ReferralStatus

    call_command("load_demo")
    late = Referral.objects.get(status=ReferralStatus.SENT, receiver__code="DINSOS-JAMBI")
    arrival = Notification.objects.get(key=f"referral:{late.pk}:sent")
    assert arrival.created_at == late.sent_at
    assert Reminder.objects.get(notification=arrival).data["respond_by"] == late.respond_by.isoformat()
    with translation.override("en"):
        # Dinas Sosial Provinsi Jambi is in WIB.
        assert notification_text(arrival).endswith(f"answer by {format_local(late.respond_by, WIB)}")


def test_a_signed_in_session_for_a_load_test_is_past_the_second_factor(org, capsys, settings):
    from django.test import Client as PlainClient

    boss = member(organisation=org, role=Role.SUPERVISOR)
    capsys.readouterr()
    call_command("signed_in_session", boss.username)
    name, value = capsys.readouterr().out.strip().split("=", 1)
    client = PlainClient()
    client.cookies[name] = value
    assert client.get(reverse("home")).status_code == 200  # no code asked, no login page
    settings.ATENSI_DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("signed_in_session", boss.username)
