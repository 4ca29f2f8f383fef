"""Merging two records of one person, and finding which records a supervisor may merge."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError
from stakeholders.models import Organisation, User
from stakeholders.roles import Role

from ..models import OPEN_STAGES, Beneficiary, BeneficiaryMerge, Case, FamilyMember, TimelineKind
from ..permissions import anonymised_message, can_merge_beneficiaries, merge_organisations, related_org_ids
from ..selectors import cases_readable_by
from ..services import timeline_add
from .identity import ADULT_AGE, age_on, identity_check
from .search import Match, possible_duplicates, visible_ids
from .services import BENEFICIARY_FIELDS, regency_code

# How far the merge walks a chain of merged records (A → B → C) to find the survivor.
MERGE_CHAIN_LIMIT = 10

# What a merge copies from the merged record when the survivor has nothing there.
MERGE_FILL_FIELDS: tuple[str, ...] = (
    "alias",
    "birthplace",
    "nik",
    "kk_number",
    "dtks_id",
    "disability",
    "school_status",
    "school_name",
    "school_grade",
    "religion",
    "address",
    "village",
    "photo",
)


def mergeable_with(*, user: User, beneficiary: Beneficiary) -> list[Match]:
    """Possible duplicates of `beneficiary` that the user may see and merge with it."""
    if not can_merge_beneficiaries(user):
        return []
    found = possible_duplicates(
        user=user,
        full_name=beneficiary.full_name,
        birth_year=beneficiary.birth_date.year if beneficiary.birth_date else None,
        regency_code=beneficiary.regency_code,
        nik=beneficiary.nik,
        exclude_ids=[beneficiary.pk],
    )
    visible = [m for m in found if m.visible]
    if not visible:
        return []
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    related = related_org_ids([beneficiary.pk, *(m.pk for m in visible)])
    mine = related[beneficiary.pk] & set(supervised)
    return [m for m in visible if mine & related[m.pk]]


# --- Merge ---------------------------------------------------------------------------------------


def merged_survivor(beneficiary: Beneficiary) -> Beneficiary | None:
    """The living record a merged one ended up in (following A → B → C), or None."""
    current = beneficiary
    for _step in range(MERGE_CHAIN_LIMIT):
        if current.merged_into_id is None:
            return current if current.pk != beneficiary.pk else None
        nxt = Beneficiary.objects.filter(pk=current.merged_into_id).first()
        if nxt is None:
            return None
        current = nxt
    return None


def _json_value(value: object) -> object:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return getattr(value, "name", "") or ""
    return value


def _snapshot(b: Beneficiary) -> dict[str, object]:
    names = [*BENEFICIARY_FIELDS, "regency_code", "photo", "organisation"]
    return {name: _json_value(getattr(b, name)) for name in names}


def _is_empty(value: object) -> bool:
    if hasattr(value, "storage"):  # a FieldFile
        return not getattr(value, "name", None)
    return value in (None, "")


@transaction.atomic
def beneficiary_merge(*, survivor: Beneficiary, merged: Beneficiary, by: User, reason: str) -> BeneficiaryMerge:
    """Join two records of one person: everything of `merged` moves to `survivor`.

    Cases (with their documents, consent, notes and timeline), family members and the
    "not the same person" confirmations move; the survivor's empty fields are filled
    from the merged record (NIK, KK, DTKS, birth date...). The merged record stays, with
    `merged_into` set and its NIK moved; BeneficiaryMerge keeps what moved and the old
    values, and each of the survivor's cases gets a timeline line. Nothing is deleted.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why these two records are the same person."), field="reason")
    if survivor.pk == merged.pk:
        raise ApplicationError(_("Choose two different records to merge."))
    # Lock both rows, always in the same order, so two merges cannot deadlock or interleave.
    locked = Beneficiary.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
    rows = {b.pk: b for b in locked}
    keep, gone = rows[survivor.pk], rows[merged.pk]
    if keep.merged_into_id or gone.merged_into_id:
        raise ApplicationError(_("One of these records was already merged into another one. Reload the page."))
    if keep.anonymised_at is not None or gone.anonymised_at is not None:
        raise ApplicationError(anonymised_message())
    if not merge_organisations(user=by, first_id=keep.pk, second_id=gone.pk):
        raise ApplicationError(
            _(
                "Only a supervisor of an organisation that registered both records, or has a case for both, "
                "can merge them."
            )
        )
    if len(visible_ids(by, [keep.pk, gone.pk])) != 2:
        raise ApplicationError(_("You can merge only records you can open yourself."))
    if keep.nik and gone.nik and keep.nik != gone.nik:
        raise ApplicationError(
            _(
                "The two records have different NIKs (%(first)s and %(second)s), so they are different people "
                "or one NIK is wrong. Correct the wrong NIK first, then merge."
            )
            % {"first": keep.nik, "second": gone.nik}
        )
    # Only numbers of cases the supervisor may read are named (a confidential one is not).
    readable = cases_readable_by(by)
    open_keep = dict(readable.filter(beneficiary=keep, stage__in=OPEN_STAGES).values_list("organisation_id", "number"))
    open_gone = dict(readable.filter(beneficiary=gone, stage__in=OPEN_STAGES).values_list("organisation_id", "number"))
    orgs_keep = set(
        Case.objects.filter(beneficiary=keep, stage__in=OPEN_STAGES).values_list("organisation_id", flat=True)
    )
    orgs_gone = set(
        Case.objects.filter(beneficiary=gone, stage__in=OPEN_STAGES).values_list("organisation_id", flat=True)
    )
    clash = sorted(orgs_keep & orgs_gone)
    if clash:
        org = Organisation.objects.get(pk=clash[0])
        if clash[0] in open_keep and clash[0] in open_gone:
            message = _(
                "Both records have an open case at %(org)s (%(first)s and %(second)s). A child can have only one "
                "open case per organisation: close one of them first, then merge."
            ) % {"org": org.name, "first": open_keep[clash[0]], "second": open_gone[clash[0]]}
        else:
            # Another organisation's case numbers are theirs to tell.
            message = _(
                "Both records have an open case at %(org)s. A child can have only one open case per "
                "organisation: ask them to close one of them first, then merge."
            ) % {"org": org.name}
        raise ApplicationError(message)

    survivor_before = _snapshot(keep)
    merged_record = _snapshot(gone)
    filled: dict[str, object] = {}
    for name in MERGE_FILL_FIELDS:
        value = getattr(gone, name)
        if _is_empty(getattr(keep, name)) and not _is_empty(value):
            # The photo moves as its stored name: the file itself stays where it is.
            setattr(keep, name, value.name if name == "photo" else value)
            filled[name] = _json_value(value)
    # A real birth date beats a missing or an estimated one.
    if gone.birth_date and (keep.birth_date is None or (keep.birth_date_estimated and not gone.birth_date_estimated)):
        keep.birth_date, keep.birth_date_estimated = gone.birth_date, gone.birth_date_estimated
        filled["birth_date"] = gone.birth_date.isoformat()
        filled["birth_date_estimated"] = gone.birth_date_estimated
    if "village" in filled:
        keep.regency_code = regency_code(keep.village)
        filled["regency_code"] = keep.regency_code
    check = identity_check(
        nik=keep.nik,
        kk_number=keep.kk_number,
        sex=keep.sex,
        birth_date=keep.birth_date,
        birth_date_estimated=keep.birth_date_estimated,
    )
    if check.errors:
        raise ApplicationError(
            _("After the merge the record would not agree with itself: %(problem)s Correct one record first.")
            % {"problem": check.errors[0][1]}
        )

    now = timezone.now()
    case_ids = list(Case.objects.filter(beneficiary=gone).values_list("pk", flat=True))
    family_ids = list(FamilyMember.objects.filter(beneficiary=gone).values_list("pk", flat=True))
    earlier_ids = list(Beneficiary.objects.filter(merged_into=gone).values_list("pk", flat=True))
    distinct_ids = [pk for pk in gone.distinct_from.values_list("pk", flat=True) if pk != keep.pk]
    dropped_distinct = keep.pk in set(gone.distinct_from.values_list("pk", flat=True))
    added_ppks = sorted(
        set(gone.ppks_types.values_list("pk", flat=True)) - set(keep.ppks_types.values_list("pk", flat=True))
    )
    added_ampk: list[int] = []
    if not (keep.birth_date and age_on(keep.birth_date, timezone.localdate()) >= ADULT_AGE):
        added_ampk = sorted(
            set(gone.ampk_categories.values_list("pk", flat=True))
            - set(keep.ampk_categories.values_list("pk", flat=True))
        )

    # The merged record first gives up its NIK (one NIK, one living record), then points
    # at the survivor; only then may the survivor take the NIK.
    gone.nik = ""
    if "photo" in filled:
        gone.photo = ""  # the survivor has it now; one file, one record
    gone.merged_into = keep
    gone.save(update_fields=["nik", "photo", "merged_into", "updated_at"])
    keep.save(update_fields=[*(n for n in filled if n != "birth_date_estimated"), "birth_date_estimated", "updated_at"])
    Case.objects.filter(pk__in=case_ids).update(beneficiary=keep, updated_at=now)
    FamilyMember.objects.filter(pk__in=family_ids).update(beneficiary=keep, updated_at=now)
    Beneficiary.objects.filter(pk__in=earlier_ids).update(merged_into=keep, updated_at=now)
    if distinct_ids:
        keep.distinct_from.add(*distinct_ids)
    gone.distinct_from.clear()
    if added_ppks:
        keep.ppks_types.add(*added_ppks)
    if added_ampk:
        keep.ampk_categories.add(*added_ampk)

    merge = BeneficiaryMerge.objects.create(
        survivor=keep,
        merged=gone,
        reason=reason,
        merged_by=by,
        moved={
            "cases": case_ids,
            "family_members": family_ids,
            "earlier_merged_records": earlier_ids,
            "distinct_from": distinct_ids,
            "distinct_from_each_other": dropped_distinct,
            "ppks_types": added_ppks,
            "ampk_categories": added_ampk,
            "filled": filled,
            "survivor_before": survivor_before,
            "merged_record": merged_record,
        },
    )
    for case in Case.objects.filter(beneficiary=keep).order_by("pk"):
        timeline_add(
            case=case,
            kind=TimelineKind.MERGE,
            actor=by,
            obj=merge,
            at=now,
            merged_id=gone.pk,
            merged_name=gone.full_name,
        )
    survivor.refresh_from_db()
    merged.refresh_from_db()
    return merge
