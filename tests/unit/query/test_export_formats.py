"""The export's file writers without a server: every value type written in every format, across several
chunks, and read back with each format's own reader (csv, json, pyarrow); empty results, repeated column
names, a column whose values change type, and how QueryExport cuts the file into export_chunk_bytes chunks.

Plain text, quotes, commas, line breaks, integers and NULLs read through a real server are in
tests/integration/query/test_export.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chatdb_server.errors import FailedPrecondition
from chatdb_server.query.domain import Row
from chatdb_server.query.export import ExportDone, ExportRequest, ExportStart, QueryExport
from chatdb_server.query.export_formats import MIXED_COLUMN_TYPES, ExportFormat, encoder
from chatdb_server.query.pipeline_execution import GuardedExecution
from chatdb_server.query.pipeline_sources import SourceContexts
from chatdb_server.query.policed_check import PolicedVerdict
from chatdb_server.settings import Settings
from chatdb_server.sql.dialects.running import Fetched
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn

FORMATS = list(ExportFormat)
TEXT = 'say "hi", then\r\nbye; ü €'
DOC = {"a": [1, 2], "b": {"c": None}}
SEEN = datetime(2024, 3, 1, 10, 30, 0, 123456, tzinfo=UTC)
COLUMNS = [ResultColumn("id", "INTEGER"), ResultColumn("ratio", "DOUBLE"), ResultColumn("amount", "DECIMAL"),
           ResultColumn("note", "STRING"), ResultColumn("flag", "BOOL"), ResultColumn("born", "DATE"),
           ResultColumn("seen", "TIMESTAMP"), ResultColumn("local", "TIMESTAMP"), ResultColumn("opens", "TIME"),
           ResultColumn("blob", "BYTES"), ResultColumn("doc", "JSON")]
ROWS: list[Row] = [
    (9007199254740993, 0.25, Decimal("1234567.890"), TEXT, True, date(2024, 2, 29),
     SEEN.astimezone(timezone(timedelta(hours=2))), datetime(2024, 3, 1, 12, 30), time(9, 15, 30),
     b"\x00\xff,\n\"", DOC),
    (-7, -1.5e300, Decimal("-0.01"), "", False, date(1970, 1, 1), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
     datetime(2000, 1, 1), time(0, 0), b"", []),
    (None,) * len(COLUMNS),
]
BLOB_TEXT = ("AP8sCiI=", "", None)  # base64 of the blobs


def written(kind: ExportFormat, columns: Sequence[ResultColumn], chunks: Sequence[Sequence[Row]]) -> bytes:
    """The whole file an encoder writes for ``chunks`` of rows."""
    writer = encoder(kind)
    return writer.start(columns) + b"".join(writer.rows(chunk) for chunk in chunks) + writer.finish()


def read_back(kind: ExportFormat, data: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    """The file's column names and rows, read with the format's own reader."""
    if kind is ExportFormat.CSV:
        reader = csv.reader(io.StringIO(data.decode(), newline=""))
        names = next(reader)
        return names, [dict(zip(names, row, strict=True)) for row in reader]
    if kind is ExportFormat.JSON_LINES:
        rows = [json.loads(line) for line in data.decode().splitlines()]
        return (list(rows[0]) if rows else []), rows
    table = pa.ipc.open_stream(data).read_all() if kind is ExportFormat.ARROW else pq.read_table(io.BytesIO(data))
    return table.column_names, table.to_pylist()


def expected(kind: ExportFormat) -> list[dict[str, Any]]:
    """ROWS as each format writes them."""
    iso = [(r[5].isoformat(), r[6].isoformat(), r[7].isoformat(), r[8].isoformat()) if r[0] is not None
           else (None,) * 4 for r in ROWS]
    if kind is ExportFormat.CSV:
        return [{"id": "9007199254740993", "ratio": "0.25", "amount": "1234567.890", "note": TEXT, "flag": "true",
                 "born": "2024-02-29", "seen": iso[0][1], "local": "2024-03-01T12:30:00", "opens": "09:15:30",
                 "blob": BLOB_TEXT[0], "doc": json.dumps(DOC)},
                {"id": "-7", "ratio": "-1.5e+300", "amount": "-0.01", "note": "", "flag": "false",
                 "born": "1970-01-01", "seen": iso[1][1], "local": "2000-01-01T00:00:00", "opens": "00:00:00",
                 "blob": "", "doc": "[]"},
                dict.fromkeys((c.name for c in COLUMNS), "")]
    if kind is ExportFormat.JSON_LINES:
        return [{"id": 9007199254740993, "ratio": 0.25, "amount": "1234567.890", "note": TEXT, "flag": True,
                 "born": "2024-02-29", "seen": iso[0][1], "local": "2024-03-01T12:30:00", "opens": "09:15:30",
                 "blob": BLOB_TEXT[0], "doc": DOC},
                {"id": -7, "ratio": -1.5e300, "amount": "-0.01", "note": "", "flag": False, "born": "1970-01-01",
                 "seen": iso[1][1], "local": "2000-01-01T00:00:00", "opens": "00:00:00", "blob": "", "doc": []},
                dict.fromkeys(c.name for c in COLUMNS)]
    return [{"id": 9007199254740993, "ratio": 0.25, "amount": "1234567.890", "note": TEXT, "flag": True,
             "born": date(2024, 2, 29), "seen": SEEN, "local": datetime(2024, 3, 1, 12, 30), "opens": time(9, 15, 30),
             "blob": b"\x00\xff,\n\"", "doc": json.dumps(DOC)},
            {"id": -7, "ratio": -1.5e300, "amount": "-0.01", "note": "", "flag": False, "born": date(1970, 1, 1),
             "seen": datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "local": datetime(2000, 1, 1),
             "opens": time(0, 0), "blob": b"", "doc": "[]"},
            dict.fromkeys(c.name for c in COLUMNS)]


@pytest.mark.parametrize("kind", FORMATS)
def test_every_value_type_reads_back_across_chunks(kind: ExportFormat) -> None:
    names, rows = read_back(kind, written(kind, COLUMNS, [ROWS[:1], ROWS[1:]]))
    assert names == [c.name for c in COLUMNS]
    assert rows == expected(kind)


def test_decimals_keep_their_exact_text_where_a_float_would_round() -> None:
    exact = Decimal("12345678901234567890.123456789")
    for kind in FORMATS:
        _, rows = read_back(kind, written(kind, [ResultColumn("amount", "DECIMAL")], [[(exact,)]]))
        assert Decimal(rows[0]["amount"]) == exact, kind


@pytest.mark.parametrize("kind", [ExportFormat.ARROW, ExportFormat.PARQUET])
def test_arrow_files_carry_typed_columns_and_one_batch_per_chunk(kind: ExportFormat) -> None:
    data = written(kind, COLUMNS, [ROWS[:1], ROWS[1:2], ROWS[2:]])
    if kind is ExportFormat.ARROW:
        reader = pa.ipc.open_stream(data)
        schema, batches = reader.schema, sum(1 for _ in reader)
    else:
        parquet = pq.ParquetFile(io.BytesIO(data))
        schema, batches = parquet.schema_arrow, parquet.num_row_groups
    assert batches == 3
    assert [str(schema.field(c.name).type) for c in COLUMNS] == [
        "int64", "double", "string", "string", "bool", "date32[day]", "timestamp[us, tz=UTC]", "timestamp[us]",
        "time64[us]", "binary", "string"]


def test_an_interval_is_a_duration_in_arrow_and_its_text_elsewhere() -> None:
    columns = [ResultColumn("wait", "TIME")]
    rows: list[list[Row]] = [[(timedelta(days=1, seconds=5),)], [(None,)]]
    for kind in (ExportFormat.ARROW, ExportFormat.PARQUET):
        _, read = read_back(kind, written(kind, columns, rows))
        assert read == [{"wait": timedelta(days=1, seconds=5)}, {"wait": None}]
    _, read = read_back(ExportFormat.CSV, written(ExportFormat.CSV, columns, rows))
    assert read == [{"wait": "1 day, 0:00:05"}, {"wait": ""}]


def test_a_float_json_cannot_hold_is_written_as_text_in_json_lines() -> None:
    data = written(ExportFormat.JSON_LINES, [ResultColumn("x", "DOUBLE")],
                   [[(float("nan"),), (float("inf"),), (float("-inf"),)]])
    assert [json.loads(line, parse_constant=pytest.fail) for line in data.decode().splitlines()] == [
        {"x": "nan"}, {"x": "inf"}, {"x": "-inf"}]


@pytest.mark.parametrize("kind", FORMATS)
def test_an_empty_result_is_a_file_with_its_columns_and_no_rows(kind: ExportFormat) -> None:
    data = written(kind, COLUMNS[:3], [])
    names, rows = read_back(kind, data)
    assert rows == []
    if kind is not ExportFormat.JSON_LINES:  # a JSON lines file has no header: it is empty
        assert names == ["id", "ratio", "amount"]
    else:
        assert data == b""


@pytest.mark.parametrize("kind", FORMATS)
def test_repeated_column_names_are_numbered(kind: ExportFormat) -> None:
    columns = [ResultColumn("id", "INTEGER"), ResultColumn("id", "INTEGER"), ResultColumn("", "STRING"),
               ResultColumn("id", "INTEGER")]
    names, rows = read_back(kind, written(kind, columns, [[(1, 2, "x", 3)]]))
    assert names == ["id", "id_2", "column", "id_3"]
    assert [str(v) for v in rows[0].values()] == ["1", "2", "x", "3"]


@pytest.mark.parametrize("kind", [ExportFormat.ARROW, ExportFormat.PARQUET])
@pytest.mark.parametrize(("column", "first", "later"), [
    pytest.param(ResultColumn("n", "INTEGER"), 1, "one", id="integer_then_text"),
    pytest.param(ResultColumn("d", "DATE"), date(2024, 1, 1), "someday", id="date_then_text"),
    pytest.param(ResultColumn("b", "BYTES"), b"\x00", 7, id="bytes_then_integer"),
])
def test_a_column_whose_values_change_type_is_mixed_column_types(kind: ExportFormat, column: ResultColumn,
                                                                  first: Any, later: Any) -> None:
    writer = encoder(kind)
    writer.start([column])
    writer.rows([(first,)])
    with pytest.raises(FailedPrecondition) as refused:
        writer.rows([(later,)])
    assert refused.value.reason == MIXED_COLUMN_TYPES
    assert refused.value.metadata == {"column": column.name}
    assert "CSV" in refused.value.message


@pytest.mark.parametrize("kind", [ExportFormat.CSV, ExportFormat.JSON_LINES])
def test_text_formats_take_a_column_whose_values_change_type(kind: ExportFormat) -> None:
    _, rows = read_back(kind, written(kind, [ResultColumn("v", "UNSPECIFIED")], [[(1,)], [("one",)]]))
    assert [str(r["v"]) for r in rows] == ["1", "one"]


# ---- chunks of export_chunk_bytes -------------------------------------------------------------------

SHOP_DSN = parse_dsn("sqlite:///shop.db")
SOURCE = SourceRef(pk=1, tenant="default", source_id="shop", dialect=SHOP_DSN.dialect, dsn=SHOP_DSN)


@dataclass
class FakeContext:
    source: SourceRef


class OneSource:
    """SourceContexts for one source, whatever is asked."""

    async def get(self, tenant: str, parent: str, field_name: str = "parent") -> FakeContext:
        return FakeContext(SOURCE)


class Approving:
    """GuardedExecution that approves every SQL as it is and reads it straight from the streamer."""

    async def check(self, context: Any, sql: str, max_rows: int) -> PolicedVerdict:
        return PolicedVerdict(valid=True, sql=sql, executable_sql=sql)

    def stream(self, streamer: ListStreamer, source: SourceRef, verdict: PolicedVerdict, limits: Any,
               chunk_rows: int) -> AsyncGenerator[Fetched, None]:
        return streamer.stream(source, verdict.executable_sql, timeout_s=limits.timeout_s, chunk_rows=chunk_rows)


class ListStreamer:
    """A RowStreamer over rows held in memory, ``chunk_rows`` at a time."""

    def __init__(self, columns: list[ResultColumn], rows: list[Row]) -> None:
        self.columns, self.rows = columns, rows

    async def stream(self, source: SourceRef, sql: str, *, timeout_s: float,
                     chunk_rows: int) -> AsyncGenerator[Fetched, None]:
        for start in range(0, len(self.rows), chunk_rows):
            yield Fetched(self.columns, list(self.rows[start:start + chunk_rows]))


async def exported(kind: ExportFormat, rows: list[Row], chunk_bytes: int,
                   columns: list[ResultColumn] | None = None) -> tuple[list[bytes], ExportDone]:
    settings = Settings(data_dir=Path("unused"), export_chunk_bytes=chunk_bytes)
    export = QueryExport(settings, cast(SourceContexts, OneSource()), cast(GuardedExecution, Approving()),
                         cast(Any, None), ListStreamer(columns or COLUMNS[:4], rows))
    events = [e async for e in export.export("default", ExportRequest("dataSources/shop", "SELECT 1", "", kind))]
    assert isinstance(events[0], ExportStart) and isinstance(events[-1], ExportDone)
    chunks = events[1:-1]
    assert all(isinstance(c, bytes) for c in chunks)
    return cast(list[bytes], chunks), events[-1]


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("chunk_bytes", [1, 1000, 65_536])
async def test_chunks_are_export_chunk_bytes_but_the_last_and_make_the_whole_file(kind: ExportFormat,
                                                                                   chunk_bytes: int) -> None:
    rows: list[Row] = [(i, i / 3, Decimal(i) / 7, f"row {i}, \"quoted\"") for i in range(6_000)]  # two fetches
    chunks, done = await exported(kind, rows, chunk_bytes)
    whole = written(kind, COLUMNS[:4], [rows[start:start + 5_000] for start in range(0, len(rows), 5_000)])
    assert b"".join(chunks) == whole
    assert [len(c) for c in chunks[:-1]] == [chunk_bytes] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]) <= chunk_bytes
    assert done.byte_count == len(whole) and done.row_count == len(rows) and not done.truncated


async def test_a_row_larger_than_a_chunk_is_split_across_chunks() -> None:
    chunks, done = await exported(ExportFormat.CSV, [("x" * 5_000,)], 1_024, [ResultColumn("big", "STRING")])
    assert [len(c) for c in chunks] == [1_024] * 4 + [5_000 + len("big\r\n") + 2 - 4 * 1_024]
    assert b"".join(chunks) == b"big\r\n" + b"x" * 5_000 + b"\r\n" and done.row_count == 1
