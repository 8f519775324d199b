"""Real ChatDB servers for integration tests, on loopback ports.

``in_process_suite`` starts the real runtime (the same code as ``chatdb serve``) in
the test's event loop; ``ServerProcess`` runs ``chatdb serve`` as a child process, for
tests that stop and restart services.
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

from chatdb_server.server.runtime import RunningServer, start_server
from chatdb_server.settings import Settings

READY_TIMEOUT_S = 120.0


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: loopback, a free port, its own data dir, quiet logs."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "data_dir": data_dir, "grace_s": 2.0,
                              "log_level": "warning", "job_poll_s": 0.1}
    values.update(overrides)
    return Settings.from_env({}, **values)


@asynccontextmanager
async def in_process_suite(data_dir: Path, services: Sequence[str] = (),
                           **overrides: Any) -> AsyncIterator[tuple[RunningServer, grpc.aio.Channel]]:
    """Start the real runtime for ``services`` (all when empty); yield it and a channel to it."""
    running = await start_server(server_settings(data_dir, **overrides), services)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield running, channel
    finally:
        # Stop the server before closing the channel: the other order can leave calls in flight
        # that hang the event loop's shutdown.
        await running.stop(grace=1.0)
        await channel.close()


class ServerProcess:
    """``chatdb serve`` in a child process; its port is read from its start-up log line."""

    def __init__(self, data_dir: Path, services: Sequence[str] = (), env: dict[str, str] | None = None,
                 port: int = 0) -> None:
        self.data_dir = data_dir
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
               "CHATDB_HOST": "127.0.0.1", "CHATDB_LOG_LEVEL": "info", "CHATDB_GRACE_S": "2",
               **self.extra_env}
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
        return f"127.0.0.1:{self.port}"

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

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
