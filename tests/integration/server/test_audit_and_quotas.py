"""The audit log and quotas over gRPC, against the real runtime: every ask and every change leaves
exactly one event naming its principal, events outlive their data source, the JSON-lines copy holds
no secret; over a quota is RESOURCE_EXHAUSTED with RetryInfo while another tenant is served."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.access.audit import AuditEvent, AuditFilter
from chatdb_server.access.bootstrap import read_admin_key
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_audit, shared_keys
from chatdb_server.server.runtime import RunningServer
from tests.support.grpc_unit import error_info, rich_status
from tests.support.server import in_process_suite, keyed_metadata

pytestmark = pytest.mark.slow

SOURCE = "dataSources/shop"
SQL = "SELECT name FROM customers ORDER BY id LIMIT 3"


async def _events(running: RunningServer) -> list[AuditEvent]:
    events, _ = await shared_audit(running.components).list(AuditFilter(), page_size=1000)
    return events


async def test_every_ask_and_change_leaves_one_event_that_outlives_its_source(tmp_path: Path) -> None:
    data = tmp_path / "data"
    siem = tmp_path / "audit.jsonl"
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(data, audit_log=str(siem)) as (running, _):
        keys = shared_keys(running.components)
        issued = await keys.create("acme", ["admin"], display_name="alice")
        meta = keyed_metadata(issued.secret)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        try:
            await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
                data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}), metadata=meta)
            await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest(), metadata=meta)  # not audited
            executed = await query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SOURCE, sql=SQL),
                                              metadata=meta)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SOURCE, sql="DELETE FROM orders"),
                                       metadata=meta)
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            viewer = await keys.create("acme", ["viewer"], display_name="victor")
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SOURCE, sql=SQL),
                                       metadata=keyed_metadata(viewer.secret))
            assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
            await schema.DeleteDataSource(schema_service_pb2.DeleteDataSourceRequest(name=SOURCE), metadata=meta)
        finally:
            await channel.close()
        events = [e for e in await _events(running) if e.tenant == "acme"]
    by_method = Counter(e.method.rsplit("/", 1)[-1] for e in events)
    assert by_method == {"CreateDataSource": 1, "ExecuteSql": 3, "DeleteDataSource": 1}
    alice, victor = issued.key.name, viewer.key.name
    executions = sorted((e for e in events if e.method.endswith("ExecuteSql")), key=lambda e: e.time)
    assert [(e.principal, e.status_code) for e in executions] == [
        (alice, "OK"), (alice, "INVALID_ARGUMENT"), (victor, "PERMISSION_DENIED")]
    served = executions[0]
    assert served.data_source == "shop" and served.row_count == 3 and "customers" in served.sql
    assert served.request_id and served.peer and served.duration_ms > 0
    assert all(e.data_source == "shop" for e in events), "deleting the source kept its events"
    assert executed.query
    lines = [json.loads(line) for line in siem.read_text().splitlines()]
    assert sorted(line["event_id"] for line in lines) == sorted(e.event_id for e in events)
    copy = siem.read_text()
    for secret in (issued.secret, viewer.secret, read_admin_key(data)):
        assert secret not in copy


async def test_over_the_quota_is_resource_exhausted_with_retry_info_and_other_tenants_are_served(
        tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(tmp_path / "data", asks_per_minute_per_tenant=2) as (running, admin):
        keys = shared_keys(running.components)
        first, second = [(await keys.create("acme", ["admin"])).secret for _ in range(2)]
        other = (await keys.create("globex", ["admin"])).secret
        for tenant in ("acme", "globex"):
            await schema_service_pb2_grpc.SchemaServiceStub(admin).CreateDataSource(
                schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                           data_source={"dsn": f"sqlite:///{shop}"}),
                metadata=(("x-chatdb-tenant", tenant),))
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        request = query_service_pb2.ExecuteSqlRequest(parent=SOURCE, sql=SQL)
        try:
            await query.ExecuteSql(request, metadata=keyed_metadata(first))
            await query.ExecuteSql(request, metadata=keyed_metadata(second))
            with pytest.raises(grpc.aio.AioRpcError) as exhausted:
                await query.ExecuteSql(request, metadata=keyed_metadata(second))
            served = await query.ExecuteSql(request, metadata=keyed_metadata(other))
        finally:
            await channel.close()
    assert exhausted.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(exhausted.value.trailing_metadata())
    assert info is not None and info.metadata["quota"] == "asks_per_minute_per_tenant"
    status = rich_status(exhausted.value.trailing_metadata())
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert any(detail.Unpack(retry) for detail in status.details)
    assert 0 < retry.retry_delay.ToTimedelta().total_seconds() <= 60
    assert len(served.rows) == 3
