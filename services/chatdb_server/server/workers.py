"""``chatdb serve --workers N``: N server processes on one port, one event loop per core.

One process answers on one core: its event loop runs every call's Python. A worker here is a whole ChatDB
server, as a replica in Kubernetes is: the workers share the metadata store and Milvus, and the kernel
spreads client connections over them (SO_REUSEPORT on the shared port). What replicas already share
safely across processes holds for workers too: job claims, the generations that version retrieval's copies
and the caches, and group commit's lock order for overwritten rows.

The embedded defaults need two things more than one process does:

- Milvus Lite lets one process own its data directory, so the supervisor serves it from a process of its
  own (Milvus Lite's gRPC server on a loopback port), and every worker connects to that.
- The first worker migrates the metadata store and creates the bootstrap admin key before the others
  start, so they do not race for either.

The console runs in the first worker only; with a metrics port P, worker i serves its own metrics on P + i.
A worker that dies is started again; SIGTERM or SIGINT stops every worker (each drains its calls), then
Milvus Lite (which closes its data cleanly). Each child holds a pipe from the supervisor and stops when it
closes: the supervisor closes it to stop the child, and a killed supervisor's pipes close with it, so its
children do not serve on without it.

The embedded SQLite metadata store works, but its writers in different processes take turns on the file's
lock and wait with SQLite's sleeping busy handler: PostgreSQL (``CHATDB_METADATA_URL``) is the store that
lets throughput grow with workers.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext, SpawnProcess
from pathlib import Path
from typing import Any

from chatdb_server import log
from chatdb_server.retrieval.vector_lite import is_lite_uri
from chatdb_server.settings import Settings

logger = log.get_logger(__name__)

START_TIMEOUT_S = 180.0
"""How long a worker (loading the embedding model, migrating) or Milvus Lite may take to start serving."""
RESTART_PAUSE_S = 1.0
"""Pause before a worker that died is started again, so a worker that cannot start does not spin."""


def free_port(host: str) -> int:
    """A port no process listens on now, for workers started with port 0."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host.strip("[]"), 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_lite(data_path: str, lifeline: Connection, ports: Any) -> None:
    """Milvus Lite's server over ``data_path`` in this process, until the supervisor says stop or is gone
    (``lifeline`` closes with it); then it drains its calls and closes the data cleanly."""
    from milvus_lite.adapter.grpc.server import start_server_in_thread

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C at the terminal: the supervisor decides
    server, database, port = start_server_in_thread(data_dir=data_path, host="127.0.0.1", port=0)
    ports.put(port)
    _until_closed(lifeline)
    server.stop(grace=5)
    database.close()


@dataclass
class LiteServer:
    """Milvus Lite's data directory served by a process of its own, for every worker to connect to."""

    process: SpawnProcess
    stop_line: Connection
    uri: str

    @classmethod
    def start(cls, context: SpawnContext, data_path: str) -> LiteServer:
        """A Milvus Lite server over ``data_path`` (the file URI one process would open) on a loopback port."""
        Path(data_path).parent.mkdir(parents=True, exist_ok=True)
        lifeline, stop_line = context.Pipe(duplex=False)
        ports = context.Queue()
        process = context.Process(target=_serve_lite, args=(data_path, lifeline, ports), name="chatdb-milvus-lite")
        process.start()
        lifeline.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                port = int(ports.get(timeout=0.5))
                break
            except queue.Empty:
                if not process.is_alive() or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"Milvus Lite did not start serving {data_path} "
                                       f"(exit status {process.exitcode})") from None
        logger.info("workers.milvus_lite_started", port=port)
        return cls(process, stop_line, f"http://127.0.0.1:{port}")

    def stop(self) -> None:
        """Close its lifeline (it drains and closes its data), and wait."""
        self.stop_line.close()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def worker_settings(settings: Settings, index: int) -> Settings:
    """A worker's settings: the console in the first worker only, metrics on a port of each worker's own."""
    return settings.replace(
        workers=1, console_port=settings.console_port if index == 0 else 0,
        metrics_port=settings.metrics_port + index if settings.metrics_port > 0 else 0)


def _run_worker(settings: Settings, names: Sequence[str], index: int, ready: Any, lifeline: Connection) -> None:
    """A worker process's main: serve until SIGTERM or SIGINT, telling the supervisor once serving. A worker
    whose supervisor is gone (killed, so it could not stop them) stops too: ``lifeline`` closes with it."""
    import asyncio

    from chatdb_server.server.runtime import serve

    log.configure(settings.log_level, settings.log_format)
    threading.Thread(target=_stop_when_gone, args=(lifeline,), name="supervisor-lifeline", daemon=True).start()
    asyncio.run(serve(settings, names, worker=index, on_ready=lambda: ready.put(index)))


def _stop_when_gone(lifeline: Connection) -> None:
    _until_closed(lifeline)
    os.kill(os.getpid(), signal.SIGTERM)


def _until_closed(lifeline: Connection) -> None:
    """Wait until the supervisor closes its end of ``lifeline``: to stop this child, or by exiting."""
    with suppress(EOFError, OSError):
        lifeline.recv()


class Supervisor:
    """Starts, watches and stops the workers of one port."""

    def __init__(self, settings: Settings, names: Sequence[str]) -> None:
        self._names = list(names)
        self._context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
        self._ready = self._context.Queue()
        self._workers: dict[int, SpawnProcess] = {}
        self._lifelines: dict[int, Connection] = {}  # the ends that keep each worker's lifeline open
        self._lite: LiteServer | None = None
        self._stopping = False
        self._wake_read, self._wake_write = socket.socketpair()
        self._settings = settings.replace(port=settings.port or free_port(settings.host))

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; the exit status."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        try:
            self._start_all()
            self._watch()
            return 0
        except RuntimeError as error:
            logger.error("workers.failed", error=str(error))
            return 1
        finally:
            self._stop_all()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True
        self._wake_write.send(b"x")

    def _start_all(self) -> None:
        settings = self._settings
        if is_lite_uri(settings.resolved_milvus_uri):
            self._lite = LiteServer.start(self._context, settings.resolved_milvus_uri)
            settings = self._settings = settings.replace(milvus_uri=self._lite.uri)
        count = settings.workers
        self._start(0)
        self._await_ready({0})  # the first one migrates and bootstraps alone
        for index in range(1, count):
            self._start(index)
        self._await_ready(set(range(1, count)))
        logger.info("server.started", host=settings.host, port=settings.port, workers=count,
                    services=self._names or "all", data_dir=str(settings.data_dir))

    def _start(self, index: int) -> None:
        lifeline, held = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_run_worker, name=f"chatdb-worker-{index}",
                                        args=(worker_settings(self._settings, index), self._names, index,
                                              self._ready, lifeline))
        process.start()
        lifeline.close()
        if index in self._lifelines:
            self._lifelines[index].close()
        self._workers[index] = process
        self._lifelines[index] = held

    def _await_ready(self, waiting: set[int]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while waiting and not self._stopping:
            dead = [self._workers[i] for i in waiting if not self._workers[i].is_alive()]
            if dead:
                raise RuntimeError(f"{dead[0].name} exited while starting (exit status {dead[0].exitcode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(waiting)} did not start within {START_TIMEOUT_S:.0f} s")
            try:
                waiting.discard(self._ready.get(timeout=0.5))
            except queue.Empty:  # look at the workers again
                continue

    def _watch(self) -> None:
        """Until a signal: start again any worker that died."""
        while not self._stopping:
            sentinels = {process.sentinel: index for index, process in self._workers.items()}
            for woke in wait([*sentinels, self._wake_read]):
                if woke is self._wake_read or self._stopping:
                    continue
                index = sentinels[woke]  # type: ignore[index]
                logger.error("workers.worker_exited", worker=index, exit_status=self._workers[index].exitcode)
                time.sleep(RESTART_PAUSE_S)
                self._start(index)

    def _stop_all(self) -> None:
        self._stopping = True
        for lifeline in self._lifelines.values():
            lifeline.close()  # each worker stops itself as it would if this process were gone
        grace = self._settings.grace_s + 30.0  # each worker drains, then settles its tasks
        for process in self._workers.values():
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()
        if self._lite is not None:
            self._lite.stop()
        logger.info("server.stopped", port=self._settings.port, workers=len(self._workers))


def serve_workers(settings: Settings, names: Sequence[str]) -> int:
    """Run ``settings.workers`` server processes on ``settings.port``; the exit status."""
    return Supervisor(settings, names).run()
