"""Sustained load: 10,000 asks at 32 concurrent clients against a real ``chatdb serve`` process whose
metadata store is PostgreSQL.

Every ask must succeed at the full degradation level, and the server must not grow: its resident memory
after the run stays within 10% of what it was after a warm-up. The warm-up fills what a server fills once
(the embedding model, the source's context and vectors, connection pools, caches up to their bounds), so
growth past it over 10,000 asks is a leak. Only the server process is measured, not its guard worker
processes: asks of short generated SQL are checked in place and never start them. Latency and throughput
are printed for RELIABILITY.md, never asserted (speed is measured by the benches).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from sqlalchemy.engine import make_url

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.support.server import ServerProcess
from tests.support.shop_questions import SHOP_QUESTIONS as QUESTIONS
from tests.support.stubs import SuiteStubs
from tests.support.training import train

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

CLIENTS = 32
CHANNELS = 4
WARM_UP_ASKS = 320
LOAD_ASKS = 10_000
MAX_RSS_GROWTH = 1.10
CALL_TIMEOUT_S = 60.0
SERVER_ENV = {"CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_PREDICTION_BACKEND": "template"}


@dataclass
class LoadRun:
    """What one batch of asks observed: each success's latency, and every failure described."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def percentile(self, fraction: float) -> float:
        """The ``fraction`` quantile (nearest rank) of the latencies, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    def failure_report(self, server_log: list[str]) -> str:
        """The failures grouped by kind, most frequent first, and what the server logged as going wrong."""
        lines = [f"{count}x {failure}" for failure, count in Counter(self.failures).most_common()]
        return (f"{len(self.failures)} of {len(self.failures) + len(self.latencies)} asks failed:\n"
                + "\n".join(lines) + "\nthe server's warnings and errors:\n" + "\n".join(server_problems(server_log)))


def server_problems(log_lines: list[str], limit: int = 10) -> list[str]:
    """The first line of each kind of warning or error in the server's JSON log, shortened."""
    seen: dict[str, str] = {}
    for line in log_lines:
        with suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
                seen.setdefault(str(entry.get("event")), line.strip()[:1500])
    return list(seen.values())[:limit]


def server_rss_kib(pid: int) -> int:
    """The resident set size of one process (VmRSS in /proc), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"process {pid} reports no VmRSS")


def describe(reply: query_service_pb2.AskResponse) -> str:
    """Why a successful reply still counts as a failure under load, or '' when it does not."""
    if reply.degradation_level != degradation_pb2.DEGRADATION_LEVEL_FULL:
        return f"served at {degradation_pb2.DegradationLevel.Name(reply.degradation_level)}: {list(reply.warnings)}"
    if reply.stale or not reply.executed:
        return f"not executed fresh (stale={reply.stale}, executed={reply.executed})"
    return ""


async def ask_many(stubs: list[query_service_pb2_grpc.QueryServiceStub], source: str, asks: int) -> LoadRun:
    """``asks`` asks from ``CLIENTS`` concurrent clients spread over the stubs' channels, questions rotating."""
    run = LoadRun()
    numbers = itertools.count()

    async def client(index: int) -> None:
        stub = stubs[index % len(stubs)]
        while (number := next(numbers)) < asks:
            question = QUESTIONS[number % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                reply = await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question),
                                       timeout=CALL_TIMEOUT_S)
            except grpc.aio.AioRpcError as error:
                run.failures.append(f"{error.code().name}: {error.details()} ({question!r})")
                continue
            elapsed = time.perf_counter() - started
            if problem := describe(reply):
                run.failures.append(f"{problem} ({question!r})")
            else:
                run.latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(client(index) for index in range(CLIENTS)))
    run.wall_s = time.perf_counter() - started
    return run


@pytest.fixture(params=["postgresql", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path, pg_dsn: str) -> Iterator[ServerProcess]:
    """All services in one ``chatdb serve`` process, template backend, every ask running its SQL, and the
    metadata store on PostgreSQL (what a deployment uses) or on the embedded SQLite file (what ``make run``
    uses), whose single write lock the three writes of every ask (history, result cache, audit) share."""
    env = dict(SERVER_ENV)
    if request.param == "postgresql":
        env["CHATDB_METADATA_URL"] = make_url(pg_dsn).set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False)
    with ServerProcess(tmp_path / "data", [], env=env) as process:
        yield process


async def test_ten_thousand_asks_succeed_without_the_server_growing(server: ServerProcess, tmp_path: Path) -> None:
    assert server.proc is not None
    shop = build_shop_database(tmp_path / "shop.db")
    channels = [server.channel() for _ in range(CHANNELS)]
    try:
        setup = SuiteStubs(channels[0])
        source = await setup.register("shop", f"sqlite:///{shop}")
        await train(setup.training, source)
        stubs = [query_service_pb2_grpc.QueryServiceStub(channel) for channel in channels]

        warm_up = await ask_many(stubs, source, WARM_UP_ASKS)
        if warm_up.failures:
            pytest.fail(warm_up.failure_report(server.log_lines))
        rss_before = server_rss_kib(server.proc.pid)

        load = await ask_many(stubs, source, LOAD_ASKS)
        rss_after = server_rss_kib(server.proc.pid)
    finally:
        for channel in channels:
            await channel.close()

    print(f"\nsustained load: {LOAD_ASKS:,} asks, {CLIENTS} clients over {CHANNELS} channels, "
          f"{len(load.failures)} failed; p50 {load.percentile(0.5) * 1000:.1f} ms, "
          f"p99 {load.percentile(0.99) * 1000:.1f} ms, {len(load.latencies) / load.wall_s:.1f} asks/s "
          f"over {load.wall_s:.0f} s; server RSS {rss_before / 1024:.1f} MiB after {WARM_UP_ASKS} warm-up asks, "
          f"{rss_after / 1024:.1f} MiB after the run ({(rss_after / rss_before - 1) * 100:+.1f}%)")
    if load.failures:
        pytest.fail(load.failure_report(server.log_lines))
    assert len(load.latencies) == LOAD_ASKS
    assert rss_after < MAX_RSS_GROWTH * rss_before, (
        f"server RSS grew from {rss_before} KiB to {rss_after} KiB over {LOAD_ASKS:,} asks")
