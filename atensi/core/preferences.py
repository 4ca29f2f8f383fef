"""How each person wants to hear from the portal besides the bell: reading and changing
their NotificationPreference, and the language their e-mails are written in.

No preference row means the defaults (an e-mail per reminder, no digest); reading never
writes a row, only `preference_update` does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .models import NotificationPreference

DIGEST_HOURS = range(24)


def preference_for(user: AbstractUser) -> NotificationPreference:
    """The user's preference, or an unsaved one holding the defaults."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found if found is not None else NotificationPreference(user_id=user.pk)


@transaction.atomic
def preference_update(
    *, user: AbstractUser, email_enabled: bool, digest: bool, digest_hour: int
) -> NotificationPreference:
    """Save the user's choice. A digest is an e-mail: it cannot be chosen with e-mail off."""
    if digest and not email_enabled:
        raise ApplicationError(_("A daily digest is sent by e-mail: switch e-mail on to receive one."), field="digest")
    if digest_hour not in DIGEST_HOURS:
        raise ApplicationError(_("Choose an hour between 00:00 and 23:00."), field="digest_hour")
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user_id=user.pk)
    preference.email_enabled = email_enabled
    preference.digest = digest
    preference.digest_hour = digest_hour
    preference.full_clean()
    preference.save(update_fields=["email_enabled", "digest", "digest_hour"])
    return preference


def email_language(user: AbstractUser) -> str:
    """The language the user reads the portal in; the site default when it is not one we have."""
    language = getattr(user, "preferred_language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
