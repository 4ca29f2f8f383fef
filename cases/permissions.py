"""Who may do what with cases, their records and community reports: every rule once.

A rule is `<verb>_<thing>_refusal(user, obj) -> str | None` — None when the user may, else
the reason in a social worker's words — and, for pages, `can_<verb>_<thing>(user, obj)`.
Services enforce the refusal with `atensi.core.errors.require(...)`, so the button a page
shows and the service's refusal are one decision.

- Change a case (its record, consent, documents, stage, approvals requested): its case
  manager or a supervisor of the organisation that owns it.
- Supervise a case (decide approvals, assign workers, share without consent): the
  supervisors of the owning organisation.
- Decide a plan or closure request: the supervisors of the owning organisation, and
  whoever `cases.approvers.approvers_for` names when the organisation has no other
  supervisor (its org admins, or the supervisors of the Dinas Sosial covering it) —
  never the person who asked.
- Hand open cases over to another case manager in bulk (a worker on leave or moved): the
  supervisors of the owning organisation.
- Assessments, notes, visits and follow-ups: whoever may change the case, while it is
  open (aftercare, bimbingan lanjut, is an open stage, so visits go on).
- The intervention plan: whoever may change the case, in planning, intervention or
  monitoring.
- Mark a follow-up done or missed: whoever may change the case, and the person it is
  assigned to as long as they may read the case.
- Report a child: anyone with a reporting role (every role but aggregate viewers); typing
  in who reports (walk-in and phone reports) is for office staff, the case roles.
- Triage community reports: intake officers and supervisors, of an organisation the
  report was routed to.
- Have a case list: case workers of some organisation, and superusers.
- Change a person's record (and their family, photo): case workers of the organisation
  that registered them or of one that has an open case for them; never a merged record.
- Merge two records: a supervisor of an organisation that registered, or has a case for,
  both people.

Who may see a case, and the child in it, is scoping and lives in the query so that lists,
pages, exports and admin agree (`cases.selectors.cases_visible_to`): everyone who works
cases in the owning organisation sees that a case exists; a confidential case shows who
the child is only to its case manager and the organisation's supervisors.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from stakeholders.models import User
from stakeholders.roles import Role

from .approvers import Approvers, approvers_for
from .models import OPEN_STAGES, Approval, Beneficiary, Case, FollowUp, ReportRecipient, Stage
from .selectors import CASE_ROLES, INTAKE_ROLES, REPORTING_ROLES, cases_readable_by

# The stages in which the intervention plan may change.
PLAN_STAGES: tuple[str, ...] = (Stage.PERENCANAAN, Stage.INTERVENSI, Stage.MONITORING_EVALUASI)


# --- Cases ---------------------------------------------------------------------------------


def can_work_on_case(user: User, case: Case) -> bool:
    """May the user change the case: its case manager, or a supervisor of the owning organisation."""
    actor = actor_for(user)
    return case.case_manager_id == actor.user_id or actor.has_role(case.organisation_id, Role.SUPERVISOR)


def change_case_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not change the case, or None (the case manager and the supervisors may)."""
    if can_work_on_case(user, case):
        return None
    return _("Only the case manager or a supervisor of %(org)s can change this case.") % {"org": case.organisation.name}


def can_supervise_case(user: User, case: Case) -> bool:
    """May the user approve plans and closures and assign workers on the case."""
    return actor_for(user).has_role(case.organisation_id, Role.SUPERVISOR)


def supervise_case_refusal(user: User, case: Case) -> str | None:
    if can_supervise_case(user, case):
        return None
    return _("Only a supervisor of %(org)s can do this.") % {"org": case.organisation.name}


def decide_approval_refusal(user: User, approval: Approval, approvers: Approvers | None = None) -> str | None:
    """Why `user` may not approve or reject `approval`, or None: a supervisor of the case's
    organisation, or one of its approvers (cases.approvers), other than who asked.
    `approvers` saves the queries when the caller has them (a page of the queue)."""
    case = approval.case
    allowed = can_supervise_case(user, case)
    if not allowed:
        approvers = approvers if approvers is not None else approvers_for(approval)
        allowed = getattr(user, "pk", None) in approvers.user_ids
    if not allowed:
        return _("Only a supervisor of %(org)s can approve or reject requests.") % {"org": case.organisation.name}
    if approval.requested_by_id == getattr(user, "pk", None):
        return _("You asked for this approval yourself: ask another supervisor to decide it.")
    return None


def can_decide_approval(user: User, approval: Approval, approvers: Approvers | None = None) -> bool:
    return decide_approval_refusal(user, approval, approvers) is None


def reassign_case_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not hand `case` over to another case manager, or None: supervisors
    of the owning organisation may, while the case is open."""
    if not can_supervise_case(user, case):
        return _("Only a supervisor of %(org)s can hand over case %(number)s.") % {
            "org": case.organisation.name,
            "number": case.number,
        }
    if not case.is_open:
        return _("Case %(number)s is closed; a closed case keeps its case manager.") % {"number": case.number}
    return None


def can_reassign_case(user: User, case: Case) -> bool:
    return reassign_case_refusal(user, case) is None


def can_reassign_cases(user: User) -> bool:
    """Does the case list offer bulk handover at all (a supervisor somewhere)?"""
    return bool(actor_for(user).org_ids(Role.SUPERVISOR))


def list_cases_refusal(user: User) -> str | None:
    actor = actor_for(user)
    if actor.is_superuser or actor.org_ids(*CASE_ROLES):
        return None
    return _("You work on no cases in any organisation.")


def can_list_cases(user: User) -> bool:
    return list_cases_refusal(user) is None


# --- Records of a case -----------------------------------------------------------------------


def write_assessment_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not add or change an assessment on `case` now, or None."""
    refusal = change_case_refusal(user, case)
    if refusal is None and not case.is_open:
        refusal = _("This case is closed. Reopen it to add or change an assessment.")
    return refusal


def change_plan_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not add or change plan items on `case` now, or None."""
    refusal = change_case_refusal(user, case)
    if refusal is None and case.stage not in PLAN_STAGES:
        refusal = _(
            "The plan can be changed only in the planning, intervention or monitoring stage; "
            "this case is in the stage “%(stage)s”."
        ) % {"stage": case.get_stage_display()}
    return refusal


def write_note_refusal(user: User, case: Case) -> str | None:
    """Why `user` may not log a note or visit (or a follow-up) on `case` now, or None."""
    refusal = change_case_refusal(user, case)
    if refusal is None and not case.is_open:
        refusal = _("This case is closed. Reopen it to log a note, a visit or a follow-up.")
    return refusal


def mark_follow_up_refusal(user: User, follow_up: FollowUp, case: Case, can_read: bool | None = None) -> str | None:
    """Why `user` may not mark `follow_up` done or missed, or None: the case's workers
    and the person it is assigned to may. `can_read` saves a query when the caller knows."""
    if can_work_on_case(user, case):
        return None
    is_assignee = follow_up.assignee_id is not None and follow_up.assignee_id == getattr(user, "pk", None)
    if can_read is None:
        can_read = cases_readable_by(user).filter(pk=case.pk).exists()
    if not is_assignee or not can_read:
        return _("Only the case manager, a supervisor of %(org)s or the person it is assigned to can do this.") % {
            "org": case.organisation.name
        }
    return None


# --- Community reports -------------------------------------------------------------------------


def can_report(user: User) -> bool:
    """Anyone holding a reporting role in any organisation may record a community report."""
    return bool(actor_for(user).org_ids(*REPORTING_ROLES))


def can_report_for_others(user: User) -> bool:
    """Office staff take walk-in and phone reports, typing in who reports."""
    return bool(actor_for(user).org_ids(*CASE_ROLES))


def can_triage_reports(user: User) -> bool:
    """Has an intake queue at all (an intake officer or supervisor somewhere)."""
    return bool(actor_for(user).org_ids(*INTAKE_ROLES))


def queue_organisation_id(user: User, recipients: Iterable[ReportRecipient]) -> int | None:
    """The first organisation the report was routed to whose intake the user triages, if any."""
    orgs = actor_for(user).org_ids(*INTAKE_ROLES)
    return next((r.organisation_id for r in recipients if r.organisation_id in orgs), None)


def can_triage_report(user: User, recipients: Iterable[ReportRecipient]) -> bool:
    """Does the user triage for one of the organisations the report was routed to?"""
    return queue_organisation_id(user, recipients) is not None


# --- Beneficiaries ---------------------------------------------------------------------------


def can_edit_beneficiary(user: User, beneficiary: Beneficiary) -> bool:
    """Workers of the organisation that registered the person, or that owns one of their open cases."""
    orgs = actor_for(user).org_ids(*CASE_ROLES)
    if not orgs:
        return False
    if beneficiary.organisation_id in orgs:
        return True
    return Case.objects.filter(beneficiary=beneficiary, organisation_id__in=orgs, stage__in=OPEN_STAGES).exists()


def anonymised_message() -> str:
    return _("This record was anonymised when its retention period ended; register the child again as a new person.")


def edit_beneficiary_refusal(user: User, beneficiary: Beneficiary) -> str | None:
    if beneficiary.merged_into_id:
        return _("This record was merged into another one; make your changes there.")
    if beneficiary.anonymised_at is not None:
        # Filled again, it would never be anonymised again (atensi.erasure takes a record once).
        return anonymised_message()
    if can_edit_beneficiary(user, beneficiary):
        return None
    return _(
        "Only the workers of the organisation that registered %(name)s, or of one that has an open case "
        "for them, can change this record."
    ) % {"name": beneficiary.full_name}


def related_org_ids(beneficiary_ids: Collection[int]) -> dict[int, set[int]]:
    """For each person: the organisation that registered them and those owning one of their cases."""
    related: dict[int, set[int]] = {pk: set() for pk in beneficiary_ids}
    for pk, org_id in Beneficiary.objects.filter(pk__in=list(beneficiary_ids)).values_list("pk", "organisation_id"):
        related[pk].add(org_id)
    rows = (
        Case.objects.filter(beneficiary_id__in=list(beneficiary_ids))
        .order_by()
        .values_list("beneficiary_id", "organisation_id")
    )
    for pk, org_id in rows.distinct():
        related[pk].add(org_id)
    return related


def merge_organisations(*, user: User, first_id: int, second_id: int) -> set[int]:
    """Organisations where the user is a supervisor and that registered or own a case of both people."""
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    if not supervised:
        return set()
    related = related_org_ids([first_id, second_id])
    return set(supervised) & related.get(first_id, set()) & related.get(second_id, set())


def can_merge_beneficiaries(user: User) -> bool:
    """Supervisors merge duplicates (which pairs: `merge_organisations`)."""
    return bool(actor_for(user).org_ids(Role.SUPERVISOR))


def can_see_who_saw(user: User, case: Case) -> bool:
    """ "Who saw this child": the case organisation's supervisors and superusers (UU PDP: the
    organisation answers for every access to the data it holds)."""
    actor = actor_for(user)
    return actor.is_superuser or case.organisation_id in actor.org_ids(Role.SUPERVISOR)


# --- Subject access (UU PDP Pasal 32) ---------------------------------------------------------


def can_keep_subject_access_register(user: User) -> bool:
    """The register of subject access requests: supervisors (each for their organisations)
    and superusers. The organisation answers for the data it holds, so its supervisors do."""
    actor = actor_for(user)
    return actor.is_superuser or bool(actor.org_ids(Role.SUPERVISOR))


def subject_access_organisations(user: User, beneficiary: Beneficiary) -> set[int]:
    """The organisations for which the user may record a request about this person: those
    that hold their data (registered them or own one of their cases) and that the user
    supervises; a superuser, any of them."""
    return subject_access_organisations_among(user, related_org_ids([beneficiary.pk]).get(beneficiary.pk, set()))


def subject_access_organisations_among(user: User, holder_ids: Collection[int]) -> set[int]:
    """The same rule on organisations already known to hold the person's data (a page that
    has read the person's cases asks no more queries)."""
    actor = actor_for(user)
    return set(holder_ids) if actor.is_superuser else set(holder_ids) & set(actor.org_ids(Role.SUPERVISOR))


def handle_subject_access_refusal(user: User, organisation_id: int) -> str | None:
    """Record, answer or make the file of a request: a supervisor of its organisation, or a
    superuser."""
    actor = actor_for(user)
    if actor.is_superuser or organisation_id in actor.org_ids(Role.SUPERVISOR):
        return None
    return _("Only the supervisors of the organisation the request was made to can handle it.")
