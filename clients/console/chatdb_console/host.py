"""Serving the console with uvicorn, inside a process that already runs an event loop (``chatdb serve``)
or on its own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from chatdb_console.app import create_app
from chatdb_console.config import ConsoleConfig

GRACE_S = 2


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the hosting process owns SIGTERM and stops the console itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ConsoleServer:
    """The console on ``host:port`` (0 picks a free port), started and stopped by its host process."""

    def __init__(self, config: ConsoleConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
        # Live progress streams stay open: give them a moment at shutdown, not for ever.
        uvicorn_config = uvicorn.Config(create_app(config), log_config=None, access_log=False, lifespan="off",
                                        proxy_headers=False, timeout_graceful_shutdown=GRACE_S)
        self._server = _EmbeddedServer(uvicorn_config)
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self.host, self._wanted_port = host, port

    @property
    def port(self) -> int:
        """The bound port (once started)."""
        if self._socket is None:
            raise RuntimeError("the console is not started")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """Where people open the console."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{shown}:{self.port}/"

    async def start(self) -> None:
        """Bind and serve in the background; OSError when the port cannot be bound."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.create_server((self.host, self._wanted_port), family=family)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError("the console could not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let requests in flight end, stop."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
        if self._socket is not None:
            self._socket.close()
