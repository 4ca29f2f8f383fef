"""Settings shared by every environment. The environment is read here and nowhere else.

Variables: DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL, DEBUG,
DEFAULT_FROM_EMAIL, SITE_URL, DATABASE_REPLICA_URL, ATENSI_VAR_DIR (in paths.py, which local.py
needs first), ATENSI_MAP_TILE_URL, ATENSI_MAP_ATTRIBUTION, ATENSI_MAP_CACHE_SECONDS.
A missing or malformed value fails at start with a message naming it.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from .paths import BASE_DIR, VAR_DIR

# Generic Django classes (ModelAdmin[Case], ModelChoiceField[User]) are subscriptable
# at run time too, as the typed base classes of admins and form fields need.
django_stubs_ext.monkeypatch()

env = environ.Env()


def _require(name: str, hint: str) -> str:
    value: str = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {hint}")
    return value


_require(
    "DATABASE_URL",
    "Run the portal with `make run` / `make test` (they start an embedded PostgreSQL), "
    "or point DATABASE_URL at PostgreSQL >= 14, e.g. postgres://user:pass@host:5432/atensi",
)
REDIS_URL = _require(
    "REDIS_URL",
    "Run the portal with `make run` / `make test` (they start an embedded Redis), "
    "or point REDIS_URL at Redis, e.g. redis://127.0.0.1:6379/0",
)

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "atensi.core.admin_apps.PortalAdminConfig",  # django.contrib.admin, with a safe "view on site"
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_celery_beat",
    "axes",  # login throttling (AXES_* below)
    "django_otp",  # the second factor (stakeholders.second_factor)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # single-use recovery codes
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # Bootstrap 5 static files from the django-bootstrap-static wheel
    "js_lib_htmx",  # htmx static files from the django-js-lib-htmx wheel
    "atensi.core",  # the shared kernel, app label "atensi"
    "stakeholders",
    "cases",
    "referrals",
    "atensi",  # the project layer (app label "atensi_project"): its management commands
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the session timeout: signing an idle session out says why, as a message.
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and lifetime of a session (stakeholders.sessions), before the login check.
    "stakeholders.sessions.SessionTimeoutMiddleware",
    # A signed-in person who has a second factor, or whose roles require one, gives it first.
    "stakeholders.second_factor.SecondFactorMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Attaches the acting user and URL to every audited write (pghistory context).
    "pghistory.middleware.HistoryMiddleware",
    # A 404 for a record that exists but is not the requester's is logged as a denial.
    "stakeholders.denials.DenialLogMiddleware",
    # Last: turns a locked-out login attempt into the cool-off page (stakeholders.signin).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "atensi.urls"
WSGI_APPLICATION = "atensi.wsgi.application"
ASGI_APPLICATION = "atensi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atensi.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.str("DATABASE_REPLICA_URL", default=""):
    # Dashboards and exports may read from a replica; writes always go to default.
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------------------
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a unix socket `redis+socket:///path`; redis-py spells it `unix:///path`."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_RESULT_EXPIRES = 3600
# Nobody reads a task's result (the worker logs what a sweep did). With results on,
# sending a task first subscribes to its result in Redis; with Redis down that retries
# for ~20 s and raises RuntimeError instead of the broker error callers handle, so a web
# request sending a task would hang. A caller that wants a result asks for it.
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Jakarta"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# A message not acknowledged within this window is redelivered. It must exceed the
# longest retry backoff (capped at CELERY_MAX_RETRY_DELAY) plus the task time limit,
# or Redis would hand the same task to a second worker while the first still waits.
CELERY_MAX_RETRY_DELAY = 600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints (the console e-mail backend in development) is ordinary output, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "stakeholders.User"
# Axes first: it refuses a locked-out username + address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "stakeholders.backends.MembershipBackend"]

# Login throttling (django-axes). Counters live in the database (a Redis outage must not
# lift them) and count a username and an address together: nobody can lock a social worker
# out from elsewhere, and a guesser is slowed on every account they try. After
# ATENSI_LOGIN_FAILURE_LIMIT failures that pair waits ATENSI_LOGIN_COOLOFF_MINUTES; a
# successful login clears it. Lockouts are listed, and cleared, in admin (Axes).
ATENSI_TRUSTED_PROXY_COUNT = env.int("ATENSI_TRUSTED_PROXY_COUNT", default=0)
if ATENSI_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("ATENSI_TRUSTED_PROXY_COUNT must be 0 or more")
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("ATENSI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("ATENSI_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "atensi.core.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "stakeholders.signin.locked_out"
AXES_VERBOSE = False
# Failed attempts only: successful logins are not copied into a table of axes' own.
AXES_DISABLE_ACCESS_LOG = True
# Password reset requests an hour from one address, and reset e-mails an hour to one address.
ATENSI_PASSWORD_RESET_PER_ADDRESS = env.int("ATENSI_PASSWORD_RESET_PER_ADDRESS", default=10)
ATENSI_PASSWORD_RESET_PER_EMAIL = env.int("ATENSI_PASSWORD_RESET_PER_EMAIL", default=3)
# The second factor (stakeholders.second_factor): required of these roles and of anyone
# with Django admin access; anyone else may enrol. Codes come from an authenticator app
# (TOTP) or are single-use recovery codes; wrong codes slow the next try (django-otp's
# throttle: 1, 2, 4... seconds).
ATENSI_TWO_FACTOR_ROLES = env.list(
    "ATENSI_TWO_FACTOR_ROLES", default=["supervisor", "org_admin", "referral_officer", "national_admin"]
)
ATENSI_RECOVERY_CODES = 10
# Refused requests for records that exist (stakeholders.denials): at most this many logged a
# user a minute; this many within these minutes alert the national and org admins.
ATENSI_DENIALS_PER_MINUTE = env.int("ATENSI_DENIALS_PER_MINUTE", default=10)
ATENSI_DENIAL_BURST = env.int("ATENSI_DENIAL_BURST", default=20)
ATENSI_DENIAL_BURST_MINUTES = env.int("ATENSI_DENIAL_BURST_MINUTES", default=10)
# Registration searches that find children of other organisations, a user an hour
# (cases.beneficiaries.screening); own-organisation and empty searches do not count.
ATENSI_FOREIGN_MATCHES_PER_HOUR = env.int("ATENSI_FOREIGN_MATCHES_PER_HOUR", default=30)
# The access log (views, downloads, exports, searches, refusals) is kept this long.
ATENSI_ACCESS_LOG_RETENTION_DAYS = env.int("ATENSI_ACCESS_LOG_RETENTION_DAYS", default=730)
# A subject access request is answered within this many hours of its arrival (UU 27/2022
# Pasal 32: 3 x 24 hours).
ATENSI_SUBJECT_ACCESS_HOURS = env.int("ATENSI_SUBJECT_ACCESS_HOURS", default=72)
# The organisation's supervisors are reminded this many hours before that deadline.
ATENSI_SUBJECT_ACCESS_WARN_HOURS = env.int("ATENSI_SUBJECT_ACCESS_WARN_HOURS", default=24)
# Retention (atensi.erasure, monthly): a beneficiary is anonymised once every case of
# theirs, in every organisation, was closed more than ATENSI_RETENTION_YEARS ago, and (birth
# date known) they are older than ATENSI_RETENTION_ADULT_AGE + ATENSI_RETENTION_AGE_MARGIN_YEARS.
ATENSI_RETENTION_YEARS = env.int("ATENSI_RETENTION_YEARS", default=10)
ATENSI_RETENTION_ADULT_AGE = env.int("ATENSI_RETENTION_ADULT_AGE", default=18)
ATENSI_RETENTION_AGE_MARGIN_YEARS = env.int("ATENSI_RETENTION_AGE_MARGIN_YEARS", default=2)
if ATENSI_RETENTION_YEARS < 1 or ATENSI_RETENTION_ADULT_AGE < 18 or ATENSI_RETENTION_AGE_MARGIN_YEARS < 0:
    raise ImproperlyConfigured(
        "ATENSI_RETENTION_YEARS must be 1 or more, ATENSI_RETENTION_ADULT_AGE 18 or more and "
        "ATENSI_RETENTION_AGE_MARGIN_YEARS 0 or more"
    )
OTP_TOTP_ISSUER = "ATENSI Portal"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Field offices share computers: a session ends after 30 minutes without activity, and
# after a working day however active (stakeholders.sessions).
ATENSI_SESSION_IDLE_SECONDS = env.int("ATENSI_SESSION_IDLE_SECONDS", default=30 * 60)
ATENSI_SESSION_MAX_SECONDS = env.int("ATENSI_SESSION_MAX_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_AGE = ATENSI_SESSION_MAX_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = "id"
# Dates typed day first in both languages (10/12/2016 is 10 December): atensi/settings/formats.
FORMAT_MODULE_PATH = "atensi.settings.formats"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Jakarta"
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT: Path | None = VAR_DIR / "static"
STATICFILES_DIRS: list[Any] = [BASE_DIR / "static"]
try:
    from xstatic.pkg import leaflet as _xstatic_leaflet

    STATICFILES_DIRS.append(("leaflet", _xstatic_leaflet.BASE_DIR))
except ImportError:  # pragma: no cover - the wheel is in requirements.txt
    pass
STORAGES = {
    # Case documents never live under a public URL: they are served by a permission
    # checked, audited view. MEDIA_URL is deliberately unset.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Email ----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ATENSI Portal <noreply@atensi.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Map tiles ------------------------------------------------------------------------
# The maps (an organisation's pin, the map of open cases) draw their background tiles from
# this server, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png or an office's own tile
# server; the CSP below allows images from its host (a {s} subdomain placeholder as a
# wildcard), nothing else. Empty (the default): no tiles, and the maps draw their pins and
# bubbles on a plain background, which works offline and behind any firewall.
ATENSI_MAP_TILE_URL = env.str("ATENSI_MAP_TILE_URL", default="")
ATENSI_MAP_ATTRIBUTION = env.str("ATENSI_MAP_ATTRIBUTION", default="")


def tile_origin(url: str) -> str | None:
    """The origin the CSP must allow images from for tiles at `url`; None without tiles."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise ImproperlyConfigured(
            "ATENSI_MAP_TILE_URL must be empty or an http(s) URL with {z}, {x} and {y}, "
            "e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        )
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


_TILE_ORIGIN = tile_origin(ATENSI_MAP_TILE_URL)

# The map's counts of open cases per kab/kota are kept this many seconds in the cache (per
# reader's scope and filters) and the page says how fresh they are: counting every case of
# Indonesia takes about a second at 1,000,000 cases. 0: counted on every request.
ATENSI_MAP_CACHE_SECONDS = env.int("ATENSI_MAP_CACHE_SECONDS", default=300)
if ATENSI_MAP_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("ATENSI_MAP_CACHE_SECONDS must be 0 or more")

# --- Security -------------------------------------------------------------------------
# No CDN, no inline script or style: everything the browser loads comes from us.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Third-party apps -----------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PGHISTORY_ADMIN_MODEL = "pghistory.Events"
# The Events browser lists nothing until it is asked for something (an event model, a
# label, an object): every event of every table, newest first and counted, took minutes
# at 1,000,000 cases.
PGHISTORY_ADMIN_ALL_EVENTS = False

# --- The portal -----------------------------------------------------------------------
# Demo data (known passwords) may be loaded only where this is True; production never.
ATENSI_DEMO_DATA_ALLOWED = False
ATENSI_DEMO_PASSWORD = "atensi-demo-2026"
# Spreadsheet imports (stakeholders/imports.py): a 5,000-row list is well under 5 MB; a
# larger file is refused before it is parsed.
ATENSI_IMPORT_MAX_BYTES = 5 * 1024 * 1024
# Dashboard figures are kept in the cache this long (beat counts Indonesia's, the
# provinces' and the slow organisations' ahead every ten minutes). Aggregate readers
# (rounded figures anyway) always read them; exact readers (supervisors, superusers) get
# live figures unless counting them took longer than ATENSI_DASHBOARD_LIVE_MS, and may
# recount kept figures once they are ATENSI_DASHBOARD_RECOUNT_AFTER_SECONDS old. An
# organisation found slow is counted ahead for ATENSI_DASHBOARD_SLOW_MEMORY_SECONDS. 0: never.
ATENSI_DASHBOARD_CACHE_SECONDS = env.int("ATENSI_DASHBOARD_CACHE_SECONDS", default=900)
ATENSI_DASHBOARD_LIVE_MS = env.int("ATENSI_DASHBOARD_LIVE_MS", default=150)
ATENSI_DASHBOARD_RECOUNT_AFTER_SECONDS = 60
# The supervisor's home page counts the team's caseload live unless that took longer than
# this; then the organisation is counted ahead with the dashboards (and read from there).
ATENSI_HOME_CASELOAD_LIVE_MS = env.int("ATENSI_HOME_CASELOAD_LIVE_MS", default=30)
# Parts of a page kept rendered this long (atensi.core.fragments: the case list's filter
# form, per user, language and filters). 0: drawn every time.
ATENSI_FRAGMENT_SECONDS = env.int("ATENSI_FRAGMENT_SECONDS", default=60)
ATENSI_DASHBOARD_SLOW_MEMORY_SECONDS = 7 * 24 * 3600
ATENSI_IMPORT_MAX_ROWS = 5000
# Largest signed agreement (MoU/PKS) PDF accepted; a scanned multi-page agreement fits.
ATENSI_AGREEMENT_MAX_BYTES = 10 * 1024 * 1024
# Largest case document (PDF, JPEG, PNG, DOCX). A larger file still reaches the view
# (DATA_UPLOAD_MAX_MEMORY_SIZE counts only the non-file fields; files over
# FILE_UPLOAD_MAX_MEMORY_SIZE stream to a temporary file) and is refused with a message.
ATENSI_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Aftercare (bimbingan lanjut) visits scheduled when a case enters termination, in
# calendar months after the day of termination (cases/workflow.py).
ATENSI_AFTERCARE_MONTHS = (1, 3, 6)
# Reminder rules (cases/reminders.py): a follow-up still pending more than this many days
# after its due day escalates to the case's supervisor (missed aftercare too); a case
# longer than this many days in a stage reminds its case manager; an approval waiting
# longer than this many days reminds the organisation's other supervisors.
ATENSI_FOLLOW_UP_ESCALATE_DAYS = 3
ATENSI_STAGE_DEADLINE_DAYS = {"pendekatan_awal": 7, "asesmen": 14}
ATENSI_APPROVAL_WAITING_DAYS = 2
# Read notifications, and delivered or cancelled reminders, are deleted after this many
# days (atensi/core/retention.py, daily). Keep it longer than any reminder rule looks back.
ATENSI_NOTIFICATION_RETENTION_DAYS = 180
# Exports (atensi/core/exports.py): an XLSX of up to this many rows is made in the request,
# a larger one in the background; a background export's file is deleted this many hours
# after it was made (the daily retention task).
ATENSI_EXPORT_XLSX_MAX_ROWS = env.int("ATENSI_EXPORT_XLSX_MAX_ROWS", default=5000)
ATENSI_EXPORT_RETENTION_HOURS = env.int("ATENSI_EXPORT_RETENTION_HOURS", default=24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Axes reports every failed login at INFO; the attempts themselves are in its tables.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
