"""The people directory of national administrators (stakeholders.people): search every
account, open a person, reset their second factor (the second-factor reset view, from
here) or sign them out everywhere. Anyone else gets 404 on these pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atensi.core.access import get_or_404, record_access
from atensi.core.errors import ApplicationError

from .. import people
from ..http import AuthenticatedRequest
from ..models import User
from ..permissions import can_search_people, end_sessions_refusal, reset_second_factor_refusal
from ..second_factor import has_second_factor


@require_GET
def people_list(request: AuthenticatedRequest) -> HttpResponse:
    if not can_search_people(request.user):
        raise Http404(_("Not found."))
    query = people.clean_query(request.GET.get("q", ""))
    page = people.people_page(user=request.user, query=query, after=request.GET.get("after"))
    context = {
        "query": query,
        "page": page,
        "too_short": bool(query) and not page.searched,
        "min_length": people.PEOPLE_QUERY_MIN_LENGTH,
    }
    return render(request, "stakeholders/people_list.html", context)


@require_GET
def person_detail(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    person = people.person_get(user=request.user, person_id=user_id)
    # Like an organisation's staff page, the view of a person's account is in the access log.
    record_access(user=request.user, obj=person, request=request)
    row = people.person_rows([person])[0]
    context = {
        "person": person,
        "row": row,
        "reset_refusal": reset_second_factor_refusal(request.user, person),
        "end_refusal": end_sessions_refusal(request.user, person),
        "has_second_factor": has_second_factor(person),
    }
    return render(request, "stakeholders/person_detail.html", context)


@require_POST
def person_end_sessions(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """Sign a person out everywhere: from the people directory, or by their org admins."""
    person: User = get_or_404(people.people_sessions_endable_by(request.user), pk=user_id)
    try:
        people.person_sessions_end(by=request.user, user=person)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s was signed out everywhere. They sign in again to go on.") % {"name": person},
        )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    if can_search_people(request.user):
        return redirect(reverse("stakeholders:person_detail", args=[person.pk]))
    return redirect("home")


urlpatterns = [
    path("people/", people_list, name="people_list"),
    path("people/<int:user_id>/", person_detail, name="person_detail"),
    path("people/<int:user_id>/sessions/end/", person_end_sessions, name="person_end_sessions"),
]
