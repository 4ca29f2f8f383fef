"""Beneficiaries and their families: identity checks (NIK, KK, birth date, AMPK age), the
search before registration (exact NIK, fuzzy name), registration and edits, family
members, the private photo, and merging two records of one person.

A match registered with an organisation the user does not work with is never shown by
name: it is "registered with <organisation>, born <year>", so the worker can ask that
organisation for a referral without learning who the child is.

`identity` checks a person's identifiers, `search` finds who may already be registered,
`permissions` says who may edit and merge, `services` registers and edits (photo and
family included), `merge` joins two records. Everything is re-exported here, so callers
import `cases.beneficiaries` as one service module.
"""

from __future__ import annotations

from .identity import ADULT_AGE, IdentityCheck, age_on, estimated_birth_date, identity_check, nik_district_known
from .merge import MERGE_CHAIN_LIMIT, MERGE_FILL_FIELDS, beneficiary_merge, mergeable_with, merged_survivor
from .search import (
    DUPLICATE_LIMIT,
    NAME_SEARCH_MAX_LENGTH,
    NAME_SEARCH_MIN_LENGTH,
    Match,
    SearchResult,
    beneficiary_search,
    name_needle,
    nik_match,
    possible_duplicates,
    similar_beneficiaries,
)
from .services import (
    BENEFICIARY_FIELDS,
    BENEFICIARY_M2M,
    FAMILY_FIELDS,
    PHOTO_MAX_BYTES,
    PossibleDuplicates,
    beneficiary_create,
    beneficiary_photo_remove,
    beneficiary_photo_set,
    beneficiary_update,
    family_member_add,
    family_member_update,
    nik_taken_message,
    photo_content_type,
)

__all__ = [
    "ADULT_AGE",
    "BENEFICIARY_FIELDS",
    "BENEFICIARY_M2M",
    "DUPLICATE_LIMIT",
    "FAMILY_FIELDS",
    "MERGE_CHAIN_LIMIT",
    "MERGE_FILL_FIELDS",
    "NAME_SEARCH_MAX_LENGTH",
    "NAME_SEARCH_MIN_LENGTH",
    "PHOTO_MAX_BYTES",
    "IdentityCheck",
    "Match",
    "PossibleDuplicates",
    "SearchResult",
    "age_on",
    "beneficiary_create",
    "beneficiary_merge",
    "beneficiary_photo_remove",
    "beneficiary_photo_set",
    "beneficiary_search",
    "beneficiary_update",
    "estimated_birth_date",
    "family_member_add",
    "family_member_update",
    "identity_check",
    "mergeable_with",
    "merged_survivor",
    "name_needle",
    "nik_district_known",
    "nik_match",
    "nik_taken_message",
    "photo_content_type",
    "possible_duplicates",
    "similar_beneficiaries",
]
