"""The client's IP address, read once, the same way everywhere (the access log, exports,
login throttling).

Behind reverse proxies the connection comes from the nearest proxy; each proxy appends the
address it was connected from to X-Forwarded-For. With ATENSI_TRUSTED_PROXY_COUNT proxies
of our own in front (see the README's deployment section), the client is the entry that
many places from the right: anything further left was written by the client and proves
nothing. Without trusted proxies the header is ignored: a client could write any address
there and so spread its login attempts over addresses it does not have.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None when the request carries no usable one."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.ATENSI_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop for hop in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    if len(hops) < proxies:
        # Not through every proxy of ours: the connection's own address is all we know.
        return remote
    return _address(hops[-proxies]) or remote
