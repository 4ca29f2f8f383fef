"""Development settings: `make run` on a laptop. Never used in production."""

from __future__ import annotations

import os

from .paths import VAR_DIR

# Without DATABASE_URL / REDIS_URL, point at the embedded services that `make run` keeps
# under ./var, so `manage.py shell` (or makemigrations) works beside a running portal.
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@/atensi?host={VAR_DIR / 'postgres'}")
os.environ.setdefault("REDIS_URL", f"unix://{VAR_DIR / 'run' / 'redis.sock'}")

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-atensi-local-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ATENSI_DEMO_DATA_ALLOWED = True

# Static files straight from the finders (no collectstatic in development).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
