"""What the per-dialect runners share: their result, their two outcomes, and small helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatdb_server.sql.types import STRING, value_type_for_database_type
from chatdb_server.sql.values import ResultColumn


@dataclass
class Fetched:
    """What a runner fetched: the columns and up to the requested number of rows."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]


class Interrupted(Exception):
    """The database cancelled the statement at its timeout."""


class Rejected(Exception):
    """The database refused the statement; the argument is its message."""


def result_column(name: str, database_type: str) -> ResultColumn:
    """A result column typed from the database's type name (text when the name is unknown)."""
    return ResultColumn(name=name, value_type=value_type_for_database_type(database_type) if database_type else
                        STRING, database_type=database_type)


def normalise_json(rows: list[tuple[Any, ...]], columns: list[ResultColumn]) -> list[tuple[Any, ...]]:
    """JSON documents as Python values, whatever form the driver gave them in."""
    json_positions = [i for i, c in enumerate(columns) if c.value_type == "JSON"]
    if not json_positions:
        return rows
    out = []
    for row in rows:
        cells = list(row)
        for i in json_positions:
            if isinstance(cells[i], str | bytes):
                with contextlib.suppress(ValueError):  # not JSON after all: it travels as the text it is
                    cells[i] = json.loads(cells[i])
        out.append(tuple(cells))
    return out


def is_transport_error(exc: BaseException) -> bool:
    """A lost socket, whatever the driver."""
    return isinstance(exc, OSError | ConnectionError)


async def quietly(step: Awaitable[Any], *, unless: bool, is_connection_error: Callable[[BaseException], bool]) -> None:
    """Run a clean-up step that must not hide the error being raised (e.g. ROLLBACK on a dead session)."""
    if unless:
        if asyncio.iscoroutine(step):
            step.close()
        return
    try:
        await step
    except Exception as exc:
        if not is_connection_error(exc):
            raise
