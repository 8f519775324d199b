"""Hostile data sources, refused over the real gRPC server: ChatDB's own metadata store (a SQLite
file, a symlink to it, or the PostgreSQL database it lives in), its data directory, files outside the
allowed directories, loopback and cloud-metadata hosts, and DSN parameters outside the allow-list.

Servers start with ``in_process_suite`` (SchemaService only), which trusts the local test targets
(``tests.support.trusted_targets``) unless a test overrides the settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.engine import make_url

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.support.grpc_unit import bad_request_fields, error_info
from tests.support.server import in_process_suite

TENANT = (("x-chatdb-tenant", "acme"),)
PASSWORD = "never-in-a-message-71c"


async def refused(call: Any, request: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(request, metadata=TENANT)
    error = caught.value
    assert error.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT), error.details()
    assert PASSWORD not in (error.details() or "")
    return error


def rule_of(error: grpc.aio.AioRpcError) -> str:
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error.details()
    info = error_info(error.trailing_metadata())
    assert info is not None and info.reason == "SOURCE_NOT_ALLOWED"
    return str(info.metadata["rule"])


def create(dsn: str) -> schema_service_pb2.CreateDataSourceRequest:
    return schema_service_pb2.CreateDataSourceRequest(data_source={"dsn": dsn})


def probe_request(dsn: str) -> schema_service_pb2.TestConnectionRequest:
    return schema_service_pb2.TestConnectionRequest(dsn=dsn)


async def test_chatdbs_own_files_are_never_a_data_source(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with in_process_suite(data_dir, ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        store = data_dir / "metadata.db"
        assert rule_of(await refused(schema.CreateDataSource, create(f"sqlite:///{store}"))) == "metadata_store"
        assert rule_of(await refused(schema.TestConnection, probe_request(f"sqlite:///{store}"))) == \
            "metadata_store"
        (tmp_path / "innocent.db").symlink_to(store)
        assert rule_of(await refused(schema.CreateDataSource, create(f"sqlite:///{tmp_path}/innocent.db"))) == \
            "metadata_store"
        key = next(p for p in data_dir.iterdir() if p.suffix == ".key")
        assert rule_of(await refused(schema.TestConnection, probe_request(f"sqlite:///{key}"))) == "data_dir"
        listed = await schema.ListDataSources(schema_service_pb2.ListDataSourcesRequest(), metadata=TENANT)
        assert list(listed.data_sources) == []


async def test_files_outside_the_allowed_directories_are_refused(tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(tmp_path / "data", ["schema"], allowed_sqlite_dirs="") as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        for path in ("/etc/passwd", str(shop), f"{tmp_path}/data/samples/../../shop.db"):
            assert rule_of(await refused(schema.TestConnection, probe_request(f"sqlite:///{path}"))) == \
                "allowed_sqlite_dirs"
        sample = build_shop_database(tmp_path / "data" / "samples" / "shop.db")
        reply = await schema.TestConnection(probe_request(f"sqlite:///{sample}"), metadata=TENANT)
        assert reply.server_version.startswith("SQLite")


async def test_an_update_to_a_refused_dsn_keeps_the_stored_one(tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        source = (await schema.CreateDataSource(create(f"sqlite:///{shop}"), metadata=TENANT)).data_source
        update = schema_service_pb2.UpdateDataSourceRequest(
            data_source={"name": source.name, "dsn": f"sqlite:///{tmp_path}/data/metadata.db"},
            update_mask={"paths": ["dsn"]})
        assert rule_of(await refused(schema.UpdateDataSource, update)) == "metadata_store"
        stored = await schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name=source.name), metadata=TENANT)
        assert stored.data_source.redacted_dsn == f"sqlite:///{shop}"


async def test_loopback_and_metadata_hosts_are_refused_unless_listed(tmp_path: Path, pg_dsn: str) -> None:
    local = make_url(pg_dsn).set(password=PASSWORD).render_as_string(hide_password=False)
    async with in_process_suite(tmp_path / "data", ["schema"], allowed_hosts="") as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        assert rule_of(await refused(schema.TestConnection, probe_request(local))) == "special_address"
        for host in ("169.254.169.254", "[fd00:ec2::254]", "localhost", "0.0.0.0"):
            dsn = f"postgresql://app:{PASSWORD}@{host}:5432/shop"
            assert rule_of(await refused(schema.CreateDataSource, create(dsn))) == "special_address"
    async with in_process_suite(tmp_path / "data", ["schema"], allowed_hosts="10.0.0.0/8") as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        assert rule_of(await refused(schema.TestConnection, probe_request(local))) == "special_address"
        assert rule_of(await refused(schema.TestConnection, probe_request(
            f"mysql://root:{PASSWORD}@192.0.2.10:3306/shop"))) == "allowed_hosts"
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):  # the trusted test settings
        reply = await schema_service_pb2_grpc.SchemaServiceStub(channel).TestConnection(
            probe_request(pg_dsn), metadata=TENANT)
        assert reply.server_version.startswith("PostgreSQL")


async def test_the_metadata_database_is_refused_though_its_host_is_trusted(tmp_path: Path, pg_dsn: str) -> None:
    metadata_url = make_url(pg_dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    async with in_process_suite(tmp_path / "data", ["schema"], metadata_url=metadata_url) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        same_by_address = make_url(pg_dsn).set(host="localhost", port=5432).render_as_string(hide_password=False)
        for dsn in (pg_dsn, same_by_address):
            assert rule_of(await refused(schema.CreateDataSource, create(dsn))) == "metadata_store"
            assert rule_of(await refused(schema.TestConnection, probe_request(dsn))) == "metadata_store"
        other = make_url(pg_dsn).set(database="postgres").render_as_string(hide_password=False)
        reply = await schema.TestConnection(probe_request(other), metadata=TENANT)
        assert reply.server_version.startswith("PostgreSQL")


@pytest.mark.parametrize(("query", "parameter"), [
    ("options=-cdefault_transaction_read_only%3Doff", "options"),
    ("host=/var/run/postgresql", "host"),
    ("sslmode=require&sslpassword=x", "sslpassword"),
])
async def test_unknown_dsn_parameters_are_invalid_arguments(tmp_path: Path, pg_dsn: str, query: str,
                                                            parameter: str) -> None:
    dsn = f"{make_url(pg_dsn).set(password=PASSWORD).render_as_string(hide_password=False)}?{query}"
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        created = await refused(schema.CreateDataSource, create(dsn))
        assert created.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(created.trailing_metadata()) == ["data_source.dsn"]
        assert repr(parameter) in (created.details() or "")
        tested = await refused(schema.TestConnection, probe_request(dsn))
        assert tested.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(tested.trailing_metadata()) == ["dsn"]


async def test_a_stored_source_is_checked_again_when_it_connects(tmp_path: Path, pg_dsn: str) -> None:
    data_dir = tmp_path / "data"
    async with in_process_suite(data_dir, ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        source = (await schema.CreateDataSource(create(pg_dsn), metadata=TENANT)).data_source
    async with in_process_suite(data_dir, ["schema", "query"], allowed_hosts="10.0.0.0/8") as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)  # the operator no longer trusts loopback
        by_name = schema_service_pb2.TestConnectionRequest(name=source.name)
        assert rule_of(await refused(schema.TestConnection, by_name)) == "special_address"
        refresh = schema_service_pb2.RefreshSchemaRequest(name=source.name)
        assert rule_of(await refused(schema.RefreshSchema, refresh)) == "special_address"
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        execute = query_service_pb2.ExecuteSqlRequest(parent=source.name, sql="SELECT 1")
        assert rule_of(await refused(query.ExecuteSql, execute)) == "special_address"
