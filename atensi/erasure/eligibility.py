"""Who is due for anonymisation: the one rule, read by the run, its dry run and the tests.

A living (not merged) beneficiary, not yet anonymised, is due when, counting the cases of
the records merged into it too (a merge moves them, an old one may not have):

- it has at least one case, and every one of them, in every organisation, is closed, the
  last closure more than ATENSI_RETENTION_YEARS ago; or it never had a case and was
  registered more than ATENSI_RETENTION_YEARS ago (a registration the work never used);
- with a birth date known (its own or a merged record's), the person is at least
  ATENSI_RETENTION_ADULT_AGE + ATENSI_RETENTION_AGE_MARGIN_YEARS old; without one, the
  closure date alone decides;
- no request for the person's data is open (cases.subject_access): the law's 3 x 24 hours
  to answer it come first; the next run takes the person once it is closed.

The records merged into it follow it (scrub.group_of).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import Beneficiary, Case, Report, Stage, SubjectAccessRequest, SubjectAccessStatus


def years_before[D: (datetime.date, datetime.datetime)](moment: D, years: int) -> D:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class Cutoffs:
    closed_before: datetime.datetime
    born_on_or_before: datetime.date


def cutoffs(now: datetime.datetime | None = None) -> Cutoffs:
    now = now or timezone.now()
    age = settings.ATENSI_RETENTION_ADULT_AGE + settings.ATENSI_RETENTION_AGE_MARGIN_YEARS
    return Cutoffs(
        closed_before=years_before(now, settings.ATENSI_RETENTION_YEARS),
        born_on_or_before=years_before(timezone.localdate(now), age),
    )


def due_for_anonymisation(*, now: datetime.datetime | None = None) -> QuerySet[Beneficiary]:
    """The living records due (see the module's docstring), oldest first."""
    limits = cutoffs(now)
    group_cases = Case.objects.filter(Q(beneficiary=OuterRef("pk")) | Q(beneficiary__merged_into=OuterRef("pk")))
    too_young = Beneficiary.objects.filter(
        Q(pk=OuterRef("pk")) | Q(merged_into=OuterRef("pk")), birth_date__gt=limits.born_on_or_before
    )
    return (
        Beneficiary.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
        .alias(
            has_case=Exists(group_cases),
            has_open=Exists(group_cases.exclude(stage=Stage.CLOSED)),
            closed_recently=Exists(group_cases.filter(closed_at__gte=limits.closed_before)),
            too_young=Exists(too_young),
            asked=Exists(
                SubjectAccessRequest.objects.filter(
                    Q(beneficiary=OuterRef("pk")) | Q(beneficiary__merged_into=OuterRef("pk")),
                    status=SubjectAccessStatus.OPEN,
                )
            ),
        )
        .filter(
            Q(has_case=True, has_open=False, closed_recently=False)
            | Q(has_case=False, created_at__lt=limits.closed_before),
            too_young=False,
            asked=False,
        )
        .order_by("pk")
    )


def reports_due(*, now: datetime.datetime | None = None) -> QuerySet[Report]:
    """Community reports no case came from (dismissed, passed on, or never taken up) made
    more than ATENSI_RETENTION_YEARS ago and not yet anonymised: they name a child and a
    reporter too. A report a case came from goes with that case's child."""
    limits = cutoffs(now)
    return (
        Report.objects.filter(anonymised_at__isnull=True, created_at__lt=limits.closed_before)
        .exclude(Exists(Case.objects.filter(report=OuterRef("pk"))))
        .order_by("pk")
    )
