"""Settings of `make bench`: the test settings, made like production where it costs time.

DEBUG off, templates through the cached loader (as atensi/settings/production.py has
them), database connections kept between requests (CONN_MAX_AGE, as in production; the
test settings close them after each one), no debug toolbar (the test settings install
none). What stays from the test settings: the fast password hasher (the login rows say
which one they time), the in-memory e-mail outbox, static files from the finders.

The data set lives in a database of its own, `atensi_bench`, kept between runs
(tests/bench/store.py decides when it is rebuilt).
"""

from __future__ import annotations

from atensi.settings.test import *  # noqa: F403
from atensi.settings.test import DATABASES, TEMPLATES, env

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["TEST"] = {"NAME": "atensi_bench"}
TEMPLATES[0]["APP_DIRS"] = False
TEMPLATES[0]["OPTIONS"]["loaders"] = [  # type: ignore[index]
    (
        "django.template.loaders.cached.Loader",
        [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    ),
]
WHITENOISE_AUTOREFRESH = False
# The map keeps its counts in the cache as production does (the test settings turn it off).
ATENSI_MAP_CACHE_SECONDS = env.int("ATENSI_MAP_CACHE_SECONDS", default=300)
# As in production (the test settings keep no dashboard figures between tests).
ATENSI_DASHBOARD_CACHE_SECONDS = 900
ATENSI_FRAGMENT_SECONDS = 60
