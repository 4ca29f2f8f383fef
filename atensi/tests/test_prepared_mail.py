"""PreparedEmail writes a text-and-HTML e-mail straight to its bytes: what a mail reader
parses out of them is what Django's own building gives."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives

from atensi.core.prepared_mail import Prepared, PreparedEmail

TEXT = "Kunjungan rumah BA-UJI/2026/0001 jatuh tempo 23 November.\nBuka: https://atensi.example.id/cases/1/\n" * 3
HTML = (
    '<html lang="id"><body><p>Kunjungan rumah — <a href="https://atensi.example.id/cases/1/">buka</a></p></body></html>'
)
HEADERS = {"Message-ID": "<reminder.7@atensi.example.id>", "Auto-Submitted": "auto-generated"}


def made(cls: type[EmailMultiAlternatives], subject: str, to: str = "peksos@example.id", **extra: Any) -> Any:
    message = cls(subject, TEXT, from_email="ATENSI Portal <noreply@atensi.example.id>", to=[to], **extra)
    message.attach_alternative(HTML, "text/html")
    return message


def parsed(message: Any) -> email.message.EmailMessage:
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    assert all(line.endswith(b"\r") or not line for line in raw.split(b"\n")[:-1]), "a bare LF"
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("subject", ["ATENSI Portal: Tindak lanjut jatuh tempo", "ATENSI Portal: Rujukan — mendesak ✓"])
def test_a_reader_finds_what_djangos_building_gives(subject: str) -> None:
    ours = made(PreparedEmail, subject, headers=HEADERS)
    assert isinstance(ours.message(), Prepared)
    mine, django = parsed(ours), parsed(made(EmailMultiAlternatives, subject, headers=HEADERS))
    for header in ("From", "To", "Subject", "Message-ID", "Auto-Submitted", "MIME-Version"):
        assert str(mine[header]) == str(django[header]), header
    assert mine.get_content_type() == django.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        ours_part, theirs = mine.get_body((kind,)), django.get_body((kind,))
        assert ours_part is not None and theirs is not None
        assert ours_part.get_content() == theirs.get_content()
    assert mine["Date"] is not None and not mine.defects


def test_anything_else_is_built_by_django() -> None:
    for message in (
        made(PreparedEmail, "Subjek", to="pekerja@contoh.id", cc=["a@example.id"]),
        made(PreparedEmail, "Subjek", to="pék@example.id"),
        made(PreparedEmail, "Subjek", headers={"Reply-To": "x@example.id"}),
    ):
        assert not isinstance(message.message(), Prepared)
