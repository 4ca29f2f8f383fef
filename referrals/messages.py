"""The message thread of a referral: both sides write in it, with attachments chosen from
the case's documents; and the referral's history (its steps and messages, in order).

The thread is open while the referral is live (sent or accepted). Once it is completed,
declined or cancelled it is closed to new messages: "after completion or decline, nothing
new" — a question after that belongs to a new referral (a declined one is re-sent from its
page). Documents can be attached only to an accepted referral: before answering, the
receiver sees nothing of the case's records (referrals/material.py), and a message
attachment must not open that door.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError
from cases.documents import sharing_allowed
from cases.models import Document
from cases.services import full_clean_or_raise
from stakeholders.models import User

from .material import RECEIVER, SENDER, attachable_documents, side_of
from .models import ACTIVE_STATUSES, Referral, ReferralMessage, ReferralStatus
from .notify import notify_message
from .selectors import referrals_visible_to

BODY_MAX_LENGTH = 5000


@transaction.atomic
def referral_message_send(
    *, referral: Referral, by: User, body: str, attachments: Iterable[Document] = ()
) -> ReferralMessage:
    """Write in the referral's thread on behalf of the author's side (a case worker of the
    receiving organisation, or of the sending one who may see the referral)."""
    side = side_of(by, referral)
    if not side or not referrals_visible_to(by).filter(pk=referral.pk).exists():
        raise ApplicationError(
            _("Only the staff of %(sender)s or %(receiver)s can write on this referral.")
            % {"sender": referral.sender.name, "receiver": referral.receiver.name}
        )
    # The row lock orders the message against a concurrent answer: a message is never
    # added to a thread that was just closed.
    current = Referral.objects.select_for_update().get(pk=referral.pk)
    if current.status not in ACTIVE_STATUSES:
        raise ApplicationError(
            _("This referral is %(status)s; its conversation is closed. Nothing was sent.")
            % {"status": ReferralStatus(current.status).label.lower()}
        )
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("Write your message."), field="body")
    if len(body) > BODY_MAX_LENGTH:
        raise ApplicationError(
            _("A message can be at most %(max)d characters long (this one has %(n)d). Shorten it or send two.")
            % {"max": BODY_MAX_LENGTH, "n": len(body)},
            field="body",
        )
    documents = list({d.pk: d for d in attachments}.values())
    if documents:
        if current.status != ReferralStatus.ACCEPTED:
            raise ApplicationError(
                _(
                    "Documents can be attached once %(org)s has accepted the referral; until then it sees "
                    "only what it needs to decide. Send the message without attachments."
                )
                % {"org": referral.receiver.name},
                field="attachments",
            )
        allowed = set(attachable_documents(user=by, referral=current).values_list("pk", flat=True))
        if any(d.pk not in allowed for d in documents):
            raise ApplicationError(
                _("Attach only documents of this case that you may share here (the list below the message)."),
                field="attachments",
            )
        if side == SENDER and sharing_allowed(case=referral.case, organisation=referral.receiver) is None:
            # The consent the referral was sent under may have been withdrawn since.
            raise ApplicationError(
                _(
                    "There is no longer consent to share this child's documents with %(org)s. "
                    "Record the guardian's consent again, or send the message without attachments."
                )
                % {"org": referral.receiver.name},
                field="attachments",
            )
    message = ReferralMessage(
        referral=current,
        author=by,
        organisation_id=referral.receiver_id if side == RECEIVER else referral.sender_id,
        body=body,
    )
    full_clean_or_raise(message)
    message.save()
    if documents:
        message.attachments.set(documents)
    notify_message(current, message=message)
    return message


def referral_thread(referral: Referral) -> QuerySet[ReferralMessage]:
    """The referral's messages, oldest first, with their authors and attachments."""
    return (
        ReferralMessage.objects.filter(referral=referral)
        .select_related("author", "organisation")
        .prefetch_related(
            Prefetch("attachments", queryset=Document.objects.only("pk", "title", "kind", "case_id").order_by("pk"))
        )
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class TrailStep:
    """One line of the referral's history: a step of its status, or a message."""

    at: datetime.datetime
    kind: str  # sent | accepted | declined | cancelled | completed | resent | message
    who: User | None = None
    message: ReferralMessage | None = None
    resent: Referral | None = None


def referral_trail(
    referral: Referral, *, thread: Iterable[ReferralMessage], resent: Iterable[Referral] = ()
) -> list[TrailStep]:
    """The referral's steps and messages in the order they happened (from already loaded rows)."""
    steps = [TrailStep(at=referral.sent_at, kind="sent", who=referral.sent_by)]
    if referral.answered_at is not None:
        kind = "declined" if referral.status == ReferralStatus.DECLINED else "accepted"
        steps.append(TrailStep(at=referral.answered_at, kind=kind, who=referral.answered_by))
    if referral.cancelled_at is not None:
        steps.append(TrailStep(at=referral.cancelled_at, kind="cancelled", who=referral.cancelled_by))
    if referral.completed_at is not None:
        steps.append(TrailStep(at=referral.completed_at, kind="completed", who=referral.completed_by))
    steps += [TrailStep(at=m.created_at, kind="message", who=m.author, message=m) for m in thread]
    steps += [TrailStep(at=r.sent_at, kind="resent", who=r.sent_by, resent=r) for r in resent]
    order = {"sent": 0, "accepted": 1, "declined": 1, "message": 2, "cancelled": 3, "completed": 3, "resent": 4}
    return sorted(steps, key=lambda s: (s.at, order[s.kind]))
