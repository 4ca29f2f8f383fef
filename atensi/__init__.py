"""ATENSI Portal: the project package and the core app (access scoping, audit, reference data)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
