"""Real Celery processes for integration tests, pointed at the test database and test Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


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


@contextmanager
def celery_worker(*, queue: str | None = None, concurrency: int = 1, tmp_path: Path | None = None) -> Iterator[Worker]:
    """A real `celery worker` on its own queue; stopped (or killed) on exit."""
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
            cmd, cwd=ROOT, env=process_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
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
