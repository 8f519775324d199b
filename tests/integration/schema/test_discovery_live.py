"""Discovery on live PostgreSQL, MariaDB and SQLite, through the gRPC API.

Each database holds a composite foreign key, a view, a table without a primary key
and a join that is only inferable (see ``targets``); PostgreSQL adds a non-public schema.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chatdb.common.v1 import dialect_pb2, join_pb2, value_pb2
from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from tests.integration.schema.conftest import SchemaServer, Target

TABLES = ["audit_log", "big_orders", "customers", "order_lines", "orders", "shipments"]
DIALECTS = {"postgresql": dialect_pb2.DIALECT_POSTGRESQL, "mysql": dialect_pb2.DIALECT_MYSQL,
            "sqlite": dialect_pb2.DIALECT_SQLITE}


async def _register(server: SchemaServer, target: Target, **extra: object) -> schema_pb2.DataSource:
    reply = await server.stub.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="live", data_source={"display_name": "Live", "dsn": target.dsn, **extra}))
    return reply.data_source


async def _table(server: SchemaServer, name: str) -> schema_pb2.Table:
    reply = await server.stub.GetTable(schema_service_pb2.GetTableRequest(name=f"dataSources/live/tables/{name}"))
    return reply.table


def _column(table: schema_pb2.Table, name: str) -> schema_pb2.Column:
    return next(c for c in table.columns if c.name == name)


async def test_tables_views_and_keys_are_discovered(schema_server: SchemaServer, target: Target) -> None:
    source = await _register(schema_server, target)
    assert source.dialect == DIALECTS[target.dialect]
    listed = await schema_server.stub.ListTables(schema_service_pb2.ListTablesRequest(parent=source.name))
    assert [t.table for t in listed.tables] == TABLES

    kinds = {t.table: t.kind for t in listed.tables}
    assert kinds["big_orders"] == schema_pb2.TABLE_KIND_VIEW
    assert kinds["orders"] == schema_pb2.TABLE_KIND_TABLE

    shipments = await _table(schema_server, "shipments")
    [composite] = shipments.foreign_keys
    assert list(composite.columns) == ["order_id", "line_no"]
    assert composite.referred_table == "order_lines"
    assert list(composite.referred_columns) == ["order_id", "line_no"]
    assert composite.on_delete == "CASCADE"

    lines = await _table(schema_server, "order_lines")
    assert list(lines.primary_key) == ["order_id", "line_no"]

    audit = await _table(schema_server, "audit_log")
    assert list(audit.primary_key) == [] and list(audit.foreign_keys) == []
    assert audit.row_estimate == 2

    orders = await _table(schema_server, "orders")
    assert [c.name for c in orders.columns] == ["id", "customer_id", "placed_on", "total"]
    assert _column(orders, "total").value_type == value_pb2.VALUE_TYPE_DECIMAL
    assert _column(orders, "placed_on").value_type == value_pb2.VALUE_TYPE_DATE
    assert not _column(orders, "customer_id").nullable and _column(orders, "total").nullable
    assert _column(orders, "id").primary_key
    assert any(list(ix.columns) == ["placed_on"] and not ix.unique for ix in orders.indexes)
    assert orders.row_estimate == 3
    assert len(orders.fingerprint) == 64
    assert orders.description.startswith("Table orders (3 rows)")
    assert orders.training_state == schema_pb2.TRAINING_STATE_UNTRAINED

    customers = await _table(schema_server, "customers")
    assert any(list(ix.columns) == ["email"] and ix.unique for ix in customers.indexes)


async def test_sample_rows_travel_typed(schema_server: SchemaServer, target: Target) -> None:
    await _register(schema_server, target)
    orders = await _table(schema_server, "orders")
    assert 1 <= len(orders.sample_rows) <= 3
    rows = {row.values[0].int_value: row for row in orders.sample_rows}
    first = rows[10]
    assert first.values[1].int_value == 1
    placed = first.values[2].date_value
    assert (placed.year, placed.month, placed.day) == (2024, 3, 1)
    assert first.values[3].WhichOneof("kind") == "decimal_value"
    assert float(first.values[3].decimal_value) == 120.5

    shipments = await _table(schema_server, "shipments")
    shipped = {row.values[0].int_value: row.values[3] for row in shipments.sample_rows}[100]
    assert shipped.timestamp_value.ToDatetime() == dt.datetime(2024, 3, 2, 9, 30)

    customers = await _table(schema_server, "customers")
    email = [c.name for c in customers.columns].index("email")
    assert any(row.values[email].WhichOneof("kind") == "null_value" for row in customers.sample_rows)


async def test_inferred_and_declared_joins(schema_server: SchemaServer, target: Target) -> None:
    source = await _register(schema_server, target)
    graph = await schema_server.stub.GetSchemaGraph(schema_service_pb2.GetSchemaGraphRequest(parent=source.name))
    assert list(graph.tables) == TABLES
    edges = {(e.from_table, tuple(e.from_columns), e.to_table, tuple(e.to_columns)): e for e in graph.edges}
    declared = edges[("shipments", ("order_id", "line_no"), "order_lines", ("order_id", "line_no"))]
    assert declared.kind == join_pb2.JOIN_EDGE_KIND_DECLARED and declared.confidence == 1.0
    inferred = edges[("audit_log", ("customer_id",), "customers", ("id",))]
    assert inferred.kind == join_pb2.JOIN_EDGE_KIND_INFERRED
    assert 0.5 <= inferred.confidence < 1.0
    assert inferred.reason == "column name customer_id matches customers.id"
    assert ("orders", ("customer_id",), "customers", ("id",)) in edges
    # the declared orders.customer_id edge is not repeated as an inferred one
    assert sum(1 for e in graph.edges if e.from_table == "orders" and list(e.from_columns) == ["customer_id"]) == 1


async def test_comments_on_postgres_and_mariadb(schema_server: SchemaServer, pg_target: Target) -> None:
    await _register(schema_server, pg_target)
    customers = await _table(schema_server, "customers")
    assert customers.comment == "People who buy from us"
    assert _column(customers, "email").comment == "Contact address"
    assert customers.description.startswith("Table customers (3 rows): People who buy from us.")


async def test_mariadb_comments(schema_server: SchemaServer, mysql_target: Target) -> None:
    await _register(schema_server, mysql_target)
    customers = await _table(schema_server, "customers")
    assert customers.comment == "People who buy from us"
    assert _column(customers, "email").comment == "Contact address"


async def test_non_public_postgres_schema(schema_server: SchemaServer, pg_target: Target) -> None:
    source = await _register(schema_server, pg_target, schemas=["public", "sales"])
    assert list(source.schemas) == ["public", "sales"]
    listed = await schema_server.stub.ListTables(schema_service_pb2.ListTablesRequest(parent=source.name))
    names = [t.table for t in listed.tables]
    assert "sales.invoices" in names and "sales.invoice_notes" in names and "orders" in names

    invoices = await _table(schema_server, "sales.invoices")
    assert invoices.schema == "sales"
    assert invoices.name == "dataSources/live/tables/sales.invoices"
    [to_orders] = invoices.foreign_keys
    assert to_orders.referred_table == "orders"  # public is the default schema: unqualified
    assert invoices.row_estimate == 1
    assert len(invoices.sample_rows) == 1

    graph = await schema_server.stub.GetSchemaGraph(schema_service_pb2.GetSchemaGraphRequest(parent=source.name))
    pairs = {(e.from_table, e.to_table, e.kind) for e in graph.edges}
    assert ("sales.invoices", "orders", join_pb2.JOIN_EDGE_KIND_DECLARED) in pairs
    assert ("sales.invoice_notes", "sales.invoices", join_pb2.JOIN_EDGE_KIND_INFERRED) in pairs


async def test_only_the_named_schema(schema_server: SchemaServer, pg_target: Target) -> None:
    source = await _register(schema_server, pg_target, schemas=["sales"])
    listed = await schema_server.stub.ListTables(schema_service_pb2.ListTablesRequest(parent=source.name))
    assert [t.table for t in listed.tables] == ["sales.invoice_notes", "sales.invoices"]
    invoices = await _table(schema_server, "sales.invoices")
    assert [fk.referred_table for fk in invoices.foreign_keys] == ["orders"]


async def test_discovery_reads_through_a_read_only_connection(schema_server: SchemaServer,
                                                               sqlite_target: Target) -> None:
    path = Path(sqlite_target.dsn.removeprefix("sqlite:///"))
    before = _snapshot(path)
    await _register(schema_server, sqlite_target)
    await schema_server.stub.RefreshSchema(schema_service_pb2.RefreshSchemaRequest(name="dataSources/live"))
    assert _snapshot(path) == before


def _snapshot(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes and the files beside it that share its name (journals, WAL)."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


async def test_long_values_are_truncated_and_not_sampled(schema_server: SchemaServer, target: Target) -> None:
    target.run(["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, author VARCHAR(40))",
                f"INSERT INTO notes VALUES (1, '{'lorem ipsum ' * 500}', 'Ada'), (2, 'short note', 'Alan')"])
    await _register(schema_server, target)
    notes = await _table(schema_server, "notes")
    bodies = {row.values[0].int_value: row.values[1].string_value for row in notes.sample_rows}
    assert len(bodies[1]) == 80 and bodies[1].endswith("…")
    assert bodies[2] == "short note"
    stored = await schema_server.catalog.stored_tables(
        await schema_server.catalog.resolve("default", "dataSources/live"), ["notes"])
    assert stored[0].structure.sample_values == {"body": ("short note",), "author": ("Ada", "Alan")}
