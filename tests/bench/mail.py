"""The e-mail backend of the bench's worker: each message is built and serialised, as an
SMTP backend would before sending it, then dropped (there is no mail server to time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class SerialisingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for message in email_messages:
            message.message().as_bytes()
        return len(email_messages)
