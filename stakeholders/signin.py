"""Signing in: what a locked-out login attempt is answered with (django-axes calls
`locked_out`; the counting, by username and address together, is axes' own, in the
database, see the AXES_* settings).

The answer is the same whether the account exists or not: axes counts attempts for any
username, and this page names neither the account nor whether it is real.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def cool_off_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    minutes = cool_off_minutes()
    return ngettext(
        "Too many failed attempts to log in with this username from your connection. Wait %(minutes)s minute, "
        "then try again, or reset the password with the link below.",
        "Too many failed attempts to log in with this username from your connection. Wait %(minutes)s minutes, "
        "then try again, or reset the password with the link below.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The login page again, with the cool-off message instead of the password check's, and
    429 Too Many Requests. The username typed stays; the password never comes back."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "next": request.POST.get("next", request.GET.get("next", "")), "lockout": lockout_message()}
    return render(request, "registration/login.html", context, status=429)
