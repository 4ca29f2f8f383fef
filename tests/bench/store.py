"""The bench's database: kept between runs, rebuilt only when what made it changed.

The data set lives in its own database (`atensi_bench`, see tests/bench/settings.py),
which pytest-django's teardown never drops. Its `COMMENT ON DATABASE` is a small JSON
stamp: the fingerprint of what built it (the generator's code, every migration file),
the scale, the layers built so far, their row counts and build times. A run whose
fingerprint and scale match reuses the database as it is (no migrate, no load); a
missing layer is built on top; anything else (or BENCH_REBUILD=1, say after a section
died before removing what it added) drops the database and starts again.
A layer commits with the stamp that records it, so a run that dies half way leaves a
database whose stamp tells the truth.
"""

from __future__ import annotations

import cProfile
import hashlib
import json
import os
import time
from typing import Any

from django.db import connections, transaction
from django.test.utils import setup_databases

from tests.bench import dataset
from tests.bench.harness import ROOT

# The generator's code: a change in any of these rebuilds the data set. (The services that
# make the few named accounts are left out: they change often and make the same rows.)
GENERATOR = ("tests/bench/dataset.py", "tests/bench/bulk.py")
APPS = ("atensi", "stakeholders", "cases", "referrals")


def fingerprint() -> str:
    """Of the generator, the Faker release it draws names from, and every migration file."""
    import faker

    digest = hashlib.sha256(f"faker {faker.VERSION}\0".encode())
    files = [ROOT / name for name in GENERATOR]
    for app in APPS:
        files += sorted((ROOT / app).glob("**/migrations/*.py"))
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _test_name() -> str:
    return str(connections["default"].creation._get_test_db_name())


def read_stamp() -> dict[str, Any]:
    """The stamp of the bench database, {} if there is none (or no database)."""
    connection = connections["default"]
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [_test_name()]
        )
        row = cursor.fetchone()
    if row is None or not row[0]:
        return {}
    try:
        stamp = json.loads(row[0])
    except ValueError:
        return {}
    return stamp if isinstance(stamp, dict) else {}


def write_stamp(stamp: dict[str, Any]) -> None:
    text = json.dumps(stamp).replace("'", "''")  # in order: the report lists the sizes as built
    with connections["default"].cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE \"{_test_name()}\" IS '{text}'")


def _use_existing() -> None:
    """Point the default connection at the kept database, as create_test_db(keepdb) would,
    without its migrate run (the fingerprint says the migrations are the ones it ran)."""
    from django.conf import settings

    connection = connections["default"]
    connection.close()
    name = _test_name()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def open_database(scale: float, verbosity: int = 0) -> tuple[dict[str, Any], str]:
    """Open (reuse) or create the bench database; returns its stamp and what was done."""
    wanted = fingerprint()
    stamp = read_stamp()
    rebuild = bool(os.environ.get("BENCH_REBUILD"))
    if stamp.get("fingerprint") == wanted and stamp.get("scale") == scale and not rebuild:
        _use_existing()
        return stamp, "reused"
    if rebuild:
        why = "BENCH_REBUILD"
    elif not stamp:
        why = "no data set yet"
    elif stamp.get("scale") != scale:
        why = f"built for scale {stamp.get('scale')}"
    else:
        why = "the generator or a migration changed"
    setup_databases(verbosity=verbosity, interactive=False, keepdb=False, aliases={"default"}, serialized_aliases=set())
    stamp = {"fingerprint": wanted, "scale": scale, "layers": [], "sizes": {}, "seconds": {}}
    write_stamp(stamp)
    return stamp, f"rebuilt ({why})"


def ensure_layers(stamp: dict[str, Any], needs: set[str]) -> tuple[dict[str, Any], list[str]]:
    """Build the layers `needs` calls for that the database lacks; returns the stamp and those built.

    A layer and the stamp that records it commit together (COMMENT is transactional): a run
    that dies half way leaves the layers before it, and the next run builds the rest.
    """
    built = []
    for layer in dataset.layers_for(needs):
        if layer in stamp["layers"]:
            continue
        started = time.perf_counter()
        with transaction.atomic():
            if os.environ.get("BENCH_PROFILE"):  # where a layer's build time goes, in var/bench
                profile = cProfile.Profile()
                sizes = profile.runcall(dataset.build_layer, layer, stamp["scale"])
                profile.dump_stats(str(ROOT / "var" / "bench" / f"build-{layer}.prof"))
            else:
                sizes = dataset.build_layer(layer, stamp["scale"])
            stamp = {
                **stamp,
                "layers": [*stamp["layers"], layer],
                # A layer may add to the tables below it (the case organisations' staff are users).
                "sizes": {**stamp["sizes"], **dataset.count_rows(), **sizes},
                "seconds": {**stamp["seconds"], layer: round(time.perf_counter() - started, 1)},
            }
            write_stamp(stamp)
        built.append(layer)
    if built:
        # A database in use has been vacuumed by autovacuum (insert thresholds included): its
        # visibility map lets index-only scans skip the heap. A freshly loaded one has none,
        # which would time the first run after a rebuild slower than every later one.
        with connections["default"].cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return stamp, built
