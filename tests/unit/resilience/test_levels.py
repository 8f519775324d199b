"""Degradation levels from real dependencies: a metadata store and gRPC health endpoints."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from prometheus_client import REGISTRY

from chatdb.common.v1 import degradation_pb2
from chatdb_server.errors import Unavailable
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.prediction.client import PREDICTION_SERVICE
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import METADATA, PREDICTION, TRAINING, HealthMonitor, Level
from chatdb_server.resilience.metrics import MetricsServer
from chatdb_server.rpc import health_probe
from chatdb_server.training.client import TRAINING_SERVICE

SOURCE = "default/dataSources/shop"


class HealthEndpoint:
    """A real gRPC server that only answers health checks, whose statuses the test sets."""

    def __init__(self) -> None:
        self.server = grpc.aio.server()
        self.health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")

    async def serving(self, service: str, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.health.set(service, status)


@pytest.fixture
async def endpoint() -> AsyncIterator[HealthEndpoint]:
    endpoint = HealthEndpoint()
    await endpoint.server.start()
    await endpoint.serving(PREDICTION_SERVICE, True)
    await endpoint.serving(TRAINING_SERVICE, True)
    yield endpoint
    await endpoint.channel.close()
    await endpoint.server.stop(0)


@pytest.fixture
def store(metadata_store: MetadataStore) -> MetadataStore:
    return metadata_store


def monitor_for(store: MetadataStore, endpoint: HealthEndpoint, breakers: Breakers) -> HealthMonitor:
    monitor = HealthMonitor(breakers, probe_ttl_s=0)
    monitor.register(METADATA, store.ping)
    monitor.register(PREDICTION, lambda: health_probe(endpoint.channel, PREDICTION_SERVICE), breakers.prediction)
    monitor.register(TRAINING, lambda: health_probe(endpoint.channel, TRAINING_SERVICE), breakers.training)
    return monitor


def gauge() -> float | None:
    return REGISTRY.get_sample_value("chatdb_degradation_level")


def test_levels_map_onto_the_contract_enum() -> None:
    assert Level.FULL.to_proto() == degradation_pb2.DEGRADATION_LEVEL_FULL
    assert Level.NO_TRAINING.to_proto() == degradation_pb2.DEGRADATION_LEVEL_NO_TRAINING
    assert Level.NO_MODEL.to_proto() == degradation_pb2.DEGRADATION_LEVEL_NO_MODEL
    assert Level.NO_DATABASE.to_proto() == degradation_pb2.DEGRADATION_LEVEL_NO_DATABASE
    assert Level.CRITICAL.to_proto() == degradation_pb2.DEGRADATION_LEVEL_CRITICAL


async def test_all_healthy_is_level_0(store: MetadataStore, endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    assert await monitor.level() is Level.FULL
    assert await monitor.level(SOURCE) is Level.FULL
    assert gauge() == 0
    health = {d.name: d for d in await monitor.dependencies()}
    assert set(health) == {METADATA, PREDICTION, TRAINING}
    assert all(d.healthy for d in health.values())
    assert health[PREDICTION].breaker_state == "closed"
    assert health[METADATA].breaker_state == ""


async def test_training_not_serving_is_level_1(store: MetadataStore, endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    await endpoint.serving(TRAINING_SERVICE, False)
    assert await monitor.level() is Level.NO_TRAINING
    assert gauge() == 1
    training = next(d for d in await monitor.dependencies() if d.name == TRAINING)
    assert not training.healthy
    assert "NOT_SERVING" in training.detail


async def test_prediction_down_is_level_2_and_wins_over_training(store: MetadataStore,
                                                                 endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    await endpoint.serving(TRAINING_SERVICE, False)
    await endpoint.serving(PREDICTION_SERVICE, False)
    assert await monitor.level() is Level.NO_MODEL


async def test_open_prediction_breaker_is_level_2_while_health_still_answers(
        store: MetadataStore, endpoint: HealthEndpoint) -> None:
    breakers = Breakers(fail_max=1, reset_s=60)
    monitor = monitor_for(store, endpoint, breakers)

    async def down() -> None:
        raise Unavailable("prediction went away")

    with pytest.raises(Unavailable):
        await breakers.prediction.call(down)
    assert await monitor.level() is Level.NO_MODEL
    prediction = next(d for d in await monitor.dependencies() if d.name == PREDICTION)
    assert (prediction.healthy, prediction.breaker_state, prediction.failure_count) == (False, "open", 1)
    breakers.prediction.reset()
    assert await monitor.level() is Level.FULL


async def test_stopped_server_is_unhealthy(store: MetadataStore, endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    await endpoint.server.stop(0)
    assert await monitor.level() is Level.NO_MODEL
    assert not await monitor.healthy(TRAINING)


async def test_unreachable_database_is_level_3_for_its_source_only(store: MetadataStore,
                                                                   endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    monitor.database_unreachable(SOURCE, "connection refused")
    assert await monitor.level(SOURCE) is Level.NO_DATABASE
    assert await monitor.level("default/dataSources/other") is Level.FULL
    assert await monitor.level() is Level.FULL
    monitor.database_reachable(SOURCE)
    assert await monitor.level(SOURCE) is Level.FULL


async def test_metadata_store_down_is_level_4(tmp_path: Path, endpoint: HealthEndpoint) -> None:
    broken = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'metadata.db'}")
    monitor = monitor_for(broken, endpoint, Breakers(fail_max=2, reset_s=60))
    monitor.database_unreachable(SOURCE, "down")
    assert await monitor.level(SOURCE) is Level.CRITICAL
    assert gauge() is not None
    metadata = next(d for d in await monitor.dependencies() if d.name == METADATA)
    assert not metadata.healthy and metadata.detail
    await broken.close()


async def test_probe_results_are_reused_within_their_ttl(store: MetadataStore) -> None:
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1

    monitor = HealthMonitor(Breakers(fail_max=2, reset_s=60), probe_ttl_s=3600)
    monitor.register(METADATA, counted)
    for _ in range(5):
        await monitor.level()
    assert calls == 1


async def test_open_database_breaker_is_level_3_and_listed(store: MetadataStore, endpoint: HealthEndpoint) -> None:
    breakers = Breakers(fail_max=1, reset_s=60)
    monitor = monitor_for(store, endpoint, breakers)

    async def unreachable() -> None:
        raise Unavailable("connection refused", reason="SOURCE_UNREACHABLE")

    with pytest.raises(Unavailable):
        await breakers.database(SOURCE).call(unreachable)
    assert await monitor.level(SOURCE) is Level.NO_DATABASE
    listed = {d.name: d for d in await monitor.dependencies("default")}
    assert "dataSources/shop" in listed
    assert not any(d.name.startswith("dataSources/") for d in await monitor.dependencies("other-tenant"))
    database = listed["dataSources/shop"]
    assert (database.healthy, database.breaker_state) == (False, "open")
    assert REGISTRY.get_sample_value("chatdb_breaker_state", {"breaker": SOURCE}) == 2


async def test_metrics_endpoint_exports_the_level(store: MetadataStore, endpoint: HealthEndpoint) -> None:
    monitor = monitor_for(store, endpoint, Breakers(fail_max=2, reset_s=60))
    await endpoint.serving(TRAINING_SERVICE, False)
    await monitor.level()
    server = MetricsServer("127.0.0.1", 0)
    try:
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode())
    finally:
        server.close()
    assert "chatdb_degradation_level 1.0" in body
