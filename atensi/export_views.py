"""Each person's exports ("my exports"): the background XLSX files being made or ready,
their progress (a small fragment htmx polls), the download, and "make it again"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atensi.core import exports
from atensi.core.errors import ApplicationError
from stakeholders.http import AuthenticatedRequest


@require_GET
def export_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "atensi/export_list.html", {"jobs": exports.job_rows(request.user)})


@require_GET
def export_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One export's line, polled while it is being made: one query by primary key, and none
    of the page's context processors (the bell, the menu)."""
    job = exports.job_row(exports.export_get(user=request.user, job_id=pk))
    html = render_to_string("atensi/_export_row.html", {"job": job, "csrf_token": get_token(request)})
    return HttpResponse(html)


@require_GET
def export_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    response = exports.download_response(user=request.user, job_id=pk)
    if response is None:
        messages.warning(
            request, _("This export is no longer available: files are deleted after a while. Make it again.")
        )
        return redirect("exports")
    return response


@require_POST
def export_again(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        job = exports.export_again(user=request.user, job_id=pk)
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The export is being made again (no. %(job)s).") % {"job": job.pk})
    return redirect("exports")
