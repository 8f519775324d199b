"""Typed cells on the wire: Python values to and from ``chatdb.common.v1.Value``.

Protobuf and the standard library only, so the servers and the client SDK share one codec.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, overload

from google.protobuf import struct_pb2, timestamp_pb2

from chatdb.common.v1 import value_pb2

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def to_value(value: Any, value_type: str = "", *, strict: bool = False) -> value_pb2.Value:
    """One cell on the wire. ``value_type`` is the column's ValueType name, when known.

    A value of no wire type travels as its text, or raises TypeError when ``strict``."""
    if value is None:
        return value_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if value_type == "JSON" and not isinstance(value, bytes | bytearray | memoryview):
        return value_pb2.Value(json_value=json.dumps(value, ensure_ascii=False, default=str))
    if value_type == "BOOL" and isinstance(value, int):
        return value_pb2.Value(bool_value=bool(value))
    if isinstance(value, bool):
        return value_pb2.Value(bool_value=value)
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
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
    return _temporal_or_text(value, strict)


def _temporal_or_text(value: Any, strict: bool) -> value_pb2.Value:
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
    if strict:
        raise TypeError(f"cannot send a {type(value).__name__} as a ChatDB value")
    return value_pb2.Value(string_value=str(value))


def _duration_text(value: timedelta) -> str:
    """A MySQL TIME (a signed duration, up to 838:59:59) as ``[-]HH:MM:SS[.ffffff]``."""
    micros = abs(value) // timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{'-' if value < timedelta(0) else ''}{hours:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{micro:06d}" if micro else text


@overload
def timestamp(moment: datetime) -> timestamp_pb2.Timestamp: ...
@overload
def timestamp(moment: None) -> None: ...
def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A ``google.protobuf.Timestamp`` of ``moment`` (None stays None, an unset field); naive means UTC."""
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime((moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(UTC))
    return stamp


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
