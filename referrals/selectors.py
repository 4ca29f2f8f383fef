"""Reads of referrals, scoped: the one scoping function `referrals_visible_to(user)` is
used by every page, export, admin queryset and task of this app.

A referral is visible to the case workers of its receiving organisation, and to those of
the sending organisation who may read the case (a confidential case's referrals stay with
the people who may open the case).
"""

from __future__ import annotations

import datetime

from django.db.models import Case as CaseWhen  # Django's conditional expression, not the case model
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from atensi.core.access import actor_for, get_or_404
from cases.models import Urgency
from cases.selectors import CASE_ROLES, cases_readable_by
from stakeholders.models import User
from stakeholders.roles import Role

from .models import Referral, ReferralKind, ReferralStatus

# A transfer that was accepted (and maybe later completed) has moved the case.
TRANSFERRED_STATUSES = (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)


def receiver_may_see_transfer(user: User) -> Q:
    """On the receiver's side: not an accepted transfer, or one whose case the user may read."""
    readable_case = Exists(cases_readable_by(user).filter(pk=OuterRef("case_id")))
    return ~Q(kind=ReferralKind.TRANSFER, status__in=TRANSFERRED_STATUSES) | Q(readable_case)


def kept_by_sender(user: User) -> Q:
    """Accepted transfers whose file the user keeps for the sender: its supervisors and
    the worker who sent it."""
    actor = actor_for(user)
    return Q(kind=ReferralKind.TRANSFER, status__in=TRANSFERRED_STATUSES) & (
        Q(sender_id__in=actor.org_ids(Role.SUPERVISOR) or [0]) | Q(sent_by_id=actor.user_id)
    )


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    actor = actor_for(user)
    if actor.is_superuser:
        return Referral.objects.all()
    orgs = actor.org_ids(*CASE_ROLES)
    if not orgs:
        return Referral.objects.none()
    readable_case = Exists(cases_readable_by(user).filter(pk=OuterRef("case_id")))
    transferred = Q(kind=ReferralKind.TRANSFER, status__in=TRANSFERRED_STATUSES)
    # After an accepted transfer the case is the receiver's: there its referral follows
    # the case's own rule (a confidential case only for its manager and supervisors).
    receiver_side = Q(receiver_id__in=orgs) & receiver_may_see_transfer(user)
    # The sender keeps its referral, and through it the file as it was at the handover,
    # for its supervisors and the worker who sent it — not for every colleague, whatever
    # the new owner later decides about the case's confidentiality.
    sender_side = Q(sender_id__in=orgs) & ((~transferred & readable_case) | kept_by_sender(user))
    return Referral.objects.filter(receiver_side | sender_side)


def referral_get_for_user(*, user: User, referral_id: object) -> Referral:
    """The referral (scoped by `referrals_visible_to`, 404 otherwise) with the people its page names."""
    return get_or_404(
        referrals_visible_to(user).select_related(
            "case",
            "sender",
            "receiver",
            "sent_by",
            "answered_by",
            "cancelled_by",
            "completed_by",
            "new_case_manager",
            "resent_from__receiver",
        ),
        pk=referral_id,
    )


def urgency_rank() -> CaseWhen:
    return CaseWhen(
        When(urgency=Urgency.EMERGENCY, then=Value(0)),
        When(urgency=Urgency.HIGH, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def inbox_for(user: User, *, status: str = ReferralStatus.SENT) -> QuerySet[Referral]:
    """Incoming referrals of the user's organisations: waiting ones by deadline (overdue
    first, then the nearest), the others newest first."""
    actor = actor_for(user)
    qs = (
        Referral.objects.filter(receiver_id__in=actor.org_ids(*CASE_ROLES), status=status)
        .select_related("sender", "receiver", "case__beneficiary")
        .annotate(urgency_rank=urgency_rank())
    )
    if status in TRANSFERRED_STATUSES:
        # An accepted transfer made the case the receiver's own: its row follows the
        # case's rule (a confidential case only for its manager and supervisors).
        qs = qs.filter(receiver_may_see_transfer(user))
    if status == ReferralStatus.SENT:
        return qs.order_by("respond_by", "urgency_rank", "pk")
    return qs.order_by("-sent_at", "-pk")


def inbox_waiting(user: User) -> QuerySet[Referral]:
    """Referrals waiting for an answer from the user's organisations (navigation badge)."""
    actor = actor_for(user)
    return Referral.objects.filter(receiver_id__in=actor.org_ids(*CASE_ROLES), status=ReferralStatus.SENT)


def inbox_waiting_count(user: User) -> int:
    return inbox_waiting(user).count()


def overdue_count(*, organisation_id: int) -> int:
    return Referral.objects.filter(
        receiver_id=organisation_id, status=ReferralStatus.SENT, respond_by__lt=timezone.now()
    ).count()


def inbox_overdue(user: User, *, now: datetime.datetime) -> QuerySet[Referral]:
    """Referrals waiting for an answer from the user's organisations past their deadline."""
    return inbox_waiting(user).filter(respond_by__lt=now)


def accepted_without_outcome(user: User) -> QuerySet[Referral]:
    """Referrals the user's organisations accepted and have not completed with an outcome
    yet, the longest accepted first (an accepted transfer made the case the receiver's own
    and has no outcome to record)."""
    actor = actor_for(user)
    return (
        Referral.objects.filter(receiver_id__in=actor.org_ids(*CASE_ROLES), status=ReferralStatus.ACCEPTED)
        .exclude(kind=ReferralKind.TRANSFER)
        .select_related("sender", "case")
        .order_by("answered_at", "pk")
    )


def oldest_accepted_without_outcome(user: User, *, limit: int) -> QuerySet[Referral]:
    """The first `limit` of `accepted_without_outcome`. An organisation may owe 100,000
    outcomes; sorting them all for ten costs 140 ms, so each receiver's oldest `limit` are
    read from its index (a LATERAL join) and only those are sorted."""
    receivers = sorted(actor_for(user).org_ids(*CASE_ROLES))
    first = RawSQL(
        "SELECT r.id FROM unnest(%s::bigint[]) AS o(id) CROSS JOIN LATERAL ("
        " SELECT id FROM referrals_referral WHERE receiver_id = o.id AND status = %s AND kind <> %s"
        " ORDER BY answered_at, id LIMIT %s) r",
        (receivers, ReferralStatus.ACCEPTED, ReferralKind.TRANSFER, limit),
    )
    return accepted_without_outcome(user).filter(pk__in=first)[:limit]
