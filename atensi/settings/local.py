"""Development settings: `make run` on a laptop. Never used in production."""

from __future__ import annotations

import os
from pathlib import Path

# Without DATABASE_URL / REDIS_URL, point at the embedded services that `make run` keeps
# under ./var, so `manage.py shell` (or makemigrations) works beside a running portal.
_VAR = Path(os.environ.get("ATENSI_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@/atensi?host={_VAR / 'postgres'}")
os.environ.setdefault("REDIS_URL", f"unix://{_VAR / 'run' / 'redis.sock'}")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-atensi-local-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ATENSI_DEMO_DATA_ALLOWED = True

# Static files straight from the finders (no collectstatic in development).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
