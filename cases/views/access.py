"""The case's "who saw this child" page, for its organisation's supervisors (and
superusers): the access log about the case, the child and the case's documents."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from atensi.core.access import record_access
from stakeholders.http import AuthenticatedRequest

from ..access_log import case_access_page, case_for_access_log


@require_GET
def case_access(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_for_access_log(user=request.user, case_id=pk)
    page = case_access_page(case=case, after=request.GET.get("after"))
    record_access(user=request.user, obj=case, request=request, organisation_id=case.organisation_id)
    return render(request, "cases/case_access.html", {"case": case, "tab": "access", "page": page})


urlpatterns = [path("cases/<int:pk>/access/", case_access, name="case_access")]
