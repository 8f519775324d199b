"""Typed row values: ``chatdb.common.v1.Value`` to Python and back.

Values keep their type across the wire, so a caller gets ``int``, ``Decimal``,
``datetime`` and ``None`` rather than strings. Timestamps come back as aware
datetimes in UTC; naive datetimes sent to a server are taken to be UTC. The codec is
the one the servers use (``chatdb.wire``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatdb import wire
from chatdb.common.v1 import value_pb2

from_value = wire.value_to_python
"""The Python value of one cell."""


def to_value(python: Any) -> value_pb2.Value:
    """The wire form of a Python value (the inverse of :func:`from_value`).

    ``dict`` and ``list`` travel as JSON; integers outside int64 travel as decimals;
    anything without a wire type raises TypeError."""
    return wire.to_value(python, strict=True)


def from_row(row: value_pb2.Row) -> tuple[Any, ...]:
    """The Python values of one row, in column order."""
    return tuple(from_value(value) for value in row.values)


def from_rows(rows: Iterable[value_pb2.Row]) -> list[tuple[Any, ...]]:
    """The Python values of many rows."""
    return [from_row(row) for row in rows]


def to_row(values: Iterable[Any]) -> value_pb2.Row:
    """The wire form of one row."""
    return value_pb2.Row(values=[to_value(value) for value in values])
