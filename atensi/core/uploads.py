"""Uploaded files judged by their bytes, not by their name or the browser's claim.

`check_upload(file, kinds=...)` accepts a file only when its extension, and its content
agree on one of the allowed kinds, and it is within the size limit. It returns the
kind's content type, which is what the file is served with later.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .errors import ApplicationError


@dataclass(frozen=True)
class FileKind:
    code: str
    label: str
    extensions: tuple[str, ...]
    content_type: str


PDF = FileKind("pdf", "PDF", ("pdf",), "application/pdf")
JPEG = FileKind("jpeg", "JPEG", ("jpg", "jpeg"), "image/jpeg")
PNG = FileKind("png", "PNG", ("png",), "image/png")
DOCX = FileKind("docx", "DOCX", ("docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
DOCUMENT_KINDS = (PDF, JPEG, PNG, DOCX)
IMAGE_KINDS = (JPEG, PNG)

_HEAD_BYTES = 16
_MB = 1024 * 1024


def _looks_like(kind: FileKind, head: bytes, file: Any) -> bool:
    if kind is PDF:
        return head.startswith(b"%PDF-")
    if kind is JPEG:
        return head.startswith(b"\xff\xd8\xff")
    if kind is PNG:
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind is DOCX:
        # A DOCX is a zip with a Word document inside; any other zip (or a renamed
        # executable) is not.
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and "word/document.xml" in names
    return False


def check_upload(file: Any, *, kinds: tuple[FileKind, ...], max_bytes: int, field: str = "file") -> FileKind:
    """The kind of an acceptable upload, or an ApplicationError saying what is wrong."""
    allowed = ", ".join(k.label for k in kinds)
    name = (getattr(file, "name", "") or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    claimed = next((k for k in kinds if ext in k.extensions), None)
    if claimed is None:
        raise ApplicationError(
            _("This type of file is not accepted. Upload one of: %(allowed)s.") % {"allowed": allowed}, field=field
        )
    size = file.size or 0
    if not size:
        raise ApplicationError(_("The file is empty."), field=field)
    if size > max_bytes:
        # Megabytes rounded up: one byte over 10 MB reads "10.1 MB", never "10.0 MB; the
        # limit is 10.0 MB".
        raise ApplicationError(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Scan or save it smaller and upload again.")
            % {
                "size": number_format(math.ceil(size * 10 / _MB) / 10, 1),
                "limit": number_format(max_bytes / _MB, 1),
            },
            field=field,
        )
    file.seek(0)
    head = file.read(_HEAD_BYTES)
    file.seek(0)
    if not _looks_like(claimed, head, file):
        raise ApplicationError(
            _("This file is not a real %(kind)s, whatever its name says. Upload the original file.")
            % {"kind": claimed.label},
            field=field,
        )
    return claimed
