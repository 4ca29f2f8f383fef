"""The project layer's own app, labelled "atensi_project".

The `atensi` package is the project (settings, URLs, the Celery app, pages that compose
several apps, demo data, dev tooling); the kernel beside it, `atensi.core`, keeps the
label "atensi" with the models. This app exists so Django finds the project's
management commands (load_demo) and Celery its tasks (atensi/tasks.py, whose beat schedule
is made sure of after every migrate); it has no models and so no migrations.
"""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender: AppConfig, **kwargs: Any) -> None:
    from .tasks import ensure_schedules

    ensure_schedules()


class ProjectConfig(AppConfig):
    name = "atensi"
    label = "atensi_project"

    def ready(self) -> None:
        # Django sends post_migrate only for apps with models; this one has none, so the
        # schedule follows the kernel's migrate (as the kernel's own schedules do).
        from django.apps import apps

        kernel = apps.get_app_config("atensi")
        post_migrate.connect(_ensure_schedules, sender=kernel, dispatch_uid="atensi_project_ensure_schedules")
