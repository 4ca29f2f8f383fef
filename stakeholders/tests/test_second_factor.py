"""The second factor (stakeholders.second_factor): who must give it, enrolment, the code and
the recovery codes at sign-in, throttled wrong codes, switching it off, and an
administrator's reset of a lost phone. Signing in goes through the real pages here (a plain
Django client, not the tests' verifying one)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client as PlainClient
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from atensi.core.errors import ApplicationError
from atensi.testing.second_factor import authenticator, code_now, verify_session
from stakeholders.models import Membership, User
from stakeholders.roles import Role
from stakeholders.second_factor import reset_second_factor
from stakeholders.services import membership_add
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member, user

pytestmark = pytest.mark.django_db

HOME = reverse("home")
VERIFY = reverse("stakeholders:second_factor_verify")
SETUP = reverse("stakeholders:second_factor_setup")
SECURITY = reverse("stakeholders:second_factor_security")


def signed_in(person: User, *, next_url: str = "") -> PlainClient:
    """A client past the password (only), in English."""
    client = PlainClient(HTTP_ACCEPT_LANGUAGE="en")
    data = {"username": person.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def give(client: PlainClient, code: str, *, next_url: str = "/"):
    return client.post(VERIFY, {"code": code, "next": next_url})


def enrol(client: PlainClient, person: User) -> list[str]:
    """Set up the app as a person would: read the key off the page, type its code."""
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    typed = page.content.decode()
    assert "<svg" in typed and 'role="img"' in typed  # the QR code, made here
    response = client.post(SETUP, {"code": code_now(device, reusable=False), "next": "/"})
    assert response.status_code == 302 and reverse("stakeholders:second_factor_codes") in response["Location"]
    shown = client.get(response["Location"])
    return re.findall(r'<li class="col">([a-z0-9]{10})</li>', shown.content.decode())


def test_a_supervisor_must_enrol_before_any_page_then_is_in(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    client = signed_in(boss)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    # No page of the portal, not even its navigation's counts, before the second factor.
    setup_page = client.get(SETUP).content.decode()
    assert 'data-testid="nav"' not in setup_page
    codes = enrol(client, boss)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(HOME).status_code == 200
    # The codes are shown once: the page again shows none.
    assert client.get(reverse("stakeholders:second_factor_codes")).status_code == 302


def test_enrolment_left_half_way_goes_on_with_the_same_key(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    client = signed_in(boss)
    first = client.get(SETUP).content.decode()
    again = client.get(SETUP).content.decode()
    key = re.search(r'data-testid="second-factor-key">([A-Z2-7 ]+)<', first)
    assert key and key.group(1) in again
    assert TOTPDevice.objects.filter(user=boss).count() == 1


def test_a_wrong_enrolment_code_confirms_nothing(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    client = signed_in(boss)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=boss, confirmed=True).exists()
    assert client.get(HOME).status_code == 302


def test_with_a_device_the_code_is_asked_after_the_password_and_the_page_asked_for_follows(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    device = authenticator(boss)
    wanted = reverse("cases:case_list")
    client = signed_in(boss, next_url=wanted)
    response = client.get(wanted)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    wrong = give(client, "123456", next_url=wanted)
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=5)):
        right = give(client, code_now(device, reusable=False), next_url=wanted)
    assert right.status_code == 302 and right["Location"] == wanted
    assert client.get(wanted).status_code == 200


def test_wrong_codes_slow_the_next_try_with_a_message(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    device = authenticator(boss)
    client = signed_in(boss)
    with time_machine.travel(timezone.now(), tick=False):
        give(client, "111111")
        give(client, "222222")
        # Even the right code waits: a guesser cannot try as fast as they like.
        slowed = give(client, code_now(device, reusable=False))
    assert slowed.status_code == 400 and "Too many wrong codes" in slowed.content.decode()
    assert client.get(HOME).status_code == 302


def test_a_recovery_code_signs_in_once(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    codes = enrol(signed_in(boss), boss)
    client = signed_in(boss)
    used = give(client, codes[0].upper())  # typed in capitals, with the phone gone
    assert used.status_code == 302 and client.get(HOME).status_code == 200
    left = client.get(HOME)
    assert "9 recovery codes are left" in left.content.decode() or StaticToken.objects.count() == 9
    again = give(signed_in(boss), codes[0])
    assert again.status_code == 400 and "used already" in again.content.decode()


def test_a_social_worker_is_not_asked_unless_they_enrolled(org):
    worker = member(organisation=org, role=Role.SOCIAL_WORKER)
    client = signed_in(worker)
    assert client.get(HOME).status_code == 200
    # They enrol of their own will: from then on the code is asked of them too.
    enrol(client, worker)
    later = signed_in(worker)
    assert later.get(HOME).status_code == 302
    device = TOTPDevice.objects.get(user=worker)
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=40)):
        assert give(later, code_now(device, reusable=False)).status_code == 302
        # And may switch it off again, with a current code; the other session ends.
        off = later.post(reverse("stakeholders:second_factor_off"), {"code": "000000"})
        assert off.status_code == 302 and TOTPDevice.objects.filter(user=worker).exists()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=80)):
        later.post(reverse("stakeholders:second_factor_off"), {"code": code_now(device)})
    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert later.get(HOME).status_code == 200
    assert client.get(HOME).status_code == 302  # the first session was signed out


def test_a_required_role_cannot_switch_it_off(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    client = signed_in(boss)
    enrol(client, boss)
    response = client.post(reverse("stakeholders:second_factor_off"), {"code": "000000"}, follow=True)
    assert "cannot be switched off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=boss, confirmed=True).exists()


def test_an_htmx_request_before_the_code_is_sent_to_the_code_page_whole(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    authenticator(boss)
    client = signed_in(boss)
    response = client.get(reverse("cases:case_list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == VERIFY


def test_admin_is_behind_the_second_factor(db):
    root = user(username="root", is_staff=True, is_superuser=True)
    client = signed_in(root)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    enrol(client, root)
    assert client.get("/admin/").status_code == 200


def test_a_password_reset_does_not_skip_the_code(org):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    authenticator(boss)
    boss.email = "boss@example.org"
    boss.save()
    PlainClient().post(reverse("password_reset"), {"email": boss.email})
    link = re.search(r"(/accounts/reset/[^\s]+/)", mail.outbox[-1].body)
    assert link
    client = PlainClient(HTTP_ACCEPT_LANGUAGE="en")
    form_page = client.get(link.group(1), follow=True)
    new = "Baru-sekali-2026"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    client.post(reverse("login"), {"username": boss.username, "password": new})
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_an_org_admin_resets_a_lost_phone(org, org_admin, other_org, django_capture_on_commit_callbacks):
    boss = member(organisation=org, role=Role.SUPERVISOR)
    boss.email = "boss@example.org"
    boss.preferred_language = "en"  # the e-mail comes in the person's language
    boss.save()
    session = signed_in(boss)
    enrol(session, boss)
    admin = PlainClient(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(org_admin)
    verify_session(admin, org_admin)
    outsider = member(organisation=other_org, role=Role.ORG_ADMIN)
    stranger = PlainClient()
    stranger.force_login(outsider)
    verify_session(stranger, outsider)
    url = reverse("stakeholders:second_factor_reset", args=[boss.pk])
    assert stranger.post(url).status_code == 404
    assert TOTPDevice.objects.filter(user=boss).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, {"next": reverse("stakeholders:staff_list", args=[org.pk])})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=boss).exists() and not StaticToken.objects.filter(device__user=boss)
    assert session.get(HOME).status_code == 302 and "_auth_user_id" not in session.session  # signed out
    assert mail.outbox and mail.outbox[-1].to == ["boss@example.org"]
    assert mail.outbox[-1].subject == "ATENSI Portal: your second factor was reset"
    boss.refresh_from_db()
    assert boss.second_factor_reset_at is not None
    # In the person's history, with who did it.
    event = boss.events.order_by("-pk").first()  # type: ignore[attr-defined]
    assert event.second_factor_reset_at is not None and event.pgh_context.metadata["user"] == org_admin.pk
    # The next sign-in enrols again.
    assert signed_in(boss).get(HOME)["Location"].startswith(SETUP)


def test_nobody_resets_their_own_and_a_social_worker_resets_nobody(org, org_admin, owner):
    with pytest.raises(ApplicationError):
        reset_second_factor(by=org_admin, user=org_admin)
    with pytest.raises(ApplicationError):
        reset_second_factor(by=owner, user=org_admin)


def test_national_admins_belong_to_a_national_organisation_and_reset_anywhere(org):
    local = OrganisationFactory(code="DINSOS-X", is_national=False)
    national = OrganisationFactory(code="KEMENSOS-X", is_national=True)
    person = user()
    with pytest.raises(ApplicationError):
        membership_add(organisation=local, user=person, role=Role.NATIONAL_ADMIN)
    membership_add(organisation=national, user=person, role=Role.NATIONAL_ADMIN)
    assert Membership.objects.filter(user=person, role=Role.NATIONAL_ADMIN).exists()
    far_away = member(organisation=org, role=Role.SUPERVISOR)
    authenticator(far_away)
    reset_second_factor(by=person, user=far_away)
    assert not TOTPDevice.objects.filter(user=far_away).exists()


def test_nobody_hands_over_an_account_that_reaches_further_than_theirs(org, org_admin, client_for):
    """A reset (or a sign-out everywhere) lets whoever has the password enrol next: an org
    admin cannot do it to a staff account or a national administrator who also works in
    their organisation, a national administrator cannot do it to a superuser."""
    from stakeholders.permissions import end_sessions_refusal

    kemensos = OrganisationFactory(code="KEMENSOS-Y", is_national=True)
    national = member(organisation=kemensos, role=Role.NATIONAL_ADMIN)
    membership_add(organisation=org, user=national, role=Role.SUPERVISOR)
    staff = member(organisation=org, role=Role.SUPERVISOR)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    root = user(is_superuser=True, is_staff=True)
    membership_add(organisation=kemensos, user=root, role=Role.VIEWER)
    colleague = member(organisation=org, role=Role.SOCIAL_WORKER)
    for person in (national, staff):
        with pytest.raises(ApplicationError, match="national administrator"):
            reset_second_factor(by=org_admin, user=person)
        assert end_sessions_refusal(org_admin, person) is not None
    with pytest.raises(ApplicationError, match="superuser"):
        reset_second_factor(by=national, user=root)
    assert end_sessions_refusal(national, root) is not None
    reset_second_factor(by=org_admin, user=colleague)
    reset_second_factor(by=national, user=staff)
    # The staff page offers the buttons for the colleague only.
    page = client_for(org_admin).get(reverse("stakeholders:staff_list", args=[org.pk])).content.decode()
    assert reverse("stakeholders:second_factor_reset", args=[colleague.pk]) in page
    for person in (national, staff):
        assert reverse("stakeholders:second_factor_reset", args=[person.pk]) not in page
        assert (
            client_for(org_admin).post(reverse("stakeholders:second_factor_reset", args=[person.pk])).status_code == 404
        )
