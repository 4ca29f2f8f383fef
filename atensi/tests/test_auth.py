"""Login, logout, password change and reset; every other page needs a login."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from stakeholders.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_standard_field_names_then_home(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Balai Anak Uji" in home.content.decode()


def test_wrong_password_gives_a_translated_message_and_no_session(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "masukkan nama pengguna" in response.content.decode().lower()


def test_logout_is_post_only_and_ends_the_session(client, owner):
    client.force_login(owner)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("name", ["home", "password_change"])
def test_pages_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["login", "password_reset", "healthz"])
def test_public_pages_do_not_need_a_login(client, name):
    assert client.get(reverse(name)).status_code == 200


def test_password_change(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "baru-sekali-2026!", "new_password2": "baru-sekali-2026!"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("baru-sekali-2026!")


def test_password_change_rejects_a_short_password_and_changes_nothing(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"}
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_password_reset_by_email(client, owner):
    response = client.post(reverse("password_reset"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "lupa-lagi-2026!", "new_password2": "lupa-lagi-2026!"})
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("lupa-lagi-2026!")


def test_password_reset_for_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_language_switch_works_before_login(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    page = client.get(reverse("login"))
    assert "Log in" in page.content.decode()
    client.post(reverse("set_language"), {"language": "id", "next": reverse("login")})
    assert "Masuk" in client.get(reverse("login")).content.decode()


def test_pages_carry_a_strict_csp_without_inline_script(client, owner):
    client.force_login(owner)
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.content.decode()
    # No inline <script> bodies and no style attributes: every script has a src.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert "cdn" not in html.lower()
