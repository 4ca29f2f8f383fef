"""Staff pages: supervisors read, org admins manage, outsiders get 404."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from atensi.core.models import AccessLog
from stakeholders.models import Membership, User

pytestmark = pytest.mark.django_db


def staff_url(org):
    return reverse("stakeholders:staff_list", args=[org.pk])


def invite_url(org):
    return reverse("stakeholders:staff_invite", args=[org.pk])


def toggle_url(org, membership):
    return reverse("stakeholders:membership_set_active", args=[org.pk, membership.pk])


def test_supervisor_sees_the_staff_list_and_the_view_is_logged(client_for, supervisor, owner, org):
    response = client_for(supervisor).get(staff_url(org))
    assert response.status_code == 200
    assert "owner" in response.content.decode()
    assert AccessLog.objects.filter(user=supervisor, target_id=str(org.pk), action="view").count() == 1


def test_an_org_admin_resets_a_colleagues_second_factor_and_signs_them_out_from_the_staff_page(
    client_for, org_admin, owner, supervisor, org
):
    from atensi.testing.second_factor import Client

    page = client_for(org_admin).get(staff_url(org), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    reset = reverse("stakeholders:second_factor_reset", args=[owner.pk])
    end = reverse("stakeholders:person_end_sessions", args=[owner.pk])
    assert f'action="{reset}"' in page and f'action="{end}"' in page
    # Not for themselves (the account page does that), once per person, never for readers.
    assert reverse("stakeholders:second_factor_reset", args=[org_admin.pk]) not in page
    assert page.count(f'action="{reset}"') == 1
    assert reset not in client_for(supervisor).get(staff_url(org)).content.decode()
    worker = Client()
    worker.force_login(owner)
    assert worker.get(reverse("home")).status_code == 200
    response = client_for(org_admin).post(end, {"next": staff_url(org)})
    assert response["Location"] == staff_url(org)
    assert worker.get(reverse("home")).status_code == 302  # signed out


def test_social_worker_gets_404_on_the_staff_list(client_for, owner, org):
    assert client_for(owner).get(staff_url(org)).status_code == 404


def test_outsider_gets_404_on_every_staff_url(client_for, outsider, org, owner):
    client = client_for(outsider)
    membership = Membership.objects.get(user=owner)
    assert client.get(staff_url(org)).status_code == 404
    assert client.get(invite_url(org)).status_code == 404
    assert client.post(invite_url(org), {"username": "x"}).status_code == 404
    assert client.post(toggle_url(org, membership), {"active": "0"}).status_code == 404
    membership.refresh_from_db()
    assert membership.is_active


def test_malformed_or_unknown_ids_are_404(client_for, org_admin, org):
    client = client_for(org_admin)
    assert client.get("/organisations/999999/staff/").status_code == 404
    assert (
        client.post(reverse("stakeholders:membership_set_active", args=[org.pk, 999999]), {"active": "0"}).status_code
        == 404
    )


def test_org_admin_invites_a_colleague_who_gets_a_password_link(
    client_for, org_admin, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org_admin).post(
            invite_url(org),
            {
                "first_name": "Siti",
                "last_name": "Aminah",
                "username": "siti.aminah",
                "email": "siti@example.test",
                "role": "referral_officer",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="siti.aminah")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, organisation=org, role="referral_officer", is_active=True).exists()
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert "siti.aminah" in mail.outbox[0].body


def test_invite_with_bad_input_shows_messages_and_saves_nothing(client_for, org_admin, org, owner):
    before = (User.objects.count(), Membership.objects.count())
    response = client_for(org_admin).post(
        invite_url(org),
        {"first_name": "", "username": "OWNER", "email": "not-an-email", "role": "king"},
        HTTP_ACCEPT_LANGUAGE="id",
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"first_name", "username", "email", "role"}
    assert "sudah dipakai" in str(form.errors["username"])
    assert (User.objects.count(), Membership.objects.count()) == before
    assert mail.outbox == []


def test_double_submitted_invite_creates_one_account(client_for, org_admin, org):
    client = client_for(org_admin)
    data = {"first_name": "Rudi", "username": "rudi", "email": "rudi@example.test", "role": "social_worker"}
    assert client.post(invite_url(org), data).status_code == 302
    second = client.post(invite_url(org), data)
    assert second.status_code == 200
    assert User.objects.filter(username="rudi").count() == 1


def test_supervisor_cannot_invite(client_for, supervisor, org):
    assert client_for(supervisor).get(invite_url(org)).status_code == 404


def test_org_admin_revokes_and_restores_a_role(client_for, org_admin, owner, org):
    membership = Membership.objects.get(user=owner)
    client = client_for(org_admin)
    assert client.post(toggle_url(org, membership), {"active": "0"}).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert client.post(toggle_url(org, membership), {"active": "1"}).status_code == 302
    membership.refresh_from_db()
    assert membership.is_active


def test_toggle_is_post_only(client_for, org_admin, owner, org):
    membership = Membership.objects.get(user=owner)
    assert client_for(org_admin).get(toggle_url(org, membership)).status_code == 405


def test_toggle_with_garbage_changes_nothing(client_for, org_admin, owner, org):
    membership = Membership.objects.get(user=owner)
    response = client_for(org_admin).post(toggle_url(org, membership), {"active": "maybe"}, follow=True)
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.is_active


def test_org_admin_cannot_remove_own_admin_role(client_for, org_admin, org):
    membership = Membership.objects.get(user=org_admin)
    response = client_for(org_admin).post(toggle_url(org, membership), {"active": "0"}, follow=True)
    assert "own administrator role" in response.content.decode() or "peran admin" in response.content.decode().lower()
    membership.refresh_from_db()
    assert membership.is_active


def test_revoked_member_loses_access_at_once(client_for, supervisor, org_admin, org):
    client = client_for(supervisor)
    assert client.get(staff_url(org)).status_code == 200
    Membership.objects.filter(user=supervisor).update(is_active=False)
    assert client.get(staff_url(org)).status_code == 404


def test_staff_list_query_count(client_for, supervisor, org, django_assert_max_num_queries):
    from stakeholders.tests.factories import member

    for i in range(30):
        member(organisation=org, username=f"staf{i}")
    client = client_for(supervisor)
    with django_assert_max_num_queries(10):
        assert client.get(staff_url(org)).status_code == 200
