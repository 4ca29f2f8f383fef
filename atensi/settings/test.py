"""Test settings: real PostgreSQL and Redis (started by `make test`), fast hashing."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-atensi-test-only-key")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ATENSI_DEMO_DATA_ALLOWED = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - threads in race tests close their own
# Playwright's sync API runs an event loop in the test thread; the ORM calls the test
# makes around it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
