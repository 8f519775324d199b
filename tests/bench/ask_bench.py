"""Ask latency and throughput over gRPC at 1, 8 and 32 concurrent clients, each beside its floor.

A real ``chatdb serve`` child process (all four services, template backend) answers questions
about the trained sample shop; the clients run in this process, each over a connection of its own
(as separate client processes would: the kernel spreads connections over ``--workers``). Client-side
latency gives p50/p99 and throughput; each reply's own timings split the server's work into retrieval,
generation, guard and execution. The result cache's fresh serving is off (TTL 0), so every ask runs its SQL.

Each setup is a worker count and a metadata store: ``1/sqlite`` is the embedded default (one process, the
SQLite file), ``2/postgresql`` two workers on a PostgreSQL metadata store (a database made for the run).

Floors, measured in the same run: gRPC health checks from the same clients over the same connections
(what the server does per call before any ask work), and, for a new question at one client, the
question's embedding in this process plus the same question asked again once its embedding is cached
(every other step of an ask).

    .venv/bin/python -m tests.bench.ask_bench [--asks-per-client 40] [--clients 1,8,32]
                                              [--setups 1/sqlite,2/postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.metrics import QUESTIONS as QUESTION_KIND
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.tls import bearer_interceptors
from tests.support.databases import postgres_database
from tests.support.server import ServerProcess
from tests.support.shop_questions import SHOP_QUESTIONS as QUESTIONS

STEPS = ("retrieval", "generation", "guard", "execution")
EVICTING_BYTES = 256 * 1024 * 1024
"""More than any CPU cache here holds: read between two embeddings, it leaves the model's weights cold."""


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def prepare(channel: grpc.aio.Channel, shop: Path) -> str:
    """Register and train the sample shop; its resource name."""
    schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
    training = training_service_pb2_grpc.TrainingServiceStub(channel)
    source = (await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="shop", data_source=schema_pb2.DataSource(dsn=f"sqlite:///{shop}")))).data_source
    job = (await training.CreateTrainingJob(
        training_service_pb2.CreateTrainingJobRequest(parent=source.name))).training_job
    async for event in training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name)):
        if event.training_job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED:
            return str(source.name)
    raise RuntimeError("training did not succeed")


def connections(server: ServerProcess, count: int) -> list[grpc.aio.Channel]:
    """``count`` channels, each with a TCP connection of its own (channels to one address share one otherwise)."""
    return [grpc.aio.insecure_channel(server.address, options=[("grpc.use_local_subchannel_pool", 1)],
                                      interceptors=bearer_interceptors(server.admin_key)) for _ in range(count)]


async def run_level(channels: list[grpc.aio.Channel], source: str, clients: int,
                    asks_per_client: int) -> dict[str, float]:
    """Latency, throughput and the server's step split at one concurrency (client i on channel i)."""
    latencies: list[float] = []
    steps: dict[str, list[float]] = {step: [] for step in STEPS}

    async def client(index: int) -> None:
        stub = query_service_pb2_grpc.QueryServiceStub(channels[index % len(channels)])
        for n in range(asks_per_client):
            question = QUESTIONS[(index + n) % len(QUESTIONS)]
            started = time.perf_counter()
            reply = await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question))
            latencies.append(time.perf_counter() - started)
            for step in STEPS:
                steps[step].append(getattr(reply.timings, step).ToNanoseconds() / 1e9)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.perf_counter() - started
    result = {"clients": clients, "asks": len(latencies), "p50": percentile(latencies, 0.5),
              "p99": percentile(latencies, 0.99), "throughput": len(latencies) / wall}
    for step in STEPS:
        result[f"{step}_p50"] = statistics.median(steps[step])
        result[f"{step}_p99"] = percentile(steps[step], 0.99)
    return result


async def health_rate(channels: list[grpc.aio.Channel], clients: int, checks_per_client: int) -> float:
    """Health checks per second from ``clients`` concurrent callers: the floor of any call's cost."""
    async def client(index: int) -> None:
        stub = health_pb2_grpc.HealthStub(channels[index % len(channels)])
        for _ in range(checks_per_client):
            await stub.Check(health_pb2.HealthCheckRequest())

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return clients * checks_per_client / (time.perf_counter() - started)


NEW_QUESTIONS = 20


async def new_questions(channel: grpc.aio.Channel, source: str) -> dict[str, float]:
    """p50 of a never-asked question at one client, beside its floor: the question's embedding (this process,
    same model) plus the same question asked again with its embedding cached. The embeddings are measured
    after the asks, not between them: PyTorch's threads spin a while after each use, and the two processes'
    would take turns slowing each other down. Back to back, the model's weights (90 MB) stay partly in the
    CPU's caches; in a server other work evicts them between questions, so the embedding is measured that
    way too (``embedding_evicted``: after reading a buffer larger than the caches)."""
    stub = query_service_pb2_grpc.QueryServiceStub(channel)
    questions = [f"How many orders have a total amount above {150 + 7 * n}?" for n in range(NEW_QUESTIONS)]
    first, again, embedding = [], [], []
    for question in questions:
        started = time.perf_counter()
        await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question))
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question))
        again.append(time.perf_counter() - started)
    embedder = Embedder.shared()
    for _ in range(3):  # warm-up: the model's first calls are slow
        embedder.encode(["How many orders are there?"], kind=QUESTION_KIND)
    evicted: list[float] = []
    other_work = np.ones(EVICTING_BYTES // 8)
    for question in questions:
        started = time.perf_counter()
        embedder.encode([question], kind=QUESTION_KIND)  # as the server embeds a question, afresh (no cache read)
        embedding.append(time.perf_counter() - started)
        other_work.sum()  # reads more than the CPU caches hold, as a server's other work does between questions
        started = time.perf_counter()
        embedder.encode([question], kind=QUESTION_KIND)
        evicted.append(time.perf_counter() - started)
    return {"new": statistics.median(first), "cached": statistics.median(again),
            "embedding": statistics.median(embedding), "embedding_evicted": statistics.median(evicted)}


@contextmanager
def metadata_store(kind: str) -> Iterator[dict[str, str]]:
    """The server's environment for a metadata store: the embedded SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        yield {}
        return
    if kind != "postgresql":
        raise SystemExit(f"unknown metadata store {kind!r}: sqlite or postgresql")
    with postgres_database() as dsn:
        yield {"CHATDB_METADATA_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1)}


async def measure(setup: str, asks_per_client: int, concurrency: list[int]) -> tuple[list[dict[str, float]],
                                                                                     dict[str, float]]:
    """The rows of one setup (``workers/metadata``) and its new-question figures."""
    workers, _, store = setup.partition("/")
    with tempfile.TemporaryDirectory() as tmp, metadata_store(store or "sqlite") as store_env:
        directory = Path(tmp)
        shop = build_shop_database(directory / "shop.db")
        env = {"CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_PREDICTION_BACKEND": "template",
               "CHATDB_LOG_LEVEL": "info", "CHATDB_WORKERS": workers, **store_env}
        with ServerProcess(directory / "data", [], env=env) as server:
            channels = connections(server, max(concurrency))
            source = await prepare(channels[0], shop)
            await run_level(channels, source, max(concurrency), len(QUESTIONS))  # warm-up: every worker and connection
            rows = []
            for clients in concurrency:
                row = await run_level(channels, source, clients, asks_per_client)
                row["health"] = await health_rate(channels, clients, 10 * asks_per_client)
                rows.append(row)
            fresh = await new_questions(channels[0], source)
            for channel in channels:
                await channel.close()
    return rows, fresh


def report(setup: str, rows: list[dict[str, float]], fresh: dict[str, float]) -> None:
    """One setup's table and its new-question line."""
    print(f"\n{setup} (workers/metadata store): Ask over gRPC, template backend, trained sample shop "
          f"({len(QUESTIONS)} questions), server in a child process; times in ms")
    header = ("clients", "asks", "p50", "p99", "asks/s", "health/s", "asks:health", "p99:1-client p50",
              *(f"{s} p50/p99" for s in STEPS))
    print(" | ".join(f"{h:>10}" for h in header))
    single_p50 = rows[0]["p50"]
    for row in rows:
        cells = [f"{row['clients']:>10.0f}", f"{row['asks']:>10.0f}", f"{row['p50'] * 1000:>10.1f}",
                 f"{row['p99'] * 1000:>10.1f}", f"{row['throughput']:>10.1f}", f"{row['health']:>10.0f}",
                 f"{row['throughput'] / row['health']:>10.3f}", f"{row['p99'] / single_p50:>10.1f}"]
        cells += [f"{row[f'{s}_p50'] * 1000:>6.1f}/{row[f'{s}_p99'] * 1000:<6.1f}" for s in STEPS]
        print(" | ".join(cells))
    floor = fresh["embedding"] + fresh["cached"]
    evicted = fresh["embedding_evicted"] + fresh["cached"]
    print(f"new question at 1 client: p50 {fresh['new'] * 1000:.1f} ms; floor {floor * 1000:.1f} ms (embedding "
          f"{fresh['embedding'] * 1000:.1f} + the same ask with its embedding cached {fresh['cached'] * 1000:.1f}); "
          f"ratio {fresh['new'] / floor:.2f} (aim: at most 1.3); with the embedding measured after the caches "
          f"were evicted ({fresh['embedding_evicted'] * 1000:.1f}): floor {evicted * 1000:.1f}, "
          f"ratio {fresh['new'] / evicted:.2f}")


async def main(asks_per_client: int, concurrency: list[int], setups: list[str]) -> None:
    for setup in setups:
        rows, fresh = await measure(setup, asks_per_client, concurrency)
        report(setup, rows, fresh)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks-per-client", type=int, default=40)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--setups", default="1/sqlite,2/postgresql",
                        help="comma-separated workers/metadata-store pairs (sqlite or postgresql)")
    args = parser.parse_args()
    asyncio.run(main(args.asks_per_client, [int(c) for c in args.clients.split(",")], args.setups.split(",")))
    sys.exit(0)
