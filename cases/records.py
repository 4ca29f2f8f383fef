"""Writes on the records of a case: assessments, the intervention plan, notes and visits,
and follow-ups. Each write checks who may make it and in which stage, validates, saves,
and adds its line to the case timeline in the same transaction.

Who: the case manager or a supervisor of the owning organisation (`can_work_on_case`);
colleagues who may read the case see the records but cannot change them. The one
exception is a follow-up, which the person it is assigned to may also mark done or missed.

The `*_refusal` functions say why a user may not make a kind of change right now (or
None); services raise it, pages use it to show or hide their buttons.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError, require
from atensi.core.models import ServiceComponent
from stakeholders.models import Organisation, User

from .models import (
    Assessment,
    Case,
    CaseNote,
    DiversionStage,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    IdentityDocument,
    NoteKind,
    PlanItem,
    PlanItemStatus,
    TimelineKind,
)
from .permissions import change_plan_refusal, mark_follow_up_refusal, write_assessment_refusal, write_note_refusal
from .record_selectors import assessment_last_saved, plan_was_approved
from .selectors import CASE_ROLES, holds_role, person_name
from .services import case_lock, full_clean_or_raise, timeline_add

ASSESSMENT_TEXT_FIELDS: tuple[str, ...] = (
    "problems",
    "strengths",
    "risks",
    "family_situation",
    "education",
    "health",
    "legal_situation",
    "court",
    "conclusion",
)
# Changing any of these changes what the supervisor approved.
PLAN_APPROVED_FIELDS: tuple[str, ...] = ("component", "service", "provider")


def _require_case_worker(*, case: Case, user: User | None, field: str) -> None:
    if user is None or not holds_role(organisation_id=case.organisation_id, user=user, roles=CASE_ROLES):
        raise ApplicationError(
            _("%(name)s does not work cases at %(org)s. Choose someone from %(org)s.")
            % {"name": person_name(user), "org": case.organisation.name},
            field=field,
        )


def _require_not_future(day: datetime.date, *, field: str, what: str) -> None:
    today = timezone.localdate()
    if day > today:
        raise ApplicationError(
            _("%(what)s cannot be in the future (today is %(today)s).")
            % {"what": what, "today": date_format(today, "DATE_FORMAT")},
            field=field,
        )


# --- Assessments ---------------------------------------------------------------------------


def _clean_needs(needs: Mapping[str, str], *, allowed_codes: Iterable[str]) -> dict[str, str]:
    """{component code: text}, empty texts dropped; only known component codes."""
    allowed = set(allowed_codes)
    cleaned: dict[str, str] = {}
    for code, text in needs.items():
        text = (text or "").strip()
        if not text:
            continue
        if code not in allowed:
            raise ApplicationError(
                _("“%(code)s” is not an ATENSI service component. Write the needs under the components listed.")
                % {"code": code},
                field="needs",
            )
        cleaned[code] = text
    return cleaned


def _assessment_values(
    *,
    case: Case,
    assessed_on: datetime.date,
    problems: str,
    conclusion: str,
    needs: Mapping[str, str],
    allowed_need_codes: Iterable[str],
    strengths: str,
    risks: str,
    family_situation: str,
    education: str,
    health: str,
    legal_situation: str,
    diversion_stage: str,
    court: str,
    identity_documents: Iterable[str],
) -> dict[str, object]:
    _require_not_future(assessed_on, field="assessed_on", what=_("The assessment date"))
    opened_on = timezone.localdate(case.opened_at)
    if assessed_on < opened_on:
        raise ApplicationError(
            _("The assessment date cannot be before the case was opened (%(opened)s).")
            % {"opened": date_format(opened_on, "DATE_FORMAT")},
            field="assessed_on",
        )
    if diversion_stage not in DiversionStage.values:
        raise ApplicationError(_("Choose a diversion stage from the list."), field="diversion_stage")
    documents = list(dict.fromkeys(identity_documents))
    unknown = [d for d in documents if d not in IdentityDocument.values]
    if unknown:
        raise ApplicationError(_("Choose the identity documents from the list."), field="identity_documents")
    values: dict[str, object] = {
        "assessed_on": assessed_on,
        "problems": problems.strip(),
        "strengths": strengths.strip(),
        "risks": risks.strip(),
        "family_situation": family_situation.strip(),
        "education": education.strip(),
        "health": health.strip(),
        "legal_situation": legal_situation.strip(),
        "diversion_stage": diversion_stage,
        "court": court.strip(),
        "identity_documents": [d for d in IdentityDocument.values if d in documents],
        "conclusion": conclusion.strip(),
        "needs": _clean_needs(needs, allowed_codes=allowed_need_codes),
    }
    if not values["problems"]:
        raise ApplicationError(_("Describe the problems the child faces."), field="problems")
    if not values["conclusion"]:
        raise ApplicationError(_("Write the conclusion of the assessment."), field="conclusion")
    return values


def _active_component_codes() -> list[str]:
    return list(ServiceComponent.objects.filter(is_active=True).values_list("code", flat=True))


@transaction.atomic
def assessment_create(
    *,
    case: Case,
    by: User,
    assessed_on: datetime.date,
    problems: str,
    conclusion: str,
    needs: Mapping[str, str] | None = None,
    strengths: str = "",
    risks: str = "",
    family_situation: str = "",
    education: str = "",
    health: str = "",
    legal_situation: str = "",
    diversion_stage: str = "",
    court: str = "",
    identity_documents: Iterable[str] = (),
) -> Assessment:
    """Record a new assessment of the case (a case may have several over time)."""
    case = case_lock(case)
    require(write_assessment_refusal(user=by, case=case))
    values = _assessment_values(
        case=case,
        assessed_on=assessed_on,
        problems=problems,
        conclusion=conclusion,
        needs=needs or {},
        allowed_need_codes=_active_component_codes(),
        strengths=strengths,
        risks=risks,
        family_situation=family_situation,
        education=education,
        health=health,
        legal_situation=legal_situation,
        diversion_stage=diversion_stage,
        court=court,
        identity_documents=identity_documents,
    )
    assessment = Assessment(case=case, author=by, **values)
    full_clean_or_raise(assessment, exclude=["case", "author"])
    assessment.save()
    timeline_add(
        case=case,
        kind=TimelineKind.ASSESSMENT,
        actor=by,
        obj=assessment,
        action="created",
        assessed_on=assessment.assessed_on.isoformat(),
    )
    return assessment


@transaction.atomic
def assessment_update(
    *,
    assessment: Assessment,
    by: User,
    version: int,
    assessed_on: datetime.date,
    problems: str,
    conclusion: str,
    needs: Mapping[str, str] | None = None,
    strengths: str = "",
    risks: str = "",
    family_situation: str = "",
    education: str = "",
    health: str = "",
    legal_situation: str = "",
    diversion_stage: str = "",
    court: str = "",
    identity_documents: Iterable[str] = (),
) -> Assessment:
    """Save an edit of `assessment` made from `version`.

    Optimistic concurrency: the row is updated only if it is still at `version`. If
    someone saved in between, nothing is written and the user is told who and when,
    rather than silently overwriting their text.
    """
    case = case_lock(assessment.case)
    require(write_assessment_refusal(user=by, case=case))
    values = _assessment_values(
        case=case,
        assessed_on=assessed_on,
        problems=problems,
        conclusion=conclusion,
        needs=needs or {},
        # A component retired since keeps the need written under it.
        allowed_need_codes=[*_active_component_codes(), *assessment.needs],
        strengths=strengths,
        risks=risks,
        family_situation=family_situation,
        education=education,
        health=health,
        legal_situation=legal_situation,
        diversion_stage=diversion_stage,
        court=court,
        identity_documents=identity_documents,
    )
    candidate = Assessment(case=case, author=assessment.author, **values)
    full_clean_or_raise(candidate, exclude=["case", "author"])
    now = timezone.now()
    saved = Assessment.objects.filter(pk=assessment.pk, version=version).update(
        **values, version=version + 1, updated_at=now
    )
    if not saved:
        current = Assessment.objects.select_related("author").filter(pk=assessment.pk).first()
        if current is None:
            raise ApplicationError(_("This assessment no longer exists. Your changes were not saved."))
        if all(getattr(current, name) == value for name, value in values.items()):
            # The same text saved twice (a double click, a re-sent page): nothing is lost.
            return current
        name, when = assessment_last_saved(assessment=current)
        raise ApplicationError(
            _(
                "Someone else saved this assessment while you were editing (by %(name)s at %(time)s). "
                "Your changes were not saved; open it again to see theirs."
            )
            % {"name": name, "time": timezone.localtime(when).strftime("%H:%M")},
            extra={"conflict": True},
        )
    assessment.refresh_from_db()
    timeline_add(
        case=case,
        kind=TimelineKind.ASSESSMENT,
        actor=by,
        obj=assessment,
        at=now,
        action="edited",
        assessed_on=assessment.assessed_on.isoformat(),
    )
    return assessment


# --- The intervention plan -----------------------------------------------------------------


class PlanItemSaved(NamedTuple):
    item: PlanItem
    # The plan was approved before and this change (a new item, or another component,
    # service or provider) is not part of what was approved.
    needs_approval: bool


def _check_plan_item(
    *,
    case: Case,
    component: ServiceComponent,
    provider: Organisation | None,
    responsible: User | None,
    start_date: datetime.date,
    target_date: datetime.date,
    status: str,
    outcome: str,
    before: PlanItem | None,
) -> None:
    if not component.is_active and (before is None or before.component_id != component.pk):
        raise ApplicationError(
            _("The component “%(component)s” is no longer in use. Choose another one.") % {"component": component},
            field="component",
        )
    provider_changed = before is None or before.provider_id != getattr(provider, "pk", None)
    if provider is not None and provider_changed and not provider.is_active:
        raise ApplicationError(
            _(
                "%(org)s is not active in the portal, so it cannot provide a service. Choose an active "
                "organisation, or leave the provider empty if %(own)s provides it."
            )
            % {"org": provider.name, "own": case.organisation.name},
            field="provider",
        )
    responsible_changed = before is None or before.responsible_id != getattr(responsible, "pk", None)
    if responsible is not None and responsible_changed:
        _require_case_worker(case=case, user=responsible, field="responsible")
    if target_date < start_date:
        raise ApplicationError(
            _("The target date (%(target)s) cannot be before the start date (%(start)s).")
            % {"target": date_format(target_date, "DATE_FORMAT"), "start": date_format(start_date, "DATE_FORMAT")},
            field="target_date",
        )
    if status not in PlanItemStatus.values:
        raise ApplicationError(_("Choose a status from the list."), field="status")
    if status == PlanItemStatus.DONE and not outcome.strip():
        raise ApplicationError(_("Write the outcome before marking the item as done."), field="outcome")


@transaction.atomic
def plan_item_create(
    *,
    case: Case,
    by: User,
    component: ServiceComponent,
    service: str,
    start_date: datetime.date,
    target_date: datetime.date,
    provider: Organisation | None = None,
    responsible: User | None = None,
    status: str = PlanItemStatus.PLANNED,
    outcome: str = "",
) -> PlanItemSaved:
    """Add a service to the intervention plan. A provider other than the owning
    organisation is stored; the referral to it is made by the referrals part."""
    case = case_lock(case)
    require(change_plan_refusal(user=by, case=case))
    if provider is not None and provider.pk == case.organisation_id:
        provider = None  # "our own organisation" is stored as empty
    _check_plan_item(
        case=case,
        component=component,
        provider=provider,
        responsible=responsible,
        start_date=start_date,
        target_date=target_date,
        status=status,
        outcome=outcome,
        before=None,
    )
    item = PlanItem(
        case=case,
        component=component,
        service=service.strip(),
        provider=provider,
        responsible=responsible,
        start_date=start_date,
        target_date=target_date,
        status=status,
        outcome=outcome.strip(),
        done_at=timezone.now() if status == PlanItemStatus.DONE else None,
        created_by=by,
    )
    full_clean_or_raise(item, exclude=["case", "created_by"])
    item.save()
    needs_approval = plan_was_approved(case=case)
    timeline_add(
        case=case,
        kind=TimelineKind.PLAN_ITEM,
        actor=by,
        obj=item,
        action="created",
        component=component.code,
        service=item.service,
        status=item.status,
        provider=provider.name if provider is not None else "",
        needs_approval=needs_approval,
    )
    return PlanItemSaved(item=item, needs_approval=needs_approval)


@transaction.atomic
def plan_item_update(
    *,
    item: PlanItem,
    by: User,
    component: ServiceComponent,
    service: str,
    start_date: datetime.date,
    target_date: datetime.date,
    provider: Organisation | None = None,
    responsible: User | None = None,
    status: str = PlanItemStatus.PLANNED,
    outcome: str = "",
) -> PlanItemSaved:
    """Change a plan item: its dates, status and outcome as it is carried out, or what it is."""
    case = case_lock(item.case)
    require(change_plan_refusal(user=by, case=case))
    if provider is not None and provider.pk == case.organisation_id:
        provider = None
    before = PlanItem.objects.select_for_update().get(pk=item.pk)
    _check_plan_item(
        case=case,
        component=component,
        provider=provider,
        responsible=responsible,
        start_date=start_date,
        target_date=target_date,
        status=status,
        outcome=outcome,
        before=before,
    )
    item.component = component
    item.service = service.strip()
    item.provider = provider
    item.responsible = responsible
    item.start_date = start_date
    item.target_date = target_date
    item.status = status
    item.outcome = outcome.strip()
    full_clean_or_raise(item, exclude=["case", "created_by"])
    names = ("component", "service", "provider", "responsible", "start_date", "target_date", "status", "outcome")
    changed = [
        name
        for name in names
        if getattr(before, f"{name}_id" if name in ("component", "provider", "responsible") else name)
        != getattr(item, f"{name}_id" if name in ("component", "provider", "responsible") else name)
    ]
    if not changed:
        return PlanItemSaved(item=item, needs_approval=False)
    if "status" in changed:
        item.done_at = timezone.now() if status == PlanItemStatus.DONE else None
        changed_fields = [*changed, "done_at"]
    else:
        changed_fields = changed
    item.save(update_fields=[*changed_fields, "updated_at"])
    needs_approval = any(name in PLAN_APPROVED_FIELDS for name in changed) and plan_was_approved(case=case)
    timeline_add(
        case=case,
        kind=TimelineKind.PLAN_ITEM,
        actor=by,
        obj=item,
        action="edited",
        component=component.code,
        service=item.service,
        status=item.status,
        provider=provider.name if provider is not None else "",
        fields=changed,
        needs_approval=needs_approval,
    )
    return PlanItemSaved(item=item, needs_approval=needs_approval)


# --- Notes, visits and follow-ups --------------------------------------------------------------


def _check_follow_up(*, case: Case, kind: str, due_on: datetime.date, assignee: User | None, prefix: str = "") -> None:
    if kind not in FollowUpKind.values:
        raise ApplicationError(_("Choose the kind of follow-up from the list."), field=f"{prefix}kind")
    today = timezone.localdate()
    if due_on < today:
        raise ApplicationError(
            _("The follow-up cannot be due in the past: choose today (%(today)s) or a later date.")
            % {"today": date_format(today, "DATE_FORMAT")},
            field=f"{prefix}due_on",
        )
    _require_case_worker(case=case, user=assignee, field=f"{prefix}assignee")


def _follow_up_save(
    *,
    case: Case,
    by: User,
    kind: str,
    due_on: datetime.date,
    assignee: User | None,
    description: str,
    note: CaseNote | None,
) -> FollowUp:
    follow_up = FollowUp(
        case=case,
        kind=kind,
        due_on=due_on,
        assignee=assignee,
        description=description.strip()[:300],
        note=note,
        created_by=by,
    )
    full_clean_or_raise(follow_up, exclude=["case", "created_by", "note", "assignee"])
    follow_up.save()
    timeline_add(
        case=case,
        kind=TimelineKind.FOLLOW_UP,
        actor=by,
        obj=follow_up,
        action="created",
        follow_up_kind=kind,
        due_on=due_on.isoformat(),
        assignee=person_name(assignee),
    )
    return follow_up


@transaction.atomic
def note_create(
    *,
    case: Case,
    by: User,
    kind: str,
    occurred_on: datetime.date,
    narrative: str,
    participants: str = "",
    next_step: str = "",
    follow_up_kind: str | None = None,
    follow_up_due_on: datetime.date | None = None,
    follow_up_assignee: User | None = None,
    follow_up_description: str = "",
) -> CaseNote:
    """Log a note or a contact (visit, call, session); with `follow_up_kind`, also a
    follow-up due by `follow_up_due_on` (the next step, scheduled)."""
    case = case_lock(case)
    require(write_note_refusal(user=by, case=case))
    if kind not in NoteKind.values:
        raise ApplicationError(_("Choose what kind of note this is."), field="kind")
    _require_not_future(occurred_on, field="occurred_on", what=_("The date of the note or visit"))
    if not narrative.strip():
        raise ApplicationError(_("Write what happened."), field="narrative")
    if follow_up_kind:
        if follow_up_due_on is None:
            raise ApplicationError(_("Choose when the follow-up is due."), field="follow_up_due_on")
        assignee = follow_up_assignee if follow_up_assignee is not None else case.case_manager
        if assignee is None:
            raise ApplicationError(_("Choose who will do the follow-up."), field="follow_up_assignee")
        _check_follow_up(
            case=case, kind=follow_up_kind, due_on=follow_up_due_on, assignee=assignee, prefix="follow_up_"
        )
    note = CaseNote(
        case=case,
        kind=kind,
        occurred_on=occurred_on,
        participants=participants.strip(),
        narrative=narrative.strip(),
        next_step=next_step.strip(),
        author=by,
    )
    full_clean_or_raise(note, exclude=["case", "author"])
    note.save()
    timeline_add(
        case=case,
        kind=TimelineKind.NOTE,
        actor=by,
        obj=note,
        note_kind=kind,
        occurred_on=occurred_on.isoformat(),
    )
    if follow_up_kind and follow_up_due_on is not None:
        _follow_up_save(
            case=case,
            by=by,
            kind=follow_up_kind,
            due_on=follow_up_due_on,
            assignee=assignee,
            description=follow_up_description or note.next_step,
            note=note,
        )
    return note


@transaction.atomic
def follow_up_create(
    *,
    case: Case,
    by: User,
    kind: str,
    due_on: datetime.date,
    assignee: User | None,
    description: str = "",
) -> FollowUp:
    """Schedule something to be done on the case by a date (the reminders part delivers it)."""
    case = case_lock(case)
    require(write_note_refusal(user=by, case=case))
    _check_follow_up(case=case, kind=kind, due_on=due_on, assignee=assignee)
    return _follow_up_save(
        case=case, by=by, kind=kind, due_on=due_on, assignee=assignee, description=description, note=None
    )


@transaction.atomic
def follow_up_mark(*, follow_up: FollowUp, by: User, outcome: str, reason: str = "") -> FollowUp:
    """Mark a pending follow-up done or missed (with the reason).

    A conditional update: of two clicks (or two people) only the first changes it; the
    second is told it was already decided.
    """
    # The case first, as every writer of a case's rows: a transfer (which locks the case,
    # then moves its follow-ups' organisation) and this mark would otherwise deadlock.
    case = case_lock(follow_up.case)
    require(mark_follow_up_refusal(user=by, follow_up=follow_up, case=case))
    reason = reason.strip()
    now = timezone.now()
    if outcome == FollowUpStatus.DONE:
        changes: dict[str, object] = {"status": FollowUpStatus.DONE, "completed_at": now}
    elif outcome == FollowUpStatus.MISSED:
        if not reason:
            raise ApplicationError(_("Say why the follow-up was missed."), field="reason")
        changes = {"status": FollowUpStatus.MISSED, "missed_reason": reason}
    else:
        raise ApplicationError(_("Choose whether the follow-up was done or missed."), field="outcome")
    won = FollowUp.objects.filter(pk=follow_up.pk, status=FollowUpStatus.PENDING).update(**changes)
    follow_up.refresh_from_db()
    if not won:
        raise ApplicationError(
            _("This follow-up was already marked as “%(status)s”. Nothing was changed.")
            % {"status": follow_up.get_status_display()}
        )
    data: dict[str, object] = {
        "action": outcome,
        "follow_up_kind": follow_up.kind,
        "due_on": follow_up.due_on.isoformat(),
    }
    if outcome == FollowUpStatus.MISSED:
        data["reason"] = reason
    timeline_add(case=case, kind=TimelineKind.FOLLOW_UP, actor=by, obj=follow_up, at=now, **data)
    return follow_up
