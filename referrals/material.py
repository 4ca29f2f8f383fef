"""What of a referred child's file each side of a referral may see, and up to when.

The referral itself is found through `referrals_visible_to` (the scoping function); these
selectors then decide what of the case it opens to the user:

- The receiver, before answering and after declining: the minimum needed to decide (the
  child's first name, age, sex and kab/kota; `child_summary`). Never records.
- The receiver of a service or handover referral, once accepted: the sections and
  documents the sender chose to share, read-only. When the referral is completed (or
  cancelled after acceptance), nothing new: the file is shown as it was at that moment.
  Only while there is a basis to share with it (the guardian's consent or a supervisor's
  emergency decision, `cases.documents.sharing_allowed`): once the consent is withdrawn,
  nothing of the file is open to it any more (`Access.sharing_withdrawn` says why).
- The receiver of an accepted transfer owns the case: it reads it through the case pages,
  to whom the case selectors allow; the thread's attachments only to those too.
- The sender of an accepted transfer keeps the file as it was at the handover: every
  section, the documents uploaded before it.
- The sender otherwise reads its own case through the case pages.

"As it was at a moment" means: records created before it, each in the version saved
before it (an older version comes from the audit trail, pghistory), so later edits by the
other side — a new address, a rewritten assessment — are not shown either. The child too
is the one the case had then, with the family they had then: a later merge of the child's
record into another organisation's record does not bring that record into the old file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.apps import apps
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from atensi.core.access import actor_for, get_or_404
from atensi.core.models import ServiceComponent
from cases.documents import sharing_allowed
from cases.models import (
    Assessment,
    Beneficiary,
    Case,
    CaseNote,
    Document,
    FamilyMember,
    IdentityDocument,
    PlanItem,
    Sex,
)
from cases.selectors import CASE_ROLES, cases_readable_by
from stakeholders.models import Region, User
from stakeholders.selectors import region_label, regions_with_path

from .models import Referral, ReferralKind, ReferralMessage, ReferralStatus, SharedSection
from .selectors import TRANSFERRED_STATUSES

SENDER = "sender"
RECEIVER = "receiver"

SECTION_ORDER: tuple[str, ...] = tuple(SharedSection.values)


def side_of(user: User, referral: Referral) -> str:
    """On whose behalf the user acts on this referral: the receiver's case workers answer
    it; the sender's act for the sender; anyone else (a superuser) on neither."""
    actor = actor_for(user)
    if actor.has_role(referral.receiver_id, *CASE_ROLES):
        return RECEIVER
    if actor.has_role(referral.sender_id, *CASE_ROLES):
        return SENDER
    return ""


@dataclass(frozen=True)
class Access:
    """What the user may open of the case through this referral."""

    referral: Referral
    side: str
    # May open the case itself (its own pages, through the cases selectors).
    case_readable: bool
    # The sections of SharedSection the user may open here, in their order.
    sections: tuple[str, ...] = ()
    # Shared documents (receiver) or the documents at the handover (transfer sender).
    documents: bool = False
    # Attachments of the message thread.
    attachments: bool = False
    # Nothing created or changed after this moment is shown (None: the file as it is now).
    cutoff: datetime.datetime | None = None
    # The sender's file of an accepted transfer, as it was at the handover.
    handover: bool = False
    # The receiver's shared material is closed: the basis to share with it (consent or a
    # supervisor's emergency decision) is gone. The page says so.
    sharing_withdrawn: bool = False

    @property
    def has_material(self) -> bool:
        return bool(self.sections) or self.documents

    @cached_property
    def beneficiary_id(self) -> int:
        """The case's child at the cut-off (a later merge may have given the case another record)."""
        return beneficiary_id_at(self.referral.case, self.cutoff)


def _receiver_cutoff(referral: Referral) -> datetime.datetime | None:
    """When the referral stopped being live for the receiver (None while it is)."""
    if referral.status == ReferralStatus.COMPLETED:
        return referral.completed_at
    if referral.status == ReferralStatus.CANCELLED:
        return referral.cancelled_at
    if referral.status == ReferralStatus.DECLINED:
        return referral.answered_at
    return None


def was_accepted(referral: Referral) -> bool:
    """Accepted at some point: accepted, completed, or cancelled after acceptance."""
    return referral.answered_at is not None and referral.status in (
        ReferralStatus.ACCEPTED,
        ReferralStatus.COMPLETED,
        ReferralStatus.CANCELLED,
    )


def _sharing_withdrawn(referral: Referral) -> bool:
    """The receiver has no basis to see the child's file any more (the consent naming it
    was withdrawn, or no longer names it, and there is no emergency decision). An owner
    needs none: a receiver that owns the case now reads it through the case pages."""
    case = referral.case
    if case.organisation_id == referral.receiver_id:
        return False
    return sharing_allowed(case=case, organisation=referral.receiver) is None


def referral_access(*, user: User, referral: Referral) -> Access:
    side = side_of(user, referral)
    case_readable = cases_readable_by(user).filter(pk=referral.case_id).exists()
    is_transfer = referral.kind == ReferralKind.TRANSFER
    if side == RECEIVER:
        cutoff = _receiver_cutoff(referral)
        if is_transfer and referral.status in TRANSFERRED_STATUSES:
            # The case is theirs now: its own pages show it, to whom the case selectors
            # allow; the thread's attachments are the case's documents, so to them only.
            return Access(referral, side, case_readable, attachments=case_readable)
        if not is_transfer and was_accepted(referral):
            if _sharing_withdrawn(referral):
                # Nothing more is shared without a basis, nor what was: no sections, no
                # documents, no attachments. The page says why.
                return Access(referral, side, case_readable, cutoff=cutoff, sharing_withdrawn=True)
            shared = set(referral.shared_sections)
            sections = tuple(s for s in SECTION_ORDER if s in shared)
            return Access(referral, side, case_readable, sections, documents=True, attachments=True, cutoff=cutoff)
        return Access(referral, side, case_readable, cutoff=cutoff)
    if side == SENDER and is_transfer and referral.status in TRANSFERRED_STATUSES:
        return Access(
            referral,
            side,
            case_readable,
            SECTION_ORDER,
            documents=True,
            attachments=True,
            cutoff=referral.answered_at,
            handover=True,
        )
    return Access(referral, side, case_readable, attachments=side == SENDER or case_readable)


def section_or_404(access: Access, section: str) -> str:
    if section not in access.sections:
        raise Http404
    return section


# --- The file as it was at a moment -----------------------------------------------------


def _event_model(model: type[Model]) -> type[Model]:
    # Every case model is tracked by pghistory (atensi.core.audit.audited): <Model>Event.
    return apps.get_model(model._meta.app_label, f"{model._meta.object_name}Event")


def as_at[M: Model](
    rows: Iterable[M],
    *,
    cutoff: datetime.datetime | None,
    scope: tuple[str, Any] | None = None,
    related: Iterable[str] = (),
) -> list[Any]:
    """The rows as they were at `cutoff`: those created after it are left out, those
    changed after it are replaced by their last version saved before it (an event of the
    audit trail, with the same field names). `scope` (field, value): a row or version that
    then belonged elsewhere (e.g. a family member moved by a merge) is left out too."""
    rows = list(rows)
    if cutoff is None:
        return rows
    rows = [r for r in rows if getattr(r, "created_at", cutoff) <= cutoff]
    if scope is not None:
        # A row unchanged since the cut-off belonged then where it belongs now.
        field, value = scope
        rows = [r for r in rows if _changed_after(r, cutoff) or getattr(r, field) == value]
    changed = {r.pk for r in rows if _changed_after(r, cutoff)}
    if not changed:
        return rows
    event_model = _event_model(type(rows[0]))
    versions = {
        event.pgh_obj_id: event  # type: ignore[attr-defined]
        for event in event_model._default_manager.filter(pgh_obj_id__in=changed, updated_at__lte=cutoff)
        .exclude(pgh_label="delete")
        .select_related(*related)
        .order_by("pgh_obj_id", "-pgh_id")
        .distinct("pgh_obj_id")
    }
    result: list[Any] = []
    for row in rows:
        if row.pk not in changed:
            result.append(row)
            continue
        version = versions.get(row.pk)
        if version is None or (scope is not None and getattr(version, scope[0]) != scope[1]):
            continue
        result.append(version)
    return result


def _changed_after(row: Model, cutoff: datetime.datetime) -> bool:
    updated_at = getattr(row, "updated_at", None)
    return updated_at is not None and updated_at > cutoff


def beneficiary_id_at(case: Case, cutoff: datetime.datetime | None) -> int:
    """The case's beneficiary at `cutoff` (now if None): a merge moves a case to the
    surviving record; before it, the case's version in the audit trail names the old one."""
    if cutoff is None or case.updated_at <= cutoff:
        return case.beneficiary_id
    then = (
        _event_model(Case)
        ._default_manager.filter(pgh_obj_id=case.pk, updated_at__lte=cutoff)
        .exclude(pgh_label="delete")
        .order_by("-pgh_id")
        .values_list("beneficiary_id", flat=True)
        .first()
    )
    # Every save leaves a version; none before the cut-off only for rows written around
    # the audit trail, where the current child is all there is to go by.
    return then if then is not None else case.beneficiary_id


def age_on(birth_date: datetime.date | None, today: datetime.date) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def child_as_at(access: Access) -> Any:
    """The child's record (or its version at the cut-off), or None if it did not exist yet."""
    rows = as_at(Beneficiary.objects.filter(pk=access.beneficiary_id), cutoff=access.cutoff)
    return rows[0] if rows else None


@dataclass(frozen=True)
class ChildSummary:
    """The minimum a receiver sees before answering: enough to decide, not to identify."""

    first_name: str
    age: int | None
    sex: str
    regency: str
    age_estimated: bool = False


def child_summary(child: Any, *, today: datetime.date | None = None) -> ChildSummary | None:
    if child is None:
        return None
    name = (child.full_name or "").split()
    regency = ""
    if child.regency_code:
        regency = Region.objects.filter(code=child.regency_code).values_list("name", flat=True).first() or ""
    return ChildSummary(
        first_name=name[0] if name else "",
        age=age_on(child.birth_date, today or timezone.localdate()),
        sex=str(Sex(child.sex).label) if child.sex in Sex.values else "",
        regency=regency,
        age_estimated=bool(child.birth_date_estimated),
    )


# --- Sections ---------------------------------------------------------------------------


@dataclass
class Identity:
    child: Any
    age: int | None
    village_label: str


def identity_section(access: Access) -> Identity | None:
    child = child_as_at(access)
    if child is None:
        return None
    village_label = ""
    if child.village_id:
        village = regions_with_path().filter(pk=child.village_id).first()
        village_label = region_label(village) if village is not None else ""
    # The age is today's, also in a file shown as at an earlier moment: it is the same
    # child; only what was recorded about them is frozen.
    return Identity(child=child, age=age_on(child.birth_date, timezone.localdate()), village_label=village_label)


def family_section(access: Access) -> list[Any]:
    """The child's family (as at the cut-off: the members the child had then, also those a
    merge has moved to another record since, never those it brought in)."""
    beneficiary_id = access.beneficiary_id
    belonged = Q(beneficiary_id=beneficiary_id)
    if access.cutoff is not None:
        then = _event_model(FamilyMember)._default_manager.filter(
            beneficiary_id=beneficiary_id, updated_at__lte=access.cutoff
        )
        belonged |= Q(pk__in=then.values("pgh_obj_id"))
    rows = FamilyMember.objects.filter(belonged).order_by("-is_legal_guardian", "relation", "name", "pk")
    members = as_at(rows, cutoff=access.cutoff, scope=("beneficiary_id", beneficiary_id))
    return sorted(members, key=lambda m: (not m.is_legal_guardian, m.relation, m.name, m.id))


def _resort(rows: list[Any], key: Callable[[Any], Any], reverse: bool = False) -> list[Any]:
    # Versions from the audit trail may sort differently from the rows they replace.
    return sorted(rows, key=key, reverse=reverse)


@dataclass(frozen=True)
class AssessmentShown:
    """An assessment as the referral shows it."""

    # The Assessment, or its version from the audit trail at the cut-off (the same fields).
    assessment: Model
    # (component name, what was found), in the order they were recorded
    needs: list[tuple[str, str]]
    # names of the identity documents the child holds
    documents: list[str]


def assessments_section(access: Access) -> list[AssessmentShown]:
    case_id = access.referral.case_id
    rows = Assessment.objects.filter(case_id=case_id).select_related("author").order_by("-assessed_on", "-pk")
    assessments = _resort(
        as_at(rows, cutoff=access.cutoff, scope=("case_id", case_id), related=["author"]),
        key=lambda a: (a.assessed_on, a.id),
        reverse=True,
    )
    codes = {code for a in assessments for code in a.needs}
    names = {c.code: c.name for c in ServiceComponent.objects.filter(code__in=codes)} if codes else {}
    return [
        AssessmentShown(
            assessment=a,
            needs=[(names.get(code, code), text) for code, text in a.needs.items()],
            documents=[
                str(IdentityDocument(code).label) for code in a.identity_documents if code in IdentityDocument.values
            ],
        )
        for a in assessments
    ]


def plan_section(access: Access) -> list[Any]:
    case_id = access.referral.case_id
    related = ["component", "provider", "responsible"]
    rows = PlanItem.objects.filter(case_id=case_id).select_related(*related)
    items = as_at(rows, cutoff=access.cutoff, scope=("case_id", case_id), related=related)
    return _resort(items, key=lambda i: (i.component.position, i.component.code, i.start_date, i.id))


def notes_section(access: Access) -> list[Any]:
    case_id = access.referral.case_id
    rows = CaseNote.objects.filter(case_id=case_id).select_related("author").order_by("-occurred_on", "-pk")
    return as_at(rows, cutoff=access.cutoff, scope=("case_id", case_id), related=["author"])


# --- Documents --------------------------------------------------------------------------


def documents_listed(access: Access) -> QuerySet[Document]:
    """The documents the referral's page lists for this user (shared ones, or the file at
    the handover), newest first."""
    referral = access.referral
    if not access.documents:
        return Document.objects.none()
    qs = Document.objects.filter(case_id=referral.case_id)
    if access.handover:
        qs = qs.filter(uploaded_at__lte=access.cutoff)
    else:
        qs = qs.filter(referrals=referral)
        if access.cutoff is not None:
            qs = qs.filter(uploaded_at__lte=access.cutoff)
    return qs.select_related("uploaded_by").order_by("-uploaded_at", "-pk")


def _attached_here(referral: Referral) -> Exists:
    through = ReferralMessage.attachments.through
    return Exists(through.objects.filter(referralmessage__referral=referral, document_id=OuterRef("pk")))


def document_get_for_access(access: Access, document_id: Any) -> Document:
    """A document this user may download through the referral, or 404: a listed one, or
    one attached to a message of its thread."""
    listed = Exists(documents_listed(access).filter(pk=OuterRef("pk")))
    qs = Document.objects.filter(case_id=access.referral.case_id)
    qs = qs.filter(listed | _attached_here(access.referral)) if access.attachments else qs.filter(listed)
    return get_or_404(qs, pk=document_id)


def attachable_documents(*, user: User, referral: Referral) -> QuerySet[Document]:
    """Documents the user may attach to a message: whatever their side may see of the
    case — the sender the case's documents (after a transfer those of the handover), the
    receiver only those shared with it."""
    side = side_of(user, referral)
    qs = Document.objects.filter(case_id=referral.case_id)
    if side == SENDER:
        if referral.kind == ReferralKind.TRANSFER and referral.status in TRANSFERRED_STATUSES:
            qs = qs.filter(uploaded_at__lte=referral.answered_at)
    elif side == RECEIVER:
        qs = qs.filter(referrals=referral)
    else:
        return Document.objects.none()
    return qs.only("pk", "title", "kind", "original_name", "uploaded_at").order_by("-uploaded_at", "-pk")
