"""What referrals adds to a subject access file (cases.subject_access.sections): the
referrals of the organisation's cases of the person, and those it received about them,
with the messages exchanged on them."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from cases.subject_access.sections import Section, Subject, register

from .models import Referral, ReferralMessage


def _referrals(subject: Subject) -> QuerySet[Referral]:
    return Referral.objects.filter(
        Q(case_id__in=subject.case_ids)
        | Q(receiver_id=subject.organisation.pk, case__beneficiary_id__in=subject.person_ids)
    )


def register_sections() -> None:
    register(
        Section(
            name="referrals",
            title=gettext_lazy("Referrals"),
            model=Referral,
            records=_referrals,
        )
    )
    register(
        Section(
            name="referral_messages",
            title=gettext_lazy("Referral messages"),
            model=ReferralMessage,
            records=lambda s: ReferralMessage.objects.filter(referral__in=_referrals(s)),
        )
    )
