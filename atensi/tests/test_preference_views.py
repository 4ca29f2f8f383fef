"""The e-mail settings page: everyone sees and changes only their own settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from atensi.core.models import NotificationPreference

pytestmark = pytest.mark.django_db

URL = "/account/notifications/"


def test_the_url_is_named() -> None:
    assert reverse("notification_preferences") == URL


def test_it_shows_the_defaults_without_writing_a_row(owner: Any, client_for: Any) -> None:
    response = client_for(owner).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"email_enabled": True, "digest": False, "digest_hour": 7}
    assert b"E-mail settings" in response.content
    assert b'data-testid="no-email-address"' not in response.content
    assert not NotificationPreference.objects.exists()


def test_the_notifications_page_links_to_it(owner: Any, client_for: Any) -> None:
    response = client_for(owner).get(reverse("notifications"))
    assert f'href="{URL}"'.encode() in response.content


def test_choosing_a_digest_saves_and_says_so(owner: Any, colleague: Any, client_for: Any) -> None:
    client = client_for(owner)
    response = client.post(URL, {"email_enabled": "on", "digest": "on", "digest_hour": "18"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == URL
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Your notification settings are saved."]
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.email_enabled, preference.digest, preference.digest_hour) == (True, True, 18)
    assert not NotificationPreference.objects.filter(user=colleague).exists()  # only one's own
    assert client.get(URL).context["form"].initial == {"email_enabled": True, "digest": True, "digest_hour": 18}


def test_switching_email_off_keeps_the_row_and_the_hour(owner: Any, client_for: Any) -> None:
    NotificationPreference.objects.create(user=owner, digest=True, digest_hour=9)
    response = client_for(owner).post(URL, {"digest_hour": "9"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.email_enabled, preference.digest, preference.digest_hour) == (False, False, 9)


def test_a_digest_without_email_is_refused_and_changes_nothing(owner: Any, client_for: Any) -> None:
    preference = NotificationPreference.objects.create(user=owner, digest_hour=7)
    response = client_for(owner).post(URL, {"digest": "on", "digest_hour": "20"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["digest"] == [
        "A daily digest is sent by e-mail: switch e-mail on to receive one."
    ]
    preference.refresh_from_db()
    assert (preference.email_enabled, preference.digest, preference.digest_hour) == (True, False, 7)


@pytest.mark.parametrize("hour", ["24", "-1", "abc", "7.5"])
def test_a_bad_hour_is_refused_and_changes_nothing(owner: Any, client_for: Any, hour: str) -> None:
    preference = NotificationPreference.objects.create(user=owner, digest=True, digest_hour=7)
    response = client_for(owner).post(URL, {"email_enabled": "on", "digest_hour": hour}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["digest_hour"]
    preference.refresh_from_db()
    assert (preference.email_enabled, preference.digest, preference.digest_hour) == (True, True, 7)


def test_without_an_hour_the_saved_one_is_kept(owner: Any, client_for: Any) -> None:
    # The page greys the hour out (so the browser does not send it) when no digest is chosen.
    NotificationPreference.objects.create(user=owner, digest=True, digest_hour=19)
    assert client_for(owner).post(URL, {"email_enabled": "on"}).status_code == 302
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.email_enabled, preference.digest, preference.digest_hour) == (True, False, 19)


def test_without_an_address_the_page_says_why_no_email_comes(owner: Any, client_for: Any) -> None:
    owner.email = ""
    owner.save(update_fields=["email"])
    response = client_for(owner).get(URL)
    assert b'data-testid="no-email-address"' in response.content


def test_it_is_in_indonesian_by_default(owner: Any, client_for: Any) -> None:
    response = client_for(owner).get(URL)
    assert b'lang="id"' in response.content


def test_other_methods_are_refused(owner: Any, client_for: Any) -> None:
    client = client_for(owner)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405
    assert not NotificationPreference.objects.exists()


def test_it_needs_a_login(client: Any) -> None:
    response = client.post(URL, {"email_enabled": "on", "digest_hour": "7"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not NotificationPreference.objects.exists()


def test_the_page_takes_few_queries(owner: Any, client_for: Any, django_assert_max_num_queries: Any) -> None:
    client = client_for(owner)
    client.get(URL)  # warm caches (session, navigation)
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200
