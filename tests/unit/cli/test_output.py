"""Rows as tables, CSV, JSON and Parquet, typed values included, and the one error line of a refusal."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import grpc
import pyarrow.parquet as pq
import pytest
from google.rpc import error_details_pb2
from rich.console import Console

from chatdb_cli.errors import CommandError, ExitCode, error_line, exit_code
from chatdb_cli.output import Format, Printer, Tabular, csv_text, json_records, parquet_bytes, rich_table
from chatdb_client import ChatDBError

WHEN = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
TYPED = Tabular(
    ["id", "price", "ratio", "ok", "name", "blob", "at", "day", "time", "doc"],
    [(1, Decimal("12.50"), 0.25, True, "Zoë", b"\x00\xff", WHEN, dt.date(2024, 5, 1), dt.time(9, 30),
      {"tags": ["a"]}),
     (2, None, None, None, None, None, None, None, None, None)],
    ["INTEGER", "DECIMAL", "DOUBLE", "BOOL", "STRING", "BYTES", "TIMESTAMP", "DATE", "TIME", "JSON"])


def test_csv_has_a_header_and_plain_values_with_empty_nulls() -> None:
    rows = list(csv.reader(io.StringIO(csv_text(TYPED))))
    assert rows[0] == TYPED.columns
    assert rows[1] == ["1", "12.50", "0.25", "true", "Zoë", "AP8=", "2024-05-01T12:30:00+00:00", "2024-05-01",
                       "09:30:00", '{"tags":["a"]}']
    assert rows[2] == ["2"] + [""] * 9


def test_json_keeps_numbers_and_decimal_digits() -> None:
    first, second = json.loads(json.dumps(json_records(TYPED)))
    assert first == {"id": 1, "price": "12.50", "ratio": 0.25, "ok": True, "name": "Zoë", "blob": "AP8=",
                     "at": "2024-05-01T12:30:00+00:00", "day": "2024-05-01", "time": "09:30:00",
                     "doc": {"tags": ["a"]}}
    assert second == {"id": 2, **{name: None for name in TYPED.columns[1:]}}


def test_parquet_columns_take_their_wire_types() -> None:
    table = pq.read_table(io.BytesIO(parquet_bytes(TYPED)))
    assert [str(t) for t in table.schema.types] == [
        "int64", "decimal128(4, 2)", "double", "bool", "string", "binary", "timestamp[us, tz=UTC]", "date32[day]",
        "time64[us]", "string"]
    first = table.to_pylist()[0]
    assert first["price"] == Decimal("12.50") and first["at"] == WHEN and first["blob"] == b"\x00\xff"
    assert json.loads(first["doc"]) == {"tags": ["a"]}


def test_values_that_disagree_with_their_type_become_text_in_parquet() -> None:
    mixed = Tabular(["v"], [(1,), ("two",)], ["INTEGER"])
    assert pq.read_table(io.BytesIO(parquet_bytes(mixed))).column("v").to_pylist() == ["1", "two"]


def test_the_table_shows_nulls_bytes_and_numbers_for_people() -> None:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(rich_table(TYPED))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "NULL" in text and "0x00ff (2 B)" in text and "12.50" in text and "2024-05-01T12:30:00+00:00" in text


def test_parquet_needs_a_file_and_a_file_gets_the_rows(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--output FILE") as refused:
        Printer(Format.PARQUET)
    assert refused.value.exit_code is ExitCode.USAGE
    target = tmp_path / "rows.csv"
    notes = Console(file=io.StringIO(), color_system=None)
    Printer(Format.CSV, target, notes=notes).rows(TYPED)
    assert target.read_text().splitlines()[0] == ",".join(TYPED.columns)
    assert f"wrote 2 rows to {target}" in notes.file.getvalue()  # type: ignore[attr-defined]


def test_a_refusal_is_one_line_with_status_reason_and_fields() -> None:
    info = error_details_pb2.ErrorInfo(reason="INVALID_FIELD", domain="chatdb")
    bad = error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="data_source.dsn", description="not a\nURL")])
    error = ChatDBError(grpc.StatusCode.INVALID_ARGUMENT, "bad data source:\n  dsn", details=[info, bad])
    assert error_line(error) == ("error: INVALID_ARGUMENT INVALID_FIELD: bad data source: dsn "
                                 "[data_source.dsn: not a URL]")
    assert exit_code(error) is ExitCode.REFUSED


def test_a_violation_the_message_already_states_is_not_repeated() -> None:
    bad = error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="sql", description="DELETE is not a SELECT query")])
    error = ChatDBError(grpc.StatusCode.INVALID_ARGUMENT, "sql: DELETE is not a SELECT query", details=[bad])
    assert error_line(error) == "error: INVALID_ARGUMENT: sql: DELETE is not a SELECT query"


@pytest.mark.parametrize(("code", "expected"), [
    pytest.param(grpc.StatusCode.UNAVAILABLE, ExitCode.UNAVAILABLE, id="unavailable"),
    pytest.param(grpc.StatusCode.DEADLINE_EXCEEDED, ExitCode.UNAVAILABLE, id="deadline"),
    pytest.param(grpc.StatusCode.NOT_FOUND, ExitCode.REFUSED, id="not_found"),
    pytest.param(grpc.StatusCode.PERMISSION_DENIED, ExitCode.REFUSED, id="permission_denied"),
])
def test_exit_codes_tell_unreachable_from_refused(code: grpc.StatusCode, expected: ExitCode) -> None:
    error = ChatDBError(code, "")
    assert exit_code(error) is expected
    assert error_line(error) == f"error: {code.name}: no message"
