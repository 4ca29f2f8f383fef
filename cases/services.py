"""Writes on cases that every part of the case file shares: opening a case with its
gap-free number, the timeline, who may change a case, and the occupancy of residential
organisations derived from their open residential cases.

The parts of the case file have their own service modules (intake, beneficiaries,
workflow, records, documents); they all record their changes with `timeline_add`.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError
from atensi.core.models import Cluster
from stakeholders.models import Organisation, User
from stakeholders.roles import Role

from .models import (
    OPEN_STAGES,
    Basis,
    Beneficiary,
    Case,
    CaseSource,
    Report,
    RiskLevel,
    TimelineEntry,
    TimelineKind,
)
from .notify import notify_report_case_opened
from .permissions import anonymised_message
from .selectors import CASE_MANAGER_ROLES, CASE_ROLES, holds_role, person_name


def timeline_add(
    *,
    case: Case,
    kind: str,
    actor: User,
    obj: Model | None = None,
    at: datetime.datetime | None = None,
    **data: object,
) -> TimelineEntry:
    """One line on the case timeline. `data` holds codes and names, never translated text."""
    return TimelineEntry.objects.create(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        object_id=getattr(obj, "pk", None),
        at=at or timezone.now(),
        data=data,
    )


def case_lock(case: Case) -> Case:
    """The case row, locked until the transaction ends, as it is now.

    Every write on a case's records starts here, so its checks (open? which stage?)
    see the case after any concurrent stage move or closure, not the caller's copy.
    """
    return Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)


def first_error(exc: ValidationError) -> tuple[str | None, str]:
    """(field, message) of the first problem in a model ValidationError, for ApplicationError."""
    if hasattr(exc, "error_dict"):
        name, errors = next(iter(exc.error_dict.items()))
        return (None if name == "__all__" else name), str(errors[0].messages[0])
    return None, str(exc.messages[0])


def full_clean_or_raise(obj: Model, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        name, message = first_error(exc)
        raise ApplicationError(message, field=name) from None


def is_case_manager_candidate(*, organisation: Organisation, user: User) -> bool:
    return holds_role(organisation_id=organisation.pk, user=user, roles=CASE_MANAGER_ROLES)


def _next_sequence(*, organisation_id: int, year: int) -> int:
    """The next case number of the organisation and year.

    One upsert: the row lock it takes is held until our transaction ends, so concurrent
    openings queue behind it, and a rolled-back opening gives its number back (no gaps).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_casesequence (organisation_id, year, last) VALUES (%s, %s, 1)
            ON CONFLICT (organisation_id, year) DO UPDATE SET last = cases_casesequence.last + 1
            RETURNING last
            """,
            [organisation_id, year],
        )
        return int(cursor.fetchone()[0])


def case_number(*, organisation: Organisation, year: int, sequence: int) -> str:
    return f"{organisation.code}/{year}/{sequence:04d}"


@transaction.atomic
def case_open(
    *,
    organisation: Organisation,
    beneficiary: Beneficiary,
    opened_by: User,
    cluster: Cluster,
    basis: str = Basis.KELUARGA,
    source: str = CaseSource.WALK_IN,
    risk_level: str = RiskLevel.MEDIUM,
    is_confidential: bool = False,
    summary: str = "",
    case_manager: User | None = None,
    supervisor: User | None = None,
    report: Report | None = None,
) -> Case:
    """Open a case for `beneficiary` in `organisation`, numbered `<ORG-CODE>/<YEAR>/<SEQ>`."""
    actor = actor_for(opened_by)
    if not actor.has_role(organisation.pk, *CASE_ROLES):
        raise ApplicationError(_("You do not work cases for %(org)s.") % {"org": organisation.name})
    if not organisation.is_active:
        raise ApplicationError(_("%(org)s is not active in the portal.") % {"org": organisation.name})
    # Re-read under a lock: a merge committing meanwhile must not leave a case on the
    # merged-away record.
    beneficiary = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if beneficiary.merged_into_id:
        raise ApplicationError(_("This record was merged into another one; open the case on that one."))
    if beneficiary.anonymised_at is not None:
        # Filled again, it would never be anonymised again (atensi.erasure takes a record once).
        raise ApplicationError(anonymised_message())
    for field, user in (("case_manager", case_manager), ("supervisor", supervisor)):
        if user is not None and not is_case_manager_candidate(organisation=organisation, user=user):
            raise ApplicationError(
                _("%(name)s is not a social worker or supervisor of %(org)s.")
                % {"name": person_name(user), "org": organisation.name},
                field=field,
            )
    if supervisor is not None and not holds_role(
        organisation_id=organisation.pk, user=supervisor, roles=(Role.SUPERVISOR,)
    ):
        raise ApplicationError(
            _("%(name)s is not a supervisor of %(org)s.") % {"name": person_name(supervisor), "org": organisation.name},
            field="supervisor",
        )
    if report is not None:
        _claim_report(report=report, organisation=organisation, by=opened_by)
    existing = (
        Case.objects.filter(organisation=organisation, beneficiary=beneficiary, stage__in=OPEN_STAGES)
        .only("number")
        .first()
    )
    if existing is not None:
        from .selectors import cases_readable_by

        if cases_readable_by(opened_by).filter(pk=existing.pk).exists():
            raise ApplicationError(
                _("%(name)s already has an open case here: %(number)s.")
                % {"name": beneficiary.full_name, "number": existing.number},
                extra={"case": existing},
            )
        # A confidential case: who the child is and its number are not the user's to learn.
        raise ApplicationError(
            _("This child already has an open case at %(org)s. Ask a supervisor there.") % {"org": organisation.name}
        )
    now = timezone.now()
    year = timezone.localdate(now).year
    sequence = _next_sequence(organisation_id=organisation.pk, year=year)
    case = Case(
        number=case_number(organisation=organisation, year=year, sequence=sequence),
        organisation=organisation,
        year=year,
        sequence=sequence,
        beneficiary=beneficiary,
        case_manager=case_manager,
        supervisor=supervisor,
        cluster=cluster,
        basis=basis,
        source=source,
        report=report,
        risk_level=risk_level,
        is_confidential=is_confidential,
        summary=summary,
        opened_at=now,
        stage_changed_at=now,
        created_by=opened_by,
    )
    full_clean_or_raise(case, exclude=["number"])
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        # Someone opened this child's case here in the same instant.
        raise ApplicationError(_("%(name)s already has an open case here.") % {"name": beneficiary.full_name}) from None
    timeline_add(case=case, kind=TimelineKind.OPENED, actor=opened_by, obj=case, at=now, source=source)
    if report is not None:
        notify_report_case_opened(report=report, case=case)
    if basis == Basis.RESIDENSIAL:
        occupancy_recount(organisation=organisation)
    return case


def _claim_report(*, report: Report, organisation: Organisation, by: User) -> None:
    """Mark the report as having become a case here; only a report still waiting in this
    organisation's queue can (a conditional update: two triagers cannot both win)."""
    from .models import ReportRecipient, ReportStatus

    # Lock the report first: a pass-on or dismissal racing with this claim waits for it
    # (and then finds the report triaged), instead of both succeeding.
    Report.objects.select_for_update().filter(pk=report.pk).first()
    in_queue = ReportRecipient.objects.filter(report=report, organisation=organisation, passed_on_at__isnull=True)
    if not in_queue.exists():
        raise ApplicationError(_("This report is not in the intake queue of %(org)s.") % {"org": organisation.name})
    now = timezone.now()
    won = Report.objects.filter(pk=report.pk, status=ReportStatus.NEW).update(
        status=ReportStatus.CASE_OPENED, triaged_by=by, triaged_at=now, triaged_for=organisation, updated_at=now
    )
    if not won:
        raise ApplicationError(_("This report was already triaged by someone else."))
    report.refresh_from_db()


def occupancy_recount(*, organisation: Organisation) -> int:
    """An organisation's occupancy is its open residential cases; called by every
    service that opens, closes, transfers or re-bases a case."""
    count = Case.objects.filter(organisation=organisation, basis=Basis.RESIDENSIAL, stage__in=OPEN_STAGES).count()
    Organisation.objects.filter(pk=organisation.pk).update(occupancy=count)
    organisation.occupancy = count
    return count
