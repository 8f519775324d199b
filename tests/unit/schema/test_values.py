"""Database types → wire types, JSON-safe samples, and samples typed again for the wire."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from chatdb_server.schema.convert import sample_value_to_proto
from chatdb_server.schema.sampling import SampleLimits, json_safe
from chatdb_server.sql.types import value_type_for_database_type


@pytest.mark.parametrize(("database_type", "expected"), [
    pytest.param("INTEGER", "INTEGER", id="integer"),
    pytest.param("INTEGER(11)", "INTEGER", id="mysql_display_width"),
    pytest.param("bigint unsigned", "INTEGER", id="unsigned"),
    pytest.param("int", "INTEGER", id="sqlite_int"),
    pytest.param("NUMERIC(10, 2)", "DECIMAL", id="numeric"),
    pytest.param("number", "DECIMAL", id="sqlite_number"),
    pytest.param("DOUBLE PRECISION", "DOUBLE", id="double"),
    pytest.param("REAL", "DOUBLE", id="real"),
    pytest.param("FLOAT(53)", "DOUBLE", id="float"),
    pytest.param("BOOLEAN", "BOOL", id="bool"),
    pytest.param("VARCHAR(80)", "STRING", id="varchar"),
    pytest.param("nvarchar2(20)", "STRING", id="affinity_char"),
    pytest.param("TEXT[]", "STRING", id="array"),
    pytest.param("BYTEA", "BYTES", id="bytea"),
    pytest.param("LONGBLOB", "BYTES", id="blob"),
    pytest.param("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", id="timestamptz"),
    pytest.param("DATETIME(6)", "TIMESTAMP", id="datetime"),
    pytest.param("DATE", "DATE", id="date"),
    pytest.param("TIME WITHOUT TIME ZONE", "TIME", id="time"),
    pytest.param("JSONB", "JSON", id="jsonb"),
    pytest.param("INTERVAL", "STRING", id="interval_is_not_int"),
    pytest.param("POINT", "STRING", id="point_is_not_int"),
    pytest.param("", "STRING", id="untyped"),
    pytest.param("weird_type(3)", "STRING", id="unknown"),
])
def test_value_type_for_database_type(database_type: str, expected: str) -> None:
    assert value_type_for_database_type(database_type) == expected


def test_json_safe_keeps_plain_values_and_writes_the_rest_as_text() -> None:
    assert json_safe(None) is None and json_safe(True) is True and json_safe(7) == 7 and json_safe(1.5) == 1.5
    assert json_safe(decimal.Decimal("12.50")) == "12.50"
    assert json_safe(dt.date(2024, 2, 29)) == "2024-02-29"
    assert json_safe(dt.datetime(2024, 2, 29, 13, 5)) == "2024-02-29T13:05:00"
    assert json_safe(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert json_safe({"k": [1, 2]}) == '{"k": [1, 2]}'
    assert json_safe(float("nan")) == "nan"


def test_json_safe_bounds_long_values() -> None:
    limits = SampleLimits(value_chars=10, bytes_shown=2)
    assert json_safe("x" * 50, limits) == "x" * 9 + "…"
    assert json_safe(b"\x00\x01\x02\x03", limits) == "0x0001…"
    assert json_safe(b"\xff", limits) == "0xff"


@pytest.mark.parametrize(("stored", "value_type", "kind", "expected"), [
    pytest.param(None, "INTEGER", "null_value", 0, id="null"),
    pytest.param(42, "INTEGER", "int_value", 42, id="int"),
    pytest.param(2**70, "INTEGER", "decimal_value", str(2**70), id="huge_int"),
    pytest.param("12.50", "DECIMAL", "decimal_value", "12.50", id="decimal_text"),
    pytest.param(14.99, "DECIMAL", "decimal_value", "14.99", id="decimal_from_sqlite_real"),
    pytest.param(1.25, "DOUBLE", "double_value", 1.25, id="double"),
    pytest.param(1, "BOOL", "bool_value", True, id="bool_from_int"),
    pytest.param("0x00ff", "BYTES", "bytes_value", b"\x00\xff", id="bytes"),
    pytest.param("hello", "STRING", "string_value", "hello", id="string"),
    pytest.param("13:45:00", "TIME", "time_value", "13:45:00", id="time"),
    pytest.param('{"a": 1}', "JSON", "json_value", '{"a": 1}', id="json"),
    pytest.param("not a number", "INTEGER", "string_value", "not a number", id="misfit_becomes_text"),
    pytest.param("0x0011…", "BYTES", "string_value", "0x0011…", id="truncated_bytes_stay_text"),
    pytest.param(5, "STRING", "int_value", 5, id="sqlite_number_in_text_column"),
])
def test_sample_values_travel_typed(stored: object, value_type: str, kind: str, expected: object) -> None:
    value = sample_value_to_proto(stored, value_type)
    assert value.WhichOneof("kind") == kind
    if kind != "null_value":
        assert getattr(value, kind) == expected


def test_sample_dates_and_timestamps() -> None:
    day = sample_value_to_proto("2024-02-29", "DATE").date_value
    assert (day.year, day.month, day.day) == (2024, 2, 29)
    stamp = sample_value_to_proto("2024-02-29 13:05:00+02:00", "TIMESTAMP").timestamp_value
    assert stamp.ToDatetime() == dt.datetime(2024, 2, 29, 11, 5)
    assert sample_value_to_proto("29/02/2024", "DATE").string_value == "29/02/2024"
