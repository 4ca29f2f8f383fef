"""Case views: beneficiaries — the search before registration, registration, the person's
page, edits, family members, the private photo, merging two records, and opening a case.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import actor_for, get_or_404, is_id, record_access
from atensi.core.errors import ApplicationError
from atensi.core.stash import stash, unstash
from atensi.core.submit import submit
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import Organisation, User
from stakeholders.roles import Role
from stakeholders.selectors import region_get, region_label

from .. import beneficiaries as svc
from ..beneficiaries.screening import limit_message, request_contact, screened_search
from ..beneficiary_forms import (
    BeneficiaryCreateForm,
    BeneficiaryEditForm,
    BeneficiarySearchForm,
    CaseOpenForm,
    FamilyMemberCreateForm,
    FamilyMemberEditForm,
    MergeForm,
    PhotoForm,
)
from ..models import (
    OPEN_STAGES,
    Beneficiary,
    Case,
    CaseSource,
    Report,
    ReportStatus,
    RiskLevel,
    Urgency,
)
from ..permissions import (
    can_edit_beneficiary,
    can_merge_beneficiaries,
    merge_organisations,
    subject_access_organisations_among,
)
from ..selectors import (
    CASE_MANAGER_ROLES,
    beneficiaries_visible_to,
    beneficiary_get_for_user,
    cases_readable_by,
    default_cluster_id,
    family_member_get,
    members_with_roles,
    merged_record_get,
    registering_organisations,
    report_waiting_at,
    reports_visible_to,
)
from ..services import case_open


def case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def _with_query(url: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{url}?{query}" if query else url


def _report_from(request: AuthenticatedRequest) -> Report | None:
    """The community report named by ?report=<public_id>, if the user may see it (404 otherwise)."""
    public_id = request.GET.get("report")
    if not public_id:
        return None
    try:
        uuid.UUID(public_id)
    except ValueError:
        raise Http404(_("Not found.")) from None
    return get_or_404(reports_visible_to(request.user).select_related("village"), public_id=public_id)


def _require_case_worker(request: AuthenticatedRequest) -> list[Organisation]:
    """The organisations the user registers people for; nobody else has business here."""
    organisations = registering_organisations(request.user)
    if not organisations:
        raise Http404(_("Not found."))
    return organisations


def _ids(values: list[str]) -> set[int]:
    return {int(v) for v in values if is_id(v)}


def _editable(request: AuthenticatedRequest, pk: int) -> tuple[Beneficiary, HttpResponse | None]:
    """The person (404 if not visible) and, if the user may not change them, where to go instead."""
    beneficiary = beneficiary_get_for_user(user=request.user, beneficiary_id=pk)
    if not can_edit_beneficiary(request.user, beneficiary):
        messages.error(
            request,
            _(
                "Only the workers of the organisation that registered %(name)s, or of one that has an open case "
                "for them, can change this record."
            )
            % {"name": beneficiary.full_name},
        )
        return beneficiary, redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    if request.method == "GET":
        # The edit forms show the whole record: a view of personal data like the page itself.
        _log_view(request, beneficiary)
    return beneficiary, None


def _log_view(request: AuthenticatedRequest, beneficiary: Beneficiary) -> None:
    record_access(user=request.user, obj=beneficiary, request=request, organisation_id=beneficiary.organisation_id)


# --- Search before create ----------------------------------------------------------------------


# The searched NIK reaches the registration form by this reference, never in its URL.
NIK_REF = "nik_ref"
_NIK_PURPOSE = "beneficiary-search-nik"


@require_http_methods(["GET", "POST"])
def beneficiary_search(request: AuthenticatedRequest) -> HttpResponse:
    """The search before registration. The form is POSTed and the results are this POST's
    own page: a NIK typed here reaches no URL (server logs, history, Referer). A GET still
    searches a name (the report's prefill, links), but never a NIK."""
    actor = actor_for(request.user)
    organisations = registering_organisations(request.user)
    if not organisations and not actor.is_superuser:
        raise Http404(_("Not found."))
    report = _report_from(request)
    status = 200
    if request.method == "POST":
        form = BeneficiarySearchForm(request.POST)
    elif request.GET.get("nik"):
        messages.warning(
            request,
            _("A NIK is never searched from a link or the address bar, where it would be kept. Type it in the form."),
        )
        form, status = BeneficiarySearchForm(), 400
    elif any(request.GET.get(k) for k in ("full_name", "birth_year", "regency")):
        form = BeneficiarySearchForm(request.GET)
    elif report is not None:
        prefill = {"full_name": report.child_name, "regency": report.village_id[:4]}
        if report.child_age is not None:
            prefill["birth_year"] = str(timezone.localdate().year - report.child_age)
        form = BeneficiarySearchForm(prefill) if report.child_name else BeneficiarySearchForm(initial=prefill)
    else:
        form = BeneficiarySearchForm()
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        regency = data.get("regency")
        result = screened_search(
            user=request.user,
            request=request,
            full_name=data.get("full_name") or "",
            nik=data.get("nik") or "",
            birth_year=data.get("birth_year"),
            regency_code=regency.code if regency is not None else "",
        )
    create_url = None
    if result is not None and organisations and not (result.nik_match and result.nik_match.visible):
        nik = form.cleaned_data.get("nik")
        create_url = _with_query(
            reverse("cases:beneficiary_create"),
            full_name=form.cleaned_data.get("full_name"),
            **{NIK_REF: stash(user_id=request.user.pk, purpose=_NIK_PURPOSE, value=nik) if nik else None},
            report=report.public_id if report else None,
        )
    return render(
        request,
        "cases/beneficiary_search.html",
        {
            "form": form,
            "result": result,
            "report": report,
            "create_url": create_url,
            "report_query": f"?report={report.public_id}" if report else "",
            "limited": limit_message() if result is not None and result.limited else "",
        },
        status=status,
    )


# --- Registration -----------------------------------------------------------------------------------


def _create_initial(request: AuthenticatedRequest, report: Report | None) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    anak = default_cluster_id()
    if anak:
        initial["cluster"] = anak
    if report is not None:
        initial.update(
            full_name=report.child_name,
            sex=report.child_sex,
            approximate_age=report.child_age,
            village=report.village_id,
            ampk_categories=list(report.ampk_categories.values_list("pk", flat=True)),
        )
    if request.GET.get("full_name"):
        initial["full_name"] = request.GET["full_name"][:200]
    # The NIK searched a moment ago, by its reference (a `nik` in the URL is not read).
    nik = unstash(user_id=request.user.pk, purpose=_NIK_PURPOSE, token=request.GET.get(NIK_REF, ""))
    if nik:
        initial["nik"] = nik
    return initial


@require_http_methods(["GET", "POST"])
def beneficiary_create(request: AuthenticatedRequest) -> HttpResponse:
    organisations = _require_case_worker(request)
    report = _report_from(request)
    form = BeneficiaryCreateForm(
        request.POST or None, organisations=organisations, initial=_create_initial(request, report)
    )
    candidates: list[svc.Match] = []
    nik_match: svc.Match | None = None
    if request.method == "POST":
        outcome = submit(
            request,
            form,
            lambda: svc.beneficiary_create(
                by=request.user,
                organisation=form.cleaned_data["organisation"],
                ampk_categories=form.cleaned_data["ampk_categories"],
                ppks_types=form.cleaned_data["ppks_types"],
                not_same_as=_ids(request.POST.getlist("not_same")),
                **form.values(),
            ),
        )
        if outcome.repeated:
            latest = (
                beneficiaries_visible_to(request.user)
                .filter(created_by_id=request.user.pk)
                .order_by("-created_at", "-pk")
                .first()
            )
            if latest is None:
                return redirect("cases:beneficiary_search")
            return redirect("cases:beneficiary_detail", pk=latest.pk)
        if isinstance(outcome.error, svc.PossibleDuplicates):
            candidates = outcome.error.candidates
        elif outcome.error is not None:
            nik_match = outcome.error.extra.get("match")
        if outcome.value is not None:
            beneficiary = outcome.value
            messages.success(request, _("%(name)s was registered.") % {"name": beneficiary.full_name})
            for warning in form.warnings:
                messages.warning(request, warning)
            if report is not None:
                return redirect(
                    _with_query(reverse("cases:case_create", args=[beneficiary.pk]), report=report.public_id)
                )
            return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    return render(
        request,
        "cases/beneficiary_create.html",
        {
            "form": form,
            "report": report,
            "candidates": candidates,
            "not_same": _ids(request.POST.getlist("not_same")) if request.method == "POST" else set(),
            "nik_match": nik_match,
            "report_query": f"?report={report.public_id}" if report else "",
        },
    )


# --- The person's page ----------------------------------------------------------------------------


def _survivor_redirect(request: AuthenticatedRequest, pk: int) -> HttpResponse | None:
    """A merged record's address leads to the record it was merged into, if the user may see that."""
    merged = merged_record_get(beneficiary_id=pk)
    survivor = svc.merged_survivor(merged) if merged is not None else None
    if survivor is not None and beneficiaries_visible_to(request.user).filter(pk=survivor.pk).exists():
        messages.info(request, _("That record was merged into this one."))
        return redirect("cases:beneficiary_detail", pk=survivor.pk)
    return None


@require_GET
def beneficiary_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        beneficiary = beneficiary_get_for_user(user=request.user, beneficiary_id=pk)
    except Http404:
        moved = _survivor_redirect(request, pk)
        if moved is not None:
            return moved
        raise
    record_access(user=request.user, obj=beneficiary, request=request, organisation_id=beneficiary.organisation_id)
    village = region_get(code=beneficiary.village_id) if beneficiary.village_id else None
    cases = (
        cases_readable_by(request.user)
        .filter(beneficiary=beneficiary)
        .select_related("organisation", "case_manager")
        .order_by("-opened_at", "-pk")
    )
    can_edit = can_edit_beneficiary(request.user, beneficiary)
    shown = list(cases)
    # A supervisor sees every case of their organisation, so the holders among the cases
    # shown are all the holders the rule would find.
    holders = {beneficiary.organisation_id, *(case.organisation_id for case in shown)}
    return render(
        request,
        "cases/beneficiary_detail.html",
        {
            "beneficiary": beneficiary,
            "village_label": region_label(village) if village else "",
            "family": list(beneficiary.family.all()),
            "cases": [(case, case_url(case)) for case in shown],
            "ampk": list(beneficiary.ampk_categories.all()),
            "ppks": list(beneficiary.ppks_types.all()),
            "can_edit": can_edit,
            "can_open_case": bool(registering_organisations(request.user)),
            "merge_candidates": svc.mergeable_with(user=request.user, beneficiary=beneficiary),
            "may_merge": can_merge_beneficiaries(request.user),
            "photo_form": PhotoForm() if can_edit else None,
            "may_record_subject_access": bool(subject_access_organisations_among(request.user, holders)),
        },
    )


@require_http_methods(["GET", "POST"])
def beneficiary_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    beneficiary, refused = _editable(request, pk)
    if refused is not None:
        return refused
    form = BeneficiaryEditForm(request.POST or None, instance=beneficiary)
    if request.method == "POST" and (
        outcome := submit(
            request,
            form,
            lambda: svc.beneficiary_update(
                beneficiary=beneficiary,
                by=request.user,
                expected_updated_at=form.cleaned_data["updated_at"],
                ampk_categories=form.cleaned_data["ampk_categories"],
                ppks_types=form.cleaned_data["ppks_types"],
                **form.values(),
            ),
        )
    ):
        changed = outcome.value
        if changed:
            messages.success(request, _("The record of %(name)s was saved.") % {"name": beneficiary.full_name})
            if "nik" in changed:
                for warning in form.warnings:
                    messages.warning(request, warning)
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    return render(request, "cases/beneficiary_edit.html", {"beneficiary": beneficiary, "form": form})


# --- Family --------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def family_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    beneficiary, refused = _editable(request, pk)
    if refused is not None:
        return refused
    form = FamilyMemberCreateForm(request.POST or None)
    if request.method == "POST" and submit(
        request,
        form,
        lambda: svc.family_member_add(beneficiary=beneficiary, by=request.user, **form.values()),
        success=lambda member: (
            _("%(member)s was added to the family of %(name)s.")
            % {"member": member.name, "name": beneficiary.full_name}
        ),
    ):
        return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    return render(request, "cases/family_form.html", {"beneficiary": beneficiary, "form": form, "member": None})


@require_http_methods(["GET", "POST"])
def family_edit(request: AuthenticatedRequest, pk: int, member_pk: int) -> HttpResponse:
    beneficiary, refused = _editable(request, pk)
    if refused is not None:
        return refused
    member = family_member_get(beneficiary=beneficiary, member_id=member_pk)
    form = FamilyMemberEditForm(request.POST or None, instance=member)
    if request.method == "POST" and (
        outcome := submit(
            request,
            form,
            lambda: svc.family_member_update(
                member=member, by=request.user, expected_updated_at=form.cleaned_data["updated_at"], **form.values()
            ),
        )
    ):
        if outcome.value:
            messages.success(request, _("%(member)s was saved.") % {"member": member.name})
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    return render(request, "cases/family_form.html", {"beneficiary": beneficiary, "form": form, "member": member})


# --- Photo ------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def beneficiary_photo(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """GET: the photo, to those who may see the person (audited). POST: replace or remove it."""
    if request.method == "POST":
        return _photo_change(request, pk)
    beneficiary = beneficiary_get_for_user(user=request.user, beneficiary_id=pk)
    content_type = svc.photo_content_type(beneficiary.photo.name) if beneficiary.photo else None
    if content_type is None:
        raise Http404(_("Not found."))
    try:
        handle = beneficiary.photo.open("rb")
    except OSError:
        raise Http404(_("Not found.")) from None
    record_access(
        user=request.user,
        obj=beneficiary,
        action="download",
        request=request,
        organisation_id=beneficiary.organisation_id,
    )
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _photo_change(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    beneficiary, refused = _editable(request, pk)
    if refused is not None:
        return refused
    if request.POST.get("remove"):
        try:
            svc.beneficiary_photo_remove(beneficiary=beneficiary, by=request.user)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The photo was removed."))
        return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a photo to upload. Nothing was changed."))
        return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
    try:
        svc.beneficiary_photo_set(beneficiary=beneficiary, by=request.user, file=form.cleaned_data["photo"])
    except ApplicationError as exc:
        messages.error(request, str(exc) + " " + _("Nothing was changed."))
    else:
        messages.success(request, _("The photo was saved."))
    return redirect("cases:beneficiary_detail", pk=beneficiary.pk)


# --- Merge --------------------------------------------------------------------------------------------------


def _merge_pair(request: AuthenticatedRequest, data: Any) -> tuple[Beneficiary, Beneficiary] | None:
    first, second = str(data.get("first") or ""), str(data.get("second") or "")
    if not (is_id(first) and is_id(second)):
        return None
    if first == second:
        messages.error(request, _("Choose two different records to merge."))
        return None
    return (
        beneficiary_get_for_user(user=request.user, beneficiary_id=int(first)),
        beneficiary_get_for_user(user=request.user, beneficiary_id=int(second)),
    )


@require_http_methods(["GET", "POST"])
def beneficiary_merge(request: AuthenticatedRequest) -> HttpResponse:
    if not can_merge_beneficiaries(request.user):
        raise Http404(_("Not found."))
    pair = _merge_pair(request, request.POST if request.method == "POST" else request.GET)
    if pair is None:
        return render(request, "cases/beneficiary_merge.html", {"pair": None, "query": request.GET})
    first, second = pair
    if not merge_organisations(user=request.user, first_id=first.pk, second_id=second.pk):
        messages.error(
            request,
            _(
                "Only a supervisor of an organisation that registered both records, or has a case for both, "
                "can merge them."
            ),
        )
        return redirect("cases:beneficiary_detail", pk=first.pk)
    form = MergeForm(request.POST or None, first=first, second=second)
    if request.method == "POST" and form.is_valid():
        survivor, merged = (first, second) if form.cleaned_data["survivor"] == first.pk else (second, first)
        if submit(
            request,
            form,
            lambda: svc.beneficiary_merge(
                survivor=survivor, merged=merged, by=request.user, reason=form.cleaned_data["reason"]
            ),
            success=_("Record no. %(merged)s was merged into this one; its cases and family are here now.")
            % {"merged": merged.pk},
        ):
            return redirect("cases:beneficiary_detail", pk=survivor.pk)
    records = []
    for b in (first, second):
        _log_view(request, b)
        village = region_get(code=b.village_id) if b.village_id else None
        records.append(
            {
                "b": b,
                "village_label": region_label(village) if village else "",
                "cases": list(cases_readable_by(request.user).filter(beneficiary=b).select_related("organisation")),
                "family": list(b.family.all()),
            }
        )
    return render(request, "cases/beneficiary_merge.html", {"pair": pair, "records": records, "form": form})


# --- Open a case ----------------------------------------------------------------------------------------------


def _workers(organisations: list[Organisation], roles: tuple[str, ...]) -> QuerySet[User]:
    return members_with_roles(organisation_ids=[o.pk for o in organisations], roles=roles)


def _report_organisation(report: Report, organisations: list[Organisation]) -> Organisation | None:
    queued = report_waiting_at(report=report, organisation_ids=[o.pk for o in organisations])
    return next((o for o in organisations if o.pk in queued), None)


def _case_initial(
    request: AuthenticatedRequest, beneficiary: Beneficiary, organisations: list[Organisation], report: Report | None
) -> dict[str, Any]:
    organisation = (_report_organisation(report, organisations) if report else None) or organisations[0]
    initial: dict[str, Any] = {
        "organisation": organisation.pk,
        "cluster": beneficiary.cluster_id,
        "basis": "keluarga",
        "source": CaseSource.COMMUNITY_REPORT if report else CaseSource.WALK_IN,
        "risk_level": RiskLevel.MEDIUM,
    }
    if report is not None:
        initial["summary"] = report.narrative
        if report.urgency == Urgency.EMERGENCY:
            initial["risk_level"] = RiskLevel.CRITICAL
        elif report.urgency == Urgency.HIGH:
            initial["risk_level"] = RiskLevel.HIGH
    actor = actor_for(request.user)
    if actor.has_role(organisation.pk, *CASE_MANAGER_ROLES):
        initial["case_manager"] = request.user.pk
    supervisors = list(
        _workers([organisation], (Role.SUPERVISOR,)).values_list("pk", flat=True)[:2]  # one supervisor: preselect
    )
    if len(supervisors) == 1:
        initial["supervisor"] = supervisors[0]
    return initial


@require_http_methods(["GET", "POST"])
def case_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    beneficiary = beneficiary_get_for_user(user=request.user, beneficiary_id=pk)
    organisations = _require_case_worker(request)
    report = _report_from(request)
    if report is not None and report.status != ReportStatus.NEW:
        messages.warning(
            request,
            _("Report %(reference)s was already triaged, so this case will not be linked to it.")
            % {"reference": report.reference},
        )
        report = None
    form = CaseOpenForm(
        request.POST or None,
        organisations=organisations,
        case_managers=_workers(organisations, CASE_MANAGER_ROLES),
        supervisors=_workers(organisations, (Role.SUPERVISOR,)),
        initial=_case_initial(request, beneficiary, organisations, report),
    )
    existing: Case | None = None
    if request.method == "GET":
        _log_view(request, beneficiary)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = submit(
            request,
            form,
            lambda: case_open(
                organisation=data["organisation"],
                beneficiary=beneficiary,
                opened_by=request.user,
                cluster=data["cluster"],
                basis=data["basis"],
                source=data["source"],
                risk_level=data["risk_level"],
                is_confidential=data["is_confidential"],
                summary=data["summary"],
                case_manager=data["case_manager"],
                supervisor=data["supervisor"],
                report=report,
            ),
            success=lambda case: (
                _("Case %(number)s was opened for %(name)s.") % {"number": case.number, "name": beneficiary.full_name}
            ),
        )
        if outcome.repeated:
            opened = (
                cases_readable_by(request.user)
                .filter(beneficiary=beneficiary, organisation=data["organisation"], stage__in=OPEN_STAGES)
                .first()
            )
            if opened is not None:
                return redirect(case_url(opened))
            return redirect("cases:beneficiary_detail", pk=beneficiary.pk)
        if outcome.value is not None:
            return redirect(case_url(outcome.value))
        found = outcome.error.extra.get("case") if outcome.error is not None else None
        if found is not None and cases_readable_by(request.user).filter(pk=found.pk).exists():
            existing = found
    return render(
        request,
        "cases/case_create.html",
        {
            "beneficiary": beneficiary,
            "form": form,
            "report": report,
            "existing": existing,
            "existing_url": case_url(existing) if existing else "",
        },
    )


@require_POST
def contact_request(request: AuthenticatedRequest) -> HttpResponse:
    """ "Ask them to contact me" about a child registered elsewhere in a confidential case."""
    _require_case_worker(request)
    try:
        request_contact(by=request.user, token=request.POST.get("token", ""), request=request)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "The organisation holding the record was asked to contact you. They decide whether to; "
                "do not register the child again."
            ),
        )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/cases/beneficiaries/") else reverse("cases:beneficiary_search"))


urlpatterns: list[URLPattern] = [
    path("cases/beneficiaries/", beneficiary_search, name="beneficiary_search"),
    path("cases/beneficiaries/contact/", contact_request, name="beneficiary_contact_request"),
    path("cases/beneficiaries/new/", beneficiary_create, name="beneficiary_create"),
    path("cases/beneficiaries/merge/", beneficiary_merge, name="beneficiary_merge"),
    path("cases/beneficiaries/<int:pk>/", beneficiary_detail, name="beneficiary_detail"),
    path("cases/beneficiaries/<int:pk>/edit/", beneficiary_edit, name="beneficiary_edit"),
    path("cases/beneficiaries/<int:pk>/photo/", beneficiary_photo, name="beneficiary_photo"),
    path("cases/beneficiaries/<int:pk>/family/add/", family_add, name="family_add"),
    path("cases/beneficiaries/<int:pk>/family/<int:member_pk>/edit/", family_edit, name="family_edit"),
    path("cases/beneficiaries/<int:pk>/open-case/", case_create, name="case_create"),
]
