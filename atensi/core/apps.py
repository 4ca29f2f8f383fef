"""The kernel's app. Label "atensi": the models and migrations it has always had."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_schedules(sender: AppConfig, **kwargs: Any) -> None:
    from .schedules import ensure_schedules

    ensure_schedules()


def _load_reference(sender: AppConfig, **kwargs: Any) -> None:
    from .reference import load_reference_data

    load_reference_data()


class CoreConfig(AppConfig):
    name = "atensi.core"
    label = "atensi"
    verbose_name = _("ATENSI core")

    def ready(self) -> None:
        from .admin import restrict_events_browser
        from .lookups import register

        restrict_events_browser()
        register()
        # Reference data is part of the schema's meaning: reload it after every migrate
        # and after a test flush (both send post_migrate). Idempotent upserts.
        post_migrate.connect(_load_reference, sender=self, dispatch_uid="atensi_load_reference")
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="atensi_ensure_schedules")
        # The e-mail channel of reminders (atensi.core.reminders.outside_channel).
        # The export policy's notification kinds and its retention sweep.
        from . import (
            email_channel,  # noqa: F401
            exports,  # noqa: F401
        )
