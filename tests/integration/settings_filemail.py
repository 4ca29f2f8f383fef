"""Settings of the worker processes started by tests/integration/test_reminder_delivery.py:
the test settings, with e-mail written to files (ATENSI_TEST_MAIL_DIR) that the test
process can count — a worker's locmem outbox would die with it."""

from __future__ import annotations

from atensi.settings.test import *  # noqa: F403
from atensi.settings.test import env

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env.str("ATENSI_TEST_MAIL_DIR")
