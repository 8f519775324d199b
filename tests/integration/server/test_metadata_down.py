"""Level 4: with the metadata store down, status and health still answer and user features get UNAVAILABLE."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from tests.support.databases import PG_ADMIN_URL, sync_engine_for
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite


def _allow_connections(database: str, allowed: bool) -> None:
    engine = sync_engine_for(PG_ADMIN_URL)
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                         {"db": database})
    engine.dispose()


@pytest.mark.slow
async def test_metadata_store_down_is_level_4_and_recovers(tmp_path: Path, pg_dsn: str) -> None:
    url = make_url(pg_dsn)
    metadata_url = url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    async with in_process_suite(tmp_path, metadata_url=metadata_url) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest())
        _allow_connections(url.database or "", False)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest())
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            info = error_info(refused.value.trailing_metadata())
            assert info is not None and info.reason == "DEGRADED" and info.metadata["dependency"] == "metadata"
            status = await query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest())
            assert status.degradation_level == degradation_pb2.DEGRADATION_LEVEL_CRITICAL
            assert not next(d for d in status.dependencies if d.name == "metadata").healthy
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            _allow_connections(url.database or "", True)
        listed = await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest())
        assert list(listed.data_sources) == []
