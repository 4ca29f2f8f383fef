"""The project layer's own app, labelled "atensi_project".

The `atensi` package is the project (settings, URLs, the Celery app, pages that compose
several apps, demo data, dev tooling); the kernel beside it, `atensi.core`, keeps the
label "atensi" with the models. This app exists so Django finds the project's
management commands (load_demo) and Celery its tasks (atensi/tasks.py); it has no models
and so no migrations.
"""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "atensi"
    label = "atensi_project"

    def ready(self) -> None:
        # The project layer's Celery tasks, registered in every process (the worker also
        # finds them by autodiscovery); their beat schedules are the kernel's single list
        # (atensi.core.schedules).
        from . import tasks  # noqa: F401
