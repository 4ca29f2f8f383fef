"""Spreadsheet import pages: upload, preview with every error, confirm or discard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atensi.core.access import get_or_404
from atensi.core.errors import ApplicationError

from .. import imports, selectors
from ..http import AuthenticatedRequest
from ..import_forms import ImportUploadForm
from ..models import ImportBatch, ImportKind, ImportStatus, OrganisationKind, WorkforceKind

# The preview lists at most this many errors; a file with more is better fixed in Excel first.
MAX_ERRORS_SHOWN = 500


@require_http_methods(["GET", "POST"])
def import_new(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    organisation = get_or_404(selectors.organisations_administered_by(request.user), pk=organisation_id)
    kind = request.GET.get("kind")
    initial = {"kind": kind if kind in ImportKind.values else ImportKind.ORGANISATIONS}
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            batch = imports.import_preview(
                organisation=organisation,
                by=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ApplicationError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("stakeholders:import_preview", organisation_id=organisation.pk, batch_id=batch.pk)
    chosen = form["kind"].value() or initial["kind"]
    return render(
        request,
        "stakeholders/import_upload.html",
        {
            "organisation": organisation,
            "form": form,
            "kind": chosen if chosen in ImportKind.values else ImportKind.ORGANISATIONS,
            "guides": [
                (ImportKind.ORGANISATIONS, ImportKind.ORGANISATIONS.label, imports.ORGANISATION_COLUMNS),
                (ImportKind.WORKFORCE, ImportKind.WORKFORCE.label, imports.WORKFORCE_COLUMNS),
            ],
            "recent": imports.import_batches_of(organisation=organisation)[:10],
        },
    )


def _preview_columns(batch: ImportBatch) -> list[tuple[str, str]]:
    """(row key, heading) for the rows table, in the template's column order."""
    headers: dict[str, str] = batch.result.get("headers", {})
    shown = []
    for column in imports.COLUMNS[batch.kind]:
        if column.key in headers:
            shown.append((column.key, headers[column.key]))
    return shown


def _display_rows(batch: ImportBatch, columns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    kinds = dict(OrganisationKind.choices if batch.kind == ImportKind.ORGANISATIONS else WorkforceKind.choices)
    # Friendlier stand-ins kept in the row by the plan: names for codes, the masked NIK.
    display_of = {"village": "_village", "regions": "_regions", "nik": "_nik"}
    rows = []
    for row in batch.rows[: imports.PREVIEW_ROWS]:
        cells = []
        for key, _heading in columns:
            value = row.get(display_of.get(key, ""), None) or row.get(key, "")
            if key == "nik" and not row.get("_nik"):
                value = "•" * len(str(value))  # an invalid NIK is still personal data
            if key == "kind":
                value = kinds.get(value, value)
            cells.append(value)
        rows.append({"number": row.get("_row"), "action": row.get("_action", ""), "cells": cells})
    return rows


@require_GET
def import_preview(request: AuthenticatedRequest, organisation_id: int, batch_id: int) -> HttpResponse:
    batch = imports.import_batch_get(user=request.user, organisation_id=organisation_id, batch_id=batch_id)
    columns = _preview_columns(batch)
    errors = sorted(batch.errors, key=lambda e: e.get("row") or 0)
    return render(
        request,
        "stakeholders/import_preview.html",
        {
            "organisation": batch.organisation,
            "batch": batch,
            "result": batch.result,
            "warnings": batch.result.get("warnings", []),
            "errors": errors[:MAX_ERRORS_SHOWN],
            "errors_hidden": max(len(errors) - MAX_ERRORS_SHOWN, 0),
            "columns": columns,
            "rows": _display_rows(batch, columns) if batch.status == ImportStatus.PREVIEW else [],
            "more_rows": max(len(batch.rows) - imports.PREVIEW_ROWS, 0),
            "can_confirm": batch.status == ImportStatus.PREVIEW and not batch.errors,
        },
    )


@require_POST
def import_confirm(request: AuthenticatedRequest, organisation_id: int, batch_id: int) -> HttpResponse:
    batch = imports.import_batch_get(user=request.user, organisation_id=organisation_id, batch_id=batch_id)
    try:
        batch = imports.import_confirm(batch=batch, by=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "new": batch.result.get("new", 0),
                "updated": batch.result.get("updated", 0),
                "unchanged": batch.result.get("unchanged", 0),
            },
        )
    return redirect("stakeholders:import_preview", organisation_id=organisation_id, batch_id=batch_id)


@require_POST
def import_discard(request: AuthenticatedRequest, organisation_id: int, batch_id: int) -> HttpResponse:
    batch = imports.import_batch_get(user=request.user, organisation_id=organisation_id, batch_id=batch_id)
    try:
        imports.import_discard(batch=batch, by=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("stakeholders:import_preview", organisation_id=organisation_id, batch_id=batch_id)
    messages.info(request, _("The import was discarded; nothing was saved."))
    return redirect(f"{_new_url(organisation_id)}?kind={batch.kind}")


def _new_url(organisation_id: int) -> str:
    return reverse("stakeholders:import_new", kwargs={"organisation_id": organisation_id})


@require_GET
def import_template(request: AuthenticatedRequest, kind: str, fmt: str) -> HttpResponse:
    """The column template with one example row; holds no data, so any signed-in user may have it."""
    if kind not in ImportKind.values:
        raise Http404
    if fmt == "csv":
        response = HttpResponse(imports.template_csv(kind), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            imports.template_xlsx(kind),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="atensi-import-{kind}.{fmt}"'
    return response


urlpatterns = [
    path("organisations/<int:organisation_id>/imports/new/", import_new, name="import_new"),
    path("organisations/<int:organisation_id>/imports/<int:batch_id>/", import_preview, name="import_preview"),
    path("organisations/<int:organisation_id>/imports/<int:batch_id>/confirm/", import_confirm, name="import_confirm"),
    path("organisations/<int:organisation_id>/imports/<int:batch_id>/discard/", import_discard, name="import_discard"),
    re_path(
        r"^imports/template/(?P<kind>organisations|workforce)\.(?P<fmt>csv|xlsx)$",
        import_template,
        name="import_template",
    ),
]
