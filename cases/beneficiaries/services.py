"""Registration and edits of a person, their photo and their family members.

Every write locks the row, checks the identity again whatever the form showed, and
refuses with an ApplicationError a social worker understands.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError, require
from atensi.core.models import AmpkCategory, Cluster, PpksType
from atensi.core.uploads import IMAGE_KINDS, check_upload, reencoded_image
from atensi.core.values import nik_problem, normalise_kk, normalise_nik, normalise_phone, validate_phone
from stakeholders.models import Organisation, Region, User

from ..models import Beneficiary, FamilyMember
from ..permissions import edit_beneficiary_refusal
from ..selectors import CASE_ROLES
from ..services import full_clean_or_raise
from .identity import IdentityCheck, identity_check
from .search import Match, nik_match, possible_duplicates

PHOTO_MAX_BYTES = 5 * 1024 * 1024

# Editable identity and situation fields (the M2M ones are handled apart).
BENEFICIARY_FIELDS: tuple[str, ...] = (
    "full_name",
    "alias",
    "sex",
    "birth_date",
    "birth_date_estimated",
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
    "cluster",
)
BENEFICIARY_M2M: tuple[str, ...] = ("ppks_types", "ampk_categories")
FAMILY_FIELDS: tuple[str, ...] = (
    "relation",
    "name",
    "nik",
    "phone",
    "occupation",
    "receives_pkh",
    "other_aid",
    "is_legal_guardian",
    "lives_with_beneficiary",
)


class BeneficiaryValues(TypedDict, total=False):
    """The editable fields of a person's record (BENEFICIARY_FIELDS), as a form gives them."""

    full_name: str
    alias: str
    sex: str
    birth_date: datetime.date | None
    birth_date_estimated: bool
    birthplace: str
    nik: str
    kk_number: str
    dtks_id: str
    disability: str
    school_status: str
    school_name: str
    school_grade: str
    religion: str
    address: str
    village: Region | None
    cluster: Cluster


class FamilyValues(TypedDict, total=False):
    """The editable fields of a family member (FAMILY_FIELDS)."""

    relation: str
    name: str
    nik: str
    phone: str
    occupation: str
    receives_pkh: bool
    other_aid: str
    is_legal_guardian: bool
    lives_with_beneficiary: bool


# --- Registration and edits -----------------------------------------------------------------


class PossibleDuplicates(ApplicationError):
    """Registration stopped: records that may be the same person need a "not the same" each."""

    def __init__(self, candidates: list[Match]) -> None:
        super().__init__(
            _(
                "This child may already be registered. Look at the possible matches below and tick "
                "“not the same child” for each one that is someone else, then save again."
            ),
            extra={"candidates": candidates},
        )
        self.candidates = candidates


def nik_taken_message(*, user: User, match: Match) -> str:
    if match.confidential:
        return _(
            "A person with this NIK is already registered elsewhere. Do not register the child again: search "
            "the NIK to ask the organisation holding the record to contact you."
        )
    if match.visible:
        return _("%(name)s is already registered with this NIK. Open their record instead of registering again.") % {
            "name": match.full_name
        }
    return _(
        "A person with this NIK is registered with %(org)s. Ask them for a referral or a transfer "
        "instead of registering the child again."
    ) % {"org": match.organisation_name}


def regency_code(village: Region | None) -> str:
    return village.code[:4] if village is not None else ""


def _check_identity(values: BeneficiaryValues, *, has_ampk: bool) -> IdentityCheck:
    check = identity_check(
        nik=values.get("nik", ""),
        kk_number=values.get("kk_number", ""),
        sex=values.get("sex", ""),
        birth_date=values.get("birth_date"),
        birth_date_estimated=bool(values.get("birth_date_estimated")),
        has_ampk=has_ampk,
    )
    check.raise_first()
    return check


def _clean_values(values: BeneficiaryValues) -> BeneficiaryValues:
    unknown = set(values) - set(BENEFICIARY_FIELDS)
    if unknown:
        raise ValueError(f"Not a beneficiary field: {sorted(unknown)}")
    cleaned = values.copy()
    if "nik" in cleaned:
        cleaned["nik"] = normalise_nik(cleaned["nik"])
    if "kk_number" in cleaned:
        cleaned["kk_number"] = normalise_kk(cleaned["kk_number"])
    if "full_name" in cleaned:
        cleaned["full_name"] = " ".join((cleaned["full_name"] or "").split())
    if "alias" in cleaned:
        cleaned["alias"] = " ".join((cleaned["alias"] or "").split())
    return cleaned


@transaction.atomic
def beneficiary_create(
    *,
    by: User,
    organisation: Organisation,
    ampk_categories: Iterable[AmpkCategory] = (),
    ppks_types: Iterable[PpksType] = (),
    not_same_as: Collection[int] = (),
    **values: Unpack[BeneficiaryValues],
) -> Beneficiary:
    """Register a person for `organisation`.

    The duplicate search runs here again, whatever the form showed: an exact NIK match
    is refused; every fuzzy match must be in `not_same_as` (the user ticked "not the same
    child"), and those confirmations are kept in `distinct_from`.
    """
    actor = actor_for(by)
    if not actor.has_role(organisation.pk, *CASE_ROLES):
        raise ApplicationError(_("You do not work cases for %(org)s.") % {"org": organisation.name})
    if not organisation.is_active:
        raise ApplicationError(_("%(org)s is not active in the portal.") % {"org": organisation.name})
    values = _clean_values(values)
    ampk = list(ampk_categories)
    ppks = list(ppks_types)
    if not values.get("full_name"):
        raise ApplicationError(_("Enter the person's full name."), field="full_name")
    _check_identity(values, has_ampk=bool(ampk))

    nik = values.get("nik", "")
    exact = nik_match(user=by, nik=nik)
    if exact is not None:
        raise ApplicationError(nik_taken_message(user=by, match=exact), field="nik", extra={"match": exact})
    birth_date = values.get("birth_date")
    village = values.get("village")
    candidates = possible_duplicates(
        user=by,
        full_name=values["full_name"],
        birth_year=birth_date.year if birth_date else None,
        regency_code=regency_code(village),
        nik=nik,
    )
    confirmed = set(not_same_as)
    if any(c.pk not in confirmed for c in candidates):
        raise PossibleDuplicates(candidates)

    beneficiary = Beneficiary(organisation=organisation, created_by=by, **values)
    beneficiary.regency_code = regency_code(village)
    full_clean_or_raise(beneficiary)
    try:
        with transaction.atomic():
            beneficiary.save()
    except IntegrityError:
        # Someone registered this NIK in the same instant.
        raise ApplicationError(
            _("A person with this NIK was registered a moment ago. Search again to find them."), field="nik"
        ) from None
    if ampk:
        beneficiary.ampk_categories.set(ampk)
    if ppks:
        beneficiary.ppks_types.set(ppks)
    distinct = [c.pk for c in candidates if c.pk in confirmed]
    if distinct:
        beneficiary.distinct_from.add(*distinct)
    return beneficiary


def _conflict(name: str) -> ApplicationError:
    return ApplicationError(
        _(
            "Someone else saved changes to %(name)s while you were editing. Nothing of yours was saved: "
            "reload the page to see their changes, then make yours again."
        )
        % {"name": name}
    )


@transaction.atomic
def beneficiary_update(
    *,
    beneficiary: Beneficiary,
    by: User,
    expected_updated_at: datetime.datetime | None,
    ampk_categories: Iterable[AmpkCategory] | None = None,
    ppks_types: Iterable[PpksType] | None = None,
    **values: Unpack[BeneficiaryValues],
) -> list[str]:
    """Change a person's record; returns the names of the fields that changed.

    `expected_updated_at` is when the editor loaded the form: if the record changed since,
    nothing is saved and the editor is told to reload.
    """
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    require(edit_beneficiary_refusal(by, locked))
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise _conflict(locked.full_name)
    values = _clean_values(values)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name, value in values.items():
        if name in changed:
            setattr(locked, name, value)
    ampk = list(ampk_categories) if ampk_categories is not None else list(locked.ampk_categories.all())
    _check_identity(
        BeneficiaryValues(
            nik=locked.nik,
            kk_number=locked.kk_number,
            sex=locked.sex,
            birth_date=locked.birth_date,
            birth_date_estimated=locked.birth_date_estimated,
        ),
        has_ampk=bool(ampk),
    )
    if "nik" in changed and locked.nik:
        exact = nik_match(user=by, nik=locked.nik)
        if exact is not None and exact.pk != locked.pk:
            raise ApplicationError(nik_taken_message(user=by, match=exact), field="nik")
    if "village" in changed:
        locked.regency_code = regency_code(locked.village)
        changed.append("regency_code")
    full_clean_or_raise(locked)
    m2m_changed: list[str] = []
    for name, new in (("ampk_categories", ampk_categories), ("ppks_types", ppks_types)):
        if new is None:
            continue
        new_ids = {getattr(obj, "pk", obj) for obj in new}
        if new_ids != set(getattr(locked, name).values_list("pk", flat=True)):
            m2m_changed.append(name)
            getattr(locked, name).set(list(new_ids))
    if changed or m2m_changed:
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise ApplicationError(
                _("A person with this NIK was registered a moment ago. Search for them first."), field="nik"
            ) from None
    beneficiary.refresh_from_db()
    return [*changed, *m2m_changed]


# --- Photo -------------------------------------------------------------------------------------


def photo_content_type(name: str | None) -> str | None:
    """The content type a stored photo is served with, from the kind it was stored as."""
    name = name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = next((k for k in IMAGE_KINDS if ext in k.extensions), None)
    return kind.content_type if kind else None


def _delete_file_later(storage: Storage, name: str | None) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def beneficiary_photo_set(*, beneficiary: Beneficiary, by: User, file: UploadedFile[bytes]) -> Beneficiary:
    """Store a JPEG or PNG as the person's photo (judged by its bytes); the old one is removed."""
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    require(edit_beneficiary_refusal(by, locked))
    kind = check_upload(file, kinds=IMAGE_KINDS, max_bytes=PHOTO_MAX_BYTES, field="photo")
    old = locked.photo.name if locked.photo else ""
    # Written again from its pixels: a phone photo's EXIF holds the GPS position of where
    # it was taken. The stored name carries the kind, never the user's name.
    clean = reencoded_image(file, kind)
    locked.photo.save(f"photo.{kind.extensions[0]}", clean, save=False)
    locked.save(update_fields=["photo", "updated_at"])
    _delete_file_later(locked.photo.storage, old)
    beneficiary.refresh_from_db()
    return locked


@transaction.atomic
def beneficiary_photo_remove(*, beneficiary: Beneficiary, by: User) -> Beneficiary:
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    require(edit_beneficiary_refusal(by, locked))
    old = locked.photo.name if locked.photo else ""
    if old:
        storage = locked.photo.storage
        locked.photo = ""
        locked.save(update_fields=["photo", "updated_at"])
        _delete_file_later(storage, old)
    beneficiary.refresh_from_db()
    return locked


# --- Family ------------------------------------------------------------------------------------


def _family_values(values: FamilyValues) -> FamilyValues:
    unknown = set(values) - set(FAMILY_FIELDS)
    if unknown:
        raise ValueError(f"Not a family member field: {sorted(unknown)}")
    cleaned = values.copy()
    if "nik" in cleaned:
        # A family member's NIK: its format only (nobody enters their birth date here).
        cleaned["nik"] = normalise_nik(cleaned["nik"])
        problem = nik_problem(cleaned["nik"])
        if problem:
            raise ApplicationError(problem, field="nik")
    if "phone" in cleaned:
        cleaned["phone"] = normalise_phone(cleaned["phone"])
        try:
            validate_phone(cleaned["phone"])
        except ValidationError as exc:
            raise ApplicationError(str(exc.messages[0]), field="phone") from None
    if "name" in cleaned:
        cleaned["name"] = " ".join((cleaned["name"] or "").split())
    return cleaned


@transaction.atomic
def family_member_add(*, beneficiary: Beneficiary, by: User, **values: Unpack[FamilyValues]) -> FamilyMember:
    locked = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    require(edit_beneficiary_refusal(by, locked))
    member = FamilyMember(beneficiary=locked, **_family_values(values))
    full_clean_or_raise(member)
    member.save()
    return member


@transaction.atomic
def family_member_update(
    *, member: FamilyMember, by: User, expected_updated_at: datetime.datetime | None, **values: Unpack[FamilyValues]
) -> list[str]:
    locked = FamilyMember.objects.select_for_update().select_related("beneficiary").get(pk=member.pk)
    require(edit_beneficiary_refusal(by, locked.beneficiary))
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise _conflict(locked.name)
    values = _family_values(values)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name, value in values.items():
        if name in changed:
            setattr(locked, name, value)
    full_clean_or_raise(locked)
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    member.refresh_from_db()
    return changed
