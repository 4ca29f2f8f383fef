"""Rate limits counted in PostgreSQL, so a Redis outage never lifts them.

`allow(key, limit=..., window=...)` takes one place in the key's window if one is free.
The count and the insert happen under a transaction-scoped advisory lock on the key: two
requests at the same moment cannot both take the last place. Events older than
KEEP are deleted by the daily clean-up (atensi.core.retention); no window is longer.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import RateEvent

KEEP = datetime.timedelta(days=2)


def keyed_hash(value: str) -> str:
    """A value that must not be stored in clear (an e-mail address, a NIK) as a key part:
    an HMAC with the site's secret, the same for the same value, useless without the secret."""
    digest = hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def allow(key: str, *, limit: int, window: datetime.timedelta, now: datetime.datetime | None = None) -> bool:
    """True, and the attempt counted, when fewer than `limit` were counted for `key` in the
    last `window`; False (nothing counted) otherwise."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"ratelimit:{key}"])
        if RateEvent.objects.filter(key=key, at__gt=now - window).count() >= limit:
            return False
        RateEvent.objects.create(key=key, at=now)
    return True
