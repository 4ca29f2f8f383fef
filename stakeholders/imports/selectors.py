"""The reads of imports: a batch for the preview page, an organisation's recent imports."""

from __future__ import annotations

from django.db.models import QuerySet

from atensi.core.access import get_or_404

from ..models import ImportBatch, Organisation, User
from ..selectors import organisations_administered_by

# Rows the preview page shows; the rest are counted.
PREVIEW_ROWS = 20


def import_batch_get(*, user: User, organisation_id: object, batch_id: object) -> ImportBatch:
    """A batch of an organisation `user` administers, or 404."""
    organisation = get_or_404(organisations_administered_by(user), pk=organisation_id)
    batch = get_or_404(ImportBatch.objects.select_related("uploaded_by"), pk=batch_id, organisation=organisation)
    batch.organisation = organisation
    return batch


def import_batches_of(*, organisation: Organisation) -> QuerySet[ImportBatch]:
    """An organisation's recent imports, without their rows (which can be large)."""
    return (
        ImportBatch.objects.filter(organisation=organisation)
        .select_related("uploaded_by")
        .defer("rows", "errors")
        .order_by("-created_at", "-pk")
    )
