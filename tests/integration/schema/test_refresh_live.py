"""RefreshSchema after ALTER TABLE, DROP TABLE and CREATE TABLE on live databases."""

from __future__ import annotations

from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb_server.sql.structure import SourceRef
from tests.integration.schema.conftest import SchemaServer, Target


async def _state(server: SchemaServer, table: str) -> int:
    reply = await server.stub.GetTable(schema_service_pb2.GetTableRequest(
        name=f"dataSources/live/tables/{table}", view=schema_pb2.TABLE_VIEW_BASIC))
    return reply.table.training_state


async def test_refresh_reports_changes_and_marks_trained_tables_stale(schema_server: SchemaServer,
                                                                      target: Target) -> None:
    await schema_server.stub.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="live", data_source={"dsn": target.dsn}))
    catalog = schema_server.catalog
    source = await catalog.resolve("default", "dataSources/live")
    stored = {t.structure.name: t.fingerprint for t in await catalog.stored_tables(source)}
    await catalog.mark_trained(source, {name: stored[name] for name in ("customers", "orders", "audit_log")})
    assert await _state(schema_server, "customers") == schema_pb2.TRAINING_STATE_TRAINED

    removed_calls: list[tuple[str, list[str]]] = []

    async def drop_vectors(ref: SourceRef, tables: list[str]) -> None:
        removed_calls.append((ref.name, tables))

    catalog.add_tables_removed_listener(drop_vectors)
    target.run([
        "ALTER TABLE customers ADD COLUMN phone VARCHAR(30)",
        "DROP TABLE audit_log",
        "CREATE TABLE coupons (code VARCHAR(20) PRIMARY KEY, percent_off INTEGER NOT NULL)",
    ])
    reply = await schema_server.stub.RefreshSchema(schema_service_pb2.RefreshSchemaRequest(name="dataSources/live"))

    assert list(reply.added_tables) == ["coupons"]
    assert list(reply.removed_tables) == ["audit_log"]
    [change] = reply.changed_tables
    assert change.table == "customers"
    assert list(change.changes) == ["column added: phone"]
    assert change.old_fingerprint == stored["customers"] != change.new_fingerprint
    assert list(reply.stale_tables) == ["customers"]
    assert reply.unchanged_count == 4  # big_orders, order_lines, orders, shipments
    assert reply.discover_time.seconds > 0
    assert removed_calls == [("dataSources/live", ["audit_log"])]

    assert await _state(schema_server, "customers") == schema_pb2.TRAINING_STATE_STALE
    assert await _state(schema_server, "orders") == schema_pb2.TRAINING_STATE_TRAINED
    assert await _state(schema_server, "coupons") == schema_pb2.TRAINING_STATE_UNTRAINED
    source_reply = await schema_server.stub.GetDataSource(schema_service_pb2.GetDataSourceRequest(
        name="dataSources/live"))
    assert source_reply.data_source.table_count == 6

    again = await schema_server.stub.RefreshSchema(schema_service_pb2.RefreshSchemaRequest(name="dataSources/live"))
    assert not again.added_tables and not again.removed_tables and not again.changed_tables
    assert list(again.stale_tables) == []  # already stale, not newly
    assert again.unchanged_count == 6


async def test_retraining_clears_stale(schema_server: SchemaServer, sqlite_target: Target) -> None:
    await schema_server.stub.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="live", data_source={"dsn": sqlite_target.dsn}))
    catalog = schema_server.catalog
    source = await catalog.resolve("default", "dataSources/live")
    [orders] = await catalog.stored_tables(source, ["orders"])
    await catalog.mark_trained(source, {"orders": orders.fingerprint})
    sqlite_target.run(["CREATE INDEX ix_orders_total ON orders (total)"])
    reply = await schema_server.stub.RefreshSchema(schema_service_pb2.RefreshSchemaRequest(name="dataSources/live"))
    assert [c.table for c in reply.changed_tables] == ["orders"]
    assert "index added: ix_orders_total (total)" in reply.changed_tables[0].changes
    assert await _state(schema_server, "orders") == schema_pb2.TRAINING_STATE_STALE
    [orders] = await catalog.stored_tables(source, ["orders"])
    await catalog.mark_trained(source, {"orders": orders.fingerprint})
    assert await _state(schema_server, "orders") == schema_pb2.TRAINING_STATE_TRAINED
    await catalog.clear_trained(source)
    assert await _state(schema_server, "orders") == schema_pb2.TRAINING_STATE_UNTRAINED
