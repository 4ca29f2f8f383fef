"""Case views: the case list ("my cases" / all cases of the organisation), its CSV/XLSX
export (through the portal's export policy, atensi.core.exports), and the supervisors'
handover of cases from the list to another case manager."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atensi.core import exports
from atensi.core.access import actor_for
from atensi.core.fragments import cached_fragment
from atensi.core.stash import stash
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest
from stakeholders.roles import Role

from .. import lists, reassign
from ..exports import CASES
from ..list_forms import CaseNikForm, case_list_filters, filter_panel_key
from ..permissions import can_list_cases, can_reassign_cases
from ..reassign_forms import ReassignForm, handover_candidates
from ..selectors import CASE_ROLES


def _require_case_worker(request: AuthenticatedRequest) -> None:
    # Whoever works no cases anywhere has no case list: not found, as for any scoped page.
    if not can_list_cases(request.user):
        raise Http404


def _query(request: AuthenticatedRequest) -> str:
    params = request.GET.copy()
    params.pop("cursor", None)
    if lists.search_kind(params.get("q") or "") == lists.SearchKind.NIK:
        params.pop("q")  # not searched (cases.list_forms), and not repeated in the page's links
    return params.urlencode()


@require_GET
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_case_worker(request)
    form, filters, warnings = case_list_filters(request.GET, user=request.user)
    matching = lists.cases_matching(user=request.user, filters=filters)
    page = lists.case_page(matching, sort=filters.sort, cursor=request.GET.get("cursor"), size=lists.PAGE_SIZE)
    actor = actor_for(request.user)
    handover = None
    if can_reassign_cases(request.user):
        handover = ReassignForm(
            user=request.user, candidates=handover_candidates(request.user), initial={"query": _query(request)}
        )
    panel_context = {
        "form": form,
        "filters": filters,
        "user": request.user,
        "more_filters_used": lists.uses_more_filters(filters),
    }
    # A search's form shows the text searched (maybe a child's name): drawn, never kept.
    key = filter_panel_key(form, nik_ref=filters.nik_ref, language=get_language()) if form.keepable else None
    panel = cached_fragment(key, lambda: render_to_string("cases/_case_filters.html", panel_context))
    # htmx swaps the results region out of the same page (hx-select): one URL per view, so
    # links, the back button and a browser without JavaScript all see the same thing.
    return render(
        request,
        "cases/case_list.html",
        {
            "filter_panel": panel,
            "filters": filters,
            "page": page,
            "total": lists.case_total(matching, user=request.user, filters=filters),
            "warnings": warnings,
            "query": _query(request),
            "many_orgs": len(actor.org_ids(*CASE_ROLES)) != 1,
            # Supervisors tick cases of the organisations they supervise to hand them over.
            "handover": handover,
            "supervised": actor.org_ids(Role.SUPERVISOR),
        },
    )


@require_POST
def case_list_nik(request: AuthenticatedRequest) -> HttpResponse:
    """ "Find a child by NIK": the NIK comes by POST and is kept for the user behind a
    reference (atensi.core.stash); the list it redirects to carries the reference only, in
    its address, its pages and its exports."""
    _require_case_worker(request)
    form = CaseNikForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("nik", []):
            messages.error(request, str(error))
        return redirect("cases:case_list")
    ref = stash(user_id=request.user.pk, purpose=lists.NIK_PURPOSE, value=form.cleaned_data["nik"])
    if ref is None:
        messages.error(request, _("Finding a child by NIK is unavailable for a moment. Try again in a minute."))
        return redirect("cases:case_list")
    # Every case of the child the user may see, open or closed, whoever manages it.
    query = urlencode({"scope": lists.Scope.ALL, "status": lists.Status.ALL, lists.NIK_REF: ref})
    return redirect(f"{reverse('cases:case_list')}?{query}")


@require_GET
def case_export_csv(request: AuthenticatedRequest) -> StreamingHttpResponse:
    return exports.csv_response(request, user=request.user, source=CASES)


@require_GET
def case_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return exports.xlsx_response(request, user=request.user, source=CASES)


@require_POST
def case_reassign(request: AuthenticatedRequest) -> HttpResponse:
    """Hand the ticked cases (or every open case of a worker) to another case manager."""
    _require_case_worker(request)
    if not can_reassign_cases(request.user):
        raise Http404
    form = ReassignForm(request.POST, user=request.user)
    submit(
        request,
        form,
        lambda: reassign.cases_reassign(by=request.user, **form.service_kwargs()),
        success=lambda done: (
            ngettext("%(count)s case handed over to %(name)s.", "%(count)s cases handed over to %(name)s.", done.cases)
            % {"count": done.cases, "name": done.to_name}
        ),
        errors="message",
    )
    query = "".join(ch for ch in (form.data.get("query") or "") if ch.isprintable())[:2000]
    return redirect(reverse("cases:case_list") + (f"?{query}" if query else ""))


urlpatterns: list[URLPattern] = [
    path("cases/reassign/", case_reassign, name="case_reassign"),
    path("cases/", case_list, name="case_list"),
    path("cases/find-by-nik/", case_list_nik, name="case_list_nik"),
    path("cases/export.csv", case_export_csv, name="case_export_csv"),
    path("cases/export.xlsx", case_export_xlsx, name="case_export_xlsx"),
]
