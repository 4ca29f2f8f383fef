"""ATENSI Portal: the project layer (settings, URLs, the Celery app, pages that compose
several apps, demo data, dev tooling), which may import every app. The shared kernel the
apps build on is the subpackage `atensi.core` (app label "atensi"); it imports no app."""

from .celery import app as celery_app

__all__ = ["celery_app"]
