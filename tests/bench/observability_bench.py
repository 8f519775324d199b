"""The cost of tracing and metrics on an Ask.

Two real ``chatdb serve`` processes answer the same questions about the trained sample shop: one
traces every call and exports its spans over OTLP (to a receiver this script runs, as a collector
would be), the other has the OpenTelemetry SDK off (``OTEL_SDK_DISABLED=true``). One client asks
them in alternating rounds, so drift on the machine hits both alike; the p50 difference is tracing's
cost. Prometheus metrics are always recorded, so their cost is measured directly: what one ask
records (the call's counter, histogram and in-flight gauge, a stage histogram per step, the cache
and in-flight-ask series), timed in a loop, against the same ask p50.

    .venv/bin/python -m tests.bench.observability_bench [--asks 400]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.bench.ask_bench import QUESTIONS, percentile, prepare
from tests.support.otlp import otlp_receiver
from tests.support.server import ServerProcess

ROUNDS = 8
STAGES = ("retrieve", "generate", "guard", "execute", "record")


async def timed_asks(process: ServerProcess, source: str, count: int, offset: int) -> list[float]:
    """Client-side latency of ``count`` sequential asks."""
    channel = process.channel()
    stub = query_service_pb2_grpc.QueryServiceStub(channel)
    latencies = []
    try:
        for index in range(count):
            question = QUESTIONS[(offset + index) % len(QUESTIONS)]
            started = time.perf_counter()
            await stub.Ask(query_service_pb2.AskRequest(parent=source, question=question), timeout=30)
            latencies.append(time.perf_counter() - started)
    finally:
        await channel.close()
    return latencies


def metrics_cost_per_ask(repeats: int = 20_000) -> float:
    """Seconds the Prometheus series one ask touches cost to record, in a registry of their own."""
    registry = CollectorRegistry()
    handled = Counter("handled", "", ["service", "method", "code"], registry=registry)
    duration = Histogram("duration_seconds", "", ["service", "method"], registry=registry)
    in_flight = Gauge("in_flight", "", ["service", "method"], registry=registry)
    stages = Histogram("stage_seconds", "", ["stage"], registry=registry)
    cache = Counter("cache", "", ["outcome"], registry=registry)
    asks = Gauge("asks_in_flight", "", registry=registry)
    started = time.perf_counter()
    for _ in range(repeats):
        gauge = in_flight.labels("chatdb.query.v1.QueryService", "Ask")
        gauge.inc()
        asks.inc()
        for stage in STAGES:
            stages.labels(stage).observe(0.001)
        cache.labels("miss").inc()
        asks.dec()
        gauge.dec()
        handled.labels("chatdb.query.v1.QueryService", "Ask", "OK").inc()
        duration.labels("chatdb.query.v1.QueryService", "Ask").observe(0.01)
    return (time.perf_counter() - started) / repeats


async def main(asks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shop = build_shop_database(work / "shop.db")
        common = {"CHATDB_RESULT_CACHE_TTL_S": "0"}
        async with otlp_receiver() as receiver:
            traced = ServerProcess(work / "traced", env={
                **common, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}).start()
            untraced = ServerProcess(work / "untraced", env={**common, "OTEL_SDK_DISABLED": "true"}).start()
            try:
                sources = {}
                for process in (traced, untraced):
                    channel = process.channel()
                    try:
                        sources[process.data_dir.name] = await prepare(channel, shop)
                    finally:
                        await channel.close()
                latencies: dict[str, list[float]] = {"traced": [], "untraced": []}
                for process in (traced, untraced):  # warm-up: model, pools, caches
                    await timed_asks(process, sources[process.data_dir.name], 20, 0)
                per_round = max(1, asks // ROUNDS)
                for round_index in range(ROUNDS):
                    for process in (traced, untraced) if round_index % 2 == 0 else (untraced, traced):
                        name = process.data_dir.name
                        latencies[name] += await timed_asks(process, sources[name], per_round, round_index)
                exported = len(receiver.spans)
            finally:
                traced.kill()
                untraced.kill()
    p50 = {name: percentile(values, 0.5) for name, values in latencies.items()}
    tracing_cost = (p50["traced"] - p50["untraced"]) / p50["untraced"]
    metrics_cost = metrics_cost_per_ask()
    print(f"ask p50, tracing off (floor)        : {p50['untraced'] * 1000:7.2f} ms  "
          f"({len(latencies['untraced'])} asks)")
    print(f"ask p50, traced and exported (OTLP) : {p50['traced'] * 1000:7.2f} ms  ({len(latencies['traced'])} asks, "
          f"{exported} spans received)")
    print(f"tracing cost at p50                 : {tracing_cost * 100:+7.2f} %  (aim: under 5 %)")
    print(f"metrics recorded per ask            : {metrics_cost * 1e6:7.2f} µs = "
          f"{metrics_cost / p50['untraced'] * 100:.2f} % of the p50")
    print(f"tracing and metrics together        : {(tracing_cost + metrics_cost / p50['untraced']) * 100:+7.2f} %")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=400, help="asks per server, over all rounds")
    asyncio.run(main(parser.parse_args().asks))
