"""The one error type for business-rule failures.

Services raise ApplicationError with a message a social worker understands (translated);
views show it as a form or page error. It is never a 500.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(self, message: Any, *, field: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)


def require(refusal: str | None, *, field: str | None = None) -> None:
    """Enforce a permission rule in a service: its refusal (None when allowed) becomes the error.

    The same rule answers `can_<verb>_<thing>` for the page, so the button a user sees and
    the refusal a service gives are decided once, in the app's permissions module.
    """
    if refusal is not None:
        raise ApplicationError(refusal, field=field)
