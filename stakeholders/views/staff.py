"""Organisation staff pages: supervisors read, org admins manage."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import get_or_404, record_access
from atensi.core.submit import submit

from .. import selectors, services
from ..forms import MembershipActiveForm, StaffInviteForm
from ..http import AuthenticatedRequest
from ..permissions import can_administer_organisation


@require_GET
def staff_list(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = selectors.organisation_staff_get(user=request.user, organisation_id=organisation_id)
    memberships = selectors.organisation_staff_list(organisation=organisation)
    record_access(user=request.user, obj=organisation, request=request, organisation_id=organisation.pk)
    can_manage = can_administer_organisation(request.user, organisation)
    # Whom the buttons for a lost phone and a lost laptop are shown for: active colleagues
    # the rule lets this administrator reset (never themselves, nor a wider account).
    resettable = (
        selectors.people_second_factor_resettable_by(request.user).filter(
            pk__in=[m.user_id for m in memberships if m.is_active]
        )
        if can_manage
        else None
    )
    other_orgs = selectors.organisations_with_staff_visible_to(request.user).exclude(pk=organisation.pk)
    return render(
        request,
        "stakeholders/staff_list.html",
        {
            "organisation": organisation,
            "memberships": memberships,
            "can_manage": can_manage,
            "resettable": set(resettable.values_list("pk", flat=True)) if resettable is not None else set(),
            "other_orgs": other_orgs[:50],
        },
    )


@require_http_methods(["GET", "POST"])
def staff_invite(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = get_or_404(selectors.organisations_administered_by(request.user), pk=organisation_id)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and submit(
        request,
        form,
        lambda: services.staff_invite(organisation=organisation, by=request.user, **form.cleaned_data),
        success=lambda membership: (
            _("%(name)s was added as %(role)s. A link to set the password was sent to %(email)s.")
            % {"name": membership.user, "role": membership.get_role_display(), "email": membership.user.email}
        ),
    ):
        return redirect("stakeholders:staff_list", organisation_id=organisation.pk)
    return render(request, "stakeholders/staff_invite.html", {"organisation": organisation, "form": form})


@require_POST
def membership_set_active(request: AuthenticatedRequest, organisation_id: int, membership_id: int) -> HttpResponse:
    organisation = get_or_404(selectors.organisations_administered_by(request.user), pk=organisation_id)
    membership = get_or_404(selectors.memberships_visible_to(request.user), pk=membership_id, organisation=organisation)
    form = MembershipActiveForm(request.POST)
    submit(
        request,
        form,
        lambda: services.membership_set_active(
            membership=membership, by=request.user, active=form.cleaned_data["active"]
        ),
        success=lambda changed: (
            (_("%(name)s is again %(role)s.") if changed.is_active else _("%(name)s is no longer %(role)s."))
            % {"name": changed.user, "role": changed.get_role_display()}
        ),
        errors="message",
        invalid=_("The request was not understood; nothing was changed."),
    )
    return redirect("stakeholders:staff_list", organisation_id=organisation.pk)


urlpatterns = [
    path("organisations/<int:organisation_id>/staff/", staff_list, name="staff_list"),
    path("organisations/<int:organisation_id>/staff/add/", staff_invite, name="staff_invite"),
    path(
        "organisations/<int:organisation_id>/staff/<int:membership_id>/active/",
        membership_set_active,
        name="membership_set_active",
    ),
]
