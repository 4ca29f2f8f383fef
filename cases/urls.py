from __future__ import annotations

from .views import (
    access,
    approvals,
    beneficiaries,
    breach,
    case,
    documents,
    intake,
    lists,
    records,
    subject_access,
    summary,
)

app_name = "cases"

urlpatterns = [
    *intake.urlpatterns,
    *beneficiaries.urlpatterns,
    *lists.urlpatterns,
    *case.urlpatterns,
    *approvals.urlpatterns,
    *summary.urlpatterns,
    *records.urlpatterns,
    *documents.urlpatterns,
    *access.urlpatterns,
    *breach.urlpatterns,
    *subject_access.urlpatterns,
]
