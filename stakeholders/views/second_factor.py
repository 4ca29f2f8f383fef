"""The second factor's pages: giving the code after the password, enrolling an
authenticator app, the recovery codes, the account's security page, and an
administrator's reset of a lost phone (stakeholders.second_factor has the rules).

The code checks are not run through `submit()`: a wrong code must count towards the
throttle, which a rolled-back transaction would forget.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from atensi.core.access import get_or_404
from atensi.core.errors import ApplicationError

from .. import second_factor as sf
from ..http import AuthenticatedRequest
from ..models import User
from ..selectors import people_second_factor_resettable_by


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return "/"


def _show_codes_next(request: HttpRequest, codes: list[str], after: str) -> HttpResponse:
    request.session[sf.CODES_TO_SHOW] = codes
    return redirect(reverse("stakeholders:second_factor_codes") + "?" + urlencode({"next": after}))


def _check[T](request: HttpRequest, form: CodeForm, check: Callable[[str], T]) -> tuple[T | None, int]:
    """A submitted code through `check` (not in a transaction: a wrong code must count
    towards the throttle): its outcome, or None with the refusal on the form and 400."""
    if request.method != "POST" or not form.is_valid():
        return None, 200
    try:
        return check(form.cleaned_data["code"]), 200
    except ApplicationError as error:
        form.add_error("code", error.message)
        return None, 400


@sf.second_factor_exempt
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedRequest) -> HttpResponse:
    """After the password: the code from the app, or a recovery code."""
    if sf.is_verified(request):
        return redirect(_next(request))
    if not sf.has_second_factor(request.user):
        return redirect("stakeholders:second_factor_setup")
    form = CodeForm(request.POST or None)
    outcome, status = _check(request, form, lambda code: sf.verify(request, user=request.user, code=code))
    if outcome is not None:
        if outcome.recovery_left is not None:
            messages.warning(
                request,
                ngettext(
                    "You signed in with a recovery code. %(count)s recovery code is left: make new ones on "
                    "your security page.",
                    "You signed in with a recovery code. %(count)s recovery codes are left: make new ones on "
                    "your security page.",
                    outcome.recovery_left,
                )
                % {"count": outcome.recovery_left},
            )
        return redirect(_next(request))
    return render(
        request, "stakeholders/second_factor/verify.html", {"form": form, "next": _next(request)}, status=status
    )


@sf.second_factor_exempt
@require_http_methods(["GET", "POST"])
def setup(request: AuthenticatedRequest) -> HttpResponse:
    """Enrolling an authenticator app: scan (or type the key), then give its first code.
    A person who already has one is verified first, then sent to the security page."""
    if sf.has_second_factor(request.user):
        return redirect("stakeholders:second_factor_security")
    device = sf.enrolment_device(request.user)
    form = CodeForm(request.POST or None)
    codes, status = _check(request, form, lambda code: sf.confirm_enrolment(request, user=request.user, code=code))
    if codes is not None:
        messages.success(request, _("Your authenticator app is set up. Keep the recovery codes below safe."))
        return _show_codes_next(request, codes, _next(request))
    context = {
        "form": form,
        "qr": sf.qr_svg(device),
        "key": sf.key_for_typing(device),
        "required": sf.is_required(request.user),
        "next": _next(request),
    }
    return render(request, "stakeholders/second_factor/setup.html", context, status=status)


@require_http_methods(["GET"])
def codes(request: AuthenticatedRequest) -> HttpResponse:
    """The recovery codes, once: a reload shows nothing (they are not kept in clear)."""
    shown = request.session.pop(sf.CODES_TO_SHOW, None)
    if not shown:
        return redirect("stakeholders:second_factor_security")
    return render(request, "stakeholders/second_factor/codes.html", {"codes": shown, "next": _next(request)})


@require_http_methods(["GET"])
def security(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    context = {
        "enrolled": sf.has_second_factor(user),
        "enrolled_at": sf.enrolled_at(user),
        "codes_left": sf.recovery_codes_left(user),
        "required": sf.is_required(user),
        "form": CodeForm(),
    }
    return render(request, "stakeholders/second_factor/security.html", context)


@require_POST
def new_codes(request: AuthenticatedRequest) -> HttpResponse:
    try:
        fresh = sf.new_recovery_codes(user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("stakeholders:second_factor_security")
    messages.success(request, _("New recovery codes were made; the old ones no longer work."))
    return _show_codes_next(request, fresh, "/")


@require_POST
def switch_off(request: AuthenticatedRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type a current code to switch the second factor off."))
        return redirect("stakeholders:second_factor_security")
    try:
        sf.switch_off(request, user=request.user, code=form.cleaned_data["code"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The second factor is off. You sign in with your password only."))
    return redirect("stakeholders:second_factor_security")


@require_POST
def reset(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """An administrator resets a colleague's lost phone (from the staff page)."""
    person: User = get_or_404(people_second_factor_resettable_by(request.user), pk=user_id)
    try:
        sf.reset_second_factor(by=request.user, user=person)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The second factor of %(name)s was reset. They set up their app again at their next sign-in.")
            % {"name": person},
        )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("home")


urlpatterns = [
    path("account/two-factor/", security, name="second_factor_security"),
    path("account/two-factor/verify/", verify, name="second_factor_verify"),
    path("account/two-factor/setup/", setup, name="second_factor_setup"),
    path("account/two-factor/codes/", codes, name="second_factor_codes"),
    path("account/two-factor/codes/new/", new_codes, name="second_factor_new_codes"),
    path("account/two-factor/off/", switch_off, name="second_factor_off"),
    path("people/<int:user_id>/two-factor/reset/", reset, name="second_factor_reset"),
]
