"""ExportQueryResult over gRPC against the real server: a table of more rows than Ask's row cap, on SQLite,
PostgreSQL and MariaDB sources, exported in every format and read back (csv, json, pyarrow); the caller's
column and row policies, the guard, the export's own row cap, recorded queries, unknown names, a viewer,
and a caller that goes away mid-export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import pytest_asyncio
from sqlalchemy import text

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.access.audit import AuditFilter
from chatdb_server.server.access import shared_audit, shared_keys
from chatdb_server.server.runtime import RunningServer
from tests.support.databases import mysql_database, postgres_database, sync_engine_for
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite, keyed_metadata
from tests.support.spider_copy import copy_sqlite_to

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

ROWS = 2_500
ASK_ROW_CAP = 1_000
CHUNK_BYTES = 8_192
DIALECTS = ("sqlite", "postgresql", "mariadb")
FORMATS = (query_pb2.EXPORT_FORMAT_CSV, query_pb2.EXPORT_FORMAT_JSON_LINES, query_pb2.EXPORT_FORMAT_ARROW,
           query_pb2.EXPORT_FORMAT_PARQUET)
COLUMNS = ("id", "name", "region", "secret", "qty")
SELECT_ALL = "SELECT id, name, region, secret, qty FROM items ORDER BY id"


def expected_rows() -> list[dict[str, Any]]:
    """The table's rows: quotes, commas, line breaks and non-ASCII text in names, NULLs in qty."""
    return [{"id": i, "name": f'item "{i}", ü' + ("\nsecond line" if i % 250 == 0 else ""),
             "region": "north" if i % 3 == 0 else "south", "secret": f"s-{i * 7919 % 10007}",
             "qty": None if i % 7 == 0 else i % 50} for i in range(1, ROWS + 1)]


def build_items(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL, region VARCHAR(10) "
                   "NOT NULL, secret VARCHAR(40) NOT NULL, qty INTEGER)")
        db.executemany("INSERT INTO items VALUES (:id, :name, :region, :secret, :qty)", expected_rows())
    return path


@dataclass
class Export:
    header: query_service_pb2.ExportHeader
    chunks: list[bytes]
    summary: query_service_pb2.ExportSummary

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


@dataclass
class Suite:
    channel: grpc.aio.Channel
    query: query_service_pb2_grpc.QueryServiceStub
    access: access_service_pb2_grpc.AccessServiceStub
    schema: schema_service_pb2_grpc.SchemaServiceStub
    asker: tuple[tuple[str, str], ...]
    viewer: tuple[tuple[str, str], ...]
    sources: dict[str, str]
    dsns: dict[str, str]
    running: RunningServer

    async def register(self, source_id: str, dsn: str) -> str:
        reply = await self.schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id=source_id, data_source=schema_pb2.DataSource(dsn=dsn)))
        return str(reply.data_source.name)

    async def export(self, metadata: tuple[tuple[str, str], ...] | None = None,
                     **request: Any) -> Export:
        messages = [m async for m in self.query.ExportQueryResult(
            query_service_pb2.ExportQueryResultRequest(**request), metadata=metadata or self.asker)]
        assert messages[0].WhichOneof("part") == "header" and messages[-1].WhichOneof("part") == "summary"
        chunks = [m.chunk for m in messages[1:-1]]
        assert all(m.WhichOneof("part") == "chunk" for m in messages[1:-1])
        return Export(messages[0].header, chunks, messages[-1].summary)


@contextmanager
def databases(directory: Path) -> Iterator[dict[str, str]]:
    sqlite_path = build_items(directory / "items.db")
    with ExitStack() as stack:
        dsns = {"sqlite": f"sqlite:///{sqlite_path}"}
        for dialect, open_database in (("postgresql", postgres_database), ("mariadb", mysql_database)):
            dsn = stack.enter_context(open_database())
            copy_sqlite_to(dsn, sqlite_path)
            dsns[dialect] = dsn
        yield dsns


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def suite(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Suite]:
    directory = tmp_path_factory.mktemp("export")
    with databases(directory) as dsns:
        async with in_process_suite(directory / "data", max_rows=ASK_ROW_CAP, default_rows=ASK_ROW_CAP,
                                    export_chunk_bytes=CHUNK_BYTES) as (running, channel):
            keys = shared_keys(running.components)
            asker = keyed_metadata((await keys.create("default", ["asker"])).secret)
            viewer = keyed_metadata((await keys.create("default", ["viewer"])).secret)
            bare = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")  # each call sends its own key
            suite = Suite(channel, query_service_pb2_grpc.QueryServiceStub(bare),
                          access_service_pb2_grpc.AccessServiceStub(channel),
                          schema_service_pb2_grpc.SchemaServiceStub(channel), asker, viewer, {}, dsns, running)
            try:
                for dialect, dsn in dsns.items():
                    suite.sources[dialect] = await suite.register(f"items-{dialect}", dsn)
                yield suite
            finally:
                await bare.close()


def parsed(export: Export) -> list[dict[str, Any]]:
    """The exported file read back with each format's own reader."""
    kind = export.header.format
    if kind == query_pb2.EXPORT_FORMAT_CSV:
        reader = csv.reader(io.StringIO(export.data.decode(), newline=""))
        names = next(reader)
        return [dict(zip(names, row, strict=True)) for row in reader]
    if kind == query_pb2.EXPORT_FORMAT_JSON_LINES:
        return [json.loads(line) for line in export.data.decode().splitlines()]
    if kind == query_pb2.EXPORT_FORMAT_ARROW:
        return pa.ipc.open_stream(export.data).read_all().to_pylist()  # type: ignore[no-any-return]
    return pq.read_table(io.BytesIO(export.data)).to_pylist()  # type: ignore[no-any-return]


def as_exported(rows: list[dict[str, Any]], kind: int) -> list[dict[str, Any]]:
    """The rows as the format writes them: CSV has text only, NULL as an empty field."""
    if kind != query_pb2.EXPORT_FORMAT_CSV:
        return rows
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("kind", FORMATS, ids=lambda k: query_pb2.ExportFormat.Name(k))
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_every_format_reads_back_to_the_whole_table(suite: Suite, dialect: str, kind: int) -> None:
    export = await suite.export(parent=suite.sources[dialect], sql=SELECT_ALL, format=kind)
    assert [c.name for c in export.header.columns] == list(COLUMNS)
    assert export.header.format == kind and export.header.content_type and export.header.file_extension
    assert parsed(export) == as_exported(expected_rows(), kind)
    assert export.summary.row_count == ROWS and not export.summary.truncated
    assert export.summary.byte_count == len(export.data)
    assert len(export.chunks) > 1 and all(0 < len(c) <= CHUNK_BYTES for c in export.chunks)


async def test_an_export_goes_beyond_the_row_cap_of_a_reply(suite: Suite) -> None:
    executed = await suite.query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(
        parent=suite.sources["sqlite"], sql=SELECT_ALL, max_rows=ROWS), metadata=suite.asker)
    assert executed.row_count == ASK_ROW_CAP and executed.truncated
    export = await suite.export(parent=suite.sources["sqlite"], sql=SELECT_ALL,
                                format=query_pb2.EXPORT_FORMAT_JSON_LINES)
    assert export.summary.row_count == ROWS > ASK_ROW_CAP


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_export_row_cap_cuts_the_result_and_says_so(suite: Suite, dialect: str) -> None:
    export = await suite.export(parent=suite.sources[dialect], sql=SELECT_ALL, format=query_pb2.EXPORT_FORMAT_ARROW,
                                max_rows=100)
    assert parsed(export) == expected_rows()[:100]
    assert export.summary.row_count == 100 and export.summary.truncated
    assert any("row cap" in w for w in export.summary.warnings)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_column_and_row_policies_bind_the_export(suite: Suite, dialect: str) -> None:
    name = await suite.register(f"policed-{dialect}", suite.dsns[dialect])
    await suite.access.CreateColumnPolicy(access_service_pb2.CreateColumnPolicyRequest(
        parent=name, column_policy=access_pb2.ColumnPolicy(table="items", column="secret",
                                                           action=access_pb2.COLUMN_ACTION_EXCLUDE)))
    await suite.access.CreateRowPolicy(access_service_pb2.CreateRowPolicyRequest(
        parent=name, row_policy=access_pb2.RowPolicy(table="items", predicate="region = 'north'")))
    export = await suite.export(parent=name, sql="SELECT * FROM items ORDER BY id",
                                format=query_pb2.EXPORT_FORMAT_PARQUET)
    north = [{k: v for k, v in row.items() if k != "secret"} for row in expected_rows() if row["region"] == "north"]
    assert [c.name for c in export.header.columns] == ["id", "name", "region", "qty"]
    assert parsed(export) == north and "north" in export.header.sql
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await suite.export(parent=name, sql="SELECT id, secret FROM items", format=query_pb2.EXPORT_FORMAT_CSV)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_sql_the_guard_refuses_is_invalid_argument_unsafe_sql(suite: Suite) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await suite.export(parent=suite.sources["postgresql"], sql="DELETE FROM items",
                           format=query_pb2.EXPORT_FORMAT_CSV)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(refused.value.trailing_metadata())
    assert info is not None and info.reason == "UNSAFE_SQL" and info.metadata["field"] == "sql"


async def test_a_recorded_query_is_exported_again_and_an_unknown_one_is_not_found(suite: Suite) -> None:
    source = suite.sources["mariadb"]
    executed = await suite.query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(
        parent=source, sql="SELECT id, qty FROM items WHERE qty > 45 ORDER BY id"), metadata=suite.asker)
    export = await suite.export(query=executed.query, format=query_pb2.EXPORT_FORMAT_JSON_LINES)
    assert parsed(export) == [{"id": r["id"], "qty": r["qty"]} for r in expected_rows()
                              if r["qty"] is not None and r["qty"] > 45]
    for request in ({"query": f"{source}/queries/q{uuid.uuid4().hex[:20]}"},
                    {"parent": "dataSources/nowhere", "sql": "SELECT 1"}):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await suite.export(format=query_pb2.EXPORT_FORMAT_CSV, **request)
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND, request


async def test_a_request_without_a_format_or_input_names_the_field(suite: Suite) -> None:
    for request, field in (({"parent": suite.sources["sqlite"], "sql": "SELECT 1"}, "format"),
                           ({"parent": suite.sources["sqlite"], "format": query_pb2.EXPORT_FORMAT_CSV}, "sql"),
                           ({"parent": suite.sources["sqlite"], "sql": "SELECT 1", "max_rows": -1,
                             "format": query_pb2.EXPORT_FORMAT_CSV}, "max_rows")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await suite.export(**request)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(refused.value.trailing_metadata())
        assert info is not None and info.metadata["field"] == field


async def test_a_viewer_may_not_export(suite: Suite) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await suite.export(suite.viewer, parent=suite.sources["sqlite"], sql=SELECT_ALL,
                           format=query_pb2.EXPORT_FORMAT_CSV)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_caller_going_away_cancels_the_query_in_postgresql(suite: Suite) -> None:
    marker = "a.id + b.id + c.id < 0"  # billions of row combinations: the first fetch waits on the database
    call = suite.query.ExportQueryResult(query_service_pb2.ExportQueryResultRequest(
        parent=suite.sources["postgresql"], sql=f"SELECT a.id FROM items a, items b, items c WHERE {marker}",
        format=query_pb2.EXPORT_FORMAT_CSV), metadata=suite.asker)
    engine = sync_engine_for(suite.dsns["postgresql"])
    try:
        assert await eventually(lambda: running_queries(engine, marker), 1)
        call.cancel()
        assert await eventually(lambda: running_queries(engine, marker), 0)
    finally:
        engine.dispose()
    assert await eventually(lambda: cancelled_exports(suite, marker), 1), "the export was not audited as cancelled"


async def test_an_unreachable_database_is_refused_and_shows_in_the_system_status(suite: Suite) -> None:
    with postgres_database() as dsn:
        copy_sqlite_to(dsn, Path(suite.dsns["sqlite"].removeprefix("sqlite:///")))
        name = await suite.register("items-gone", dsn)
    # The database is dropped: the next export cannot connect.
    with pytest.raises(grpc.aio.AioRpcError) as unreachable:
        await suite.export(parent=name, sql=SELECT_ALL, format=query_pb2.EXPORT_FORMAT_CSV)
    assert unreachable.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(unreachable.value.trailing_metadata())
    assert info is not None and info.reason == "SOURCE_UNREACHABLE"
    status = await suite.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest(), metadata=suite.asker)
    health = {d.name: d for d in status.dependencies}
    assert not health[name].healthy
    await suite.schema.DeleteDataSource(schema_service_pb2.DeleteDataSourceRequest(name=name))


async def running_queries(engine: Any, marker: str) -> int:
    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE :marker "
                "AND query NOT LIKE '%pg_stat_activity%'"), {"marker": f"%{marker}%"}).scalar_one())
    return await asyncio.to_thread(count)


async def eventually(probe: Any, expected: Any, timeout_s: float = 30.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await probe() == expected:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_caller_leaving_between_chunks_is_audited_as_cancelled(suite: Suite) -> None:
    marker = "leaving between chunks"
    call = suite.query.ExportQueryResult(query_service_pb2.ExportQueryResultRequest(
        parent=suite.sources["sqlite"], sql=f"SELECT id, name, '{marker}' AS note FROM items",
        format=query_pb2.EXPORT_FORMAT_CSV), metadata=suite.asker)
    first = await call.read()
    assert first.WhichOneof("part") == "header"
    call.cancel()
    assert await eventually(lambda: cancelled_exports(suite, marker), 1), "the export was not audited as cancelled"


async def cancelled_exports(suite: Suite, marker: str) -> int:
    """Audit events of exports whose SQL holds ``marker`` and whose caller went away."""
    events, _ = await shared_audit(suite.running.components).list(AuditFilter(), page_size=1000)
    return sum(1 for e in events if e.method.endswith("/ExportQueryResult") and marker in e.sql
               and e.status_code == "CANCELLED")
