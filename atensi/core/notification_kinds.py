"""The kinds of notification, as the apps register them.

Each app declares the events it notifies about as a TextChoices class and registers it
(`@register_kinds`); the kernel keeps no list of them. `Notification.kind` and
`Reminder.kind` carry no `choices=` (what the apps register is not part of the schema,
so `makemigrations` does not depend on which apps are loaded) and are validated here
instead; a kind's label is read from here where `get_kind_display()` would be used.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise

_KINDS: dict[str, str | Promise] = {}


def register_kinds[C: type[models.TextChoices]](choices: C) -> C:
    """Register every member of `choices` as a notification kind (a class decorator)."""
    for member in choices:
        registered = _KINDS.setdefault(member.value, member.label)
        if registered is not member.label:
            raise ValueError(f"notification kind {member.value!r} is registered twice")
    return choices


def kind_label(kind: str) -> str:
    """The kind's label in the active language; an unknown kind reads as its code."""
    return str(_KINDS.get(kind, kind))


def kind_choices() -> list[tuple[str, str | Promise]]:
    return list(_KINDS.items())


def validate_kind(value: str) -> None:
    """What `choices=` checked: the same message and code for a kind nobody registered."""
    if value not in _KINDS:
        raise ValidationError(
            models.Field.default_error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )
