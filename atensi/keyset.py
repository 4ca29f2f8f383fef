"""Keyset pagination cursors: the (name, id) a page starts after, as an opaque signed token.

Signed so a hand-made token cannot make the list query anything odd; anything that does
not decode is simply "the first page".
"""

from __future__ import annotations

from django.core import signing


def encode_cursor(name: str, pk: int, *, salt: str) -> str:
    return signing.dumps([name, pk], salt=salt, compress=True)


def decode_cursor(token: str | None, *, salt: str) -> tuple[str, int] | None:
    if not token:
        return None
    try:
        value = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return value[0], value[1]
    return None
