"""Who may do what with referrals: every rule of this app, each written once.

A rule is `<verb>_<thing>_refusal(user, obj) -> str | None`: None when the user may, else
the reason in words a social worker understands. Pages ask `can_<verb>_<thing>(user, obj)`
to offer a button; services enforce the same rule with `atensi.core.errors.require(...)`.

- Refer a case: whoever may change it (its case manager or a supervisor of the owning
  organisation), while it is open.
- Answer a referral (accept, decline, complete): the receiver's referral officers and
  supervisors; an organisation with neither (a one-pengasuh LKSA) lets its case workers.
- Accept a transfer (and choose its case manager): a supervisor of the receiver, or whoever
  may answer where the receiver has no supervisor.
- Cancel a referral: for the sender, the worker who sent it, the case manager or a
  supervisor of the sending organisation.
- Write in its thread: whoever may answer or cancel it (see referrals.messages).
- Have referral lists at all: case workers of some organisation, and superusers.

Which referrals a user may see at all is scoping, in the query (`referrals.selectors.
referrals_visible_to`); what a receiver may read of the child's file — nothing but the
summary before accepting, then the sections and documents the sender shared, frozen once
the referral ends — is `referrals.material.referral_access`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from cases.models import Case
from cases.permissions import change_case_refusal
from cases.selectors import CASE_ROLES, members_with_roles
from stakeholders.models import User
from stakeholders.roles import Role

from .models import Referral

# Who answers for the receiver: its referral officers and supervisors. A small LKSA with
# neither (one pengasuh) is not left unable to answer: then its social workers may.
ANSWERING_ROLES: tuple[str, ...] = (Role.REFERRAL_OFFICER, Role.SUPERVISOR)


def _has_staff_in(organisation_id: int, roles: Iterable[str]) -> bool:
    return members_with_roles(organisation_ids=[organisation_id], roles=roles).exists()


def refer_case_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not refer `case` now, or None."""
    refusal = change_case_refusal(user, case)
    if refusal is None and not case.is_open:
        refusal = _("This case is closed. A closed case cannot be referred; reopen it first.")
    return refusal


def can_refer_case(user: User, case: Case) -> bool:
    return refer_case_refusal(user, case) is None


def can_answer_referral(user: User, referral: Referral) -> bool:
    """May the user accept, decline or complete the referral for the receiver?"""
    actor = actor_for(user)
    if actor.has_role(referral.receiver_id, *ANSWERING_ROLES):
        return True
    return actor.has_role(referral.receiver_id, *CASE_ROLES) and not _has_staff_in(
        referral.receiver_id, ANSWERING_ROLES
    )


def answer_referral_refusal(user: User, referral: Referral) -> str | None:
    if can_answer_referral(user, referral):
        return None
    return _("Only the referral officers and supervisors of %(org)s can answer this referral.") % {
        "org": referral.receiver.name
    }


def can_accept_transfer(user: User, referral: Referral) -> bool:
    """A transfer's case manager is chosen by the receiver's supervisor (by whoever may
    answer, where the organisation has no supervisor)."""
    actor = actor_for(user)
    if actor.has_role(referral.receiver_id, Role.SUPERVISOR):
        return True
    return can_answer_referral(user, referral) and not _has_staff_in(referral.receiver_id, [Role.SUPERVISOR])


def accept_transfer_refusal(user: User, referral: Referral) -> str | None:
    if can_accept_transfer(user, referral):
        return None
    return _("A supervisor of %(org)s accepts a transfer and chooses its case manager.") % {
        "org": referral.receiver.name
    }


def can_cancel_referral(user: User, referral: Referral) -> bool:
    """Act for the sender: who sent it, or who may work on the case (its manager or a
    supervisor of the organisation that sent it)."""
    actor = actor_for(user)
    if not actor.has_role(referral.sender_id, *CASE_ROLES):
        return False
    if referral.sent_by_id == actor.user_id or actor.has_role(referral.sender_id, Role.SUPERVISOR):
        return True
    return referral.case.organisation_id == referral.sender_id and referral.case.case_manager_id == actor.user_id


def cancel_referral_refusal(user: User, referral: Referral) -> str | None:
    if can_cancel_referral(user, referral):
        return None
    return _("Only the worker who sent this referral, the case manager or a supervisor of %(org)s can cancel it.") % {
        "org": referral.sender.name
    }


def can_list_referrals(user: User) -> bool:
    """Case workers of some organisation (and superusers) have referral lists; nobody else."""
    actor = actor_for(user)
    return actor.is_superuser or bool(actor.org_ids(*CASE_ROLES))
