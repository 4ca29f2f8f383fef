"""The Celery application. Configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

# True when the default below was applied rather than chosen by whoever started us:
# atensi.devstack then keeps it out of the commands it runs (pytest must pick its own).
SETTINGS_DEFAULTED = "DJANGO_SETTINGS_MODULE" not in os.environ
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atensi.settings.local")

app = Celery("atensi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
