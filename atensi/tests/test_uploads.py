"""Uploads are read through (atensi.core.uploads): a PDF must parse and carry no script or
attachment, an image must decode to its last pixel and not be a bomb, a DOCX must carry
no macros. Each refusal is a clear, translated message on the file field."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from atensi.core import uploads
from atensi.core.errors import ApplicationError
from atensi.core.uploads import DOCUMENT_KINDS, IMAGE_KINDS, check_upload, reencoded_image
from atensi.testing.files import image_bytes, pdf_bytes

MB = 1024 * 1024


def check(name: str, content: bytes, kinds=DOCUMENT_KINDS):
    return check_upload(SimpleUploadedFile(name, content), kinds=kinds, max_bytes=10 * MB)


def refusal(name: str, content: bytes, kinds=DOCUMENT_KINDS) -> str:
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        check(name, content, kinds)
    assert refused.value.field == "file"
    return str(refused.value)


def pdf_with(adding) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    adding(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def open_action_script(writer) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    script = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('x');")}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(script)


def docx(*, macros: bool = False, macro_type: bool = False) -> bytes:
    buffer = io.BytesIO()
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro_type
        else ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    )
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00macro")
    return buffer.getvalue()


def test_real_files_pass():
    assert check("laporan.pdf", pdf_bytes()) is uploads.PDF
    assert check("foto.png", image_bytes("PNG")) is uploads.PNG
    assert check("foto.jpg", image_bytes("JPEG")) is uploads.JPEG
    assert check("surat.docx", docx()) is uploads.DOCX


def test_a_pdf_header_followed_by_html_is_refused():
    assert "cannot be read" in refusal("laporan.pdf", b"%PDF-1.7\n<html><script>alert(1)</script></html>")


@pytest.mark.parametrize(
    "adding",
    [
        lambda w: open_action_script(w),
        lambda w: w.add_attachment("virus.exe", b"MZ\x90\x00"),
    ],
    ids=["javascript", "embedded file"],
)
def test_a_pdf_with_a_script_or_an_attachment_is_refused(adding):
    assert "scripts or attached files" in refusal("laporan.pdf", pdf_with(adding))


def test_an_image_header_followed_by_garbage_is_refused():
    assert "damaged or incomplete" in refusal("foto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, IMAGE_KINDS)
    whole = image_bytes("JPEG", size=(64, 64))
    assert "damaged or incomplete" in refusal("foto.jpg", whole[: len(whole) // 2], IMAGE_KINDS)


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_IMAGE_PIXELS", 100)
    assert "too large in pixels" in refusal("foto.png", image_bytes("PNG", size=(20, 20)), IMAGE_KINDS)


@pytest.mark.parametrize(("macros", "macro_type"), [(True, False), (False, True)], ids=["vbaProject.bin", "type"])
def test_a_docx_with_macros_is_refused(macros, macro_type):
    assert "macros" in refusal("surat.docx", docx(macros=macros, macro_type=macro_type))


def test_the_messages_are_in_indonesian_by_default():
    with translation.override("id"), pytest.raises(ApplicationError) as refused:
        check("laporan.pdf", b"%PDF-1.7\n<html></html>")
    assert "tidak dapat dibaca" in str(refused.value)


def test_reencoding_keeps_the_pixels_and_the_kind():
    from PIL import Image

    png = SimpleUploadedFile("a.png", image_bytes("PNG", size=(3, 2)))
    again = reencoded_image(png, uploads.PNG)
    image = Image.open(io.BytesIO(again.read()))
    assert (image.format, image.size) == ("PNG", (3, 2))
