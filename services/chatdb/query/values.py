"""Typed result values: Python values from the drivers ⇄ ``chatdb.common.v1.Value``.

Values keep their type on the wire: integers, decimals, timestamps and nulls are never
sent as strings. A column's ``value_type`` (a ValueType name without prefix, from
:func:`value_type_for_database_type`) settles the cases a Python type alone cannot:
JSON documents and MariaDB/SQLite text that is JSON, and values the driver gives in a
form of its own (a PostgreSQL ``interval`` as ``timedelta`` travels as text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from sqlalchemy import types as sqltypes

from chatdb.common.v1 import value_pb2
from chatdb.connectors.types import value_type_for_database_type

__all__ = [
    "ResultColumn",
    "columns_to_proto",
    "rows_to_proto",
    "to_value",
    "value_to_python",
    "value_type_enum",
    "value_type_for_database_type",
    "value_type_of",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class ResultColumn:
    """A result column: its label, how its values travel, and the database's own type name."""

    name: str
    value_type: str
    """A ValueType name without prefix: INTEGER, DOUBLE, DECIMAL, BOOL, STRING, BYTES, TIMESTAMP,
    DATE, TIME, JSON (UNSPECIFIED when nothing tells)."""
    database_type: str = ""


def value_type_enum(name: str) -> int:
    """The ``ValueType`` enum number of a name such as "INTEGER"."""
    try:
        return int(value_pb2.ValueType.Value(f"VALUE_TYPE_{name}"))
    except ValueError:
        return int(value_pb2.VALUE_TYPE_UNSPECIFIED)


def value_type_of(value_or_type: Any) -> int:
    """The ``ValueType`` of a Python value or of a SQLAlchemy type (class or instance)."""
    if isinstance(value_or_type, type) and issubclass(value_or_type, sqltypes.TypeEngine):
        value_or_type = value_or_type()
    if isinstance(value_or_type, sqltypes.TypeEngine):
        return value_type_enum(_sqlalchemy_type_name(value_or_type))
    return value_type_enum(_python_type_name(value_or_type))


def _sqlalchemy_type_name(type_: sqltypes.TypeEngine[Any]) -> str:
    checks: tuple[tuple[type[Any], str], ...] = (
        (sqltypes.Boolean, "BOOL"), (sqltypes.Integer, "INTEGER"), (sqltypes.Float, "DOUBLE"),
        (sqltypes.Numeric, "DECIMAL"), (sqltypes.DateTime, "TIMESTAMP"), (sqltypes.Date, "DATE"),
        (sqltypes.Time, "TIME"), (sqltypes.JSON, "JSON"), (sqltypes.LargeBinary, "BYTES"),
        (sqltypes._Binary, "BYTES"), (sqltypes.String, "STRING"),
    )
    for cls, name in checks:
        if isinstance(type_, cls):
            return name
    return value_type_for_database_type(str(type_))


def _python_type_name(value: Any) -> str:
    if value is None:
        return "UNSPECIFIED"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INTEGER" if _INT64_MIN <= value <= _INT64_MAX else "DECIMAL"
    checks: tuple[tuple[type[Any] | tuple[type[Any], ...], str], ...] = (
        (float, "DOUBLE"), (Decimal, "DECIMAL"), (str, "STRING"), ((bytes, bytearray, memoryview), "BYTES"),
        (datetime, "TIMESTAMP"), (date, "DATE"), ((time, timedelta), "TIME"), ((dict, list), "JSON"),
    )
    for types, name in checks:
        if isinstance(value, types):
            return name
    return "STRING"


def to_value(value: Any, value_type: str = "") -> value_pb2.Value:
    """One cell on the wire. ``value_type`` is the column's ValueType name, when known."""
    if value is None:
        return value_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if value_type == "JSON" and not isinstance(value, bytes | bytearray | memoryview):
        return value_pb2.Value(json_value=json.dumps(value, ensure_ascii=False, default=str))
    if value_type == "BOOL" and isinstance(value, int):
        return value_pb2.Value(bool_value=bool(value))
    if isinstance(value, bool):
        return value_pb2.Value(bool_value=value)
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return value_pb2.Value(int_value=value)
        return value_pb2.Value(decimal_value=str(value))
    if isinstance(value, float):
        return value_pb2.Value(double_value=value)
    if isinstance(value, Decimal):
        return value_pb2.Value(decimal_value=format(value, "f"))
    if isinstance(value, str):
        return value_pb2.Value(string_value=value)
    if isinstance(value, bytes | bytearray | memoryview):
        return value_pb2.Value(bytes_value=bytes(value))
    if value_type == "STRING":
        return value_pb2.Value(string_value=str(value))  # e.g. an interval, a UUID, an address
    return _temporal_or_text(value)


def _temporal_or_text(value: Any) -> value_pb2.Value:
    if isinstance(value, datetime):
        stamp = timestamp_pb2.Timestamp()
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        stamp.FromDatetime(aware.astimezone(UTC))
        return value_pb2.Value(timestamp_value=stamp)
    if isinstance(value, date):
        return value_pb2.Value(date_value=value_pb2.Date(year=value.year, month=value.month, day=value.day))
    if isinstance(value, time):
        return value_pb2.Value(time_value=value.isoformat())
    if isinstance(value, timedelta):
        return value_pb2.Value(time_value=_duration_text(value))
    if isinstance(value, dict | list):
        return value_pb2.Value(json_value=json.dumps(value, ensure_ascii=False, default=str))
    return value_pb2.Value(string_value=str(value))


def _duration_text(value: timedelta) -> str:
    """A MySQL TIME (a signed duration, up to 838:59:59) as ``[-]HH:MM:SS[.ffffff]``."""
    micros = abs(value) // timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{'-' if value < timedelta(0) else ''}{hours:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{micro:06d}" if micro else text


def rows_to_proto(columns: Sequence[ResultColumn], rows: Iterable[Sequence[Any]]) -> list[value_pb2.Row]:
    """Rows on the wire, each cell typed by its column."""
    types = [c.value_type for c in columns]
    return [value_pb2.Row(values=[to_value(cell, types[i] if i < len(types) else "") for i, cell in enumerate(row)])
            for row in rows]


def columns_to_proto(columns: Sequence[ResultColumn]) -> list[value_pb2.ResultColumn]:
    """Result columns on the wire."""
    return [value_pb2.ResultColumn(name=c.name, type=value_type_enum(c.value_type),  # type: ignore[arg-type]
                                   database_type=c.database_type) for c in columns]


def value_to_python(value: value_pb2.Value) -> Any:
    """The Python value of a wire value; ``to_value`` of the result gives the same wire value."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "decimal_value":
        return Decimal(value.decimal_value)
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime(tzinfo=UTC)
    if kind == "date_value":
        return date(value.date_value.year, value.date_value.month, value.date_value.day)
    if kind == "time_value":
        return _parse_time(value.time_value)
    if kind == "json_value":
        return json.loads(value.json_value)
    return getattr(value, kind)


def _parse_time(text: str) -> time | timedelta:
    try:
        return time.fromisoformat(text)
    except ValueError:
        sign = -1 if text.startswith("-") else 1
        hours, minutes, seconds = text.lstrip("-").split(":")
        return sign * timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
