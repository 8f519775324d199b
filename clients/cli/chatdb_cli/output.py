"""Results as a rich table, CSV, JSON or Parquet, on stdout or into a file (``--format``, ``--output``).

Every command that prints rows builds one :class:`Tabular`. The table is for people; CSV, JSON and
Parquet carry the rows alone (JSON may carry more about an answer: see :func:`write_json`), so that
stdout can be piped. Parquet is binary and needs ``--output``.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chatdb_cli.errors import CommandError
from chatdb_cli.values import NUMERIC_TYPES, cell_text, json_value, plain_text


class Format(enum.StrEnum):
    """How results are printed."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Tabular:
    """Rows to print: column labels, their wire types (``INTEGER``, ``STRING``, ...; ``""`` when
    unknown) and typed values."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    types: list[str] = field(default_factory=list)
    title: str = ""

    def type_of(self, index: int) -> str:
        """The wire type of a column, ``""`` when unknown."""
        return self.types[index] if index < len(self.types) else ""

    def records(self) -> list[dict[str, Any]]:
        """The rows as objects keyed by column label."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def rich_table(data: Tabular) -> Table:
    """The rows as a rich table, numbers right-aligned."""
    table = Table(title=data.title or None, header_style="bold", show_lines=False)
    for index, name in enumerate(data.columns):
        table.add_column(name, justify="right" if data.type_of(index) in NUMERIC_TYPES else "left",
                         overflow="fold")
    for row in data.rows:
        table.add_row(*(cell_text(value) for value in row))
    return table


def csv_text(data: Tabular) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(data.columns)
    writer.writerows([plain_text(value) for value in row] for row in data.rows)
    return buffer.getvalue()


def json_text(document: Any) -> str:
    """A JSON document, indented, with typed values made JSON (see :func:`chatdb_cli.values.json_value`)."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=json_value) + "\n"


def json_records(data: Tabular) -> list[dict[str, Any]]:
    """The rows as JSON objects keyed by column label."""
    return [{name: json_value(value) for name, value in record.items()} for record in data.records()]


def parquet_bytes(data: Tabular) -> bytes:
    """The rows as one Parquet file, each column typed from its wire type (text where the values disagree)."""
    import pyarrow as pa  # imported here: only Parquet needs it, and it is slow to import
    import pyarrow.parquet as pq

    arrays = [_arrow_column(pa, [row[i] for row in data.rows], data.type_of(i)) for i in range(len(data.columns))]
    table = pa.Table.from_arrays(arrays, names=list(data.columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _arrow_column(pa: Any, values: list[Any], wire_type: str) -> Any:
    typed = {"INTEGER": pa.int64(), "DOUBLE": pa.float64(), "BOOL": pa.bool_(), "STRING": pa.string(),
             "BYTES": pa.binary(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "DATE": pa.date32(),
             "TIME": pa.time64("us")}
    if wire_type == "JSON":
        return pa.array([None if v is None else plain_text(v) for v in values], type=pa.string())
    try:
        return pa.array(values, type=typed.get(wire_type))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return pa.array([None if v is None else plain_text(v) for v in values], type=pa.string())


class Printer:
    """Where a command's results go: the chosen format, stdout or ``--output``, and the consoles for
    people (``console`` on stdout, ``notes`` on stderr)."""

    def __init__(self, fmt: Format = Format.TABLE, output: Path | None = None,
                 console: Console | None = None, notes: Console | None = None) -> None:
        if fmt is Format.PARQUET and output is None:
            raise CommandError("--format parquet writes a binary file: name it with --output FILE")
        self.format = fmt
        self.output = output
        self.console = console or Console(highlight=False)
        self.notes = notes or Console(stderr=True, highlight=False)

    @property
    def for_people(self) -> bool:
        """Whether results are a table, with the extras (SQL, explanation, level) that go with it."""
        return self.format is Format.TABLE

    def rows(self, data: Tabular, document: dict[str, Any] | None = None) -> None:
        """Print ``data`` in the chosen format; JSON prints ``document`` (with the records under
        ``rows``) when given, else the list of records."""
        if self.format is Format.TABLE:
            if self.output is None:
                self.console.print(rich_table(data))
            else:
                buffer = io.StringIO()
                Console(file=buffer, width=200, color_system=None).print(rich_table(data))
                self._write(buffer.getvalue().encode(), len(data.rows))
            return
        if self.format is Format.CSV:
            payload = csv_text(data).encode()
        elif self.format is Format.JSON:
            records = json_records(data)
            payload = json_text({**document, "rows": records} if document is not None else records).encode()
        else:
            payload = parquet_bytes(data)
        self._write(payload, len(data.rows))

    def _write(self, payload: bytes, count: int) -> None:
        if self.output is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
            return
        try:
            self.output.write_bytes(payload)
        except OSError as error:
            raise CommandError(f"cannot write {self.output}: {error.strerror or error}") from None
        self.notes.print(f"wrote {count} row{'s' if count != 1 else ''} to {self.output}", soft_wrap=True)

