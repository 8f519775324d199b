"""The runtime: health per service, reflection, UNIMPLEMENTED where nothing is built, SIGTERM drain."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from chatdb_server.server.registry import SERVICES
from tests.support.server import ServerProcess, in_process_suite


async def test_health_reports_every_service_serving(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path) as (_, channel):
        stub = health_pb2_grpc.HealthStub(channel)
        for spec in SERVICES.values():
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=spec.full_name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, spec.full_name
        overall = await stub.Check(health_pb2.HealthCheckRequest(service=""))
        assert overall.status == health_pb2.HealthCheckResponse.SERVING


async def test_single_service_process_hosts_only_that_service(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path, ["query"]) as (_, channel):
        stub = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Check(health_pb2.HealthCheckRequest(service=SERVICES["schema"].full_name))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path) as (_, channel):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = set()
        async for reply in stub.ServerReflectionInfo(iter([request])):
            names |= {s.name for s in reply.list_services_response.service}
        assert {spec.full_name for spec in SERVICES.values()} <= names
        assert "grpc.health.v1.Health" in names


def test_sigterm_stops_the_process_cleanly(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, ["prediction"]).start()
    channel = server.sync_channel()
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    channel.close()
    assert server.terminate() == 0
    assert any('"server.stopped"' in line for line in server.log_lines)
