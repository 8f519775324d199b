"""A real HTTP receiver for webhook tests: ``http.server`` on a loopback port, in a thread.

It records every request (headers, raw body, arrival on the monotonic clock), answers with the
status codes it is told to (then 200), and checks each signature the way the README tells
receivers to, with the secret the test gives it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chatdb_server.webhooks.signing import verify

DEADLINE_S = 120.0
"""Safety limit of every wait; waits poll a condition and end as soon as it holds."""


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    """``time.monotonic()`` at arrival."""
    status: int
    """What the receiver answered."""

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        value: dict[str, Any] = json.loads(self.body)
        return value

    def signed_by(self, secret: str) -> bool:
        """Whether the signature headers sign the body with ``secret``."""
        return verify(secret, self.headers.get("chatdb-timestamp", ""), self.body,
                      self.headers.get("chatdb-signature", ""))


class Receiver:
    """The recorded requests and the answers to give."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[Received] = []
        self._answers: list[int] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Where webhooks should POST."""
        return f"http://127.0.0.1:{self.port}/hook"

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with ``statuses``, in order, then 200 again."""
        with self._lock:
            self._answers.extend(statuses)

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = self._answers.pop(0) if self._answers else 200
            self.requests.append(Received(path, headers, body, time.monotonic(), status))
        return status

    def of_type(self, event_type: str) -> list[Received]:
        """The requests carrying events of ``event_type``."""
        return [r for r in list(self.requests) if r.payload.get("type") == event_type]

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Poll ``condition`` until it holds; fail after the safety deadline."""
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; received {len(self.requests)} request(s)")
            await asyncio.sleep(0.02)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
