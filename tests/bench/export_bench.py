"""ExportQueryResult of a 1,000,000-row table: throughput and the server's memory, beside a floor.

An ``items`` table of eight typed columns (integer, text with commas and quotes, decimal, double,
boolean, timestamp, date, text with NULLs) is filled with 1,000,000 rows in a SQLite file and in a
PostgreSQL database. A real ``chatdb serve`` child process exports it over gRPC as CSV, Parquet and
Arrow IPC, the first 100,000 rows and then all of them; the client here counts the chunks, writes
them to a file and reads the file back to check its row count.

For each export: rows/s and MB/s (file bytes) over the call's wall time, and the server process's
peak RSS growth: its peak is reset (``/proc/PID/clear_refs``) just before the call and read
(``VmHWM``) after it, less its RSS before the call. The server reads through a server-side cursor
and holds one chunk, so the growth must be the same at 100,000 and 1,000,000 rows.

Floor, measured in the same run: the same SQL (as the export's header reports it) read through the
same driver and the same dialect runner the server uses (aiosqlite, asyncpg: a server-side cursor),
5,000 rows a fetch, in this process, with no server, no encoding and no gRPC.

    .venv/bin/python -m tests.bench.export_bench [--rows 1000000] [--small 100000] [--formats csv,parquet,arrow]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import asyncpg
import grpc
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.query.export import FETCH_ROWS
from chatdb_server.sql.dialects import postgresql as postgresql_runner
from chatdb_server.sql.dialects import sqlite as sqlite_runner
from chatdb_server.sql.dialects.running import Fetched
from tests.support.databases import postgres_database, sync_engine_for
from tests.support.server import ServerProcess

FORMATS = {"csv": query_pb2.EXPORT_FORMAT_CSV, "parquet": query_pb2.EXPORT_FORMAT_PARQUET,
           "arrow": query_pb2.EXPORT_FORMAT_ARROW}
COLUMNS = "id, name, amount, ratio, flag, created, day, note"
CHUNK_BYTES = 1_048_576  # the export_chunk_bytes default
WARM_UP_ROWS = 10_000

SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO items
SELECT i, 'item ' || i || CASE WHEN i % 100 = 0 THEN ', "quoted"' ELSE '' END, round((i % 100000) / 100.0, 2),
       i / 7.0, i % 2, datetime(1700000000 + i * 60, 'unixepoch'), date(1700000000 + i * 60, 'unixepoch'),
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || (i % 977) END
FROM n"""
POSTGRESQL_FILL = """
INSERT INTO items
SELECT i, 'item ' || i || CASE WHEN mod(i, 100) = 0 THEN ', "quoted"' ELSE '' END, mod(i, 100000) / 100.0, i / 7.0,
       mod(i, 2) = 0, timestamp '2024-01-01' + i * interval '1 minute', date '2024-01-01' + (i / 1440)::int,
       CASE WHEN mod(i, 10) = 0 THEN NULL ELSE 'note ' || mod(i, 977) END
FROM generate_series(1, :rows) AS i"""
CREATE = {
    "sqlite": "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount NUMERIC(12, 2), ratio REAL, "
              "flag BOOLEAN, created TIMESTAMP, day DATE, note TEXT)",
    "postgresql": "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, amount NUMERIC(12, 2), "
                  "ratio DOUBLE PRECISION, flag BOOLEAN, created TIMESTAMP, day DATE, note TEXT)",
}


@dataclass
class Measured:
    dialect: str
    format: str
    rows: int
    seconds: float
    file_bytes: int
    rss_before: int
    rss_growth: int
    floor_seconds: float


def fill_sqlite(path: Path, rows: int) -> str:
    with sqlite3.connect(path) as db:
        db.execute(CREATE["sqlite"])
        db.execute(SQLITE_FILL, {"rows": rows})
    return f"sqlite:///{path}"


def fill_postgresql(dsn: str, rows: int) -> str:
    engine = sync_engine_for(dsn)
    try:
        with engine.connect() as conn:
            conn.execute(text(CREATE["postgresql"]))
            conn.execute(text(POSTGRESQL_FILL), {"rows": rows})
            conn.execute(text("VACUUM ANALYZE items"))
    finally:
        engine.dispose()
    return dsn


def proc_status(pid: int) -> dict[str, int]:
    """The process's memory lines of /proc/PID/status, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak(pid: int) -> int:
    """Reset the process's peak RSS to its current RSS (Linux ``clear_refs`` 5); that RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return proc_status(pid)["VmRSS"]


def counted_rows(kind: str, path: Path) -> int:
    """The rows of an exported file, read back with the format's own reader."""
    if kind == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    if kind == "arrow":
        with pa.memory_map(str(path)) as source:
            return sum(batch.num_rows for batch in pa.ipc.open_stream(source))
    with path.open("rb") as file:
        return sum(chunk.count(b"\r\n") for chunk in iter(lambda: file.read(io.DEFAULT_BUFFER_SIZE * 256), b"")) - 1


async def export(stub: query_service_pb2_grpc.QueryServiceStub, source: str, sql: str, kind: str,
                 path: Path) -> tuple[float, int, str, int]:
    """Export ``sql`` to ``path``: the seconds, the file's bytes, the SQL the server ran and its row count."""
    started = time.perf_counter()
    header_sql, row_count, written = "", -1, 0
    with path.open("wb") as file:
        async for message in stub.ExportQueryResult(query_service_pb2.ExportQueryResultRequest(
                parent=source, sql=sql, format=FORMATS[kind])):
            part = message.WhichOneof("part")
            if part == "chunk":
                file.write(message.chunk)
                written += len(message.chunk)
            elif part == "header":
                header_sql = message.header.sql
            else:
                row_count = message.summary.row_count
                if message.summary.byte_count != written:
                    raise RuntimeError(f"summary says {message.summary.byte_count} bytes, {written} came")
    return time.perf_counter() - started, written, header_sql, row_count


async def bare_read(dialect: str, dsn: str, sql: str) -> tuple[int, float]:
    """The floor: ``sql``'s rows read through the server's own dialect runner on a driver connection."""
    started = time.perf_counter()
    rows = 0
    chunks: AsyncGenerator[Fetched, None]
    if dialect == "sqlite":
        conn = await aiosqlite.connect(f"file:{dsn.removeprefix('sqlite:///')}?mode=ro", uri=True)
        try:
            chunks = sqlite_runner.stream(conn, sql, 3600.0, FETCH_ROWS)
            async for fetched in chunks:
                rows += len(fetched.rows)
        finally:
            await conn.close()
    else:
        pg = await asyncpg.connect(dsn)
        try:
            chunks = postgresql_runner.stream(pg, sql, 3600.0, FETCH_ROWS)
            async for fetched in chunks:
                rows += len(fetched.rows)
        finally:
            await pg.close()
    return rows, time.perf_counter() - started


async def measure(server: ServerProcess, channel: grpc.aio.Channel, dialect: str, dsn: str, sizes: list[int],
                  kinds: list[str], directory: Path) -> list[Measured]:
    schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
    source = (await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id=f"items-{dialect}", data_source=schema_pb2.DataSource(dsn=dsn)))).data_source.name
    stub = query_service_pb2_grpc.QueryServiceStub(channel)
    assert server.proc is not None
    pid = server.proc.pid
    path = directory / f"export-{dialect}"
    for kind in kinds:  # warm-up: imports, pools, the first allocations of each encoder
        await export(stub, source, f"SELECT {COLUMNS} FROM items WHERE id <= {WARM_UP_ROWS}", kind, path)
    results = []
    for size in sizes:
        sql = f"SELECT {COLUMNS} FROM items WHERE id <= {size}"
        for kind in kinds:
            before = reset_peak(pid)
            seconds, size_bytes, ran, row_count = await export(stub, source, sql, kind, path)
            growth = proc_status(pid)["VmHWM"] - before
            if row_count != size or counted_rows(kind, path) != size:
                raise RuntimeError(f"{dialect}/{kind}: {row_count} rows exported, {size} expected")
            floor_rows, floor_seconds = await bare_read(dialect, dsn, ran)
            if floor_rows != size:
                raise RuntimeError(f"{dialect}: the bare read gave {floor_rows} rows, {size} expected")
            results.append(Measured(dialect, kind, size, seconds, size_bytes, before, growth, floor_seconds))
            print(f"  {dialect} {kind} {size:,}: {seconds:.1f} s, RSS {growth / 1e6:+.1f} MB", flush=True)
    return results


async def run(rows: int, sizes: list[int], kinds: list[str]) -> list[Measured]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        directory = Path(tmp)
        started = time.perf_counter()
        sources: dict[str, Callable[[], str]] = {
            "sqlite": lambda: fill_sqlite(directory / "items.db", rows),
            "postgresql": lambda: fill_postgresql(stack.enter_context(postgres_database()), rows),
        }
        dsns = {dialect: fill() for dialect, fill in sources.items()}
        print(f"filled {rows:,} rows in SQLite and PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
        env = {"CHATDB_EXPORT_CHUNK_BYTES": str(CHUNK_BYTES), "CHATDB_PREDICTION_BACKEND": "template"}
        results: list[Measured] = []
        with ServerProcess(directory / "data", [], env=env) as server:
            channel = server.channel()
            try:
                for dialect, dsn in dsns.items():
                    results += await measure(server, channel, dialect, dsn, sizes, kinds, directory)
            finally:
                await channel.close()
    return results


def report(results: list[Measured]) -> None:
    print(f"\nExportQueryResult over gRPC, chatdb serve in a child process, chunks of "
          f"{CHUNK_BYTES:,} bytes, {FETCH_ROWS:,} rows a fetch; floor: the same SQL read through the same "
          "driver's server-side cursor in this process")
    header = ("dialect", "format", "rows", "seconds", "rows/s", "MB/s", "file MB", "server RSS", "peak growth",
              "floor rows/s", "of floor")
    print(" | ".join(f"{h:>12}" for h in header))
    for m in results:
        rate, floor_rate = m.rows / m.seconds, m.rows / m.floor_seconds
        cells = (m.dialect, m.format, f"{m.rows:,}", f"{m.seconds:.2f}", f"{rate:,.0f}",
                 f"{m.file_bytes / 1e6 / m.seconds:.1f}", f"{m.file_bytes / 1e6:.1f}", f"{m.rss_before / 1e6:.0f} MB",
                 f"{m.rss_growth / 1e6:+.1f} MB", f"{floor_rate:,.0f}", f"{rate / floor_rate:.0%}")
        print(" | ".join(f"{c:>12}" for c in cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table, and the large export")
    parser.add_argument("--small", type=int, default=100_000, help="rows of the small export")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: csv, parquet, arrow")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.formats.split(",") if k.strip()]
    unknown = set(kinds) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    report(asyncio.run(run(args.rows, [args.small, args.rows], kinds)))


if __name__ == "__main__":
    main()
