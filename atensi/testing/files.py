"""Real files for tests of uploads: the portal reads them through (atensi.core.uploads), so
a header followed by zeros no longer passes for a PDF or a photo."""

from __future__ import annotations

import io
import itertools

_serial = itertools.count(1)


def _pdf(pages: int, title: str, padding: int) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    if padding:
        # A comment in the first page's content: drawn as nothing, counted in the size.
        stream = DecodedStreamObject()
        stream.set_data(b"%" + b"0" * padding + b"\n")
        writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_bytes(pages: int = 1, *, size: int | None = None) -> bytes:
    """A real PDF of blank A4 pages, different bytes on every call (a title of its own), of
    exactly `size` bytes when given."""
    title = f"Dokumen uji {next(_serial)}"
    content = _pdf(pages, title, 0)
    if size is None:
        return content
    padding = max(1, size - len(content) - 16)
    for _ in range(4):  # the object's length digits move the size a little: settle it
        content = _pdf(pages, title, padding)
        if len(content) == size:
            return content
        padding += size - len(content)
    raise ValueError(f"could not make a PDF of {size} bytes")


def image_bytes(fmt: str = "PNG", *, size: tuple[int, int] = (2, 2), exif: bytes | None = None) -> bytes:
    """A real image (PNG or JPEG) of `size` pixels, with `exif` when given (JPEG)."""
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    options = {"exif": exif} if exif else {}
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_bytes() -> bytes:
    return image_bytes("PNG")


def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")
