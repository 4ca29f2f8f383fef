"""The organisation directory: list with filters, detail page, export, and the profile edit."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from atensi.core import exports
from atensi.core.access import actor_for, get_or_404
from atensi.core.submit import submit

from .. import directory, selectors, services
from ..exports import ORGANISATIONS
from ..http import AuthenticatedRequest
from ..organisation_forms import OrganisationProfileForm
from ..permissions import can_administer_organisation


@require_GET
def organisation_list(request: AuthenticatedRequest) -> HttpResponse:
    form, filters, warnings = directory.directory_filters(request.GET)
    queryset = directory.organisation_directory(filters=filters)
    page = directory.directory_page(queryset, cursor=request.GET.get("cursor"))
    params = request.GET.copy()
    params.pop("cursor", None)
    # An htmx request gets the same page; hx-select picks the results region out of it,
    # so links, the back button and a page without JavaScript all see one URL per view.
    return render(
        request,
        "stakeholders/organisation_list.html",
        {
            "form": form,
            "page": page,
            "total": queryset.count(),
            "warnings": warnings,
            "query": params.urlencode(),
        },
    )


@require_GET
def organisation_detail(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = directory.organisation_profile_get(user=request.user, organisation_id=organisation_id)
    actor = actor_for(request.user)
    own_orgs = actor.org_ids()
    agreements = []
    for agreement in selectors.organisation_agreements(organisation=organisation):
        parties = list(agreement.parties.all())
        agreements.append(
            {
                "agreement": agreement,
                "others": [p for p in parties if p.pk != organisation.pk],
                "status": agreement.status(),
                # The text is between the parties; everyone else sees only that it exists.
                "may_open": bool(agreement.document) and (actor.is_superuser or any(p.pk in own_orgs for p in parties)),
            }
        )
    today = timezone.localdate()
    return render(
        request,
        "stakeholders/organisation_detail.html",
        {
            "organisation": organisation,
            "village_path": directory.region_path(organisation.village),
            "home_path": directory.region_path(organisation.home_region),
            "staff": directory.organisation_staff_public(organisation=organisation),
            "agreements": agreements,
            "accreditation_expired": bool(
                organisation.accreditation
                and organisation.accreditation_expires
                and organisation.accreditation_expires < today
            ),
            "tel_href": directory.tel_href(organisation.phone),
            "whatsapp_href": directory.whatsapp_href(organisation.whatsapp),
            "osm_url": (
                directory.osm_url(organisation.latitude, organisation.longitude)
                if organisation.latitude is not None and organisation.longitude is not None
                else ""
            ),
            "map_tile_url": settings.ATENSI_MAP_TILE_URL,
            "map_attribution": settings.ATENSI_MAP_ATTRIBUTION,
            "can_manage": can_administer_organisation(request.user, organisation),
        },
    )


@require_http_methods(["GET", "POST"])
def organisation_edit(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = get_or_404(selectors.organisations_administered_by(request.user), pk=organisation_id)
    form = OrganisationProfileForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        changes = form.profile_changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("stakeholders:organisation_detail", organisation_id=organisation.pk)
        if submit(
            request,
            form,
            lambda: services.organisation_update(
                organisation=organisation,
                by=request.user,
                expected_updated_at=form.cleaned_data["updated_at"],
                **changes,
            ),
            success=_("The profile of %(org)s was saved.") % {"org": organisation.name},
        ):
            return redirect("stakeholders:organisation_detail", organisation_id=organisation.pk)
    return render(request, "stakeholders/organisation_form.html", {"organisation": organisation, "form": form})


@require_GET
def organisation_export_csv(request: AuthenticatedRequest) -> StreamingHttpResponse:
    return exports.csv_response(request, user=request.user, source=ORGANISATIONS)


@require_GET
def organisation_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return exports.xlsx_response(request, user=request.user, source=ORGANISATIONS)


urlpatterns = [
    path("organisations/", organisation_list, name="organisation_list"),
    path("organisations/export.csv", organisation_export_csv, name="organisation_export_csv"),
    path("organisations/export.xlsx", organisation_export_xlsx, name="organisation_export_xlsx"),
    path("organisations/<int:organisation_id>/", organisation_detail, name="organisation_detail"),
    path("organisations/<int:organisation_id>/edit/", organisation_edit, name="organisation_edit"),
]
