"""Typed values on the wire and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import types as sqltypes

from chatdb.common.v1 import value_pb2
from chatdb_server.query.convert import columns_to_proto, rows_to_proto
from chatdb_server.sql.values import (
    ResultColumn,
    to_value,
    value_to_python,
    value_type_for_database_type,
    value_type_of,
)


@pytest.mark.parametrize(("value", "kind", "wire"), [
    pytest.param(None, "null_value", 0, id="null"),
    pytest.param(7, "int_value", 7, id="int"),
    pytest.param(-(2**63), "int_value", -(2**63), id="int64-min"),
    pytest.param(2**64 - 1, "decimal_value", "18446744073709551615", id="big-int"),
    pytest.param(1.25, "double_value", 1.25, id="float"),
    pytest.param(Decimal("12.50"), "decimal_value", "12.50", id="decimal"),
    pytest.param(Decimal("1E+3"), "decimal_value", "1000", id="decimal-exponent"),
    pytest.param(True, "bool_value", True, id="bool"),
    pytest.param("héllo", "string_value", "héllo", id="str"),
    pytest.param(b"\x00\xff", "bytes_value", b"\x00\xff", id="bytes"),
    pytest.param(memoryview(b"ab"), "bytes_value", b"ab", id="memoryview"),
    pytest.param(date(2024, 2, 29), "date_value", value_pb2.Date(year=2024, month=2, day=29), id="date"),
    pytest.param(time(13, 45, 7), "time_value", "13:45:07", id="time"),
    pytest.param(timedelta(hours=100, minutes=1), "time_value", "100:01:00", id="mysql-long-time"),
    pytest.param(-timedelta(hours=1), "time_value", "-01:00:00", id="negative-time"),
    pytest.param({"a": [1, 2]}, "json_value", '{"a": [1, 2]}', id="json"),
])
def test_to_value(value: Any, kind: str, wire: Any) -> None:
    cell = to_value(value)
    assert cell.WhichOneof("kind") == kind
    assert getattr(cell, kind) == wire


def test_timestamps_travel_in_utc() -> None:
    aware = datetime(2024, 2, 29, 15, 45, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 2, 29, 13, 45)
    assert to_value(aware).timestamp_value.ToDatetime() == naive
    assert to_value(naive).timestamp_value.ToDatetime() == naive
    assert value_to_python(to_value(aware)) == datetime(2024, 2, 29, 13, 45, tzinfo=UTC)


@pytest.mark.parametrize(("value", "value_type"), [
    pytest.param(None, "", id="null"),
    pytest.param(2**64 - 1, "", id="big-int"),
    pytest.param(Decimal("-0.001"), "", id="decimal"),
    pytest.param(3.5, "", id="float"),
    pytest.param(False, "", id="bool"),
    pytest.param(1, "BOOL", id="int-as-bool"),
    pytest.param(b"x", "", id="bytes"),
    pytest.param(date(1, 1, 1), "", id="date"),
    pytest.param(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "", id="timestamp"),
    pytest.param(time(1, 2, 3, 4), "", id="time"),
    pytest.param(timedelta(hours=-838), "", id="duration"),
    pytest.param([1, {"b": None}], "JSON", id="json-list"),
    pytest.param(5, "JSON", id="json-scalar"),
])
def test_python_round_trip_keeps_the_wire_value(value: Any, value_type: str) -> None:
    cell = to_value(value, value_type)
    assert to_value(value_to_python(cell), value_type) == cell


def test_hints_decide_json_and_text() -> None:
    assert to_value({"k": 1}, "JSON").json_value == '{"k": 1}'
    assert to_value("already text", "JSON").json_value == '"already text"'
    assert to_value(timedelta(days=1), "STRING").string_value == "1 day, 0:00:00"


@pytest.mark.parametrize(("value_or_type", "expected"), [
    pytest.param(True, "BOOL", id="bool"),
    pytest.param(1, "INTEGER", id="int"),
    pytest.param(2**70, "DECIMAL", id="big-int"),
    pytest.param(1.0, "DOUBLE", id="float"),
    pytest.param(Decimal(1), "DECIMAL", id="decimal"),
    pytest.param("x", "STRING", id="str"),
    pytest.param(b"x", "BYTES", id="bytes"),
    pytest.param(datetime(2024, 1, 1), "TIMESTAMP", id="datetime"),
    pytest.param(date(2024, 1, 1), "DATE", id="date"),
    pytest.param(time(1, 0), "TIME", id="time"),
    pytest.param({"a": 1}, "JSON", id="dict"),
    pytest.param(None, "UNSPECIFIED", id="none"),
    pytest.param(sqltypes.BigInteger(), "INTEGER", id="sa-bigint"),
    pytest.param(sqltypes.Numeric(10, 2), "DECIMAL", id="sa-numeric"),
    pytest.param(sqltypes.Float, "DOUBLE", id="sa-float-class"),
    pytest.param(sqltypes.Boolean(), "BOOL", id="sa-bool"),
    pytest.param(sqltypes.DateTime(timezone=True), "TIMESTAMP", id="sa-datetime"),
    pytest.param(sqltypes.JSON(), "JSON", id="sa-json"),
    pytest.param(sqltypes.LargeBinary(), "BYTES", id="sa-binary"),
    pytest.param(sqltypes.String(20), "STRING", id="sa-string"),
])
def test_value_type_of(value_or_type: Any, expected: str) -> None:
    assert value_pb2.ValueType.Name(value_type_of(value_or_type)) == f"VALUE_TYPE_{expected}"


@pytest.mark.parametrize(("type_name", "expected"), [
    ("int4", "INTEGER"), ("BIGINT UNSIGNED", "INTEGER"), ("numeric(10,2)", "DECIMAL"), ("float8", "DOUBLE"),
    ("boolean", "BOOL"), ("timestamptz", "TIMESTAMP"), ("datetime", "TIMESTAMP"), ("date", "DATE"),
    ("time", "TIME"), ("jsonb", "JSON"), ("bytea", "BYTES"), ("varchar(255)", "STRING"), ("text", "STRING"),
])
def test_value_type_for_database_type(type_name: str, expected: str) -> None:
    assert value_type_for_database_type(type_name) == expected


def test_rows_and_columns_to_proto() -> None:
    columns = [ResultColumn("id", "INTEGER", "int4"), ResultColumn("doc", "JSON", "jsonb")]
    rows = rows_to_proto(columns, [(1, {"a": 1}), (2, None)])
    assert [r.values[0].int_value for r in rows] == [1, 2]
    assert rows[0].values[1].json_value == '{"a": 1}'
    assert rows[1].values[1].WhichOneof("kind") == "null_value"
    (first, second) = columns_to_proto(columns)
    assert (first.name, first.type, first.database_type) == ("id", value_pb2.VALUE_TYPE_INTEGER, "int4")
    assert second.type == value_pb2.VALUE_TYPE_JSON
