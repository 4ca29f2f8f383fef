"""What the retention run removes from one child's records, and from every copy of them.

One group at a time: a living beneficiary and the records merged into it. In order:

1. anonymise: the rows tied to the child are rewritten in place (`PLAN`, below) — names to
   "Anonim <id>", identifiers blanked, free text replaced by a dash ("there was a note,
   it is gone"), the village dropped to its kab/kota; then the copies: the timeline's
   details, the referrals' child summaries, the access log's labels and query strings,
   the search log's hashed NIKs;
2. delete: family members and documents (their files leave storage once the transaction
   commits);
3. scrub history: the pghistory event rows of every record above — the deletions of step
   2 wrote their old values there — get the same treatment, with their append-only
   triggers suspended (`pgtrigger.ignore`) for exactly that, and the URLs of the
   contexts attached to them are cleared.

What stays is what the statistics read (sex, cluster, PPKS/AMPK categories, the kab/kota
and province, stages, dates, choices of every kind) and the year of birth (stored as
1 July of it, marked as an estimate, the form approximate ages already take).

A field holding text on a model tied to a case or a beneficiary is either scrubbed here or
listed in `Scrub.kept` with the reason; atensi/tests/test_erasure_fields.py walks the models
and fails for one that is neither.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pghistory.models
from django.apps import apps
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat, ExtractYear, Left, Now

from atensi.core.exports import ERASED_PREFIX
from atensi.core.models import AccessLog, ExportJob
from cases.beneficiaries.screening import search_label
from cases.models import (
    Approval,
    Assessment,
    Beneficiary,
    BeneficiaryMerge,
    Case,
    CaseNote,
    Consent,
    Document,
    FamilyMember,
    FollowUp,
    PlanItem,
    Report,
    ReportRecipient,
    SharingOverride,
    SubjectAccessRequest,
    TimelineEntry,
)
from referrals.models import Referral, ReferralMessage

ERASED = "—"
NAME_PLACEHOLDER = "Anonim"

# A replacement is a value, or a function of (the column, the column holding the record's
# id) giving an SQL expression, so that it runs the same on a record and on its history
# rows (where the record's id is `pgh_obj_id`).
Expression = Callable[[str, str], Any]


def _erase(column: str, id_column: str) -> Any:
    # Not-empty text becomes a dash, so that "nothing was written" and "it was erased"
    # stay apart and the constraints that require a reason (a rejection, a missed visit)
    # still hold.
    return models.Case(models.When(**{column: ""}, then=Value("")), default=Value(ERASED))


def _name(column: str, id_column: str) -> Any:
    return Concat(Value(f"{NAME_PLACEHOLDER} "), Cast(F(id_column), output_field=CharField()))


def _birth_year(column: str, id_column: str) -> Any:
    # 1 July of the year of birth: what an approximate age is stored as (cases.models).
    return Cast(Concat(Cast(ExtractYear(column), output_field=CharField()), Value("-07-01")), models.DateField())


def _regency(column: str, id_column: str) -> Any:
    # A village's code starts with its kab/kota's, which is a region too.
    return Left(F(column), 4)


# --- JSON copies ---------------------------------------------------------------------------

# Timeline details that are codes, dates or the names of staff and organisations (not the
# child's): everything else (a parent's name, a document's title, a note) goes.
TIMELINE_KEEP = frozenset(
    {
        "action",
        "approval_kind",
        "assessed_on",
        "assignee",
        "case_manager",
        "closure_reason",
        "component",
        "doc_kind",
        "due_on",
        "fields",
        "follow_up_kind",
        "from_stage",
        "handover",
        "merged_id",
        "needs_approval",
        "note_kind",
        "occurred_on",
        "organisation",
        "organisations",
        "previous_case_manager",
        "previous_closure_reason",
        "provider",
        "receiver",
        "referral_kind",
        "source",
        "status",
        "supervisor",
        "to_stage",
        "withdrawn_on",
    }
)


def timeline_data(value: Any, pk: int) -> Any:
    if not isinstance(value, dict):
        return {}
    return {key: item for key, item in value.items() if key in TIMELINE_KEEP}


def assessment_needs(value: Any, pk: int) -> Any:
    # Which components were needed stays; what the worker wrote about each goes.
    if not isinstance(value, dict):
        return {}
    return {key: ERASED for key in value}


# A merge keeps what moved (ids) and both records' own fields, to undo it by hand: the
# fields are the child's identity and go; the ids stay.
MERGE_KEEP = frozenset(
    {"cases", "family_members", "earlier_merged_records", "distinct_from", "distinct_from_each_other"}
    | {"ppks_types", "ampk_categories"}
)


def merge_moved(value: Any, pk: int) -> Any:
    if not isinstance(value, dict):
        return {}
    return {key: item for key, item in value.items() if key in MERGE_KEEP}


def child_summary_of(survivor_id: int) -> Callable[[Any, int], Any]:
    """A referral's summary of the child as the anonymised record now says it."""

    def scrub(value: Any, pk: int) -> Any:
        if not isinstance(value, dict):
            return {}
        birth = str(value.get("birth_date") or "")
        return {
            "full_name": f"{NAME_PLACEHOLDER} {survivor_id}",
            "sex": value.get("sex", ""),
            "birth_date": f"{birth[:4]}-07-01" if birth[:4].isdigit() else "",
            "birth_date_estimated": bool(birth),
            "regency_code": value.get("regency_code", ""),
        }

    return scrub


# --- The plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scrub:
    """What happens to one model's rows of the child (and to their history rows)."""

    model: type[models.Model]
    set: Mapping[str, Any] = field(default_factory=dict)
    # JSON fields rewritten row by row: function(value, row's record id) -> new value.
    json: Mapping[str, Callable[[Any, int], Any]] = field(default_factory=dict)
    # Text kept on purpose, and why (choices are codes and always kept).
    kept: Mapping[str, str] = field(default_factory=dict)
    delete: bool = False


CODE_KEPT = "a code, not a description of the person"
BENEFICIARY = Scrub(
    Beneficiary,
    set={
        "full_name": _name,
        "alias": "",
        "birthplace": "",
        "nik": "",
        "kk_number": "",
        "dtks_id": "",
        "disability": "",
        "school_name": "",
        "school_grade": "",
        "religion": "",
        "address": "",
        "village": None,
        "photo": "",
        "birth_date": _birth_year,
        "birth_date_estimated": True,
    },
    kept={"regency_code": "the kab/kota: every figure and report counts a case there"},
)
FAMILY = Scrub(
    FamilyMember,
    set={"name": _erase, "nik": "", "phone": "", "occupation": "", "other_aid": ""},
    delete=True,
)
MERGE = Scrub(BeneficiaryMerge, set={"reason": _erase}, json={"moved": merge_moved})
CASE = Scrub(
    Case,
    set={"summary": _erase, "closure_summary": _erase},
    kept={"number": "organisation code, year and sequence: names nobody, and reports cite it"},
)
TIMELINE = Scrub(TimelineEntry, json={"data": timeline_data})
APPROVAL = Scrub(Approval, set={"request_note": _erase, "closure_summary": _erase, "comment": _erase})
ASSESSMENT = Scrub(
    Assessment,
    set={
        "problems": _erase,
        "strengths": _erase,
        "risks": _erase,
        "family_situation": _erase,
        "education": _erase,
        "health": _erase,
        "legal_situation": _erase,
        "court": _erase,
        "conclusion": _erase,
    },
    json={"needs": assessment_needs},
    kept={"identity_documents": "which kinds of identity document were held: codes"},
)
PLAN_ITEM = Scrub(PlanItem, set={"service": _erase, "outcome": _erase})
NOTE = Scrub(CaseNote, set={"participants": _erase, "narrative": _erase, "next_step": _erase})
FOLLOW_UP = Scrub(FollowUp, set={"description": _erase, "missed_reason": _erase})
DOCUMENT = Scrub(
    Document,
    set={"title": _erase, "file": "", "original_name": ""},
    kept={"content_type": "a file type", "sha256": "a digest of a file that no longer exists"},
    delete=True,
)
CONSENT = Scrub(Consent, set={"given_by_name": _erase, "notes": _erase, "withdrawal_reason": _erase})
OVERRIDE = Scrub(SharingOverride, set={"reason": _erase})
REPORT = Scrub(
    Report,
    set={
        "reporter_name": _erase,
        "reporter_phone": "",
        "child_name": "",
        "location_detail": "",
        "concern": _erase,
        "narrative": _erase,
        "dismissal_reason": _erase,
        "village": _regency,
    },
)
RECIPIENT = Scrub(ReportRecipient, set={"note": _erase})
REFERRAL = Scrub(
    Referral,
    set={"reason": _erase, "decline_note": _erase, "cancel_reason": _erase, "outcome": _erase},
    # Replaced per child by one naming the child's living record (scrub_group).
    json={"child_summary": child_summary_of(0)},
    kept={
        "sharing_basis": "consent or override: a code",
        "shared_sections": "which sections of the file were shared: codes",
    },
)
MESSAGE = Scrub(ReferralMessage, set={"body": _erase})
# The register keeps that a request was made and answered (accountability), not who asked
# nor what was said.
SUBJECT_ACCESS = Scrub(SubjectAccessRequest, set={"requester_name": _erase, "notes": _erase, "answer": _erase})

# Every model the run touches, for the model walk and the history triggers.
SCRUBS: tuple[Scrub, ...] = (
    BENEFICIARY,
    FAMILY,
    MERGE,
    CASE,
    TIMELINE,
    APPROVAL,
    ASSESSMENT,
    PLAN_ITEM,
    NOTE,
    FOLLOW_UP,
    DOCUMENT,
    CONSENT,
    OVERRIDE,
    REPORT,
    RECIPIENT,
    REFERRAL,
    MESSAGE,
    SUBJECT_ACCESS,
)


def event_models(model: type[models.Model]) -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and getattr(m, "pgh_tracked_model", None) is model
    ]


def history_triggers() -> list[str]:
    """The append-only triggers of the history tables the run rewrites (pgtrigger URIs)."""
    return [f"{event._meta.label}:append_only" for scrub in SCRUBS for event in event_models(scrub.model)]


# --- Doing it ------------------------------------------------------------------------------


@dataclass
class Work:
    """One group's run: what it counts, and the files to remove once committed."""

    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    files: list[tuple[Any, str]] = field(default_factory=list)

    def count(self, model: type[models.Model], rows: int) -> None:
        if rows:
            self.counts[model._meta.label_lower] += rows


def _rewrite(work: Work, scrub: Scrub, queryset: models.QuerySet[Any], id_column: str) -> None:
    model = queryset.model
    present = {f.name for f in model._meta.concrete_fields}
    rows = queryset.count()
    work.count(model, rows)
    if work.dry_run or not rows:
        return
    values = {
        name: (value(name, id_column) if callable(value) else value)
        for name, value in scrub.set.items()
        if name in present
    }
    if values:
        queryset.update(**values)
    for name, function in scrub.json.items():
        if name not in present:
            continue
        for pk, obj_id, value in queryset.values_list("pk", id_column, name).iterator(chunk_size=500):
            new = function(value, obj_id)
            if new != value:
                model._base_manager.filter(pk=pk).update(**{name: new})


@dataclass(frozen=True)
class Group:
    """The rows of one child: a living record and the records merged into it."""

    survivor_id: int
    beneficiary_ids: list[int]
    case_ids: list[int]
    referral_ids: list[int]

    def ids(self, scrub: Scrub) -> list[int] | models.QuerySet[Any]:
        b, c, r = self.beneficiary_ids, self.case_ids, self.referral_ids
        model = scrub.model
        if model is Beneficiary:
            return b
        if model is FamilyMember:
            return list(FamilyMember.objects.filter(beneficiary__in=b).values_list("pk", flat=True))
        if model is BeneficiaryMerge:
            return list(
                BeneficiaryMerge.objects.filter(Q(survivor__in=b) | Q(merged__in=b)).values_list("pk", flat=True)
            )
        if model is Case:
            return c
        if model is Report:
            # A report about several children stays until every child of it is anonymised.
            others = Case.objects.filter(report=models.OuterRef("pk")).exclude(pk__in=c)
            others = others.filter(beneficiary__anonymised_at__isnull=True)
            reports = Report.objects.filter(cases__in=c).exclude(models.Exists(others)).distinct()
            return list(reports.values_list("pk", flat=True))
        if model is ReportRecipient:
            return list(ReportRecipient.objects.filter(report__in=self.ids(REPORT)).values_list("pk", flat=True))
        if model is Referral:
            return r
        if model is ReferralMessage:
            return list(ReferralMessage.objects.filter(referral__in=r).values_list("pk", flat=True))
        if model is SubjectAccessRequest:
            return list(SubjectAccessRequest.objects.filter(beneficiary__in=b).values_list("pk", flat=True))
        return list(model._base_manager.filter(case__in=c).values_list("pk", flat=True))


def group_of(survivor_id: int) -> Group:
    beneficiary_ids = [survivor_id, *Beneficiary.objects.filter(merged_into=survivor_id).values_list("pk", flat=True)]
    case_ids = list(Case.objects.filter(beneficiary__in=beneficiary_ids).values_list("pk", flat=True))
    referral_ids = list(Referral.objects.filter(case__in=case_ids).values_list("pk", flat=True))
    return Group(
        survivor_id=survivor_id, beneficiary_ids=sorted(beneficiary_ids), case_ids=case_ids, referral_ids=referral_ids
    )


def _referral_scrub(group: Group) -> Scrub:
    # The summary names the child "Anonim <id of the living record>", as the record does.
    return dataclasses.replace(REFERRAL, json={"child_summary": child_summary_of(group.survivor_id)})


def _access_log(work: Work, targets: Mapping[str, Iterable[int]], niks: list[str]) -> None:
    """The access log names what was seen (`str(record)`: a child's name) and the page's query
    string (a search typed with the name); the search log keeps searched NIKs as a keyed hash."""
    about = Q(pk__in=[])
    for label, ids in targets.items():
        about |= Q(target_type=label, target_id__in=[str(pk) for pk in ids])
    rows = AccessLog.objects.filter(about).filter(~Q(target_label="") | Q(path__contains="?"))
    searches = AccessLog.objects.filter(
        action=AccessLog.Action.SEARCH, target_label__in=[search_label(nik) for nik in niks if nik]
    )
    work.count(AccessLog, rows.count() + searches.exclude(pk__in=rows.values("pk")).count())
    if work.dry_run:
        return
    searches.update(target_label="")
    rows.update(target_label="")
    for pk, path in AccessLog.objects.filter(about, path__contains="?").values_list("pk", "path"):
        AccessLog.objects.filter(pk=pk).update(path=path.split("?", 1)[0])


def _searched_for(params: object, words: set[str]) -> bool:
    """Was the export asked with a search (`q`) typed with one of these words (the child's
    name, alias or NIK)? Parameter names and other filters never match."""
    if not isinstance(params, list):
        return False
    searched = [str(pair[1]).lower() for pair in params if isinstance(pair, list) and len(pair) == 2 and pair[0] == "q"]
    # Whole words: the alias "Ani" is no search for "Anita".
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for text in searched for word in words)


def _exports(work: Work, words: list[str], requests: list[int]) -> None:
    """Background exports that hold the child: one asked with a search typed with the
    child's name or NIK, and the files answering requests for the child's data. Their files
    are deleted and their filters emptied — a job still waiting is failed, never run with an
    emptied (that is, a wider) filter — and their filter digest no longer derives from the
    NIK."""
    needles = {w.lower() for w in words if len(w) >= 3}
    candidates = Q(pk__in=[])
    for pk in requests:
        candidates |= Q(source="subject_access", params__contains=[["request", str(pk)]])
    for word in needles:
        candidates |= Q(params__icontains=word)  # a cheap first cut; _searched_for decides
    found = [
        pk
        for pk, source, params in ExportJob.objects.filter(candidates).values_list("pk", "source", "params")
        if source == "subject_access" or _searched_for(params, needles)
    ]
    work.count(ExportJob, len(found))
    if work.dry_run or not found:
        return
    storage = storages["default"]
    # Locked first: a worker finishing one of them meanwhile cannot slip a file in between.
    jobs = list(ExportJob.objects.select_for_update().filter(pk__in=found))
    for job in jobs:
        if job.file_name:
            work.files.append((storage, job.file_name))
            work.counts["storage.files"] += 1
    ids = [job.pk for job in jobs]
    ExportJob.objects.filter(pk__in=ids, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]).update(
        status=ExportJob.Status.FAILED, error="", finished_at=Now()
    )
    ExportJob.objects.filter(pk__in=ids, status=ExportJob.Status.DONE).update(status=ExportJob.Status.EXPIRED)
    ExportJob.objects.filter(pk__in=ids).update(
        params=[], file_name="", params_key=Concat(Value(ERASED_PREFIX), Cast(F("pk"), CharField()))
    )


def _remove_files(work: Work, scrub: Scrub, ids: list[int]) -> None:
    for file_field in (f for f in scrub.model._meta.concrete_fields if isinstance(f, models.FileField)):
        names = scrub.model._base_manager.filter(pk__in=ids).exclude(**{file_field.name: ""})
        for name in names.values_list(file_field.name, flat=True):
            work.files.append((file_field.storage, name))
            work.counts["storage.files"] += 1


def _without_url() -> Any:
    return models.Func(F("metadata"), Value("url"), function="", arg_joiner=" - ", output_field=models.JSONField())


def _scrub_history(work: Work, plan: Iterable[tuple[Scrub, list[int]]]) -> None:
    """The pghistory event rows of these records get their records' treatment, and the
    request contexts attached to them lose their URLs."""
    contexts: set[Any] = set()
    for scrub, ids in plan:
        for event in event_models(scrub.model):
            events = event._default_manager.filter(pgh_obj_id__in=ids)
            _rewrite(work, scrub, events, "pgh_obj_id")
            contexts.update(events.exclude(pgh_context__isnull=True).values_list("pgh_context_id", flat=True))
    with_url = pghistory.models.Context.objects.filter(pk__in=contexts, metadata__has_key="url")
    work.count(pghistory.models.Context, with_url.count())
    if not work.dry_run:
        with_url.update(metadata=_without_url())


def scrub_group(work: Work, survivor_id: int) -> list[int]:
    """Anonymise one child (see the module's docstring); returns the records' ids. In a dry
    run only counts. The caller holds the transaction and the suspended triggers."""
    group = group_of(survivor_id)
    plan = [(s if s.model is not Referral else _referral_scrub(group)) for s in SCRUBS]
    ids = {scrub.model: list(group.ids(scrub)) for scrub in plan}
    people = Beneficiary.objects.filter(pk__in=group.beneficiary_ids)
    niks = list(people.values_list("nik", flat=True))
    words = [
        *niks,
        *people.values_list("full_name", flat=True),
        *people.exclude(alias="").values_list("alias", flat=True),
    ]
    # A merged record gave its NIK to the survivor; the merge remembers the old values.
    merges = BeneficiaryMerge.objects.filter(pk__in=ids[BeneficiaryMerge])
    niks += list(merges.values_list("moved__merged_record__nik", flat=True))
    niks += list(merges.values_list("moved__survivor_before__nik", flat=True))

    # 1. Anonymise the records and their copies.
    for scrub in plan:
        if scrub.model is Beneficiary or scrub.delete:
            _remove_files(work, scrub, ids[scrub.model])
        if not scrub.delete:
            _rewrite(work, scrub, scrub.model._base_manager.filter(pk__in=ids[scrub.model]), "pk")
    # "Confirmed a different person from X" links two people: gone with the person.
    distinct = Beneficiary.distinct_from.through.objects.filter(
        Q(from_beneficiary__in=group.beneficiary_ids) | Q(to_beneficiary__in=group.beneficiary_ids)
    )
    work.count(distinct.model, distinct.count())
    if not work.dry_run:
        distinct.delete()
        Beneficiary.objects.filter(pk__in=group.beneficiary_ids).update(anonymised_at=Now())
    targets = {scrub.model._meta.label_lower: ids[scrub.model] for scrub in plan}
    _access_log(work, targets, [str(n) for n in niks if n])
    requests = list(
        SubjectAccessRequest.objects.filter(beneficiary__in=group.beneficiary_ids).values_list("pk", flat=True)
    )
    _exports(work, [str(w) for w in words if w], requests)

    # 2. Delete what has no statistical use at all.
    for scrub in plan:
        if scrub.delete:
            work.count(scrub.model, len(ids[scrub.model]))
            if not work.dry_run:
                scrub.model._base_manager.filter(pk__in=ids[scrub.model]).delete()

    # 3. Scrub the history, including the rows the deletions just wrote.
    _scrub_history(work, [(scrub, ids[scrub.model]) for scrub in plan])
    if not work.dry_run:
        files = list(work.files)
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
    return group.beneficiary_ids


def scrub_reports(work: Work, report_ids: list[int]) -> None:
    """Anonymise community reports no case came from (eligibility.reports_due): their words
    and the reporter's contact go, as for a report a child's case came from; their history
    and the access log's labels of them too. The caller holds the transaction and the
    suspended triggers."""
    recipients = list(ReportRecipient.objects.filter(report__in=report_ids).values_list("pk", flat=True))
    plan = [(REPORT, report_ids), (RECIPIENT, recipients)]
    for scrub, ids in plan:
        _rewrite(work, scrub, scrub.model._base_manager.filter(pk__in=ids), "pk")
    _access_log(work, {"cases.report": report_ids}, [])
    if not work.dry_run:
        Report.objects.filter(pk__in=report_ids).update(anonymised_at=Now())
    _scrub_history(work, plan)
