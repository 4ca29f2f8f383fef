"""What the development commands (demo codes, signed-in sessions) share."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from atensi.demo import ensure_demo_allowed


def ensure_demo_command_allowed() -> None:
    """`ensure_demo_allowed` for a command: its refusal as the command's error."""
    try:
        ensure_demo_allowed()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc
