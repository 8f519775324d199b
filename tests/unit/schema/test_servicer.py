"""SchemaService through grpc_testing: every RPC's reply and its answers to bad input."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from chatdb.common.v1 import dialect_pb2, join_pb2, value_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb_server.sql.structure import SourceRef
from tests.unit.schema.conftest import SchemaUnit

SHOP_TABLES = ["categories", "customers", "order_items", "order_totals", "orders", "payments", "products", "reviews"]


def _create(unit: SchemaUnit, source_id: str = "shop", tenant: str = "default",
            **extra: object) -> schema_pb2.DataSource:
    reply = unit.ok("CreateDataSource", tenant, data_source_id=source_id,
                    data_source={"display_name": "Shop", "dsn": f"sqlite:///{unit.shop}", **extra})
    return reply.data_source


def test_create_discovers_and_returns_the_source(unit: SchemaUnit) -> None:
    source = _create(unit, labels={"team": "growth"})
    assert source.name == "dataSources/shop"
    assert source.dialect == dialect_pb2.DIALECT_SQLITE
    assert source.table_count == len(SHOP_TABLES)
    assert source.dsn == ""  # input only
    assert source.redacted_dsn == f"sqlite:///{unit.shop}"
    assert dict(source.labels) == {"team": "growth"}
    assert source.create_time.seconds > 0 and source.discover_time.seconds > 0


def test_server_picks_an_id_from_the_display_name(unit: SchemaUnit) -> None:
    first = unit.ok("CreateDataSource", data_source={"display_name": "My Shop!", "dsn": f"sqlite:///{unit.shop}"})
    second = unit.ok("CreateDataSource", data_source={"display_name": "My Shop!", "dsn": f"sqlite:///{unit.shop}"})
    assert first.data_source.name == "dataSources/my-shop"
    assert second.data_source.name == "dataSources/my-shop-2"


def test_duplicate_id_is_already_exists(unit: SchemaUnit) -> None:
    _create(unit)
    outcome = unit.call("CreateDataSource", data_source_id="shop", data_source={"dsn": f"sqlite:///{unit.shop}"})
    assert outcome.code == grpc.StatusCode.ALREADY_EXISTS and outcome.reason == "ALREADY_EXISTS"


def test_get_and_list_with_pages(unit: SchemaUnit) -> None:
    for i in range(3):
        _create(unit, f"shop-{i}")
    assert unit.ok("GetDataSource", name="dataSources/shop-1").data_source.name == "dataSources/shop-1"
    first = unit.ok("ListDataSources", page_size=2)
    assert [s.name for s in first.data_sources] == ["dataSources/shop-0", "dataSources/shop-1"]
    second = unit.ok("ListDataSources", page_size=2, page_token=first.next_page_token)
    assert [s.name for s in second.data_sources] == ["dataSources/shop-2"]
    assert second.next_page_token == ""


def test_update_changes_only_masked_fields(unit: SchemaUnit) -> None:
    _create(unit)
    reply = unit.ok("UpdateDataSource", data_source={"name": "dataSources/shop", "display_name": "Renamed",
                                                     "default_adapter": "ignored"},
                    update_mask=field_mask_pb2.FieldMask(paths=["display_name"]))
    assert reply.data_source.display_name == "Renamed"
    assert reply.data_source.default_adapter == ""
    stored = unit.ok("GetDataSource", name="dataSources/shop").data_source
    assert stored.display_name == "Renamed"


def test_delete_removes_the_source_and_calls_listeners(unit: SchemaUnit) -> None:
    _create(unit)
    deleted: list[str] = []

    async def forget(source: SourceRef) -> None:
        deleted.append(source.name)

    unit.catalog.add_delete_listener(forget)
    unit.ok("DeleteDataSource", name="dataSources/shop")
    assert deleted == ["dataSources/shop"]
    assert unit.call("GetDataSource", name="dataSources/shop").code == grpc.StatusCode.NOT_FOUND
    assert unit.call("ListTables", parent="dataSources/shop").code == grpc.StatusCode.NOT_FOUND


def test_test_connection_by_name_and_by_dsn(unit: SchemaUnit) -> None:
    _create(unit)
    by_name = unit.ok("TestConnection", name="dataSources/shop")
    by_dsn = unit.ok("TestConnection", dsn=f"sqlite:///{unit.shop}")
    for reply in (by_name, by_dsn):
        assert reply.dialect == dialect_pb2.DIALECT_SQLITE
        assert reply.server_version.startswith("SQLite 3.")
        assert reply.latency.ToTimedelta().total_seconds() >= 0


def test_list_tables_basic_and_get_table_full(unit: SchemaUnit) -> None:
    _create(unit)
    listed = unit.ok("ListTables", parent="dataSources/shop")
    assert [t.table for t in listed.tables] == SHOP_TABLES and listed.total_size == len(SHOP_TABLES)
    assert all(len(t.sample_rows) == 0 for t in listed.tables)
    items = unit.ok("GetTable", name="dataSources/shop/tables/order_items").table
    assert items.name == "dataSources/shop/tables/order_items"
    assert list(items.primary_key) == ["order_id", "product_id"]
    assert items.training_state == schema_pb2.TRAINING_STATE_UNTRAINED
    assert len(items.sample_rows) == 3
    price = [c.name for c in items.columns].index("unit_price")
    assert items.columns[price].value_type == value_pb2.VALUE_TYPE_DECIMAL
    assert items.sample_rows[0].values[price].WhichOneof("kind") == "decimal_value"
    basic = unit.ok("GetTable", name="dataSources/shop/tables/order_items", view=schema_pb2.TABLE_VIEW_BASIC).table
    assert len(basic.sample_rows) == 0


def test_list_tables_pages(unit: SchemaUnit) -> None:
    _create(unit)
    seen, token = [], ""
    while True:
        page = unit.ok("ListTables", parent="dataSources/shop", page_size=3, page_token=token)
        seen += [t.table for t in page.tables]
        token = page.next_page_token
        if not token:
            break
    assert seen == SHOP_TABLES


def test_refresh_without_changes(unit: SchemaUnit) -> None:
    _create(unit)
    reply = unit.ok("RefreshSchema", name="dataSources/shop")
    assert reply.unchanged_count == len(SHOP_TABLES)
    assert not reply.added_tables and not reply.removed_tables and not reply.changed_tables


def test_graph_has_declared_and_inferred_edges(unit: SchemaUnit) -> None:
    _create(unit)
    graph = unit.ok("GetSchemaGraph", parent="dataSources/shop")
    assert list(graph.tables) == SHOP_TABLES
    edges = {(e.from_table, tuple(e.from_columns), e.to_table): e for e in graph.edges}
    assert edges[("orders", ("customer_id",), "customers")].kind == join_pb2.JOIN_EDGE_KIND_DECLARED
    inferred = edges[("reviews", ("product_id",), "products")]
    assert inferred.kind == join_pb2.JOIN_EDGE_KIND_INFERRED and 0 < inferred.confidence < 1
    kinds = [e.kind for e in graph.edges]
    assert kinds == sorted(kinds)  # declared first
    strict = unit.ok("GetSchemaGraph", parent="dataSources/shop", min_confidence=0.99)
    assert all(e.kind == join_pb2.JOIN_EDGE_KIND_DECLARED for e in strict.edges)


def test_tenants_do_not_see_each_other(unit: SchemaUnit) -> None:
    _create(unit, tenant="acme")
    assert unit.call("GetDataSource", "globex", name="dataSources/shop").code == grpc.StatusCode.NOT_FOUND
    assert unit.ok("ListDataSources", "globex").data_sources == []
    _create(unit, tenant="globex")  # the same id is free in another tenant
    assert len(unit.ok("ListDataSources", "acme").data_sources) == 1


@pytest.mark.parametrize(("method", "fields", "field"), [
    pytest.param("CreateDataSource", {}, "data_source", id="create_without_source"),
    pytest.param("CreateDataSource", {"data_source": {"dsn": ""}}, "data_source.dsn", id="create_empty_dsn"),
    pytest.param("CreateDataSource", {"data_source": {"dsn": "sqlite:///x.db", "display_name": "x" * 201}},
                 "data_source.display_name", id="create_long_display_name"),
    pytest.param("CreateDataSource", {"data_source_id": "Bad_Id", "data_source": {"dsn": "sqlite:///x.db"}},
                 "data_source_id", id="create_bad_id"),
    pytest.param("CreateDataSource", {"data_source": {"dsn": "sqlite:///x.db", "schemas": [""]}},
                 "data_source.schemas", id="create_empty_schema"),
    pytest.param("GetDataSource", {"name": ""}, "name", id="get_empty_name"),
    pytest.param("GetDataSource", {"name": "sources/x"}, "name", id="get_malformed_name"),
    pytest.param("ListDataSources", {"page_size": -1}, "page_size", id="list_negative_page_size"),
    pytest.param("ListDataSources", {"page_token": "garbage"}, "page_token", id="list_bad_token"),
    pytest.param("UpdateDataSource", {"data_source": {"name": "x"}, "update_mask": {"paths": ["display_name"]}},
                 "data_source.name", id="update_malformed_name"),
    pytest.param("UpdateDataSource", {"data_source": {"name": "dataSources/shop"}}, "update_mask",
                 id="update_without_mask"),
    pytest.param("DeleteDataSource", {"name": "dataSources/"}, "name", id="delete_malformed_name"),
    pytest.param("TestConnection", {}, "target", id="test_without_target"),
    pytest.param("TestConnection", {"dsn": "oracle://u@h/db"}, "dsn", id="test_unsupported_dialect"),
    pytest.param("TestConnection", {"name": "dataSources/Nope"}, "name", id="test_malformed_name"),
    pytest.param("ListTables", {"parent": ""}, "parent", id="list_tables_empty_parent"),
    pytest.param("ListTables", {"parent": "dataSources/shop", "page_size": -5}, "page_size",
                 id="list_tables_negative_page_size"),
    pytest.param("GetTable", {"name": "dataSources/shop"}, "name", id="get_table_without_table"),
    pytest.param("RefreshSchema", {"name": "dataSources/shop/tables/x"}, "name", id="refresh_table_name"),
    pytest.param("GetSchemaGraph", {"parent": "nope"}, "parent", id="graph_malformed_parent"),
    pytest.param("GetSchemaGraph", {"parent": "dataSources/shop", "min_confidence": 1.5}, "min_confidence",
                 id="graph_confidence_out_of_range"),
])
def test_bad_input_is_invalid_argument_naming_the_field(unit: SchemaUnit, method: str, fields: dict[str, Any],
                                                        field: str) -> None:
    _create(unit)
    outcome = unit.call(method, **fields)
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, outcome.details
    assert outcome.fields[0] == field
    assert outcome.reason in {"INVALID_FIELD", "INVALID_PAGE_TOKEN", "UNSUPPORTED_DIALECT"}


@pytest.mark.parametrize(("method", "fields"), [
    pytest.param("GetDataSource", {"name": "dataSources/missing"}, id="get"),
    pytest.param("UpdateDataSource", {"data_source": {"name": "dataSources/missing"},
                                      "update_mask": {"paths": ["display_name"]}}, id="update"),
    pytest.param("DeleteDataSource", {"name": "dataSources/missing"}, id="delete"),
    pytest.param("TestConnection", {"name": "dataSources/missing"}, id="test_connection"),
    pytest.param("ListTables", {"parent": "dataSources/missing"}, id="list_tables"),
    pytest.param("GetTable", {"name": "dataSources/shop/tables/missing"}, id="get_table_missing_table"),
    pytest.param("GetTable", {"name": "dataSources/missing/tables/orders"}, id="get_table_missing_source"),
    pytest.param("RefreshSchema", {"name": "dataSources/missing"}, id="refresh"),
    pytest.param("GetSchemaGraph", {"parent": "dataSources/missing"}, id="graph"),
])
def test_unknown_resources_are_not_found(unit: SchemaUnit, method: str, fields: dict[str, Any]) -> None:
    _create(unit)
    outcome = unit.call(method, **fields)
    assert outcome.code == grpc.StatusCode.NOT_FOUND, outcome.details
    assert outcome.reason == "NOT_FOUND"


@pytest.mark.parametrize("paths", [
    pytest.param([], id="empty_mask"),
    pytest.param(["dialect"], id="output_only_field"),
    pytest.param(["display_name", "nope"], id="unknown_field"),
])
def test_bad_update_masks(unit: SchemaUnit, paths: list[str]) -> None:
    _create(unit)
    outcome = unit.call("UpdateDataSource", data_source={"name": "dataSources/shop"},
                        update_mask=field_mask_pb2.FieldMask(paths=paths))
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT
    assert outcome.fields == ["update_mask"]


def test_missing_sqlite_file_is_source_unreachable(unit: SchemaUnit, tmp_path: object) -> None:
    outcome = unit.call("CreateDataSource", data_source={"dsn": f"sqlite:///{unit.shop.parent}/absent.db"})
    assert outcome.code == grpc.StatusCode.FAILED_PRECONDITION
    assert outcome.reason == "SOURCE_UNREACHABLE"
    assert "unable to open database file" in outcome.details
    assert unit.ok("ListDataSources").data_sources == []


def test_invalid_tenant_header(unit: SchemaUnit) -> None:
    outcome = unit.call("ListDataSources", tenant="bad tenant!")
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT
    assert outcome.fields == ["x-chatdb-tenant"]


def test_fields_outside_the_mask_are_ignored_even_when_invalid(unit: SchemaUnit) -> None:
    _create(unit)
    reply = unit.ok("UpdateDataSource", data_source={"name": "dataSources/shop", "display_name": "x" * 500,
                                                     "dsn": "not a url", "labels": {"tier": "gold"}},
                    update_mask=field_mask_pb2.FieldMask(paths=["labels"]))
    assert dict(reply.data_source.labels) == {"tier": "gold"}
    assert reply.data_source.display_name == "Shop"
