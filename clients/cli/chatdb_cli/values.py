"""Typed result values as people and files want them.

Rows arrive typed (``int``, ``Decimal``, ``datetime``, ``bytes``, ``dict``, ``None``, ...; see
``chatdb_client.values``). On screen NULL is a dim ``NULL``, binary values a short hex preview, JSON
compact; in CSV and JSON files decimals keep every digit (as text in JSON), binary is base64 and times
are ISO 8601.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from rich.text import Text

BYTES_PREVIEW = 16
"""Bytes of a binary value shown in a table before an ellipsis."""

NUMERIC_TYPES = frozenset({"INTEGER", "DOUBLE", "DECIMAL"})
"""Wire types whose table columns are right-aligned."""


def cell_text(value: Any) -> Text:
    """One value for a rich table cell."""
    if value is None:
        return Text("NULL", style="dim")
    if isinstance(value, bool):
        return Text("true" if value else "false", style="cyan")
    if isinstance(value, bytes):
        preview = value[:BYTES_PREVIEW].hex()
        return Text(f"0x{preview}{'…' if len(value) > BYTES_PREVIEW else ''} ({len(value)} B)", style="magenta")
    return Text(plain_text(value))


def plain_text(value: Any) -> str:
    """One value as text, for CSV and for tables: ISO 8601 times, JSON for documents, base64 for bytes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def json_value(value: Any) -> Any:
    """One value for a JSON document: numbers and booleans as they are, decimals as exact text."""
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return plain_text(value)
