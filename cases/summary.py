"""The printable case summary (for a court, Bapas or a handover): what one page of paper
says about a case, read for one user.

It is reached only through `case_get_for_user`, so whoever reads it may read the case;
"identity as the reader may see it" still narrows two things: the child's full NIK is for
the owning organisation's supervisors (as in the export), everyone else gets the masked
form; a family member's NIK is left out. Referrals come from the apps above cases through
the case-page registry (cases.pages.summary_section).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from atensi.core.access import actor_for
from stakeholders.models import User
from stakeholders.roles import Role
from stakeholders.selectors import region_label, regions_with_path

from .models import Case, FamilyMember, PlanItemStatus, TimelineKind
from .record_selectors import AssessmentRow, PlanView, assessment_rows, plan_view
from .selectors import person_name
from .timeline import RenderContext, TimelineItem, render_entry

# The timeline lines a reader of a summary needs: how the case moved and who held it.
HIGHLIGHT_KINDS: tuple[str, ...] = (
    TimelineKind.OPENED,
    TimelineKind.STAGE,
    TimelineKind.ASSIGNED,
    TimelineKind.APPROVAL_DECIDED,
    TimelineKind.REFERRAL,
    TimelineKind.MERGE,
)
HIGHLIGHT_LIMIT = 60


@dataclass(frozen=True)
class CaseSummary:
    case: Case
    nik: str
    age: int | None
    case_manager: str
    supervisor: str
    address: str
    family: list[FamilyMember]
    assessments: list[AssessmentRow]
    plan: PlanView
    # Plan items done: the services the child received.
    services: list[tuple[str, str, datetime.date, str]]
    highlights: list[TimelineItem]
    printed_at: datetime.datetime


def _highlights(case: Case, user: User) -> list[TimelineItem]:
    entries = list(
        case.timeline.filter(kind__in=HIGHLIGHT_KINDS).select_related("actor").order_by("at", "pk")[:HIGHLIGHT_LIMIT]
    )
    ctx = RenderContext(components={})
    return [render_entry(e, ctx=ctx, reader_id=getattr(user, "pk", None)) for e in entries]


def case_summary(*, case: Case, user: User) -> CaseSummary:
    """Everything the summary page shows, for a case from case_get_for_user."""
    child = case.beneficiary
    supervised = actor_for(user).has_role(case.organisation_id, Role.SUPERVISOR)
    village = regions_with_path().filter(code=child.village_id).first() if child.village_id else None
    plan = plan_view(case=case)
    services = [
        (group.component.name, item.service, item.target_date, item.outcome)
        for group in plan.groups
        for item in group.items
        if item.status == PlanItemStatus.DONE
    ]
    return CaseSummary(
        case=case,
        nik=child.nik if supervised else child.masked_nik,
        age=child.age(),
        case_manager=person_name(case.case_manager),
        supervisor=person_name(case.supervisor),
        address=", ".join(part for part in (child.address, region_label(village) if village else "") if part),
        family=list(FamilyMember.objects.filter(beneficiary=child).order_by("relation", "name")),
        assessments=assessment_rows(case=case),
        plan=plan,
        services=services,
        highlights=_highlights(case, user),
        printed_at=timezone.now(),
    )
