"""Who decides a plan or closure request, and why: one answer (`approvers_for`) for the
notification sent at request time, the permission rule (cases.permissions
`decide_approval_refusal`) and the approvals queue ("who may decide and why").

In order, the first that names anyone:

1. `case_supervisor`: the case's own supervisor, while an active supervisor of the
   organisation, unless they asked themselves;
2. `supervisors`: the organisation's other active supervisors;
3. `org_admins`: the requester is the organisation's only supervisor, so its
   organisation administrators decide;
4. `social_service`: the organisation has no supervisor to decide (nor an administrator
   in case 3), so the supervisors of the Dinas Sosial covering it decide
   (stakeholders.selectors.social_services_covering);
5. `nobody`: no one can decide until the organisation has a supervisor.

Every supervisor of the organisation may still decide any of its requests (other than
their own) — the list above is who is asked, and who else may decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from stakeholders.models import Organisation, User
from stakeholders.roles import Role
from stakeholders.selectors import holders, members_by_org, social_services_covering

from .models import Approval


class ApproverReason(models.TextChoices):
    CASE_SUPERVISOR = "case_supervisor", _("The case's supervisor decides.")
    SUPERVISORS = "supervisors", _("The organisation's supervisors decide.")
    ORG_ADMINS = (
        "org_admins",
        _("The one who asked is the organisation's only supervisor, so its administrators decide."),
    )
    SOCIAL_SERVICE = (
        "social_service",
        _("The organisation has no other supervisor, so the supervisors of the Dinas Sosial covering it decide."),
    )
    NOBODY = (
        "nobody",
        _(
            "Nobody can decide yet: the organisation has no other supervisor and no Dinas Sosial supervisor covers it. "
            "Ask the organisation's administrator to give someone the supervisor role."
        ),
    )


@dataclass(frozen=True)
class Approvers:
    """Who is asked to decide a request, and why (an ApproverReason code). `via` says for
    which organisation each of them decides (the Dinas Sosial for its supervisors)."""

    users: tuple[User, ...]
    reason: str
    via: dict[int, int] = field(default_factory=dict)

    @property
    def user_ids(self) -> frozenset[int]:
        return frozenset(u.pk for u in self.users)

    @property
    def reason_text(self) -> str:
        return str(ApproverReason(self.reason).label)


def approvers_for(approval: Approval) -> Approvers:
    """Who is asked to decide `approval`, and why."""
    return approvers_for_many([approval])[approval.pk]


def approvers_for_many(approvals: Iterable[Approval]) -> dict[int, Approvers]:
    """`approvers_for` of several requests in a fixed number of queries (plus one per
    organisation without a supervisor), for a page of the queue."""
    approvals = list(approvals)
    org_ids = {a.case.organisation_id for a in approvals}
    members = members_by_org(org_ids, [Role.SUPERVISOR, Role.ORG_ADMIN])
    chosen: dict[int, tuple[list[int], str, dict[int, int]]] = {}
    uncovered: list[Approval] = []
    for approval in approvals:
        org_id, requester = approval.case.organisation_id, approval.requested_by_id
        supervisors = holders(members, org_id, [Role.SUPERVISOR])
        others = [u for u in supervisors if u != requester]
        own = approval.case.supervisor_id
        admins = [u for u in holders(members, org_id, [Role.ORG_ADMIN]) if u != requester]
        if own is not None and own in others:
            chosen[approval.pk] = ([own], ApproverReason.CASE_SUPERVISOR, {own: org_id})
        elif others:
            chosen[approval.pk] = (others, ApproverReason.SUPERVISORS, dict.fromkeys(others, org_id))
        elif supervisors and admins:
            chosen[approval.pk] = (admins, ApproverReason.ORG_ADMINS, dict.fromkeys(admins, org_id))
        else:
            uncovered.append(approval)
    if uncovered:
        services: dict[int, list[int]] = {}
        places = Organisation.objects.filter(pk__in={a.case.organisation_id for a in uncovered}).only(
            "pk", "village_id", "home_region_id"
        )
        for place in places:
            services[place.pk] = list(social_services_covering(place).values_list("pk", flat=True))
        dinsos = members_by_org({pk for ids in services.values() for pk in ids}, [Role.SUPERVISOR])
        for approval in uncovered:
            via: dict[int, int] = {}
            for service_id in services.get(approval.case.organisation_id, []):
                for user_id in holders(dinsos, service_id, [Role.SUPERVISOR]):
                    if user_id != approval.requested_by_id:
                        via.setdefault(user_id, service_id)
            reason = ApproverReason.SOCIAL_SERVICE if via else ApproverReason.NOBODY
            chosen[approval.pk] = (sorted(via), reason, via)
    people = User.objects.in_bulk({u for ids, _reason, _via in chosen.values() for u in ids})
    return {
        pk: Approvers(users=tuple(people[u] for u in ids if u in people), reason=str(reason), via=via)
        for pk, (ids, reason, via) in chosen.items()
    }
