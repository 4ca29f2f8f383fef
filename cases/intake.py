"""Community reports (intake): recording a report and routing it to the organisations that
serve the village, the intake queue, and triage — passing a report on or dismissing it.

Opening a case from a report is `cases.services.case_open(report=...)`, which claims the
report; the triage page here only leads there. Reads are scoped with the selectors of
cases/selectors.py (`reports_visible_to`, `report_queue_for`); the few extra reads the
intake pages need live here so the views stay thin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case as CaseWhen  # Django's conditional expression, not our Case model
from django.db.models import IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import actor_for, get_or_404
from atensi.core.errors import ApplicationError
from atensi.core.keyset import decode_time_cursor, encode_cursor
from atensi.core.models import AmpkCategory
from atensi.core.values import validate_phone
from stakeholders.models import (
    Organisation,
    OrganisationKind,
    Region,
    RegionLevel,
    User,
    WorkforceKind,
    WorkforceMember,
)
from stakeholders.selectors import REGION_PATH, organisations_covering, region_label

from .models import (
    Beneficiary,
    Case,
    RecipientVia,
    Report,
    ReportChannel,
    ReporterKind,
    ReportRecipient,
    ReportStatus,
    Urgency,
)
from .permissions import can_report, can_report_for_others
from .selectors import (
    INTAKE_ROLES,
    beneficiaries_visible_to,
    cases_readable_by,
    report_queue_for,
    reports_visible_to,
)
from .services import full_clean_or_raise

# The workforce kinds that are reporter kinds of their own; other workers report as "other".
WORKFORCE_REPORTER_KIND: dict[str, str] = {
    WorkforceKind.PSM: ReporterKind.PSM,
    WorkforceKind.TKSK: ReporterKind.TKSK,
    WorkforceKind.SAKTI_PEKSOS: ReporterKind.SAKTI_PEKSOS,
    WorkforceKind.PENDAMPING_PKH: ReporterKind.PENDAMPING_PKH,
}

CHILD_AGE_MAX = 25
QUEUE_PAGE_SIZE = 50
MINE_PAGE_SIZE = 25
TRIAGE_SEARCH_LIMIT = 10
TRIAGE_SEARCH_MIN_LENGTH = 2
PASS_CANDIDATES_LIMIT = 300
_MINE_CURSOR_SALT = "cases.report_mine"


# --- Who may do what ---------------------------------------------------------------------


def triages_for_several(user: User) -> bool:
    return len(actor_for(user).org_ids(*INTAKE_ROLES)) > 1


@dataclass(frozen=True)
class ReporterDefaults:
    kind: str
    name: str
    phone: str


def reporter_defaults(user: User) -> ReporterDefaults:
    """Who the user usually reports as: their workforce record (a PSM, a TKSK...) if they
    have one, else their own name. Office staff record for others, so they start empty."""
    record = (
        WorkforceMember.objects.filter(user_id=user.pk, is_active=True)
        .order_by("-updated_at", "pk")
        .only("kind", "name", "phone")
        .first()
    )
    if record is not None:
        return ReporterDefaults(
            kind=WORKFORCE_REPORTER_KIND.get(record.kind, ReporterKind.OTHER),
            name=record.name,
            phone=record.phone or user.phone,
        )
    if can_report_for_others(user):
        return ReporterDefaults(kind="", name="", phone="")
    return ReporterDefaults(kind="", name=user.get_full_name() or user.username, phone=user.phone)


# --- Recording and routing ----------------------------------------------------------------


def report_routing(*, village: Region) -> tuple[list[Organisation], str]:
    """Where a report from `village` goes: the active organisations whose coverage includes
    it, else the province's social service; ([], "") when nobody serves the area."""
    covering = list(organisations_covering(region=village))
    if covering:
        return covering, RecipientVia.COVERAGE
    fallback = list(
        Organisation.objects.filter(
            is_active=True, kind=OrganisationKind.DINSOS_PROVINSI, home_region_id=village.province_code
        ).order_by("name", "pk")
    )
    if fallback:
        return fallback, RecipientVia.FALLBACK
    return [], ""


@transaction.atomic
def report_create(
    *,
    recorded_by: User,
    village: Region,
    narrative: str,
    reporter_kind: str,
    reporter_name: str,
    reporter_phone: str = "",
    channel: str = ReportChannel.FIELD,
    child_name: str = "",
    child_sex: str = "",
    child_age: int | None = None,
    location_detail: str = "",
    ampk_categories: Iterable[AmpkCategory] = (),
    concern: str = "",
    urgency: str = Urgency.NORMAL,
) -> Report:
    """Record a community report and route it to the intake queues that serve the village."""
    if not can_report(recorded_by):
        raise ApplicationError(
            _("Your account cannot record reports. Ask your organisation's administrator for a reporting role.")
        )
    if channel != ReportChannel.FIELD and not can_report_for_others(recorded_by):
        raise ApplicationError(
            _("Only office staff record walk-in and phone reports. Choose “Field report”."), field="channel"
        )
    if village is None or village.level != RegionLevel.VILLAGE:
        raise ApplicationError(_("Choose the village (desa/kelurahan) where the child is."), field="village")
    if child_age is not None and not 0 <= child_age <= CHILD_AGE_MAX:
        raise ApplicationError(
            _("Give the child's age as a number from 0 to 25, or leave it empty."), field="child_age"
        )
    categories = list(ampk_categories)
    concern = concern.strip()
    if not categories and not concern:
        raise ApplicationError(
            _("Say what the concern is: tick at least one category, or describe it in your own words."),
            field="concern",
        )
    narrative = narrative.strip()
    if not narrative:
        raise ApplicationError(_("Describe what happened, in a few sentences."), field="narrative")
    reporter_name = reporter_name.strip()
    if not reporter_name:
        raise ApplicationError(_("Give the name of the person reporting."), field="reporter_name")
    reporter_phone = reporter_phone.strip()
    try:
        validate_phone(reporter_phone)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="reporter_phone") from None

    recipients, via = report_routing(village=village)
    if not recipients:
        raise ApplicationError(
            _(
                "No organisation in the portal serves %(village)s yet, so the report cannot be sent from here. "
                "Please call the Dinas Sosial of the regency/city or the province directly."
            )
            % {"village": region_label(village)},
            field="village",
        )

    report = Report(
        recorded_by=recorded_by,
        channel=channel,
        reporter_kind=reporter_kind,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        child_name=child_name.strip(),
        child_sex=child_sex,
        child_age=child_age,
        village=village,
        location_detail=location_detail.strip(),
        concern=concern,
        urgency=urgency,
        narrative=narrative,
    )
    full_clean_or_raise(report)
    report.save()
    if categories:
        report.ampk_categories.set(categories)
    now = report.created_at
    ReportRecipient.objects.bulk_create(
        [ReportRecipient(report=report, organisation=org, via=via, created_at=now) for org in recipients]
    )
    return report


# --- Reading ----------------------------------------------------------------------------------


def _with_display(qs: QuerySet[Report]) -> QuerySet[Report]:
    """What every report list shows: the village with its kab/kota, the concern, the reporter."""
    return qs.select_related(f"village__{REGION_PATH}", "recorded_by").prefetch_related("ampk_categories")


def report_queue(user: User) -> QuerySet[Report]:
    """The user's intake queue: emergencies first, then high, then normal; oldest first within."""
    urgency_rank = CaseWhen(
        When(urgency=Urgency.EMERGENCY, then=Value(0)),
        When(urgency=Urgency.HIGH, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    holders = ReportRecipient.objects.filter(passed_on_at__isnull=True).select_related("organisation")
    return (
        _with_display(report_queue_for(user))
        .prefetch_related(Prefetch("recipients", queryset=holders, to_attr="holders"))
        .annotate(urgency_rank=urgency_rank)
        .order_by("urgency_rank", "created_at", "pk")
    )


@dataclass
class ReportPage:
    rows: list[Report]
    next_cursor: str | None
    is_first: bool


def reports_recorded_by(*, user: User, after: str | None = None, size: int = MINE_PAGE_SIZE) -> ReportPage:
    """The user's own reports, newest first, a keyset page at a time."""
    qs = (
        _with_display(Report.objects.filter(recorded_by_id=user.pk))
        .select_related("triaged_for")
        .order_by("-created_at", "-pk")
    )
    cursor = decode_time_cursor(after, salt=_MINE_CURSOR_SALT)
    if cursor is not None:
        at, pk = cursor
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(last.created_at.isoformat(), last.pk, salt=_MINE_CURSOR_SALT)
    return ReportPage(rows=rows, next_cursor=next_cursor, is_first=cursor is None)


def report_get_for_user(*, user: User, public_id: object) -> Report:
    """One report the user may see (their own, or in their intake queues), or 404."""
    return get_or_404(
        reports_visible_to(user)
        .select_related(f"village__{REGION_PATH}", "recorded_by", "triaged_by", "triaged_for")
        .prefetch_related("ampk_categories"),
        public_id=public_id,
    )


def report_recipients(report: Report) -> list[ReportRecipient]:
    """Where the report went and why, in order (coverage, fallback, passed on)."""
    return list(report.recipients.select_related("organisation", "passed_by").order_by("created_at", "pk"))


def triage_rows(user: User, recipients: Iterable[ReportRecipient]) -> list[ReportRecipient]:
    """The recipient rows the user may act on: their intake organisations still holding the report."""
    orgs = actor_for(user).org_ids(*INTAKE_ROLES)
    return [r for r in recipients if r.organisation_id in orgs and r.passed_on_at is None]


def report_cases_readable_by(*, user: User, report: Report) -> list[Case]:
    """Cases opened from the report that the user may open (never shown to a plain reporter)."""
    return list(cases_readable_by(user).filter(report=report).only("pk", "number").order_by("pk"))


def report_pass_candidates(*, report: Report, exclude: Iterable[int]) -> list[Organisation]:
    """Organisations a report is usually passed to: active ones based in, or covering,
    the report's province. Any other can be named by its code."""
    village = report.village
    province = village.province_code
    qs = (
        Organisation.objects.filter(is_active=True)
        .filter(Q(home_region__code__startswith=province) | Q(coverage__code__in=village.ancestors_codes()))
        .exclude(pk__in=list(exclude))
        .distinct()
        .order_by("name", "pk")
        .only("pk", "code", "name")
    )
    return list(qs[:PASS_CANDIDATES_LIMIT])


def triage_beneficiary_search(*, user: User, query: str) -> list[Beneficiary]:
    """Existing beneficiaries the user may see whose name or alias contains `query`."""
    text = " ".join(query.split())
    if len(text) < TRIAGE_SEARCH_MIN_LENGTH:
        return []
    return list(
        beneficiaries_visible_to(user)
        .filter(Q(full_name__icontains=text) | Q(alias__icontains=text))
        .select_related(f"village__{REGION_PATH}", "organisation")
        .order_by("full_name", "pk")[:TRIAGE_SEARCH_LIMIT]
    )


# --- Triage ---------------------------------------------------------------------------------


def _lock_and_check(*, report: Report, by: User, organisation: Organisation | None) -> ReportRecipient:
    """Lock the report (triage decisions on one report queue behind each other), re-read it
    and return the recipient row `by` acts for; refuse anything no longer possible."""
    found = Report.objects.select_for_update().filter(pk=report.pk).values_list("status", "anonymised_at").first()
    if found is None:
        raise ApplicationError(_("This report no longer exists."))
    status, anonymised_at = found
    if anonymised_at is not None:
        # Its words are gone (atensi.erasure); new ones would never be taken again.
        raise ApplicationError(
            _("This report was anonymised when its retention period ended; it can no longer be triaged.")
        )
    if status != ReportStatus.NEW:
        raise ApplicationError(_("This report was already triaged by someone else."))
    rows = triage_rows(by, ReportRecipient.objects.filter(report_id=report.pk).select_related("organisation"))
    if organisation is not None:
        rows = [r for r in rows if r.organisation_id == organisation.pk]
    if not rows:
        raise ApplicationError(
            _("This report is not waiting in an intake queue you triage. It may have been passed on already.")
        )
    return rows[0]


@transaction.atomic
def report_pass(
    *,
    report: Report,
    by: User,
    to: Organisation,
    note: str,
    organisation: Organisation | None = None,
) -> ReportRecipient:
    """Pass the report from `organisation`'s queue (the first one `by` triages for, if not
    given) to `to`'s queue, with a note saying why."""
    own = _lock_and_check(report=report, by=by, organisation=organisation)
    note = note.strip()
    if to.pk == own.organisation_id:
        raise ApplicationError(
            _("The report is already with %(org)s. Choose another organisation.") % {"org": own.organisation.name},
            field="organisation",
        )
    if not to.is_active:
        raise ApplicationError(
            _("%(org)s is not active in the portal. Choose another organisation.") % {"org": to.name},
            field="organisation",
        )
    if ReportRecipient.objects.filter(report_id=report.pk, organisation=to).exists():
        raise ApplicationError(
            _("%(org)s already received this report. Choose another organisation.") % {"org": to.name},
            field="organisation",
        )
    if not note:
        raise ApplicationError(
            _("Write a note for %(org)s: why it is theirs, and anything you already know.") % {"org": to.name},
            field="note",
        )
    now = timezone.now()
    ReportRecipient.objects.filter(pk=own.pk, passed_on_at__isnull=True).update(passed_on_at=now)
    return ReportRecipient.objects.create(
        report=report, organisation=to, via=RecipientVia.PASSED, passed_by=by, note=note, created_at=now
    )


@transaction.atomic
def report_dismiss(
    *,
    report: Report,
    by: User,
    reason: str,
    organisation: Organisation | None = None,
) -> Report:
    """Dismiss a waiting report with a reason; only one triager can decide a report."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            _("Say why the report is dismissed; the reporter and your colleagues will see it."), field="reason"
        )
    own = _lock_and_check(report=report, by=by, organisation=organisation)
    now = timezone.now()
    # Conditional: whoever changes the status first wins, whatever the timing.
    won = Report.objects.filter(pk=report.pk, status=ReportStatus.NEW).update(
        status=ReportStatus.DISMISSED,
        dismissal_reason=reason,
        triaged_by=by,
        triaged_at=now,
        triaged_for=own.organisation,
        updated_at=now,
    )
    if not won:
        raise ApplicationError(_("This report was already triaged by someone else."))
    report.refresh_from_db()
    return report
