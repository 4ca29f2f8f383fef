"""A mail server on loopback for the reminder bench: it accepts every message, keeps its
Message-ID, and writes them all out when told to stop (SIGTERM), so that the bench can
check each reminder's e-mail arrived exactly once.

    python -m tests.bench.smtp_sink PORT OUT.json

`load(port, connections, messages)` measures the sink alone: that many client connections,
each sending its share of a prepared message as fast as the sink takes them.
"""

from __future__ import annotations

import json
import re
import signal
import smtplib
import sys
import threading
import time
from pathlib import Path
from typing import Any

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class Counting:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = bytes(envelope.content[:4096])
        found = _MESSAGE_ID.search(head)
        self.ids.append(found.group(1).decode("ascii", "replace") if found else "")
        return "250 OK"


def serve(port: int, out: Path) -> None:
    from aiosmtpd.controller import Controller

    handler = Counting()
    # The bench's messages are small; no size limit check slows the sink.
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=0)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    controller.start()
    print("ready", flush=True)
    stopped.wait()
    controller.stop()
    out.write_text(json.dumps({"received": len(handler.ids), "ids": handler.ids}))


def load(port: int, connections: int, messages: int) -> float:
    """Messages per second the sink takes from `connections` clients sending `messages` in all."""
    raw = (
        b"From: bench@atensi.local\r\nTo: sink@atensi.local\r\nSubject: ATENSI Portal: Tindak lanjut\r\n"
        b"Message-ID: <sink.0@atensi.local>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + b"Kunjungan rumah jatuh tempo besok. https://atensi.local/cases/1/\r\n"
        * 20
    )
    share = messages // connections

    def client() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for _ in range(share):
                smtp.sendmail("bench@atensi.local", ["sink@atensi.local"], raw)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return share * connections / (time.perf_counter() - started)


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
