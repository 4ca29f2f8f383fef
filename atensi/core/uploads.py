"""Uploaded files judged by their bytes, not by their name or the browser's claim.

`check_upload(file, kinds=...)` accepts a file only when its extension, and its content
agree on one of the allowed kinds, and it is within the size limit. It returns the
kind's content type, which is what the file is served with later.

The content is read through, not only its first bytes: a PDF must parse (pypdf) and carry
no JavaScript nor embedded files; an image must decode to its last pixel (Pillow) and not
be a decompression bomb; a DOCX must be a Word document without macros. `reencoded_image`
writes an image again from its pixels, which drops its metadata (a phone photo's EXIF
carries the GPS position where it was taken: the child's home).
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
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
# Pixels of the largest image accepted: a 48-megapixel phone photo fits; a tiny file that
# unpacks into billions of pixels (a decompression bomb) does not.
MAX_IMAGE_PIXELS = 60_000_000
# PDF names that run or carry something inside the document.
_PDF_ACTIVE = ("/JavaScript", "/JS", "/EmbeddedFiles", "/Launch", "/RichMedia")


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


def _docx_has_macros(file: Any) -> bool:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = {name.lower() for name in archive.namelist()}
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace").lower()
    finally:
        file.seek(0)
    return any(name.endswith("vbaproject.bin") for name in names) or "macroenabled" in types


def pdf_refusal(file: Any) -> str | None:
    """Why this PDF is refused, or None: it must parse and hold no active content."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    file.seek(0)
    try:
        reader = PdfReader(file, strict=False)
        pages = len(reader.pages)
        catalog = reader.trailer["/Root"].get_object()
        found = _active_names(catalog, depth=0, seen=set())
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, OSError, RecursionError):
        return _("This PDF cannot be read. Save or scan it again as a PDF and upload that file.")
    finally:
        file.seek(0)
    if not pages:
        return _("This PDF has no pages.")
    if found:
        return _(
            "This PDF carries scripts or attached files, which the portal does not accept. "
            "Print it to a new PDF and upload that."
        )
    return None


def _active_names(node: Any, *, depth: int, seen: set[int]) -> bool:
    """Whether a PDF object holds a script, an action that launches something or an attached
    file, looked for through the catalogue and its dictionaries (not the page streams)."""
    if depth > 12:
        return False
    if hasattr(node, "get_object"):
        reference = getattr(node, "idnum", None)
        if reference is not None:
            if reference in seen:
                return False
            seen.add(reference)
        node = node.get_object()
    if isinstance(node, dict):
        if any(key in _PDF_ACTIVE for key in node):
            return True
        if node.get("/S") in _PDF_ACTIVE:
            return True
        return any(_active_names(value, depth=depth + 1, seen=seen) for key, value in node.items() if key != "/Parent")
    if isinstance(node, list):
        return any(_active_names(value, depth=depth + 1, seen=seen) for value in node)
    return False


def _open_image(file: Any) -> Any:
    """The fully decoded image, or an error: Pillow reads every pixel, so a valid header
    followed by garbage fails here, not when someone opens the photo."""
    from PIL import Image

    file.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(file)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise Image.DecompressionBombError("too many pixels")
        image.load()
    file.seek(0)
    return image


def _image_refusal(file: Any) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        _open_image(file)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _("This image is too large in pixels. Send a smaller photo (at most 60 megapixels).")
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError):
        return _("This image is damaged or incomplete. Take or save the picture again and upload it.")
    finally:
        file.seek(0)
    return None


def _content_refusal(kind: FileKind, file: Any) -> str | None:
    if kind is PDF:
        return pdf_refusal(file)
    if kind in IMAGE_KINDS:
        return _image_refusal(file)
    if kind is DOCX and _docx_has_macros(file):
        return _(
            "This document contains macros, which the portal does not accept. Save it as a plain .docx and upload that."
        )
    return None


def reencoded_image(file: Any, kind: FileKind) -> ContentFile[bytes]:
    """The image written again from its pixels in the same format, turned upright by its
    orientation tag first: no EXIF (no GPS position, no camera serial), no other metadata."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(_open_image(file))
    if kind is JPEG and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    if kind is JPEG:
        image.save(buffer, format="JPEG", quality=90, optimize=True)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return ContentFile(buffer.getvalue())


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
    refusal = _content_refusal(claimed, file)
    if refusal:
        raise ApplicationError(refusal, field=field)
    return claimed
