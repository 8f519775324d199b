"""``chatdb serve --workers 2`` on embedded defaults: two server processes on one port, Milvus Lite served by
a process of its own, and the SQLite metadata store in the data directory.

Connections are spread over the workers by the kernel, and both answer; a worker killed with SIGKILL is
started again; SIGTERM stops every process, and what the workers stored is there for a single process
started on the same data directory. Every wait polls an observable condition under a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb.wire import value_to_python
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.tls import bearer_interceptors
from tests.support.scrape import free_port, moved, scrape
from tests.support.server import ServerProcess
from tests.support.stubs import SuiteStubs

pytestmark = pytest.mark.slow

DEADLINE_S = 180.0
"""Safety limit only, for waits that include a worker's start (the embedding model loads)."""
CUSTOMERS = "How many customers are there?"
CONNECTIONS = 16
ASK_OK = {"service": "chatdb.query.v1.QueryService", "method": "Ask", "code": "OK"}


def two_free_ports() -> int:
    """A port P with P + 1 free too (the workers' metrics endpoints)."""
    while True:
        port = free_port()
        try:
            with socket.create_server(("127.0.0.1", port + 1)):
                return port
        except OSError:
            continue


def connection(address: str, key: str) -> grpc.aio.Channel:
    """A channel with a TCP connection of its own: channels to one address otherwise share one."""
    return grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)],
                                     interceptors=bearer_interceptors(key))


async def train_shop(server: ServerProcess, shop: Path) -> str:
    """Register and train the sample shop; its resource name."""
    channel = server.channel()
    try:
        stubs = SuiteStubs(channel)
        name = await stubs.register("shop", f"sqlite:///{shop}")
        job = (await stubs.training.CreateTrainingJob(
            training_service_pb2.CreateTrainingJobRequest(parent=name))).training_job
        async for event in stubs.training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name)):
            if event.training_job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED:
                return name
        raise AssertionError("training did not succeed")
    finally:
        await channel.close()


async def customer_counts(server: ServerProcess, name: str, connections: int, asks: int) -> list[int]:
    """The count each ask answered, asked ``asks`` times over each of ``connections`` connections."""
    channels = [connection(server.address, server.admin_key) for _ in range(connections)]
    try:
        async def ask_over(channel: grpc.aio.Channel) -> list[int]:
            stub = query_service_pb2_grpc.QueryServiceStub(channel)
            counts = []
            for _ in range(asks):
                reply = await stub.Ask(query_service_pb2.AskRequest(parent=name, question=CUSTOMERS), timeout=60)
                counts.append(int(value_to_python(reply.rows[0].values[0])))
            return counts

        return [count for counts in await asyncio.gather(*(ask_over(c) for c in channels)) for count in counts]
    finally:
        for channel in channels:
            await channel.close()


def worker_events(server: ServerProcess) -> list[dict[str, object]]:
    events = [json.loads(line) for line in list(server.log_lines) if '"worker.started"' in line]
    return [event for event in events if isinstance(event, dict)]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def spawned_children(server: ServerProcess) -> list[int]:
    """The supervisor's spawned children: its workers and the Milvus Lite process."""
    assert server.proc is not None
    found = []
    for child in children(server.proc.pid):
        try:
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                found.append(child)
        except FileNotFoundError:  # it exited meanwhile
            continue
    return found


def still_running(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def worker_pids(server: ServerProcess) -> list[int]:
    """The pid each worker last started with (as its start-up line says), if it still runs."""
    latest = {str(event["worker"]): int(str(event["pid"])) for event in worker_events(server)}
    return still_running([latest[index] for index in sorted(latest)])


async def wait_until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, int]:
    path = build_shop_database(tmp_path / "shop.db")
    with sqlite3.connect(path) as database:
        return path, int(database.execute("SELECT COUNT(*) FROM customers").fetchone()[0])


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[ServerProcess, int]]:
    metrics = two_free_ports()
    env = {"CHATDB_WORKERS": "2", "CHATDB_METRICS_PORT": str(metrics), "CHATDB_PREDICTION_BACKEND": "template"}
    with ServerProcess(tmp_path / "data", env=env) as server:
        yield server, metrics


async def test_connections_are_spread_over_the_workers_and_every_one_answers(
        workers: tuple[ServerProcess, int], shop: tuple[Path, int]) -> None:
    server, metrics = workers
    assert sorted(str(event["worker"]) for event in worker_events(server)) == ["0", "1"]
    name = await train_shop(server, shop[0])
    before = [scrape(metrics), scrape(metrics + 1)]
    counts = await customer_counts(server, name, CONNECTIONS, 4)
    after = [scrape(metrics), scrape(metrics + 1)]
    assert counts == [shop[1]] * CONNECTIONS * 4
    answered = [moved(b, a, "chatdb_rpc_handled_total", **ASK_OK) for b, a in zip(before, after, strict=True)]
    assert sum(answered) == CONNECTIONS * 4
    assert all(n > 0 for n in answered), answered  # 16 connections all on one worker: 1 in 2^15


async def test_a_killed_worker_is_started_again_and_a_stop_keeps_what_the_workers_stored(
        workers: tuple[ServerProcess, int], shop: tuple[Path, int], tmp_path: Path) -> None:
    server, metrics = workers
    name = await train_shop(server, shop[0])
    killed = worker_pids(server)
    assert len(killed) == 2
    os.kill(killed[1], signal.SIGKILL)
    await wait_until("the killed worker was not started again",
                     lambda: len(worker_events(server)) == 3 and len(worker_pids(server)) == 2)
    assert killed[0] in worker_pids(server) and killed[1] not in worker_pids(server)
    assert await customer_counts(server, name, CONNECTIONS, 2) == [shop[1]] * CONNECTIONS * 2
    assert scrape(metrics + 1)  # the new worker serves its metrics again

    processes = spawned_children(server)
    assert len(processes) == 3 and set(worker_pids(server)) < set(processes)  # and Milvus Lite
    assert server.terminate() == 0
    assert still_running(processes) == []
    with ServerProcess(tmp_path / "data", env={"CHATDB_PREDICTION_BACKEND": "template"}) as single:
        assert await customer_counts(single, name, 1, 1) == [shop[1]]


async def test_a_killed_supervisor_takes_its_workers_and_milvus_lite_with_it(
        workers: tuple[ServerProcess, int], tmp_path: Path) -> None:
    server, _ = workers
    processes = spawned_children(server)
    assert len(processes) == 3
    server.kill()  # SIGKILL: the supervisor cannot stop them itself
    await wait_until("a child of the killed supervisor kept running", lambda: still_running(processes) == [])
    with ServerProcess(tmp_path / "data", env={"CHATDB_PREDICTION_BACKEND": "template"}) as single:
        assert single.port  # the data directory (Milvus Lite's lock included) was let go
