"""Settings of the processes tests/bench/test_bench_reminders.py starts (the worker, beat's
sweep): the test settings, keeping database connections between tasks as production does
(DATABASE_CONN_MAX_AGE, 60 s by default; the test settings close them after every task),
and e-mail sent over SMTP to the bench's mail server on loopback (tests/bench/smtp_sink.py,
its port in BENCH_SMTP_PORT) — the test settings' in-memory outbox would keep every message
in the worker's memory."""

from __future__ import annotations

from atensi.settings.test import *  # noqa: F403
from atensi.settings.test import DATABASES, env

DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = env.int("BENCH_SMTP_PORT", default=25)
EMAIL_USE_TLS = False
EMAIL_TIMEOUT = 30
