"""Production settings refuse insecure values; with good values `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3J9-q_vX2mZ8rT4wY7uP1sL6dF0hG5jN3bV9cX2zQ8aW4eR7tY1uI5oP3lK6jH0"


def run_production(*args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="atensi.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="atensi.example.go.id",
        DEBUG="false",
    )
    env.update(env_overrides)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests' event loop only
    for name, value in list(env.items()):
        if value == "<unset>":
            del env[name]
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": "<unset>"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "django-insecure-atensi-local-development-only-key-0123456789"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"ALLOWED_HOSTS": "<unset>"}, "ALLOWED_HOSTS must list"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list"),
        ({"DATABASE_URL": "<unset>"}, "DATABASE_URL is not set"),
        ({"REDIS_URL": "<unset>"}, "REDIS_URL is not set"),
        ({"DATABASE_URL": "sqlite:///tmp/x.db"}, "must point at PostgreSQL"),
    ],
)
def test_production_refuses_to_start_with_insecure_or_missing_values(override, message):
    result = run_production("check", **override)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_production_values():
    result = run_production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_demo_data_is_refused_under_production_settings():
    result = run_production("load_demo")
    assert result.returncode != 0
    assert "cannot be loaded" in result.stderr


def test_production_sends_strict_security_headers():
    code = (
        "import django; django.setup();"
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        " s.SECURE_REFERRER_POLICY, [str(v) for v in s.SECURE_CSP['script-src']])"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="atensi.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="atensi.example.go.id",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True True True True same-origin [\"'self'\"]"
