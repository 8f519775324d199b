"""Tenants, updates and deletion of data sources through a real server."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import func, select

from chatdb.schema.v1 import schema_service_pb2 as pb
from chatdb_server.errors import NotFound
from chatdb_server.metadata.models import (
    DataSourceRow,
    ExampleRow,
    QueryRow,
    ResultCacheRow,
    SchemaTableRow,
    TrainingJobRow,
)
from chatdb_server.sql.structure import SourceRef
from tests.integration.schema.conftest import SchemaServer, Target

ACME, GLOBEX = SchemaServer.tenant("acme"), SchemaServer.tenant("globex")


async def _create(server: SchemaServer, target: Target, source_id: str = "live",
                  metadata: tuple[tuple[str, str], ...] = ()) -> None:
    await server.stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source_id=source_id, data_source={"dsn": target.dsn}), metadata=metadata)


async def test_tenant_cannot_see_or_touch_another_tenants_source(schema_server: SchemaServer,
                                                                 sqlite_target: Target) -> None:
    stub = schema_server.stub
    await _create(schema_server, sqlite_target, metadata=ACME)
    name = "dataSources/live"
    foreign_calls = {
        "get": lambda: stub.GetDataSource(pb.GetDataSourceRequest(name=name), metadata=GLOBEX),
        "update": lambda: stub.UpdateDataSource(pb.UpdateDataSourceRequest(
            data_source={"name": name, "display_name": "mine"}, update_mask={"paths": ["display_name"]}),
            metadata=GLOBEX),
        "delete": lambda: stub.DeleteDataSource(pb.DeleteDataSourceRequest(name=name), metadata=GLOBEX),
        "test": lambda: stub.TestConnection(pb.TestConnectionRequest(name=name), metadata=GLOBEX),
        "tables": lambda: stub.ListTables(pb.ListTablesRequest(parent=name), metadata=GLOBEX),
        "table": lambda: stub.GetTable(pb.GetTableRequest(name=f"{name}/tables/orders"), metadata=GLOBEX),
        "refresh": lambda: stub.RefreshSchema(pb.RefreshSchemaRequest(name=name), metadata=GLOBEX),
        "graph": lambda: stub.GetSchemaGraph(pb.GetSchemaGraphRequest(parent=name), metadata=GLOBEX),
    }
    for what, call in foreign_calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call()
        assert err.value.code() == grpc.StatusCode.NOT_FOUND, what
    assert (await stub.ListDataSources(pb.ListDataSourcesRequest(), metadata=GLOBEX)).data_sources == []
    with pytest.raises(NotFound):
        await schema_server.catalog.resolve("globex", name)

    mine = await stub.GetDataSource(pb.GetDataSourceRequest(name=name), metadata=ACME)
    assert mine.data_source.display_name == ""  # globex's update did not land
    default = await stub.ListDataSources(pb.ListDataSourcesRequest())  # no header: the default tenant
    assert default.data_sources == []

    await _create(schema_server, sqlite_target, metadata=GLOBEX)  # the same id in another tenant
    page = await stub.ListDataSources(pb.ListDataSourcesRequest(page_size=1), metadata=ACME)
    assert [s.name for s in page.data_sources] == [name] and page.next_page_token == ""


async def test_update_fields_and_schemas(schema_server: SchemaServer, pg_target: Target) -> None:
    stub = schema_server.stub
    await _create(schema_server, pg_target)
    updated = await stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/live", "display_name": "Warehouse", "default_adapter": "shop-v2",
                     "labels": {"env": "test"}, "schemas": ["public", "sales"]},
        update_mask={"paths": ["display_name", "default_adapter", "labels", "schemas"]}))
    source = updated.data_source
    assert (source.display_name, source.default_adapter, dict(source.labels)) == ("Warehouse", "shop-v2",
                                                                                  {"env": "test"})
    assert list(source.schemas) == ["public", "sales"]
    assert source.table_count == 8  # the two tables of "sales" were discovered
    assert source.update_time.ToDatetime() >= source.create_time.ToDatetime()
    ref = await schema_server.catalog.resolve("default", "dataSources/live")
    assert ref.default_adapter == "shop-v2"


async def test_update_dsn_rediscovers_and_reports_removed_tables(schema_server: SchemaServer, sqlite_target: Target,
                                                                 pg_target: Target) -> None:
    await _create(schema_server, pg_target)
    removed: list[list[str]] = []

    async def forget(_: SourceRef, tables: list[str]) -> None:
        removed.append(tables)

    schema_server.catalog.add_tables_removed_listener(forget)
    sqlite_target.run(["DROP VIEW big_orders"])
    reply = await schema_server.stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/live", "dsn": sqlite_target.dsn}, update_mask={"paths": ["dsn"]}))
    assert reply.data_source.redacted_dsn == sqlite_target.dsn
    assert reply.data_source.table_count == 5
    assert removed == [["big_orders"]]
    tested = await schema_server.stub.TestConnection(pb.TestConnectionRequest(name="dataSources/live"))
    assert tested.server_version.startswith("SQLite")


async def test_delete_removes_everything_stored_for_the_source(schema_server: SchemaServer,
                                                               sqlite_target: Target) -> None:
    await _create(schema_server, sqlite_target)
    await _create(schema_server, sqlite_target, "other")
    catalog = schema_server.catalog
    source = await catalog.resolve("default", "dataSources/live")
    store = catalog._store
    async with store.session() as session:
        session.add_all([
            TrainingJobRow(job_id="job-1", tenant="default", source_pk=source.pk, job_type="SCHEMA", state="QUEUED"),
            ExampleRow(example_id="ex-1", tenant="default", source_pk=source.pk, question="q", sql="SELECT 1"),
            QueryRow(query_id="q-1", tenant="default", source_pk=source.pk, state="SUCCEEDED"),
            ResultCacheRow(tenant="default", source_pk=source.pk, sql_hash="h", sql="SELECT 1", payload=b""),
        ])
    deleted: list[str] = []

    async def drop_vectors(ref: SourceRef) -> None:
        deleted.append(ref.namespace)

    catalog.add_delete_listener(drop_vectors)
    await schema_server.stub.DeleteDataSource(pb.DeleteDataSourceRequest(name="dataSources/live"))
    assert deleted == ["default/live"]
    async with store.session() as session:
        for model in (TrainingJobRow, ExampleRow, QueryRow, ResultCacheRow, SchemaTableRow):
            count = await session.scalar(select(func.count()).select_from(model).where(model.source_pk == source.pk))
            assert count == 0, model.__name__
        assert await session.scalar(select(func.count()).select_from(DataSourceRow)) == 1
    other = await schema_server.stub.ListTables(pb.ListTablesRequest(parent="dataSources/other"))
    assert other.total_size == 6  # the other source is untouched


async def test_failing_listener_keeps_the_source(schema_server: SchemaServer, sqlite_target: Target) -> None:
    await _create(schema_server, sqlite_target)

    async def vector_store_down(_: SourceRef) -> None:
        raise ConnectionError("milvus unreachable")

    schema_server.catalog.add_delete_listener(vector_store_down)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await schema_server.stub.DeleteDataSource(pb.DeleteDataSourceRequest(name="dataSources/live"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    kept = await schema_server.stub.GetDataSource(pb.GetDataSourceRequest(name="dataSources/live"))
    assert kept.data_source.name == "dataSources/live"
