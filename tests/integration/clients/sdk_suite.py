"""What the Python SDK's tests against the real suite share: ``chatdb serve`` in a child process
(so the blocking client may call it from a test's event loop) with its Prometheus endpoint, a
PostgreSQL shop with every value type, a loopback HTTP receiver for webhooks, and a helper that
settles what either client returned (a value, a coroutine, an iterator or an async iterator)."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.databases import postgres_database, sync_engine_for
from tests.support.scrape import Samples, free_port, scrape
from tests.support.server import ServerProcess

SHOP_SQL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, region TEXT, joined DATE,
                        vip BOOLEAN, prefs JSONB);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total NUMERIC(10, 2),
                     placed_at TIMESTAMPTZ, weight DOUBLE PRECISION, receipt BYTEA, pickup TIME);
INSERT INTO customers VALUES
  (1, 'Ada', 'ada@example.com', 'north', '2024-01-05', true, '{"tags": ["a", "b"], "n": 1}'),
  (2, 'Grace', 'grace@example.com', 'south', NULL, false, NULL),
  (3, 'Linus', NULL, 'north', '2023-07-14', NULL, '[1, 2]');
INSERT INTO orders VALUES
  (10, 1, 12.50, '2024-02-01 09:30:00+00', 1.5, '\\x0001ff', '09:30:00'),
  (11, 2, 3.00, '2024-02-02 18:00:00+02', NULL, NULL, NULL),
  (12, 1, 123456.78, NULL, 0.25, '\\x', '23:59:59');
"""
"""Two joined tables holding every wire type, NULLs included."""


@dataclass
class Receiver:
    """A loopback HTTP server that answers 204 to every POST and keeps the bodies and headers."""

    server: ThreadingHTTPServer
    posts: list[tuple[dict[str, str], Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@dataclass
class Suite:
    """The running server, its metrics port, the shop's DSN and the webhook receiver."""

    process: ServerProcess
    metrics_port: int
    shop_dsn: str
    receiver: Receiver

    @property
    def address(self) -> str:
        return self.process.address

    @property
    def admin_key(self) -> str:
        return self.process.admin_key

    def samples(self) -> Samples:
        return scrape(self.metrics_port)

    def handled(self, samples: Samples, service: str, method: str) -> float:
        """Calls of ``service``/``method`` the server finished by the time of ``samples``, whatever their status."""
        return sum(count for (name, labels), count in samples.items()
                   if name == "chatdb_rpc_handled_total" and ("service", service) in labels
                   and ("method", method) in labels)


@pytest.fixture(scope="module", name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    """The webhook receiver, for the module."""
    posts: list[tuple[dict[str, str], Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts.append((dict(self.headers.items()), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(server, posts)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module", name="suite")
def suite_fixture(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Suite]:
    """Every service in one ``chatdb serve`` process with metrics on, and the PostgreSQL shop, for the module."""
    with postgres_database() as dsn:
        engine = sync_engine_for(dsn)
        with engine.connect() as connection:
            for statement in filter(str.strip, SHOP_SQL.split(";")):
                connection.execute(text(statement))
        engine.dispose()
        metrics_port = free_port()
        env = {"CHATDB_METRICS_PORT": str(metrics_port), "CHATDB_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
               "CHATDB_WEBHOOK_POLL_S": "0.2", "CHATDB_JOB_POLL_S": "0.2"}
        data_dir: Path = tmp_path_factory.mktemp("sdk-suite")
        with ServerProcess(data_dir, env=env) as process:
            yield Suite(process, metrics_port, dsn, receiver)


async def settle(result: Any) -> Any:
    """What a client method gave, settled: a coroutine awaited, an iterator or async iterator read to a list
    (messages, repeated fields and lists stay as they are)."""
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, AsyncIterator):
        return [item async for item in result]
    if isinstance(result, Iterator):
        return list(result)
    return result
