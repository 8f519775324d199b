"""The file formats of an export: rows in, bytes out, chunk by chunk, so that a result of any size is
written with the memory of one chunk.

Each :class:`Encoder` is given the result's columns once, then consecutive chunks of rows, and returns
the bytes each adds to the file; ``finish`` returns the file's last bytes. CSV and JSON lines are
written by the standard library; Arrow IPC (stream format) and Parquet by pyarrow, one record batch
(one Parquet row group) per chunk. Columns get unique names (``id``, ``id_2``) because JSON objects,
Arrow and Parquet schemas are read back by name.

Values: integers, floats and booleans stay numbers; decimals are written as their exact text (their
scale varies from row to row, which an Arrow decimal type cannot hold); timestamps, dates and times as
ISO 8601 in the text formats and as Arrow temporal types in the others; intervals as their text;
binary values as base64 in the text formats; JSON documents as their JSON text (nested in JSON lines).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from chatdb_server.errors import FailedPrecondition
from chatdb_server.query.domain import Row
from chatdb_server.sql.values import ResultColumn

MIXED_COLUMN_TYPES = "MIXED_COLUMN_TYPES"


class ExportFormat(StrEnum):
    """A file format of an export (the contract's names without prefix)."""

    CSV = "CSV"
    JSON_LINES = "JSON_LINES"
    ARROW = "ARROW"
    PARQUET = "PARQUET"


@dataclass(frozen=True)
class FormatInfo:
    """How a format's file is named and served."""

    content_type: str
    extension: str


FORMAT_INFO: dict[ExportFormat, FormatInfo] = {
    ExportFormat.CSV: FormatInfo("text/csv; charset=utf-8", "csv"),
    ExportFormat.JSON_LINES: FormatInfo("application/jsonl", "jsonl"),
    ExportFormat.ARROW: FormatInfo("application/vnd.apache.arrow.stream", "arrows"),
    ExportFormat.PARQUET: FormatInfo("application/vnd.apache.parquet", "parquet"),
}


class Encoder(Protocol):
    """Writes one file: the columns first, then chunks of rows, then its end."""

    def start(self, columns: Sequence[ResultColumn]) -> bytes:
        """The file's first bytes (a header, where the format has one)."""
        ...

    def rows(self, rows: Sequence[Row]) -> bytes:
        """The bytes of the next rows."""
        ...

    def finish(self) -> bytes:
        """The file's last bytes."""
        ...


def encoder(kind: ExportFormat) -> Encoder:
    """A new encoder of ``kind``."""
    encoders: dict[ExportFormat, type[Encoder]] = {
        ExportFormat.CSV: CsvEncoder, ExportFormat.JSON_LINES: JsonLinesEncoder,
        ExportFormat.ARROW: ArrowEncoder, ExportFormat.PARQUET: ParquetEncoder}
    return encoders[kind]()


def unique_names(columns: Sequence[ResultColumn]) -> list[str]:
    """The columns' names, a repeated name numbered from its second use (``id``, ``id_2``)."""
    seen: set[str] = set()
    names = []
    for column in columns:
        name, number = column.name or "column", 1
        candidate = name
        while candidate in seen:
            number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        names.append(candidate)
    return names


def text_of(value: Any) -> str:
    """A non-null cell as text: ISO 8601 for times, base64 for binary, JSON text for documents."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)  # int, float, Decimal, timedelta and anything else a driver gives


# ---- text formats -----------------------------------------------------------------------------------

class CsvEncoder:
    """RFC 4180 CSV (CRLF line ends, quoted where needed) with a header row; NULL is an empty field."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def start(self, columns: Sequence[ResultColumn]) -> bytes:
        self._writer.writerow(unique_names(columns))
        return self._take()

    def rows(self, rows: Sequence[Row]) -> bytes:
        self._writer.writerows([["" if cell is None else text_of(cell) for cell in row] for row in rows])
        return self._take()

    def finish(self) -> bytes:
        return b""


def _json_cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict | list):
        return value
    return text_of(value)


class JsonLinesEncoder:
    """One JSON object per row, keyed by the columns' unique names, in column order."""

    def __init__(self) -> None:
        self._names: list[str] = []

    def start(self, columns: Sequence[ResultColumn]) -> bytes:
        self._names = unique_names(columns)
        return b""

    def rows(self, rows: Sequence[Row]) -> bytes:
        names = self._names
        lines = [json.dumps(dict(zip(names, map(_json_cell, row), strict=True)), ensure_ascii=False,
                            default=str) for row in rows]
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def finish(self) -> bytes:
        return b""


# ---- Arrow formats ----------------------------------------------------------------------------------

_ARROW_TYPES: dict[str, pa.DataType] = {
    "INTEGER": pa.int64(), "DOUBLE": pa.float64(), "BOOL": pa.bool_(), "BYTES": pa.binary(),
    "DATE": pa.date32(),
}
"""Value types with one Arrow type; the others are text, or settled by their values (times)."""


def arrow_type(column: ResultColumn, values: Sequence[Any]) -> pa.DataType:
    """The Arrow type of a column: from its value type, and for times from its first values (a timestamp
    with a zone is UTC, without none; an interval is a duration)."""
    known = _ARROW_TYPES.get(column.value_type)
    if known is not None:
        return known
    sample = next((v for v in values if v is not None), None)
    if column.value_type == "TIMESTAMP":
        zoned = isinstance(sample, datetime) and sample.tzinfo is not None
        return pa.timestamp("us", tz="UTC" if zoned else None)
    if column.value_type == "TIME":
        return pa.duration("us") if isinstance(sample, timedelta) else pa.time64("us")
    return pa.string()


class _Drain(io.RawIOBase):
    """A write-only file that keeps what is written until it is taken."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _ArrowEncoder:
    """What the Arrow IPC and Parquet encoders share: the schema, and rows as record batches."""

    def __init__(self) -> None:
        self._sink = _Drain()
        self._schema: pa.Schema | None = None
        self._columns: list[ResultColumn] = []

    def start(self, columns: Sequence[ResultColumn]) -> bytes:
        self._columns = list(columns)
        return b""

    def _batch(self, rows: Sequence[Row]) -> pa.RecordBatch:
        columns = [[row[i] for row in rows] for i in range(len(self._columns))]
        if self._schema is None:
            self._schema = pa.schema([pa.field(name, arrow_type(column, values)) for name, column, values
                                      in zip(unique_names(self._columns), self._columns, columns, strict=True)])
            self._open(self._schema)
        arrays = [self._array(values, field) for values, field in zip(columns, self._schema, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema)

    def _array(self, values: list[Any], field: pa.Field) -> pa.Array:
        if pa.types.is_string(field.type):
            return pa.array([None if v is None else text_of(v) for v in values], type=pa.string())
        try:
            return pa.array(values, type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            raise FailedPrecondition(
                f"column {field.name!r} holds values of several types (the first were {field.type}); Arrow and "
                "Parquet files need one type per column: CAST the column in the SQL, or export as CSV or JSON "
                "lines", MIXED_COLUMN_TYPES, {"column": field.name}) from None

    def _open(self, schema: pa.Schema) -> None:
        raise NotImplementedError

    def _write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def rows(self, rows: Sequence[Row]) -> bytes:
        if rows:
            self._write(self._batch(rows))
        return self._sink.take()

    def finish(self) -> bytes:
        if self._schema is None:  # no rows: the file still carries the schema
            self._batch([])
        self._close()
        return self._sink.take()


class ArrowEncoder(_ArrowEncoder):
    """Arrow IPC, stream format: the schema, then one record batch per chunk, then the end marker."""

    def _open(self, schema: pa.Schema) -> None:
        self._writer = pa.ipc.new_stream(self._sink, schema)

    def _write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def _close(self) -> None:
        self._writer.close()


class ParquetEncoder(_ArrowEncoder):
    """Parquet, one row group per chunk, the footer at the end."""

    def _open(self, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(self._sink, schema)

    def _write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def _close(self) -> None:
        self._writer.close()
