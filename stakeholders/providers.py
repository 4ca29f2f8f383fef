"""What the kernel (atensi.core) asks of stakeholders, registered when the app loads.

The kernel imports no app; these answers come from the memberships and imports that
live here:
- the organisations and roles behind every actor (atensi.core.access);
- whether a reminder's recipient still works for the organisation it is about, checked
  when it is delivered (atensi.core.reminders.delivery_check);
- each user's time zone, for the daily digest (atensi.core.localtime);
- the import previews the daily clean-up forgets (atensi.core.retention.sweep).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from atensi.core import access, localtime, reminders, retention
from atensi.core import admin as core_admin
from atensi.core.lookups import IdArray

from .models import ImportBatch, ImportStatus, Membership
from .permissions import is_national_admin
from .roles import ROLE_PERMISSIONS

# A spreadsheet import previewed but never confirmed nor discarded is forgotten after this
# many days: it holds every row of the uploaded file (a discard empties it already;
# imported and discarded ones stay as the record of what was done).
IMPORT_PREVIEW_DAYS = 2
_CHUNK = 2000


def roles_of(user_id: int) -> list[tuple[int, str]]:
    """(organisation id, role) of the user's active memberships of active organisations."""
    # order_by(): Membership's default ordering would add a join and a sort for nothing.
    return list(
        Membership.objects.filter(user_id=user_id, is_active=True, organisation__is_active=True)
        .order_by()
        .values_list("organisation_id", "role")
    )


def recipients_who_left(batch: Sequence[reminders.Due]) -> set[int]:
    """Of a batch of reminders, those whose recipient left the organisation they are about
    (or it closed) since they were planned: its cases and referrals are no longer theirs
    to hear about. One query for the batch."""
    about = [reminder for reminder in batch if reminder.organisation_id is not None]
    if not about:
        return set()
    working = set(
        Membership.objects.filter(
            # Arrays, not a placeholder per id: a batch carries hundreds.
            user_id__in_ids=IdArray({reminder.recipient_id for reminder in about}),
            organisation_id__in_ids=IdArray({reminder.organisation_id for reminder in about}),
            is_active=True,
            organisation__is_active=True,
        )
        .order_by()
        .values_list("user_id", "organisation_id")
    )
    return {reminder.pk for reminder in about if (reminder.recipient_id, reminder.organisation_id) not in working}


def user_zones(user_ids: list[int]) -> dict[int, ZoneInfo]:
    """Each user's time zone: that of the organisation they joined first, of those they
    still work for (atensi.core.localtime: by its province). People without one are in WIB."""
    zones: dict[int, ZoneInfo] = {}
    for start in range(0, len(user_ids), _CHUNK):
        rows = (
            Membership.objects.filter(
                user_id__in=user_ids[start : start + _CHUNK], is_active=True, organisation__is_active=True
            )
            .order_by("user_id", "pk")
            .distinct("user_id")
            .values_list("user_id", "organisation__home_region_id", "organisation__village_id")
        )
        for user_id, home_region, village in rows:
            zones[user_id] = localtime.zone_for_regions(home_region, village)
    return zones


def forget_import_previews(now: datetime.datetime, batch: int) -> int:
    return retention.delete_in_batches(
        ImportBatch.objects.filter(
            status=ImportStatus.PREVIEW, created_at__lt=now - datetime.timedelta(days=IMPORT_PREVIEW_DAYS)
        ),
        batch=batch,
    )


def register() -> None:
    access.register_memberships(roles_of=roles_of, role_permissions=ROLE_PERMISSIONS)
    reminders.delivery_check(recipients_who_left)
    localtime.register_user_zones(user_zones)
    retention.sweep("import_previews")(forget_import_previews)
    # National administrators edit the national policies in admin (PortalAdmin.national_policy).
    core_admin.register_national_policy_editors(is_national_admin)
