"""Rendered page fragments kept in the cache for a short while.

Some parts of a page are the same on every visit of the same person with the same
question (a list's filter form: its selects of case managers, categories and regions)
and cost more to write than the rest of the page. `cached_fragment` keeps such a part
for ATENSI_FRAGMENT_SECONDS. The caller's key says everything the fragment depends on: who reads it
(it may hold names only they may see), the language, the question asked. The cache is a
help, never a need: with Redis down the fragment is rendered every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)


def fragment_key(name: str, *parts: Any) -> str:
    """A cache key for `name` from JSON-able parts (hashed: they may be long)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"fragment:v1:{name}:{digest}"


def cached_fragment(key: str | None, render: Callable[[], str]) -> SafeString:
    """The fragment kept under `key`, else `render()`, kept ATENSI_FRAGMENT_SECONDS. No
    key: drawn and never kept (a fragment showing what must not sit in Redis)."""
    seconds = settings.ATENSI_FRAGMENT_SECONDS
    if seconds <= 0 or key is None:
        return mark_safe(render())  # noqa: S308 - a template's output, escaped by it
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("fragment cache unavailable", exc_info=True)
        return mark_safe(render())  # noqa: S308 - a template's output, escaped by it
    if isinstance(found, str):
        return mark_safe(found)  # noqa: S308 - what render() made, kept as it was
    html = render()
    try:
        cache.set(key, str(html), seconds)
    except Exception:
        logger.warning("fragment cache unavailable", exc_info=True)
    return mark_safe(html)  # noqa: S308 - a template's output, escaped by it
