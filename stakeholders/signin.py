"""Signing in: what a locked-out login attempt is answered with (django-axes calls
`locked_out`; the counting, by username and address together, is axes' own, in the
database, see the AXES_* settings), and the password reset, rate-limited too.

The answers are the same whether the account exists or not: axes counts attempts for any
username, the reset form always says "if the address is known, a link was sent", and
neither page names an account or whether it is real.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.clientip import client_ip
from atensi.core.ratelimit import allow, keyed_hash

RESET_WINDOW = datetime.timedelta(hours=1)


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
    context = {
        "form": form,
        "next": request.POST.get("next", request.GET.get("next", "")),
        "lockout": lockout_message(),
    }
    return render(request, "registration/login.html", context, status=429)


@method_decorator(login_not_required, name="dispatch")
class ThrottledPasswordReset(auth_views.PasswordResetView):
    """Django's password reset, limited in the database: ATENSI_PASSWORD_RESET_PER_ADDRESS
    requests an hour from one address (beyond: a message, 429), and at most
    ATENSI_PASSWORD_RESET_PER_EMAIL e-mails an hour to one address (beyond: the same "sent
    if known" page, and no e-mail, so nobody can flood a colleague's inbox or learn from
    the answer whether the address is known)."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        address = client_ip(self.request) or "unknown"
        if not allow(
            f"password-reset:address:{address}",
            limit=settings.ATENSI_PASSWORD_RESET_PER_ADDRESS,
            window=RESET_WINDOW,
        ):
            form.add_error(None, _("Too many password reset requests from your connection. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        email = form.cleaned_data["email"].strip().lower()
        if not allow(
            f"password-reset:email:{keyed_hash(email)}",
            limit=settings.ATENSI_PASSWORD_RESET_PER_EMAIL,
            window=RESET_WINDOW,
        ):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
