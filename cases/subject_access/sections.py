"""What a subject access file holds: one section per kind of record about the person.

A section names its model and how to find the records of one subject; its table is built
from the model's own fields (their translated names as headers, choices and related
records by their labels), so a field added to a model is in the file without anyone
remembering to add it. Fields a section leaves out are named with the reason, which the
file's letter repeats: what is withheld is said, never silently dropped.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from atensi.core.models import AccessLog
from stakeholders.models import Membership, Organisation

from ..access_log import about
from ..models import (
    Approval,
    Assessment,
    Beneficiary,
    BeneficiaryMerge,
    Case,
    CaseCopy,
    CaseNote,
    Consent,
    Document,
    FamilyMember,
    FollowUp,
    PlanItem,
    Report,
    SharingOverride,
    TimelineEntry,
)


@dataclass(frozen=True)
class Subject:
    """One request's subject: the person's record and the records merged into it, and the
    organisation's cases of them."""

    organisation: Organisation
    person_ids: tuple[int, ...]
    case_ids: tuple[int, ...]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    # The same rows keyed by field name, for the JSON copy.
    records: list[dict[str, object]] = field(default_factory=list)
    # (path inside the ZIP, storage name) of the files the rows name.
    files: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    name: str  # the JSON key and the order's handle
    title: StrOrPromise
    model: type[models.Model]
    records: Callable[[Subject], QuerySet[Any]]
    # Fields left out, and why (said in the file's letter).
    withheld: tuple[str, ...] = ()
    withheld_because: StrOrPromise = ""
    # File fields whose files go into the ZIP, under this folder.
    files_under: str = ""
    # A section that is not a model's table (the access log) builds its own.
    table: Callable[[Subject], Table] | None = None
    # Sections come in this order, then in the order they were registered.
    order: int = 0


_SECTIONS: dict[str, Section] = {}
# Models pointing at a case or a person that no section holds, with the reason (the
# completeness test reads this).
WITHHELD_MODELS: dict[str, StrOrPromise] = {}


def register(section: Section) -> Section:
    if _SECTIONS.setdefault(section.name, section) is not section:
        raise ValueError(f"subject access section {section.name!r} is registered twice")
    return section


def withhold_model(label: str, reason: StrOrPromise) -> None:
    WITHHELD_MODELS[label] = reason


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda section: section.order)


# --- Tables from models ----------------------------------------------------------------------


def _text(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, int | float):
        return value
    return str(value)


def _fields(section: Section) -> list[models.Field[Any, Any]]:
    # Not the copies of the case's columns on its rows (CaseCopy, for the indexes): the
    # Cases section has them, and a copy would name today's supervisor beside an old record.
    kept = [
        f for f in section.model._meta.concrete_fields if f.name not in section.withheld and not isinstance(f, CaseCopy)
    ]
    many = [f for f in section.model._meta.many_to_many if f.name not in section.withheld]
    return [*kept, *many]


def model_table(section: Section, subject: Subject) -> Table:
    """The section's records as a table: every field but the withheld ones, by its label."""
    fields = _fields(section)
    relations = [f.name for f in fields if f.many_to_one or f.one_to_one]
    many = [f.name for f in fields if f.many_to_many]
    queryset = section.records(subject).select_related(*relations).prefetch_related(*many).order_by("pk")
    table = Table(headers=[capfirst(str(f.verbose_name)) for f in fields])
    for record in queryset:
        row: list[object] = []
        keyed: dict[str, object] = {}
        for f in fields:
            if f.many_to_many:
                value: object = "; ".join(str(item) for item in getattr(record, f.name).all())
            elif f.choices:
                value = str(getattr(record, f"get_{f.attname}_display")()) if getattr(record, f.attname) else ""
            elif f.many_to_one or f.one_to_one:
                value = getattr(record, f.name)
            elif isinstance(f, models.FileField):
                stored = getattr(record, f.attname)
                value = _bundle_path(section, record, str(stored)) if stored else ""
                if stored:
                    table.files.append((str(value), str(stored)))
            else:
                value = getattr(record, f.attname)
            text = _text(value)
            row.append(text)
            keyed[f.name] = text
        table.rows.append(row)
        table.records.append(keyed)
    return table


def _bundle_path(section: Section, record: models.Model, stored: str) -> str:
    name = stored.rsplit("/", 1)[-1]
    original = getattr(record, "original_name", "") or name
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in original).strip() or name
    return f"{section.files_under or section.name}/{record.pk}-{safe}"


def table_of(section: Section, subject: Subject) -> Table:
    return section.table(subject) if section.table is not None else model_table(section, subject)


# --- The sections of cases ----------------------------------------------------------------------


def _cases(subject: Subject) -> Q:
    return Q(case_id__in=subject.case_ids)


register(
    Section(
        name="identity",
        title=gettext_lazy("Identity"),
        model=Beneficiary,
        records=lambda s: Beneficiary.objects.filter(pk__in=s.person_ids),
        # Other children: the people this one was judged not to be (a duplicate check).
        withheld=("distinct_from",),
        withheld_because=gettext_lazy(
            "The list of other registered children this person was checked against is left out: "
            "it is other people's data."
        ),
        files_under="photo",
    )
)
register(
    Section(
        name="family",
        title=gettext_lazy("Family"),
        model=FamilyMember,
        records=lambda s: FamilyMember.objects.filter(beneficiary_id__in=s.person_ids),
        # The relatives' own identifiers and contacts are their data, not the person's.
        withheld=("nik", "phone"),
        withheld_because=gettext_lazy(
            "The family members' NIK and phone numbers are left out: they are their own personal data."
        ),
    )
)
register(
    Section(
        name="merges",
        title=gettext_lazy("Merged records"),
        model=BeneficiaryMerge,
        records=lambda s: BeneficiaryMerge.objects.filter(survivor_id__in=s.person_ids),
    )
)
register(
    Section(
        name="cases",
        title=gettext_lazy("Cases"),
        model=Case,
        records=lambda s: Case.objects.filter(pk__in=s.case_ids),
    )
)
register(
    Section(
        name="reports",
        title=gettext_lazy("Reports"),
        model=Report,
        records=lambda s: Report.objects.filter(pk__in=Case.objects.filter(pk__in=s.case_ids).values("report_id")),
        # Whoever reported a child is protected: the family must not learn who it was.
        withheld=("reporter_kind", "reporter_name", "reporter_phone", "recorded_by"),
        withheld_because=gettext_lazy(
            "Who reported the child (what kind of reporter, name, phone, the account that recorded it) is left "
            "out to protect the reporter."
        ),
    )
)


def _case_records(name: str, title: StrOrPromise, model: type[models.Model], **extra: Any) -> Section:
    """A section of the rows of `model` that belong to the subject's cases."""
    return register(
        Section(
            name=name, title=title, model=model, records=lambda s: model._default_manager.filter(_cases(s)), **extra
        )
    )


_case_records("timeline", gettext_lazy("Timeline"), TimelineEntry)
_case_records("approvals", gettext_lazy("Approvals"), Approval)
_case_records("assessments", gettext_lazy("Assessments"), Assessment)
_case_records("plan", gettext_lazy("Intervention plan"), PlanItem)
_case_records("notes", gettext_lazy("Notes and visits"), CaseNote)
_case_records("follow_ups", gettext_lazy("Follow-ups"), FollowUp)
_case_records("documents", gettext_lazy("Documents"), Document, files_under="documents")
_case_records("consent", gettext_lazy("Consent"), Consent)
_case_records("sharing_overrides", gettext_lazy("Sharing without consent"), SharingOverride)


def about_subject(subject: Subject) -> Q:
    return about(person_ids=subject.person_ids, case_ids=subject.case_ids)


def _access_table(subject: Subject) -> Table:
    what = {
        "cases.case": _("the case"),
        "cases.beneficiary": _("the person's record"),
        "cases.document": _("a document"),
    }
    names: Sequence[tuple[str, str]] = (
        ("at", _("When")),
        ("who", _("Who")),
        ("action", _("What they did")),
        ("what", _("What")),
    )
    table = Table(headers=[label for _key, label in names])
    rows = list(AccessLog.objects.filter(about_subject(subject)).select_related("user").order_by("at", "pk"))
    # The organisation's own staff by name; another organisation's (a referral's receiver,
    # a search elsewhere) by their organisation: their names are their personal data.
    others = Organisation.objects.in_bulk(
        {row.organisation_id for row in rows if row.organisation_id not in (None, subject.organisation.pk)}
    )
    own = set(
        Membership.objects.filter(
            organisation=subject.organisation, user_id__in={row.user_id for row in rows}
        ).values_list("user_id", flat=True)
    )
    for row in rows:
        user = row.user
        if user is None:
            who = _("(account removed)")
        elif row.organisation_id in others:
            who = _("Staff of %(organisation)s") % {"organisation": others[row.organisation_id].name}
        elif row.user_id not in own:
            who = _("Staff of another organisation")
        else:
            who = user.get_full_name() or user.username
        values = {
            "at": _text(row.at),
            "who": who,
            "action": str(row.get_action_display()),
            "what": what.get(row.target_type, row.target_type),
        }
        table.rows.append([values[key] for key, _label in names])
        table.records.append(values)
    return table


register(
    Section(
        name="access_log",
        title=gettext_lazy("Who accessed the data"),
        model=AccessLog,
        records=lambda s: AccessLog.objects.filter(about_subject(s)),
        table=_access_table,
        order=100,  # last, after every app's records
    )
)

withhold_model(
    "cases.SubjectAccessRequest",
    gettext_lazy("The register of requests is the organisation's record of answering them, not data about the person."),
)
