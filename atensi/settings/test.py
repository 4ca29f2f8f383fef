"""Test settings: real PostgreSQL and Redis (started by `make test`), fast hashing."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import env
from .paths import VAR_DIR

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-atensi-test-only-key")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ATENSI_DEMO_DATA_ALLOWED = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - threads in race tests close their own

# Worker and beat processes started by integration tests talk to the test database
# pytest-django created (test_<name>); the test passes its name here.
DATABASES["default"]["NAME"] = env.str("ATENSI_DB_NAME", default=DATABASES["default"]["NAME"])  # noqa: F405

# Static files straight from the finders (no collectstatic in tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Regions the test database holds (all provinces and regencies/cities, plus districts and
# villages of these provinces): loaded by post_migrate into the template database that
# every test database is cloned from (atensi.testing.database).
ATENSI_TEST_REGIONS = ("13", "15")
# Every test counts its own data: no dashboard figures kept between tests (one test turns it on).
ATENSI_DASHBOARD_CACHE_SECONDS = 0
# Nor drawn fragments: a test database recreated with the same ids must not meet the last
# run's (the fragment tests turn it on).
ATENSI_FRAGMENT_SECONDS = 0

# pytest-xdist runs the tests in several processes (gw0, gw1, ...); the worker processes an
# integration test starts inherit the variable. What is shared on disk or in Redis is kept
# apart per process; the databases are (test_<name>_gw0, ...).
XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")

# Uploaded files go to a throwaway directory, never the developer's var/private.
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "test-private" / XDIST_WORKER)},
    },
}


def _cache_database(redis_url: str, worker: str) -> str:
    """`redis_url` on a Redis database of the worker's own (1-15), apart from the broker's
    (0): a test's cache.clear() is a FLUSHDB, which must not empty another process's cache
    or the queue of a running Celery worker."""
    number = 1 + int(worker.removeprefix("gw") or 0) % 15
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = "&".join([*(q for q in parts.query.split("&") if q and not q.startswith("db=")), f"db={number}"])
        return f"unix://{parts.path}?{query}"  # urlunsplit would drop the empty host's "//"
    return urlunsplit(parts._replace(path=f"/{number}"))


CACHES = {
    "default": {
        **CACHES["default"],  # noqa: F405
        "LOCATION": _cache_database(REDIS_URL, XDIST_WORKER),  # noqa: F405
        "KEY_PREFIX": XDIST_WORKER,
    }
}
# The map counts on every request: tests change cases between requests (one test turns
# the cache on).
ATENSI_MAP_CACHE_SECONDS = 0
