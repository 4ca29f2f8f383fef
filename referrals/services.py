"""Sending and answering referrals.

Every answer (accept, decline, cancel, complete) is one conditional UPDATE on the
referral's current status: of any number of concurrent attempts exactly one changes the
row, every other one is told what happened instead, and nothing else is written for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError, require
from atensi.core.models import ServiceComponent
from cases.documents import sharing_allowed
from cases.models import OPEN_STAGES, Case, Document, PlanItem, PlanItemStatus, TimelineKind, Urgency
from cases.selectors import person_name
from cases.services import case_lock, is_case_manager_candidate, occupancy_recount, timeline_add
from stakeholders.models import Organisation, User

from .models import (
    ACTIVE_STATUSES,
    DeclineReason,
    Referral,
    ReferralKind,
    ReferralStatus,
    ResponseDeadline,
    SharedSection,
)
from .notify import notify_answered, notify_cancelled, notify_sent
from .permissions import (
    accept_transfer_refusal,
    answer_referral_refusal,
    cancel_referral_refusal,
    refer_case_refusal,
)

# Used when the admin-editable table has no row for an urgency (programme defaults).
DEFAULT_DEADLINE_HOURS = {Urgency.EMERGENCY: 24, Urgency.HIGH: 72, Urgency.NORMAL: 168}


def deadline_hours(urgency: str) -> int:
    row = ResponseDeadline.objects.filter(urgency=urgency).values_list("hours", flat=True).first()
    return int(row) if row else DEFAULT_DEADLINE_HOURS[Urgency(urgency)]


def child_summary(case: Case) -> dict[str, object]:
    """What a referral records of the child when it is sent (see Referral.child_summary)."""
    child = case.beneficiary
    return {
        "full_name": child.full_name,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat() if child.birth_date else "",
        "birth_date_estimated": child.birth_date_estimated,
        "regency_code": child.regency_code,
    }


@transaction.atomic
def referral_send(
    *,
    case: Case,
    by: User,
    receiver: Organisation,
    kind: str,
    reason: str,
    urgency: str = Urgency.NORMAL,
    components: Iterable[ServiceComponent] = (),
    handover_reason: str = "",
    plan_item: PlanItem | None = None,
    shared_sections: Iterable[str] = (),
    shared_documents: Iterable[Document] = (),
    resent_from: Referral | None = None,
) -> Referral:
    """Refer the case to `receiver`, who must answer within the urgency's deadline."""
    case = case_lock(case)
    require(refer_case_refusal(by, case))
    if kind not in ReferralKind.values:
        raise ApplicationError(_("Choose what kind of referral this is."), field="kind")
    if urgency not in Urgency.values:
        raise ApplicationError(_("Choose how urgent the referral is."), field="urgency")
    if receiver.pk == case.organisation_id:
        raise ApplicationError(_("A case cannot be referred to its own organisation."), field="receiver")
    if not receiver.is_active:
        raise ApplicationError(
            _("%(org)s is not active in the portal; choose another organisation.") % {"org": receiver.name},
            field="receiver",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the child is referred."), field="reason")
    if kind == ReferralKind.HANDOVER and not handover_reason:
        raise ApplicationError(_("Choose what the handover is for."), field="handover_reason")
    components = list(components)
    if kind == ReferralKind.SERVICE and not components:
        raise ApplicationError(_("Choose the services you ask for."), field="components")
    sections = sorted(set(shared_sections))
    if any(s not in SharedSection.values for s in sections):
        raise ApplicationError(_("Choose what to share from the list."), field="shared_sections")
    documents = list(shared_documents)
    if any(d.case_id != case.pk for d in documents):
        raise ApplicationError(_("Only documents of this case can be shared."), field="shared_documents")
    if plan_item is not None and plan_item.case_id != case.pk:
        raise ApplicationError(_("The plan item belongs to another case."), field="plan_item")
    if plan_item is not None and plan_item.status in (PlanItemStatus.DONE, PlanItemStatus.CANCELLED):
        raise ApplicationError(
            _("This plan item is %(status)s; only a planned or running service can be referred.")
            % {"status": plan_item.get_status_display().lower()},
            field="plan_item",
        )
    if plan_item is not None:
        # The case row is locked, so two workers sending the same item are serialised here.
        live = plan_item.referrals.filter(status__in=ACTIVE_STATUSES).select_related("receiver").first()
        if live is not None:
            raise ApplicationError(
                _("“%(service)s” is already carried by the referral to %(org)s (%(status)s).")
                % {"service": plan_item.service, "org": live.receiver.name, "status": live.get_status_display()},
                field="plan_item",
            )
    # Even before accepting, the receiver learns the child's first name, age and area:
    # every referral shares personal data, so every referral needs its grounds.
    basis = sharing_allowed(case=case, organisation=receiver)
    if basis is None:
        raise ApplicationError(
            _(
                "There is no consent to share this child's data with %(org)s. Record the guardian's consent "
                "naming them, or ask a supervisor for an emergency override with a reason."
            )
            % {"org": receiver.name},
            field="receiver",
        )
    now = timezone.now()
    referral = Referral(
        case=case,
        kind=kind,
        sender=case.organisation,
        receiver=receiver,
        sent_by=by,
        sent_at=now,
        urgency=urgency,
        respond_by=now + datetime.timedelta(hours=deadline_hours(urgency)),
        reason=reason,
        handover_reason=handover_reason if kind == ReferralKind.HANDOVER else "",
        plan_item=plan_item,
        shared_sections=sections,
        sharing_basis=basis.kind,
        child_summary=child_summary(case),
        resent_from=resent_from,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError:
        if (
            kind == ReferralKind.TRANSFER
            and Referral.objects.filter(
                case=case, kind=ReferralKind.TRANSFER, status__in=[ReferralStatus.SENT, ReferralStatus.ACCEPTED]
            ).exists()
        ):
            raise ApplicationError(_("This case already has a transfer under way.")) from None
        raise ApplicationError(
            _("This case already has an open referral to %(org)s.") % {"org": receiver.name}
        ) from None
    referral.components.set(components)
    referral.shared_documents.set(documents)
    _sync_plan_item(referral, by=by, at=now)
    notify_sent(referral)
    timeline_add(
        case=case,
        kind=TimelineKind.REFERRAL,
        actor=by,
        obj=referral,
        at=now,
        action="sent",
        referral_kind=kind,
        receiver=receiver.name,
    )
    return referral


def _status_message(referral: Referral) -> str:
    current = Referral.objects.filter(pk=referral.pk).values_list("status", flat=True).first()
    label = ReferralStatus(current).label if current else ""
    return _("This referral was already answered meanwhile (it is now: %(status)s). Nothing was changed.") % {
        "status": label
    }


def _transition(referral: Referral, *, from_status: str, **changes: object) -> Referral:
    """Move the referral on only if it is still in `from_status`; otherwise say why not.

    The case row is locked first, by every answer alike: accepting (which may move the
    case) and the timeline lines all need it, and one lock order means no deadlock."""
    case_lock(referral.case)
    won = Referral.objects.filter(pk=referral.pk, status=from_status).update(updated_at=timezone.now(), **changes)
    if not won:
        raise ApplicationError(_status_message(referral))
    referral.refresh_from_db()
    return referral


# A plan item carried by a referral follows it: waiting while sent, in progress once
# accepted, done with the receiver's outcome, and back to planned (to be re-sent
# elsewhere) when declined or cancelled.
_PLAN_ITEM_STATUS = {
    ReferralStatus.SENT: PlanItemStatus.PLANNED,
    ReferralStatus.ACCEPTED: PlanItemStatus.IN_PROGRESS,
    ReferralStatus.COMPLETED: PlanItemStatus.DONE,
    ReferralStatus.DECLINED: PlanItemStatus.PLANNED,
    ReferralStatus.CANCELLED: PlanItemStatus.PLANNED,
}


def _sync_plan_item(referral: Referral, *, by: User, at: datetime.datetime) -> None:
    if referral.plan_item_id is None:
        return
    item = PlanItem.objects.select_for_update().get(pk=referral.plan_item_id)
    status = _PLAN_ITEM_STATUS[ReferralStatus(referral.status)]
    fields: dict[str, object] = {"status": status}
    if referral.status == ReferralStatus.SENT:
        fields["provider"] = referral.receiver
    if referral.status == ReferralStatus.COMPLETED:
        fields["outcome"] = referral.outcome
    changed = [name for name, value in fields.items() if getattr(item, name) != value]
    if not changed:
        return
    for name in changed:
        setattr(item, name, fields[name])
    if "status" in changed:
        item.done_at = at if status == PlanItemStatus.DONE else None
        changed.append("done_at")
    item.save(update_fields=[*changed, "updated_at"])
    timeline_add(
        case=referral.case,
        kind=TimelineKind.PLAN_ITEM,
        actor=by,
        obj=item,
        at=at,
        action="edited",
        component=item.component.code,
        service=item.service,
        status=item.status,
    )


def _settle(referral: Referral, *, by: User, at: datetime.datetime, action: str, **data: object) -> None:
    """What follows every answer: the plan item follows, the other side is told, and the
    case timeline records it."""
    _sync_plan_item(referral, by=by, at=at)
    if action == "cancelled":
        notify_cancelled(referral)
    else:
        notify_answered(referral, action=action)
    _timeline(referral, by=by, action=action, at=at, **data)


def _timeline(referral: Referral, *, by: User, action: str, at: datetime.datetime, **data: object) -> None:
    timeline_add(
        case=referral.case,
        kind=TimelineKind.REFERRAL,
        actor=by,
        obj=referral,
        at=at,
        action=action,
        referral_kind=referral.kind,
        receiver=referral.receiver.name,
        **data,
    )


@transaction.atomic
def referral_accept(*, referral: Referral, by: User, case_manager: User | None = None) -> Referral:
    """Accept; a transfer moves the case to the receiver with the case manager they choose."""
    require(answer_referral_refusal(by, referral))
    # The case row lock orders this acceptance against a consent withdrawal, a closure or
    # another transfer of the same case.
    case = case_lock(referral.case)
    if case.stage not in OPEN_STAGES:
        raise ApplicationError(_("The case was closed meanwhile; this referral can no longer be accepted."))
    if sharing_allowed(case=case, organisation=referral.receiver) is None:
        raise ApplicationError(
            _(
                "The consent to share this child's data with %(org)s was withdrawn; the referral cannot be "
                "accepted until %(sender)s records consent again."
            )
            % {"org": referral.receiver.name, "sender": referral.sender.name}
        )
    if referral.kind == ReferralKind.TRANSFER:
        require(accept_transfer_refusal(by, referral))
        if case_manager is None:
            raise ApplicationError(_("Choose who will manage the case."), field="case_manager")
        if not is_case_manager_candidate(organisation=referral.receiver, user=case_manager):
            raise ApplicationError(
                _("%(name)s is not a social worker or supervisor of %(org)s.")
                % {"name": person_name(case_manager), "org": referral.receiver.name},
                field="case_manager",
            )
    now = timezone.now()
    referral = _transition(
        referral,
        from_status=ReferralStatus.SENT,
        status=ReferralStatus.ACCEPTED,
        answered_by=by,
        answered_at=now,
        new_case_manager=case_manager if referral.kind == ReferralKind.TRANSFER else None,
    )
    if referral.kind == ReferralKind.TRANSFER:
        _move_case(referral, case_manager=case_manager, by=by, at=now)
    _settle(referral, by=by, at=now, action="accepted")
    return referral


def _move_case(referral: Referral, *, case_manager: User | None, by: User, at: datetime.datetime) -> None:
    case = case_lock(referral.case)
    if Case.objects.filter(
        organisation=referral.receiver, beneficiary_id=case.beneficiary_id, stage__in=OPEN_STAGES
    ).exists():
        raise ApplicationError(
            _("%(org)s already has an open case for this child; the transfer cannot be accepted.")
            % {"org": referral.receiver.name}
        )
    old_org = case.organisation
    case.organisation = referral.receiver
    case.case_manager = case_manager
    case.supervisor = None
    try:
        with transaction.atomic():
            case.save(update_fields=["organisation", "case_manager", "supervisor", "updated_at"])
    except IntegrityError:
        # Another case of the same child was moved into the receiver at the same moment.
        raise ApplicationError(
            _("%(org)s already has an open case for this child; the transfer cannot be accepted.")
            % {"org": referral.receiver.name}
        ) from None
    _end_other_referrals(referral, by=by, at=at)
    occupancy_recount(organisation=old_org)
    occupancy_recount(organisation=referral.receiver)
    timeline_add(
        case=case,
        kind=TimelineKind.ASSIGNED,
        actor=by,
        at=at,
        case_manager=person_name(case_manager),
        supervisor="",
        organisation=referral.receiver.name,
    )


def _end_other_referrals(transfer: Referral, *, by: User, at: datetime.datetime) -> None:
    """A transferred case leaves its old organisation's referrals behind: they were the
    old owner's to answer for, and their receivers must not go on reading the new
    owner's file. The new owner refers again where the child still needs it."""
    others = (
        Referral.objects.select_for_update()
        .filter(case_id=transfer.case_id, status__in=ACTIVE_STATUSES)
        .exclude(pk=transfer.pk)
        .select_related("case", "sender", "receiver")
    )
    reason = _("The case was transferred to %(org)s.") % {"org": transfer.receiver.name}
    for other in others:
        other = _transition(
            other,
            from_status=other.status,
            status=ReferralStatus.CANCELLED,
            cancelled_by=by,
            cancelled_at=at,
            cancel_reason=reason,
        )
        _settle(other, by=by, at=at, action="cancelled")


@transaction.atomic
def referral_decline(*, referral: Referral, by: User, reason: str, note: str = "") -> Referral:
    require(answer_referral_refusal(by, referral))
    if reason not in DeclineReason.values:
        raise ApplicationError(_("Choose the reason for declining."), field="reason")
    note = (note or "").strip()
    if reason == DeclineReason.OTHER and not note:
        raise ApplicationError(_("Explain why the referral is declined."), field="note")
    now = timezone.now()
    referral = _transition(
        referral,
        from_status=ReferralStatus.SENT,
        status=ReferralStatus.DECLINED,
        answered_by=by,
        answered_at=now,
        decline_reason=reason,
        decline_note=note,
    )
    _settle(referral, by=by, at=now, action="declined", reason=reason)
    return referral


@transaction.atomic
def referral_cancel(*, referral: Referral, by: User, reason: str) -> Referral:
    """The sender withdraws a referral that was not answered, or stops an accepted one."""
    require(cancel_referral_refusal(by, referral))
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the referral is cancelled."), field="reason")
    if referral.kind == ReferralKind.TRANSFER and referral.status == ReferralStatus.ACCEPTED:
        raise ApplicationError(_("An accepted transfer has moved the case; it cannot be cancelled."))
    now = timezone.now()
    referral = _transition(
        referral,
        from_status=referral.status if referral.status in (ReferralStatus.SENT, ReferralStatus.ACCEPTED) else "",
        status=ReferralStatus.CANCELLED,
        cancelled_by=by,
        cancelled_at=now,
        cancel_reason=reason,
    )
    _settle(referral, by=by, at=now, action="cancelled")
    return referral


@transaction.atomic
def referral_complete(*, referral: Referral, by: User, outcome: str) -> Referral:
    require(answer_referral_refusal(by, referral))
    outcome = (outcome or "").strip()
    if not outcome:
        raise ApplicationError(_("Report the outcome: what was done for the child."), field="outcome")
    now = timezone.now()
    referral = _transition(
        referral,
        from_status=ReferralStatus.ACCEPTED,
        status=ReferralStatus.COMPLETED,
        completed_by=by,
        completed_at=now,
        outcome=outcome,
    )
    _settle(referral, by=by, at=now, action="completed")
    return referral
