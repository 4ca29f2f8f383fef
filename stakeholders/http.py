"""The request of a signed-in user, as the portal's views receive it.

`LoginRequiredMiddleware` sends anyone not signed in to the login page before a view
runs, unless the view is marked `@login_not_required`. So a portal view annotates its
request `AuthenticatedRequest` and hands `request.user` to services, selectors and
permissions as the `User` it is, with no check of its own. A view marked
`@login_not_required` (health check, error pages) takes a plain `HttpRequest`;
tests/test_typing_rules.py fails if such a view claims an `AuthenticatedRequest`.

Django hooks whose signature is fixed (admin methods, context processors) take an
`HttpRequest` and narrow once with `request_user()`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import User


class AuthenticatedRequest(HttpRequest):
    user: User


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request that only signed-in users reach (403 otherwise)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
