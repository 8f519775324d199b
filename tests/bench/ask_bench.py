"""Ask latency and throughput over gRPC at 1, 8 and 32 concurrent clients, each beside its floor.

A real ``chatdb serve`` child process (all four services, template backend) answers questions
about the trained sample shop; the clients run in this process. Client-side latency gives
p50/p99 and throughput; each reply's own timings split the server's work into retrieval,
generation, guard and execution. The result cache's fresh serving is off (TTL 0), so every
ask runs its SQL.

Floors, measured in the same run: gRPC health checks from the same number of clients on the same
channel (what the server does per call before any ask work), and, for a new question at one client,
the question's embedding in this process plus the same question asked again once its embedding is
cached (every other step of an ask).

    .venv/bin/python tests/bench/ask_bench.py [--asks-per-client 20] [--clients 1,8,32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.samples.shop import build_shop_database
from tests.support.server import ServerProcess
from tests.support.shop_questions import SHOP_QUESTIONS as QUESTIONS

STEPS = ("retrieval", "generation", "guard", "execution")


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


async def run_level(channel: grpc.aio.Channel, source: str, clients: int, asks_per_client: int) -> dict[str, float]:
    """Latency, throughput and the server's step split at one concurrency."""
    stub = query_service_pb2_grpc.QueryServiceStub(channel)
    latencies: list[float] = []
    steps: dict[str, list[float]] = {step: [] for step in STEPS}

    async def client(index: int) -> None:
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


async def health_rate(channel: grpc.aio.Channel, clients: int, checks_per_client: int) -> float:
    """Health checks per second from ``clients`` concurrent callers: the floor of any call's cost."""
    stub = health_pb2_grpc.HealthStub(channel)

    async def client() -> None:
        for _ in range(checks_per_client):
            await stub.Check(health_pb2.HealthCheckRequest())

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return clients * checks_per_client / (time.perf_counter() - started)


NEW_QUESTIONS = 20


async def new_questions(channel: grpc.aio.Channel, source: str) -> dict[str, float]:
    """p50 of a never-asked question at one client, beside its floor: the question's embedding (this process,
    same model) plus the same question asked again with its embedding cached."""
    stub = query_service_pb2_grpc.QueryServiceStub(channel)
    embedder = Embedder.shared()
    for _ in range(3):  # warm-up: the model's first calls are slow
        embedder.encode(["How many orders are there?"])
    first, again, embedding = [], [], []
    for n in range(NEW_QUESTIONS):
        question = f"How many orders have a total amount above {150 + 7 * n}?"
        started = time.perf_counter()
        await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question))
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question))
        again.append(time.perf_counter() - started)
        started = time.perf_counter()
        embedder.encode([question])  # encoded afresh: `encode` does not read the question cache
        embedding.append(time.perf_counter() - started)
    return {"new": statistics.median(first), "cached": statistics.median(again),
            "embedding": statistics.median(embedding)}


async def main(asks_per_client: int, concurrency: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        shop = build_shop_database(directory / "shop.db")
        env = {"CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_PREDICTION_BACKEND": "template",
               "CHATDB_LOG_LEVEL": "info"}
        with ServerProcess(directory / "data", [], env=env) as server:
            channel = server.channel()
            source = await prepare(channel, shop)
            await run_level(channel, source, 1, len(QUESTIONS))  # warm-up: model, indexes, pools
            rows = []
            for clients in concurrency:
                row = await run_level(channel, source, clients, asks_per_client)
                row["health"] = await health_rate(channel, clients, 10 * asks_per_client)
                rows.append(row)
            fresh = await new_questions(channel, source)
            await channel.close()
    print(f"Ask over gRPC, template backend, trained sample shop ({len(QUESTIONS)} questions), "
          f"server in a child process; times in ms")
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
    print(f"new question at 1 client: p50 {fresh['new'] * 1000:.1f} ms; floor {floor * 1000:.1f} ms (embedding "
          f"{fresh['embedding'] * 1000:.1f} + the same ask with its embedding cached {fresh['cached'] * 1000:.1f}); "
          f"ratio {fresh['new'] / floor:.2f} (aim: at most 1.3)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks-per-client", type=int, default=20)
    parser.add_argument("--clients", default="1,8,32")
    args = parser.parse_args()
    asyncio.run(main(args.asks_per_client, [int(c) for c in args.clients.split(",")]))
    sys.exit(0)
