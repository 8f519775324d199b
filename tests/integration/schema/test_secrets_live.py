"""A data source's password is in no reply, no error, no log line and no stored file.

It exists only sealed in the metadata store, readable with the server's key.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import structlog
from sqlalchemy.engine import make_url

from chatdb.schema.v1 import schema_pb2
from chatdb.schema.v1 import schema_service_pb2 as pb
from chatdb_server import log
from tests.integration.schema.conftest import SchemaServer


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production log pipeline at debug level, writing its JSON lines to a buffer for the test."""
    saved = structlog.get_config()
    buffer = io.StringIO()
    log.configure("debug", "json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    try:
        yield buffer
    finally:
        structlog.configure(**saved)


class Transcript:
    """Every byte the server sent back: replies, error details and trailing metadata."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []

    async def ok(self, call: Any) -> Any:
        reply = await call
        self.blobs.append(reply.SerializeToString())
        return reply

    async def error(self, call: Any) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        self.blobs.append((err.value.details() or "").encode())
        self.blobs.extend(value if isinstance(value, bytes) else str(value).encode()
                          for _, value in err.value.trailing_metadata() or ())
        return err.value


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_password_never_leaves_the_vault(schema_server: SchemaServer, mysql_user: tuple[str, str],
                                               pg_dsn: str, json_logs: io.StringIO,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    mysql_dsn, mysql_password = mysql_user
    pg_password, pg_new_password, wrong_password = (f"Pg-{uuid.uuid4().hex}" for _ in range(3))
    pg_with_password = make_url(pg_dsn).set(password=pg_password).render_as_string(hide_password=False)
    secrets = [mysql_password, pg_password, pg_new_password, wrong_password]
    stub, seen = schema_server.stub, Transcript()

    created = await seen.ok(stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source_id="maria", data_source={"dsn": mysql_dsn, "display_name": "Maria"})))
    assert created.data_source.redacted_dsn.startswith(f"mysql://{mysql_dsn.split(':')[1][2:]}:***@")
    await seen.ok(stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source_id="pg", data_source={"dsn": pg_with_password})))
    for name in ("dataSources/maria", "dataSources/pg"):
        await seen.ok(stub.GetDataSource(pb.GetDataSourceRequest(name=name)))
        await seen.ok(stub.ListTables(pb.ListTablesRequest(parent=name, view=schema_pb2.TABLE_VIEW_FULL)))
        await seen.ok(stub.GetSchemaGraph(pb.GetSchemaGraphRequest(parent=name)))
        await seen.ok(stub.RefreshSchema(pb.RefreshSchemaRequest(name=name)))
        await seen.ok(stub.TestConnection(pb.TestConnectionRequest(name=name)))
    await seen.ok(stub.GetTable(pb.GetTableRequest(name="dataSources/maria/tables/customers")))
    await seen.ok(stub.ListDataSources(pb.ListDataSourcesRequest()))
    await seen.ok(stub.TestConnection(pb.TestConnectionRequest(dsn=mysql_dsn)))
    await seen.ok(stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/pg",
                     "dsn": make_url(pg_dsn).set(password=pg_new_password).render_as_string(hide_password=False)},
        update_mask={"paths": ["dsn"]})))

    wrong = mysql_dsn.replace(mysql_password, wrong_password)
    refused = await seen.error(stub.TestConnection(pb.TestConnectionRequest(dsn=wrong)))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION and "Access denied" in refused.details()
    await seen.error(stub.CreateDataSource(pb.CreateDataSourceRequest(data_source={"dsn": wrong})))
    await seen.error(stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        data_source={"name": "dataSources/maria", "dsn": wrong}, update_mask={"paths": ["dsn"]})))
    await seen.error(stub.CreateDataSource(pb.CreateDataSourceRequest(
        data_source={"dsn": f"postgresql://app:{wrong_password}@/nohost"})))
    await seen.error(stub.TestConnection(pb.TestConnectionRequest(dsn=f"oracle://app:{wrong_password}@h/db")))

    stored = await schema_server.catalog.resolve("default", "dataSources/maria")
    assert stored.dsn.url.password == mysql_password  # kept, sealed, usable
    await seen.ok(stub.DeleteDataSource(pb.DeleteDataSourceRequest(name="dataSources/maria")))

    captured = capfd.readouterr()  # anything else the process printed (stdlib logging, gRPC core)
    logs = json_logs.getvalue() + captured.err + captured.out
    assert '"rpc": "CreateDataSource"' in logs and "rpc.error" in logs  # the logs were captured
    files = _files(schema_server.data_dir)
    assert any(name.endswith("metadata.db") for name in files)
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in seen.blobs), "password in a reply"
        assert secret not in logs, "password in a log line"
        leaking = [name for name, content in files.items() if secret.encode() in content]
        assert leaking == [], f"password in stored file(s) {leaking}"
