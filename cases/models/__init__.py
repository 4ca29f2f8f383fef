"""Cases: community reports (intake), beneficiaries and families, cases and everything
recorded on them — stage changes, approvals, assessments, plan items, notes and visits,
follow-ups, documents, consent — and the case timeline.

Every model is audited (pghistory). Reads go through cases/selectors.py (one scoping
function per family), writes through the services modules.

One module a sub-domain (`intake`, `beneficiaries`, `cases`, `records`, `documents`, and
`common` for the shared choices); every model is re-exported here, so the app label, the
model names and the migrations stay as they were.
"""

from __future__ import annotations

from .beneficiaries import (
    Beneficiary,
    BeneficiaryMerge,
    FamilyMember,
    Relation,
    Religion,
    SchoolStatus,
    beneficiary_photo_path,
)
from .cases import Approval, ApprovalKind, ApprovalStatus, Case, CaseSequence, TimelineEntry, TimelineKind
from .common import (
    OPEN_STAGES,
    STAGE_ORDER,
    USER,
    Basis,
    CaseCopy,
    CaseSource,
    ClosureReason,
    RiskLevel,
    Sex,
    Stage,
    Urgency,
    private_upload_path,
)
from .documents import Consent, Document, DocumentKind, SharingOverride, case_document_path
from .intake import RecipientVia, Report, ReportChannel, ReporterKind, ReportRecipient, ReportStatus
from .records import (
    Assessment,
    CaseNote,
    DiversionStage,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    IdentityDocument,
    NoteKind,
    PlanItem,
    PlanItemStatus,
)
from .subject_access import RequesterRelation, SubjectAccessRequest, SubjectAccessStatus

__all__ = [
    "OPEN_STAGES",
    "STAGE_ORDER",
    "USER",
    "Approval",
    "ApprovalKind",
    "ApprovalStatus",
    "Assessment",
    "Basis",
    "Beneficiary",
    "BeneficiaryMerge",
    "Case",
    "CaseCopy",
    "CaseNote",
    "CaseSequence",
    "CaseSource",
    "ClosureReason",
    "Consent",
    "DiversionStage",
    "Document",
    "DocumentKind",
    "FamilyMember",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "IdentityDocument",
    "NoteKind",
    "PlanItem",
    "PlanItemStatus",
    "RecipientVia",
    "Relation",
    "Religion",
    "Report",
    "ReportChannel",
    "ReportRecipient",
    "ReportStatus",
    "ReporterKind",
    "RequesterRelation",
    "RiskLevel",
    "SchoolStatus",
    "Sex",
    "SharingOverride",
    "Stage",
    "SubjectAccessRequest",
    "SubjectAccessStatus",
    "TimelineEntry",
    "TimelineKind",
    "Urgency",
    "beneficiary_photo_path",
    "case_document_path",
    "private_upload_path",
]
