"""In-app notifications: once per event, only one's own, rendered in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from atensi.core.models import Notification
from atensi.core.notifications import mark_read, notification_text, notify, safe_link, unread_count
from referrals.notification_kinds import NotificationKind

pytestmark = pytest.mark.django_db

RECEIVED = {
    "referral_kind": "service",
    "sender": "Balai Uji",
    "receiver": "Dinas Sosial Uji",
    "urgency": "emergency",
    "respond_by": "2026-11-24T03:00:00+00:00",
}


def _notify(users: list[Any], key: str = "referral:1:sent", **extra: Any) -> None:
    notify(
        recipients=users,
        kind=NotificationKind.REFERRAL_RECEIVED,
        link="/referrals/1/",
        key=key,
        **{**RECEIVED, **extra},
    )


def test_an_event_notifies_each_person_once(owner: Any, colleague: Any) -> None:
    _notify([owner, colleague, owner])
    _notify([owner, colleague])  # the same event reported again (a retried call)
    assert Notification.objects.filter(recipient=owner).count() == 1
    assert Notification.objects.filter(recipient=colleague).count() == 1
    _notify([owner], key="referral:2:sent")
    assert unread_count(owner) == 2


def test_the_text_is_rendered_in_the_readers_language(owner: Any) -> None:
    _notify([owner])
    n = Notification.objects.get(recipient=owner)
    with translation.override("en"):
        english = notification_text(n)
    with translation.override("id"):
        indonesian = notification_text(n)
    assert "Balai Uji" in english and "emergency" in english
    assert english != indonesian and "Balai Uji" in indonesian


def test_a_row_missing_its_details_still_reads(owner: Any) -> None:
    notify(recipients=[owner], kind=NotificationKind.REFERRAL_ACCEPTED, referral_kind="service")
    n = Notification.objects.get(recipient=owner)
    with translation.override("en"):
        assert notification_text(n) == "Referral accepted"


def test_marking_read_touches_only_ones_own(owner: Any, colleague: Any) -> None:
    _notify([owner, colleague])
    theirs = Notification.objects.get(recipient=colleague)
    assert mark_read(user=owner, notification_ids=[theirs.pk]) == 0
    assert mark_read(user=owner) == 1
    assert unread_count(owner) == 0 and unread_count(colleague) == 1


def test_only_links_inside_the_portal_are_followed(owner: Any) -> None:
    for link, expected in (("/referrals/1/", "/referrals/1/"), ("//evil.example/x", ""), ("https://evil.example", "")):
        n = Notification(recipient=owner, kind=NotificationKind.REFERRAL_RECEIVED, link=link)
        assert safe_link(n) == expected


def test_the_page_lists_ones_own_and_the_nav_counts_unread(owner: Any, colleague: Any, client_for: Any) -> None:
    _notify([owner, colleague])
    _notify([colleague], key="referral:9:sent", sender="Balai Lain")
    client = client_for(owner)
    response = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="notification"') == 1
    assert "Balai Lain" not in body
    assert 'data-testid="nav-count-notifications">1<' in body


def test_opening_marks_read_and_follows_the_link(owner: Any, colleague: Any, client_for: Any) -> None:
    _notify([owner, colleague])
    mine = Notification.objects.get(recipient=owner)
    theirs = Notification.objects.get(recipient=colleague)
    client = client_for(owner)
    response = client.get(reverse("notification_open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/referrals/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Someone else's notification: 404, and it stays unread.
    assert client.get(reverse("notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_is_post_only(owner: Any, client_for: Any) -> None:
    _notify([owner])
    client = client_for(owner)
    assert client.get(reverse("notifications_read_all")).status_code == 405
    assert unread_count(owner) == 1
    response = client.post(reverse("notifications_read_all"))
    assert response.status_code == 302
    assert unread_count(owner) == 0


def test_the_list_is_one_page_of_few_queries(owner: Any, client_for: Any, django_assert_max_num_queries: Any) -> None:
    from stakeholders.tests.factories import OrganisationFactory

    organisations = [OrganisationFactory() for _ in range(5)]
    for i in range(60):
        notify(
            recipients=[owner],
            kind=NotificationKind.REFERRAL_RECEIVED,
            organisation=organisations[i % 5],
            key=f"referral:{i}:sent",
            **RECEIVED,
        )
    client = client_for(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notifications"))
    assert response.content.decode().count('data-testid="notification"') == 50


def test_the_badge_counts_to_99_then_says_more(owner: Any, client_for: Any) -> None:
    """The badges run on every page: they stop counting after 99 (the page has the number)."""
    Notification.objects.bulk_create(
        Notification(recipient=owner, kind=NotificationKind.REFERRAL_RECEIVED, link=f"/referrals/{n}/", key=f"k{n}")
        for n in range(99)
    )
    client = client_for(owner)
    assert 'data-testid="nav-count-notifications">99<' in client.get(reverse("notifications")).content.decode()
    Notification.objects.create(recipient=owner, kind=NotificationKind.REFERRAL_RECEIVED, link="/x/", key="k-last")
    assert 'data-testid="nav-count-notifications">99+<' in client.get(reverse("notifications")).content.decode()
