"""The occupancy of every residential organisation, recounted from its open residential cases.

`cases.services.occupancy_recount(organisation=)` keeps one organisation right as cases
open and close; this recounts them all at once, for after bulk imports or data repairs
(`manage.py recount_occupancy`).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from stakeholders.models import Organisation

from .models import OPEN_STAGES, Basis, Case


def open_residential_count() -> Coalesce:
    """The outer organisation's open residential cases, as an expression."""
    counted = (
        Case.objects.filter(organisation_id=OuterRef("pk"), basis=Basis.RESIDENSIAL, stage__in=OPEN_STAGES)
        .order_by()
        .values("organisation_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@transaction.atomic
def occupancy_recount_all() -> int:
    """Set every organisation's occupancy to its open residential cases; return how many changed.

    Only the organisations whose figure is wrong are written (each write is an audit event),
    and the count is taken again in the UPDATE itself, so a case opened meanwhile is counted.
    """
    wrong = list(
        Organisation.objects.annotate(counted=open_residential_count())
        .exclude(occupancy=F("counted"))
        .values_list("pk", flat=True)
    )
    if not wrong:
        return 0
    return Organisation.objects.filter(pk__in=wrong).update(occupancy=open_residential_count())
