"""How long a signed-in session lasts, and how a user's sessions all end at once.

- Idle timeout: ATENSI_SESSION_IDLE_SECONDS (30 minutes) without a request of the user's
  own; absolute lifetime: ATENSI_SESSION_MAX_SECONDS (12 hours) after signing in, however
  active. Field offices share computers.
- The last activity is written at most once a minute (ACTIVITY_RESOLUTION): a page view
  does not write the session each time. Requests marked as polling (the X-Atensi-Poll
  header: progress bars, the idle warning's own check) are not activity.
- Before the idle logout the page warns and offers to stay signed in (static/js/session.js,
  `session_status` below).
- Every session of a user ends at once when their session version changes (`end_sessions`):
  it is mixed into the session's auth hash (User._get_session_auth_hash), which Django
  checks on every request. Deactivating a user, or their last active membership, ends
  them; so does "sign out of every other device" and admin's action.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .http import AuthenticatedRequest
from .second_factor import second_factor_exempt
from .services import end_sessions

SIGNED_IN = "atensi_signed_in"
LAST_SEEN = "atensi_last_seen"
ACTIVITY_RESOLUTION = 60
POLL_HEADER = "X-Atensi-Poll"


def _now() -> int:
    return int(time.time())


def is_polling(request: HttpRequest) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


def remaining_seconds(session: Any, now: int) -> int:
    """Seconds until this session ends, by idleness or by age, whichever comes first."""
    started = int(session.get(SIGNED_IN, now))
    last = int(session.get(LAST_SEEN, started))
    idle_end = last + int(settings.ATENSI_SESSION_IDLE_SECONDS)
    age_end = started + int(settings.ATENSI_SESSION_MAX_SECONDS)
    return min(idle_end, age_end) - now


def _touch(session: Any, now: int, *, force: bool = False) -> None:
    if SIGNED_IN not in session:  # a session from before these rules: it starts now
        session[SIGNED_IN] = now
    if force or now - session.get(LAST_SEEN, 0) >= ACTIVITY_RESOLUTION:
        session[LAST_SEEN] = now


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[SIGNED_IN] = now
        request.session[LAST_SEEN] = now


class SessionTimeoutMiddleware:
    """Signs out a session past its idle timeout or its lifetime (before the login-required
    check, which then sends the person to the login page, with a message saying why)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = _now()
            if remaining_seconds(request.session, now) <= 0:
                idle = now - request.session.get(LAST_SEEN, now) >= settings.ATENSI_SESSION_IDLE_SECONDS
                logout(request)
                if idle:
                    minutes = max(1, settings.ATENSI_SESSION_IDLE_SECONDS // 60)
                    messages.info(
                        request,
                        _("You were signed out after %(minutes)s minutes without activity. Log in again to go on.")
                        % {"minutes": minutes},
                    )
                else:
                    messages.info(request, _("Your session reached its maximum length. Log in again to go on."))
                if is_polling(request):
                    # The idle warning's own check: it sends the page to the login page, where
                    # the message (still unread) says why.
                    return JsonResponse({"remaining": 0}, status=401)
                if request.headers.get("HX-Request"):
                    # An htmx fragment cannot show the login page: the whole page goes there.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = f"{reverse('login')}?next={request.path}"
                    return response
            elif not is_polling(request):
                _touch(request.session, now)
        return self.get_response(request)


@second_factor_exempt
@require_http_methods(["GET", "POST"])
def session_status(request: AuthenticatedRequest) -> JsonResponse:
    """GET (a poll, never activity): seconds left. POST ("stay signed in"): counted as
    activity now, and the seconds left after it."""
    now = _now()
    if request.method == "POST":
        _touch(request.session, now, force=True)
    return JsonResponse({"remaining": max(0, remaining_seconds(request.session, now))})


@require_POST
def end_other_sessions(request: AuthenticatedRequest) -> HttpResponse:
    """ "Sign out of every other device": the others end, this one goes on."""
    end_sessions(request.user)
    update_session_auth_hash(request, request.user)
    messages.success(request, _("You were signed out of every other device."))
    return redirect("home")
