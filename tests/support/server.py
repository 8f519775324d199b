"""Real ChatDB servers for integration tests, on loopback ports.

``in_process_suite`` starts the real runtime (the same code as ``chatdb serve``) in
the test's event loop; ``ServerProcess`` runs ``chatdb serve`` as a child process, for
tests that stop and restart services. Authentication is on, as in production: both hand
out channels that send the bootstrap admin key (an operator, so the tenant header of a
call still chooses its tenant), and data sources on this machine are allowed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import grpc

from chatdb_server.access.bootstrap import read_admin_key
from chatdb_server.server.runtime import RunningServer, start_server
from chatdb_server.server.tls import bearer_interceptors
from chatdb_server.settings import Settings
from tests.support.trusted_targets import TRUSTED_TARGET_ENV, TRUSTED_TARGET_SETTINGS

READY_TIMEOUT_S = 120.0


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: loopback, a free port, its own data dir, quiet logs."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "data_dir": data_dir, "grace_s": 2.0,
                              "log_level": "warning", "job_poll_s": 0.1, **TRUSTED_TARGET_SETTINGS}
    values.update(overrides)
    return Settings.from_env({}, **values)


@asynccontextmanager
async def in_process_suite(data_dir: Path, services: Sequence[str] = (),
                           **overrides: Any) -> AsyncIterator[tuple[RunningServer, grpc.aio.Channel]]:
    """Start the real runtime for ``services`` (all when empty); yield it and a channel to it."""
    running = await start_server(server_settings(data_dir, **overrides), services)
    channel = keyed_channel(f"127.0.0.1:{running.port}", read_admin_key(data_dir))
    try:
        yield running, channel
    finally:
        # Stop the server before closing the channel: the other order can leave calls in flight
        # that hang the event loop's shutdown.
        await running.stop(grace=1.0)
        await channel.close()


def keyed_channel(address: str, key: str) -> grpc.aio.Channel:
    """A plaintext channel to ``address`` whose calls send ``key`` (none when empty)."""
    return grpc.aio.insecure_channel(address, interceptors=bearer_interceptors(key) or None)


def keyed_metadata(key: str, tenant: str = "") -> tuple[tuple[str, str], ...]:
    """Call metadata with ``key`` as the bearer and, when named, the tenant header."""
    metadata = [("authorization", f"Bearer {key}")]
    if tenant:
        metadata.append(("x-chatdb-tenant", tenant))
    return tuple(metadata)


class ServerProcess:
    """``chatdb serve`` in a child process; its port is read from its start-up log line."""

    def __init__(self, data_dir: Path, services: Sequence[str] = (), env: dict[str, str] | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.services = list(services)
        self.extra_env = env or {}
        self.requested_port = port
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.log_lines: list[str] = []
        self._ready = threading.Event()

    def start(self) -> ServerProcess:
        """Start the process and wait until it logs that it is serving."""
        env = {**os.environ, "CHATDB_DATA_DIR": str(self.data_dir), "CHATDB_PORT": str(self.requested_port),
               "CHATDB_HOST": self.host, "CHATDB_LOG_LEVEL": "info", "CHATDB_GRACE_S": "2",
               # No browser console unless a test asks for one: its default port would be shared by every server.
               "CHATDB_CONSOLE_PORT": "0", **TRUSTED_TARGET_ENV, **self.extra_env}
        self.proc = subprocess.Popen([sys.executable, "-m", "chatdb_server.cli", "serve", *self.services], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT_S) or not self.port:
            self.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.log_lines[-30:]))
        return self

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log_lines.append(line)
            if '"server.started"' in line:
                with suppress(ValueError, KeyError):
                    self.port = int(json.loads(line)["port"])
                self._ready.set()
        self._ready.set()

    @property
    def address(self) -> str:
        """host:port of the server."""
        return f"{self.host}:{self.port}"

    @property
    def admin_key(self) -> str:
        """The bootstrap admin key: the configured one, else the one the server wrote into its data dir."""
        return self.extra_env.get("CHATDB_BOOTSTRAP_ADMIN_KEY") or read_admin_key(self.data_dir)

    def channel(self) -> grpc.aio.Channel:
        """An asyncio channel to the server that sends the admin key."""
        return keyed_channel(self.address, self.admin_key)

    def sync_channel(self) -> grpc.Channel:
        """A blocking channel to the server that sends the admin key."""
        return grpc.intercept_channel(grpc.insecure_channel(self.address), _SyncBearer(self.admin_key))

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code. A server still running after ``timeout`` is asked for every thread's
        stack (SIGUSR1), killed, and reported with that stack."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            seen = len(self.log_lines)
            self.proc.send_signal(signal.SIGUSR1)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)  # time to write the stacks (safety limit; it does not exit on SIGUSR1)
            self.kill()
            raise AssertionError(f"the server did not stop within {timeout:.0f} s of SIGTERM; its threads:\n"
                                 + "".join(self.log_lines[seen:])[-20_000:]) from None

    def kill(self) -> None:
        """SIGKILL, for crash tests."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.terminate()


class _SyncBearer(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds the bearer key to blocking unary calls."""

    def __init__(self, key: str) -> None:
        self._key = key

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), ("authorization", f"Bearer {self._key}")]
        return continuation(_Details(details.method, details.timeout, metadata, details.credentials,
                                     details.wait_for_ready, details.compression), request)


class _Details(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, method: str, timeout: float | None, metadata: Any, credentials: Any,
                 wait_for_ready: bool | None, compression: Any) -> None:
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = credentials, wait_for_ready, compression
