"""The printable case summary (court, Bapas, handover): one page per case, as its reader
may see it, each view recorded in the access log as a print."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from atensi.core.access import record_access
from atensi.core.models import AccessLog
from stakeholders.http import AuthenticatedRequest

from .. import pages
from ..selectors import case_get_for_user
from ..summary import case_summary


@require_GET
def case_summary_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=pk)
    record_access(
        user=request.user,
        obj=case,
        action=AccessLog.Action.PRINT,
        request=request,
        organisation_id=case.organisation_id,
    )
    return render(
        request,
        "cases/case_summary.html",
        {
            "case": case,
            "summary": case_summary(case=case, user=request.user),
            # Sections of the apps above cases (cases.pages.summary_section): referrals.
            "summary_sections": pages.summary_sections_for(request, case),
        },
    )


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/summary/", case_summary_page, name="case_summary"),
]
