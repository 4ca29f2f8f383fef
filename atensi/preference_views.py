"""Each person's notification settings page: e-mail on/off, the daily digest and its hour."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from atensi.core.errors import ApplicationError
from atensi.core.preferences import DIGEST_HOURS, preference_for, preference_update
from stakeholders.http import AuthenticatedRequest


class NotificationPreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(
        label=gettext_lazy("E-mail me about reminders"),
        required=False,
        help_text=gettext_lazy("Off: you see reminders only in the portal, under the bell."),
    )
    digest = forms.BooleanField(
        label=gettext_lazy("One daily digest instead of an e-mail per reminder"),
        required=False,
        help_text=gettext_lazy("Once a day, one e-mail listing everything you have not read yet."),
    )
    # Not required: without a digest the page greys the hour out, and a disabled field is
    # not sent; the saved hour is kept.
    digest_hour = forms.TypedChoiceField(
        label=gettext_lazy("Send the digest at"),
        choices=[(hour, f"{hour:02d}:00") for hour in DIGEST_HOURS],
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Local time of your organisation (WIB, WITA or WIT)."),
    )


@require_http_methods(["GET", "POST"])
def notification_preferences(request: AuthenticatedRequest) -> HttpResponse:
    preference = preference_for(request.user)
    initial: dict[str, Any] = {
        "email_enabled": preference.email_enabled,
        "digest": preference.digest,
        "digest_hour": preference.digest_hour,
    }
    form = NotificationPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        hour = preference.digest_hour if data["digest_hour"] is None else data["digest_hour"]
        try:
            preference_update(
                user=request.user, email_enabled=data["email_enabled"], digest=data["digest"], digest_hour=hour
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_preferences")
    return render(
        request,
        "atensi/notification_preferences.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
