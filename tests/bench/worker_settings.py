"""Settings of the processes tests/bench/test_bench_reminders.py starts (the worker, beat's
sweep): the test settings, keeping database connections between tasks as production does
(DATABASE_CONN_MAX_AGE, 60 s by default; the test settings close them after every task),
and e-mail built and serialised as for SMTP, then dropped (tests/bench/mail.py) — the test
settings' in-memory outbox would keep every message in the worker's memory."""

from __future__ import annotations

from atensi.settings.test import *  # noqa: F403
from atensi.settings.test import DATABASES, env

DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
EMAIL_BACKEND = "tests.bench.mail.SerialisingBackend"
