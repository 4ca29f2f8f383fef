"""The file that answers a subject access request: one ZIP made in the background under
the kernel's export policy (atensi.core.exports: queued per person, asked again as the
user when it runs, private storage, downloaded only by whoever asked for it, deleted
after ATENSI_EXPORT_RETENTION_HOURS, every record in it written to the access log).

Inside: a letter (what this is, for whom, what each part holds and what was withheld and
why), `data.xlsx` (one sheet a section), `data.json` (the same, for another system: UU
PDP Pasal 13 lets the person take their data elsewhere), and the documents and the photo
themselves.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable

from django.core.files.storage import storages
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError
from atensi.core.exports import BundleSource, register_bundle
from atensi.core.models import AccessLog
from atensi.core.spreadsheets import SHEET_TITLE_MAX, Sheet, write_xlsx
from stakeholders.models import User

from ..models import Document, SubjectAccessRequest
from ..permissions import can_keep_subject_access_register, handle_subject_access_refusal
from .sections import WITHHELD_MODELS, Table, sections, table_of
from .selectors import subject_of

SOURCE = "subject_access"
_XLSX = "data.xlsx"
_JSON = "data.json"


def _refusal(user: User) -> str | None:
    if can_keep_subject_access_register(user):
        return None
    return _("Only supervisors can make the file of a subject access request.")


def build(user: User, params: QueryDict, path: str, progress: Callable[[int, int | None], None]) -> list[AccessLog]:
    """Write the request's ZIP at `path`; return the access-log rows of what is in it."""
    request = (
        SubjectAccessRequest.objects.select_related("organisation", "beneficiary")
        .filter(pk=params.get("request") or 0)
        .first()
    )
    if request is None:
        raise ApplicationError(_("This request no longer exists."))
    refusal = handle_subject_access_refusal(user, request.organisation_id)
    if refusal is not None:
        raise ApplicationError(refusal)
    subject = subject_of(request)
    left_out = set(params.getlist("withhold"))
    every = [section for section in sections() if section.name not in left_out]
    tables: list[tuple[str, str, Table]] = []
    for done, section in enumerate(every):
        tables.append((section.name, str(section.title), table_of(section, subject)))
        progress(done + 1, len(every) + 1)
    storage = storages["default"]
    missing: list[str] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for _name, _title, table in tables:
            for inside, stored in table.files:
                if not storage.exists(stored):
                    missing.append(inside)
                    continue
                with storage.open(stored, "rb") as source, bundle.open(inside, "w") as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
        with bundle.open(_XLSX, "w") as target:
            write_xlsx(
                target,
                [
                    # Numbered: unique however titles translate (Indonesian says "Persetujuan"
                    # for both approvals and consent), and in the letter's order.
                    Sheet(title=f"{n}. {title}"[:SHEET_TITLE_MAX], headers=t.headers, rows=t.rows)
                    for n, (_name, title, t) in enumerate(tables, start=1)
                ],
            )
        data = {name: table.records for name, _title, table in tables}
        bundle.writestr(_JSON, json.dumps(data, ensure_ascii=False, indent=1))
        left_out_titles = [str(section.title) for section in sections() if section.name in left_out]
        letter = _letter(
            request=request,
            user=user,
            tables=tables,
            missing=missing,
            left_out=left_out_titles,
            reason=params.get("reason", ""),
        )
        bundle.writestr(_("README.txt"), letter)
    progress(len(every) + 1, len(every) + 1)
    return _logged(
        request=request,
        user=user,
        person_ids=subject.person_ids,
        case_ids=subject.case_ids,
        documents="documents" not in left_out,
    )


def _letter(
    *,
    request: SubjectAccessRequest,
    user: User,
    tables: list[tuple[str, str, Table]],
    missing: list[str],
    left_out: list[str],
    reason: str,
) -> str:
    by_name = {section.name: section for section in sections()}
    withheld = [
        (title, str(by_name[name].withheld_because)) for name, title, _table in tables if by_name[name].withheld_because
    ]
    return render_to_string(
        "cases/subject_access/letter.txt",
        {
            "request": request,
            "made_by": user.get_full_name() or user.username,
            "made_at": timezone.localtime(),
            "parts": [(title, len(table.rows)) for _name, title, table in tables],
            "withheld": withheld,
            "withheld_models": [str(reason) for reason in WITHHELD_MODELS.values()],
            "missing": missing,
            "left_out": left_out,
            "left_out_reason": reason,
            "xlsx": _XLSX,
            "json": _JSON,
        },
    )


def _logged(
    *,
    request: SubjectAccessRequest,
    user: User,
    person_ids: tuple[int, ...],
    case_ids: tuple[int, ...],
    documents: bool,
) -> list[AccessLog]:
    path = reverse("cases:subject_access_detail", args=[request.pk])
    rows = [
        AccessLog(
            user=user,
            action=AccessLog.Action.EXPORT,
            target_type=target_type,
            target_id=str(pk),
            organisation_id=request.organisation_id,
            path=path,
        )
        for target_type, ids in (
            ("cases.beneficiary", person_ids),
            ("cases.case", case_ids),
            (
                "cases.document",
                tuple(Document.objects.filter(case_id__in=case_ids).values_list("pk", flat=True)) if documents else (),
            ),
        )
        for pk in ids
    ]
    return rows


register_bundle(
    BundleSource(
        name=SOURCE,
        title=lambda: _("Subject access file"),
        filename="subject-access",
        refusal=_refusal,
        build=build,
    )
)
