"""Short-lived opaque references to a value that must never travel in a URL (a child's NIK:
server logs, browser history and Referer headers keep URLs).

The value is kept in the cache (Redis) under a random token, for one user, for the longest a
session lives (ATENSI_SESSION_MAX_SECONDS); the URL carries the token only. Another user's
lookup of the token misses, and so does any lookup after its time: the caller says the search
expired. The cache, not the session: a background export of a list filtered by a NIK reads
the same reference in the worker, which has no session.
"""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _key(user_id: int, purpose: str, token: str) -> str:
    return f"stash:{purpose}:{user_id}:{token}"


def stash(*, user_id: int, purpose: str, value: str) -> str | None:
    """Keep `value` for this user; the token that names it (safe in a URL), or None when the
    cache cannot be reached (the caller says the search is unavailable; never a 500)."""
    token = secrets.token_urlsafe(16)
    try:
        cache.set(_key(user_id, purpose, token), value, timeout=int(settings.ATENSI_SESSION_MAX_SECONDS))
    except (RedisError, OSError):
        logger.warning("stash: the cache is unavailable")
        return None
    return token


def unstash(*, user_id: int, purpose: str, token: str) -> str | None:
    """The value this user kept under `token`, or None (unknown, another user's, expired)."""
    if not token or not _TOKEN.match(token):
        return None
    try:
        value = cache.get(_key(user_id, purpose, token))
    except (RedisError, OSError):
        logger.warning("stash: the cache is unavailable")
        return None
    return value if isinstance(value, str) else None
