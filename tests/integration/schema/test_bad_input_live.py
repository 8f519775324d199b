"""Every SchemaService RPC answers bad input with a clear status through a real server.

INVALID_ARGUMENT names the field (BadRequest) and carries a reason (ErrorInfo);
unknown resources are NOT_FOUND; unreachable or refusing databases are
FAILED_PRECONDITION with reason SOURCE_UNREACHABLE and the driver's reason.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from chatdb.schema.v1 import schema_service_pb2 as pb
from tests.integration.schema.conftest import SchemaServer, Target
from tests.support.grpc_unit import bad_request_fields, error_info

pytestmark = pytest.mark.usefixtures("registered")


@pytest.fixture
async def registered(schema_server: SchemaServer, sqlite_target: Target) -> None:
    await schema_server.stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source_id="live", data_source={"dsn": sqlite_target.dsn}))


async def _fails(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BAD_FIELDS: list[Any] = [
    pytest.param("CreateDataSource", pb.CreateDataSourceRequest(), "data_source", id="create_no_source"),
    pytest.param("CreateDataSource", pb.CreateDataSourceRequest(data_source={"dsn": "mysql://h"}),
                 "data_source.dsn", id="create_dsn_without_db"),
    pytest.param("CreateDataSource", pb.CreateDataSourceRequest(data_source={"dsn": "mssql://u@h/db"}),
                 "data_source.dsn", id="create_unsupported_dialect"),
    pytest.param("CreateDataSource", pb.CreateDataSourceRequest(data_source_id="-x", data_source={"dsn": "sqlite:///a"}),
                 "data_source_id", id="create_bad_id"),
    pytest.param("GetDataSource", pb.GetDataSourceRequest(), "name", id="get_empty"),
    pytest.param("GetDataSource", pb.GetDataSourceRequest(name="dataSources/live/x"), "name", id="get_malformed"),
    pytest.param("ListDataSources", pb.ListDataSourcesRequest(page_size=-1), "page_size", id="list_negative_size"),
    pytest.param("ListDataSources", pb.ListDataSourcesRequest(page_token="bm90IGEgdG9rZW4="), "page_token",
                 id="list_forged_token"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(), "data_source", id="update_no_source"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(data_source={"name": ""},
                                                                update_mask={"paths": ["labels"]}),
                 "data_source.name", id="update_empty_name"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(data_source={"name": "dataSources/live"}),
                 "update_mask", id="update_no_mask"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/live"}, update_mask=field_mask_pb2.FieldMask(paths=["redacted_dsn"])),
        "update_mask", id="update_output_only_path"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/live", "dsn": "nonsense"}, update_mask={"paths": ["dsn"]}),
        "data_source.dsn", id="update_malformed_dsn"),
    pytest.param("DeleteDataSource", pb.DeleteDataSourceRequest(name="live"), "name", id="delete_malformed"),
    pytest.param("TestConnection", pb.TestConnectionRequest(), "target", id="test_no_target"),
    pytest.param("TestConnection", pb.TestConnectionRequest(dsn="postgresql://u@/db"), "dsn", id="test_no_host"),
    pytest.param("TestConnection", pb.TestConnectionRequest(name="tables/x"), "name", id="test_malformed_name"),
    pytest.param("ListTables", pb.ListTablesRequest(), "parent", id="tables_empty_parent"),
    pytest.param("ListTables", pb.ListTablesRequest(parent="dataSources/live", page_size=-2), "page_size",
                 id="tables_negative_size"),
    pytest.param("ListTables", pb.ListTablesRequest(parent="dataSources/live", page_token="x"), "page_token",
                 id="tables_bad_token"),
    pytest.param("GetTable", pb.GetTableRequest(name="dataSources/live/tables/"), "name", id="table_empty_table"),
    pytest.param("GetTable", pb.GetTableRequest(name="dataSources/live/orders"), "name", id="table_malformed"),
    pytest.param("RefreshSchema", pb.RefreshSchemaRequest(), "name", id="refresh_empty"),
    pytest.param("GetSchemaGraph", pb.GetSchemaGraphRequest(parent="dataSources/LIVE"), "parent",
                 id="graph_malformed"),
    pytest.param("GetSchemaGraph", pb.GetSchemaGraphRequest(parent="dataSources/live", min_confidence=-0.1),
                 "min_confidence", id="graph_negative_confidence"),
]


@pytest.mark.parametrize(("method", "request_message", "field"), BAD_FIELDS)
async def test_invalid_argument_names_the_field(schema_server: SchemaServer, method: str, request_message: Any,
                                                field: str) -> None:
    err = await _fails(getattr(schema_server.stub, method)(request_message))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert bad_request_fields(err.trailing_metadata()) == [field]
    info = error_info(err.trailing_metadata())
    assert info is not None and info.domain == "chatdb"
    assert info.reason in {"INVALID_FIELD", "INVALID_PAGE_TOKEN", "UNSUPPORTED_DIALECT"}


async def test_page_token_of_another_listing_is_refused(schema_server: SchemaServer, sqlite_target: Target) -> None:
    await schema_server.stub.CreateDataSource(pb.CreateDataSourceRequest(data_source_id="live-2",
                                                                         data_source={"dsn": sqlite_target.dsn}))
    page = await schema_server.stub.ListTables(pb.ListTablesRequest(parent="dataSources/live", page_size=1))
    assert page.next_page_token
    err = await _fails(schema_server.stub.ListTables(pb.ListTablesRequest(
        parent="dataSources/live-2", page_size=1, page_token=page.next_page_token)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(err.trailing_metadata()).reason == "INVALID_PAGE_TOKEN"  # type: ignore[union-attr]


NOT_FOUND: list[Any] = [
    pytest.param("GetDataSource", pb.GetDataSourceRequest(name="dataSources/ghost"), id="get"),
    pytest.param("UpdateDataSource", pb.UpdateDataSourceRequest(data_source={"name": "dataSources/ghost"},
                                                                update_mask={"paths": ["display_name"]}), id="update"),
    pytest.param("DeleteDataSource", pb.DeleteDataSourceRequest(name="dataSources/ghost"), id="delete"),
    pytest.param("TestConnection", pb.TestConnectionRequest(name="dataSources/ghost"), id="test_connection"),
    pytest.param("ListTables", pb.ListTablesRequest(parent="dataSources/ghost"), id="list_tables"),
    pytest.param("GetTable", pb.GetTableRequest(name="dataSources/ghost/tables/orders"), id="get_table_source"),
    pytest.param("GetTable", pb.GetTableRequest(name="dataSources/live/tables/ghosts"), id="get_table_table"),
    pytest.param("RefreshSchema", pb.RefreshSchemaRequest(name="dataSources/ghost"), id="refresh"),
    pytest.param("GetSchemaGraph", pb.GetSchemaGraphRequest(parent="dataSources/ghost"), id="graph"),
]


@pytest.mark.parametrize(("method", "request_message"), NOT_FOUND)
async def test_unknown_resources_are_not_found(schema_server: SchemaServer, method: str,
                                               request_message: Any) -> None:
    err = await _fails(getattr(schema_server.stub, method)(request_message))
    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()
    info = error_info(err.trailing_metadata())
    assert info is not None and info.reason == "NOT_FOUND"
    assert "ghost" in err.details()


async def test_duplicate_id_is_already_exists(schema_server: SchemaServer, sqlite_target: Target) -> None:
    err = await _fails(schema_server.stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source_id="live", data_source={"dsn": sqlite_target.dsn})))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(err.trailing_metadata()).reason == "ALREADY_EXISTS"  # type: ignore[union-attr]


UNREACHABLE: list[Any] = [
    pytest.param(lambda tmp: f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres", "Connect call failed",
                 id="postgres_closed_port"),
    pytest.param(lambda tmp: "postgresql://postgres@127.0.0.1:5432/chatdb_no_such_database", "does not exist",
                 id="postgres_missing_database"),
    pytest.param(lambda tmp: "postgresql://chatdb_no_such_role:pw@127.0.0.1:5432/postgres", "chatdb_no_such_role",
                 id="postgres_unknown_role"),
    pytest.param(lambda tmp: "mysql://root:wrong-password@127.0.0.1:3306/mysql", "Access denied",
                 id="mariadb_wrong_password"),
    pytest.param(lambda tmp: f"mysql://root@127.0.0.1:{_closed_port()}/mysql", "Can't connect",
                 id="mariadb_closed_port"),
    pytest.param(lambda tmp: f"sqlite:///{tmp}/absent.db", "unable to open database file", id="sqlite_missing_file"),
]


@pytest.mark.parametrize(("dsn_for", "says"), UNREACHABLE)
async def test_unreachable_database_is_failed_precondition(schema_server: SchemaServer, tmp_path: Path,
                                                           dsn_for: Callable[[Path], str], says: str) -> None:
    dsn = dsn_for(tmp_path)
    stub = schema_server.stub
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "create": lambda: stub.CreateDataSource(pb.CreateDataSourceRequest(data_source={"dsn": dsn})),
        "test": lambda: stub.TestConnection(pb.TestConnectionRequest(dsn=dsn)),
        "update": lambda: stub.UpdateDataSource(pb.UpdateDataSourceRequest(
            data_source={"name": "dataSources/live", "dsn": dsn}, update_mask={"paths": ["dsn"]})),
    }
    for what, call in calls.items():
        err = await _fails(call())
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, (what, err.details())
        info = error_info(err.trailing_metadata())
        assert info is not None and info.reason == "SOURCE_UNREACHABLE"
        assert says in err.details(), err.details()
    listed = await schema_server.stub.ListDataSources(pb.ListDataSourcesRequest())
    assert [s.name for s in listed.data_sources] == ["dataSources/live"]
    assert listed.data_sources[0].redacted_dsn.startswith("sqlite:///")  # the failed update changed nothing


async def test_refresh_of_a_source_that_went_away(schema_server: SchemaServer, sqlite_target: Target) -> None:
    os.remove(sqlite_target.dsn.removeprefix("sqlite:///"))
    stub = schema_server.stub
    for call in (lambda: stub.RefreshSchema(pb.RefreshSchemaRequest(name="dataSources/live")),
                 lambda: stub.TestConnection(pb.TestConnectionRequest(name="dataSources/live"))):
        err = await _fails(call())
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_info(err.trailing_metadata()).reason == "SOURCE_UNREACHABLE"  # type: ignore[union-attr]
    tables = await schema_server.stub.ListTables(pb.ListTablesRequest(parent="dataSources/live"))
    assert tables.total_size == 6  # what was discovered is kept


async def test_unknown_postgres_schema_is_invalid(schema_server: SchemaServer, pg_target: Target) -> None:
    err = await _fails(schema_server.stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source={"dsn": pg_target.dsn, "schemas": ["public", "nowhere"]})))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(err.trailing_metadata()) == ["data_source.schemas"]
    assert "nowhere" in err.details()
