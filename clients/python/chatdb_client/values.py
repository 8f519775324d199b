"""Typed row values: ``chatdb.common.v1.Value`` to Python and back.

Values keep their type across the wire, so a caller gets ``int``, ``Decimal``,
``datetime`` and ``None`` rather than strings. Timestamps come back as aware
datetimes in UTC; naive datetimes sent to a server are taken to be UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from chatdb.common.v1 import value_pb2

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def from_value(value: value_pb2.Value) -> Any:
    """The Python value of one cell."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "decimal_value":
        return Decimal(value.decimal_value)
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime(tzinfo=dt.UTC)
    if kind == "date_value":
        date = value.date_value
        return dt.date(date.year, date.month, date.day)
    if kind == "time_value":
        return dt.time.fromisoformat(value.time_value)
    if kind == "json_value":
        return json.loads(value.json_value)
    # int_value, double_value, bool_value, string_value and bytes_value map directly.
    return getattr(value, kind)


def from_row(row: value_pb2.Row) -> tuple[Any, ...]:
    """The Python values of one row, in column order."""
    return tuple(from_value(value) for value in row.values)


def from_rows(rows: Iterable[value_pb2.Row]) -> list[tuple[Any, ...]]:
    """The Python values of many rows."""
    return [from_row(row) for row in rows]


def to_value(python: Any) -> value_pb2.Value:
    """The wire form of a Python value (the inverse of :func:`from_value`).

    ``dict`` and ``list`` travel as JSON; integers outside int64 travel as decimals."""
    if python is None:
        return value_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if isinstance(python, bool):  # before int: bool is an int subclass
        return value_pb2.Value(bool_value=python)
    if isinstance(python, int):
        if INT64_MIN <= python <= INT64_MAX:
            return value_pb2.Value(int_value=python)
        return value_pb2.Value(decimal_value=str(python))
    if isinstance(python, float):
        return value_pb2.Value(double_value=python)
    if isinstance(python, Decimal):
        return value_pb2.Value(decimal_value=str(python))
    if isinstance(python, str):
        return value_pb2.Value(string_value=python)
    if isinstance(python, bytes | bytearray | memoryview):
        return value_pb2.Value(bytes_value=bytes(python))
    if isinstance(python, dt.datetime):  # before date: datetime is a date subclass
        return value_pb2.Value(timestamp_value=_timestamp(python))
    if isinstance(python, dt.date):
        return value_pb2.Value(date_value=value_pb2.Date(year=python.year, month=python.month, day=python.day))
    if isinstance(python, dt.time):
        return value_pb2.Value(time_value=python.isoformat())
    if isinstance(python, dict | list):
        return value_pb2.Value(json_value=json.dumps(python))
    raise TypeError(f"cannot send a {type(python).__name__} as a ChatDB value")


def to_row(values: Iterable[Any]) -> value_pb2.Row:
    """The wire form of one row."""
    return value_pb2.Row(values=[to_value(value) for value in values])


def _timestamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp
