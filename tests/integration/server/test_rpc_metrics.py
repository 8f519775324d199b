"""Every call a server handles is counted by outcome and timed, on the Prometheus endpoint any
service process serves when ``metrics_port`` is set."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from tests.support.server import in_process_suite

SCHEMA = "chatdb.schema.v1.SchemaService"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _handled(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], method: str, code: str) -> float:
    return samples.get(("chatdb_rpc_handled_total", (("code", code), ("method", method), ("service", SCHEMA))), 0.0)


async def test_calls_are_counted_by_outcome_and_timed(tmp_path: Path) -> None:
    port = _free_port()
    async with in_process_suite(tmp_path / "data", ["schema"], metrics_port=port) as (running, channel):
        before = _samples(port)
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest())
        await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest())
        with pytest.raises(grpc.aio.AioRpcError):
            await schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name="dataSources/none"))
        bare = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        with pytest.raises(grpc.aio.AioRpcError):
            await schema_service_pb2_grpc.SchemaServiceStub(bare).ListDataSources(
                schema_service_pb2.ListDataSourcesRequest())
        await bare.close()
        after = _samples(port)
    for method, code, calls in (("ListDataSources", "OK", 2), ("GetDataSource", "NOT_FOUND", 1),
                                ("ListDataSources", "UNAUTHENTICATED", 1)):
        assert _handled(after, method, code) - _handled(before, method, code) == calls, (method, code)
    timed = ("chatdb_rpc_duration_seconds_count", (("method", "ListDataSources"), ("service", SCHEMA)))
    assert after[timed] - before.get(timed, 0.0) == 3
    assert after[("chatdb_rpc_in_flight", (("method", "ListDataSources"), ("service", SCHEMA)))] == 0
