"""Typed result values: Python values from the drivers ⇄ ``chatdb.common.v1.Value``.

Values keep their type on the wire: integers, decimals, timestamps and nulls are never
sent as strings. A column's ``value_type`` (a ValueType name without prefix, from
:func:`value_type_for_database_type`) settles the cases a Python type alone cannot:
JSON documents and MariaDB/SQLite text that is JSON, and values the driver gives in a
form of its own (a PostgreSQL ``interval`` as ``timedelta`` travels as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import types as sqltypes

from chatdb.common.v1 import value_pb2
from chatdb.wire import INT64_MAX, INT64_MIN, to_value, value_to_python
from chatdb_server.sql.types import value_type_for_database_type

__all__ = [
    "ResultColumn",
    "to_value",
    "value_to_python",
    "value_type_enum",
    "value_type_for_database_type",
    "value_type_of",
]



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
        return "INTEGER" if INT64_MIN <= value <= INT64_MAX else "DECIMAL"
    checks: tuple[tuple[type[Any] | tuple[type[Any], ...], str], ...] = (
        (float, "DOUBLE"), (Decimal, "DECIMAL"), (str, "STRING"), ((bytes, bytearray, memoryview), "BYTES"),
        (datetime, "TIMESTAMP"), (date, "DATE"), ((time, timedelta), "TIME"), ((dict, list), "JSON"),
    )
    for types, name in checks:
        if isinstance(value, types):
            return name
    return "STRING"
