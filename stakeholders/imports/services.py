"""The writes of an import: the preview (which keeps the checked rows in an ImportBatch and
saves nothing else), the confirmation (every row or none, under locks) and the discard.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atensi.core.errors import ApplicationError, require

from ..models import ImportBatch, ImportKind, ImportStatus, Organisation, User, WorkforceMember
from ..permissions import import_for_organisation_refusal
from .columns import COLUMNS
from .plans import PLANNERS
from .reading import Table, map_headers, read_table, table_rows, too_many_rows
from .rows import Plan

logger = logging.getLogger(__name__)


def _wrong_kind_hint(table: Table, kind: str) -> ApplicationError | None:
    """The columns fit the other kind of list: say so rather than list missing columns."""
    other = ImportKind.WORKFORCE if kind == ImportKind.ORGANISATIONS else ImportKind.ORGANISATIONS
    try:
        map_headers(table, COLUMNS[other])
    except ApplicationError:
        return None
    return ApplicationError(
        _("This file looks like a list of %(other)s. Choose “%(other)s” above and upload it again.")
        % {"other": ImportKind(other).label.lower()}
    )


def import_preview(*, organisation: Organisation, by: User, kind: str, upload: File[bytes]) -> ImportBatch:
    """Read and check an uploaded file; keep its rows for confirmation. Saves nothing else.

    A file that cannot be read at all raises ApplicationError (no batch); row problems are
    kept in the batch for the preview page.
    """
    require(import_for_organisation_refusal(by, organisation))
    if kind not in COLUMNS:
        raise ApplicationError(_("Choose what the file holds: organisations or workforce."))
    table = read_table(upload)
    try:
        headers = map_headers(table, COLUMNS[kind])
    except ApplicationError as exc:
        raise _wrong_kind_hint(table, kind) or exc from None
    rows = table_rows(table, headers)
    if not rows:
        raise ApplicationError(_("The file has column names but no rows below them."))
    if len(rows) > settings.ATENSI_IMPORT_MAX_ROWS:
        raise too_many_rows()
    plan = PLANNERS[kind](organisation=organisation, by=by, rows=rows, headers=headers.names)
    filename = os.path.basename(getattr(upload, "name", "") or "")[:255]
    return ImportBatch.objects.create(
        kind=kind,
        organisation=organisation,
        uploaded_by=by,
        filename=filename,
        rows=plan.rows,
        errors=plan.errors,
        result={"headers": headers.names, "warnings": table.warnings + headers.warnings, **plan.counts()},
    )


def _through_rows(
    model: type[models.Model], m2m: str, links: Iterable[tuple[models.Model, list[int]]]
) -> list[models.Model]:
    relation = model._meta.get_field(m2m)
    through = relation.remote_field.through  # type: ignore[union-attr]
    source = f"{relation.m2m_field_name()}_id"  # type: ignore[union-attr]
    target = f"{relation.m2m_reverse_field_name()}_id"  # type: ignore[union-attr]
    return [through(**{source: obj.pk, target: pk}) for obj, ids in links for pk in ids]


def _write(model: type[models.Model], plan: Plan) -> None:
    """Every write of a plan, in bulk. The caller holds the transaction."""
    now = timezone.now()
    model.objects.bulk_create(plan.creates, batch_size=500)  # type: ignore[attr-defined]
    if plan.updates:
        for obj in plan.updates:
            obj.updated_at = now  # bulk_update does not run auto_now
        fields = sorted(plan.update_fields | {"updated_at"})
        model.objects.bulk_update(plan.updates, fields, batch_size=500)  # type: ignore[attr-defined]
    for m2m, objs in plan.replace.items():
        relation = model._meta.get_field(m2m)
        through = relation.remote_field.through  # type: ignore[union-attr]
        source = f"{relation.m2m_field_name()}_id__in"  # type: ignore[union-attr]
        through.objects.filter(**{source: [o.pk for o in objs]}).delete()
    by_field: dict[str, list[tuple[models.Model, list[int]]]] = defaultdict(list)
    for obj, m2m, ids in plan.links:
        by_field[m2m].append((obj, ids))
    for m2m, links in by_field.items():
        relation = model._meta.get_field(m2m)
        relation.remote_field.through.objects.bulk_create(  # type: ignore[union-attr]
            _through_rows(model, m2m, links), batch_size=1000
        )


def _confirm(*, batch: ImportBatch, by: User, kind: str, model: type[models.Model]) -> ImportBatch:
    require(import_for_organisation_refusal(by, batch.organisation))
    stale: ImportBatch | None = None
    try:
        with transaction.atomic():
            # Two tabs or a double click: the second waits here, then finds it imported.
            locked = ImportBatch.objects.select_for_update().select_related("organisation").get(pk=batch.pk)
            if locked.kind != kind:
                raise ValueError(f"batch {locked.pk} holds {locked.kind}, not {kind}")
            if locked.status == ImportStatus.IMPORTED:
                raise ApplicationError(_("This import was already saved."))
            if locked.status == ImportStatus.DISCARDED:
                raise ApplicationError(_("This import was discarded. Upload the file again."))
            if locked.errors:
                raise ApplicationError(
                    _("The file has errors, so nothing can be saved. Correct them and upload the file again.")
                )
            plan = PLANNERS[kind](
                organisation=locked.organisation,
                by=by,
                rows=locked.rows,
                headers=locked.result.get("headers", {}),
                lock=True,
            )
            if plan.errors:
                # The register changed since the preview (a code taken, a worker added
                # elsewhere): keep the new errors for the page, save nothing else.
                locked.errors = plan.errors
                locked.rows = plan.rows
                locked.result = {**locked.result, **plan.counts()}
                locked.save(update_fields=["errors", "rows", "result"])
                stale = locked
            else:
                _write(model, plan)
                locked.status = ImportStatus.IMPORTED
                locked.finished_at = timezone.now()
                locked.result = {**locked.result, **plan.counts(), "confirmed_by": getattr(by, "pk", None)}
                fields = ["status", "finished_at", "result"]
                if kind == ImportKind.WORKFORCE:
                    locked.rows = []  # NIKs now live in the register; no second copy
                    fields.append("rows")
                locked.save(update_fields=fields)
    except IntegrityError:
        logger.warning("import %s collided with a concurrent change", batch.pk, exc_info=True)
        raise ApplicationError(
            _(
                "Someone changed the register at the same moment, so nothing was saved. "
                "Open the preview again and confirm once more."
            )
        ) from None
    if stale is not None:
        count = len({e["row"] for e in stale.errors})
        raise ApplicationError(
            ngettext(
                "The register changed since the preview: %(count)s row now has an error. Nothing was saved.",
                "The register changed since the preview: %(count)s rows now have errors. Nothing was saved.",
                count,
            )
            % {"count": count}
        )
    return locked


def organisation_import_confirm(*, batch: ImportBatch, by: User) -> ImportBatch:
    """Save a previewed organisation import: every row, or none."""
    return _confirm(batch=batch, by=by, kind=ImportKind.ORGANISATIONS, model=Organisation)


def workforce_import_confirm(*, batch: ImportBatch, by: User) -> ImportBatch:
    """Save a previewed workforce import: every row, or none."""
    return _confirm(batch=batch, by=by, kind=ImportKind.WORKFORCE, model=WorkforceMember)


def import_confirm(*, batch: ImportBatch, by: User) -> ImportBatch:
    if batch.kind == ImportKind.WORKFORCE:
        return workforce_import_confirm(batch=batch, by=by)
    return organisation_import_confirm(batch=batch, by=by)


@transaction.atomic
def import_discard(*, batch: ImportBatch, by: User) -> ImportBatch:
    """Drop a previewed import; its rows (personal data for workforce) are deleted."""
    require(import_for_organisation_refusal(by, batch.organisation))
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status == ImportStatus.IMPORTED:
        raise ApplicationError(_("This import was already saved; it cannot be discarded."))
    if locked.status == ImportStatus.PREVIEW:
        locked.status = ImportStatus.DISCARDED
        locked.rows = []
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "rows", "finished_at"])
    return locked
