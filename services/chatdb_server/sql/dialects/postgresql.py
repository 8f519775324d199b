"""PostgreSQL: read-only sessions, ``BEGIN READ ONLY`` + ``statement_timeout`` runs, catalog estimates, guard rules.

Queries run in a ``BEGIN READ ONLY`` transaction with ``SET LOCAL statement_timeout``, sent
through the extended protocol (one statement only, no stacking), always rolled back; the
server cancels the query at the timeout. The backstop needs nothing of its own: asyncpg
sends the server a cancel request when the awaiting task is cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server.sql.dialects.base import (
    COMMON_FUNCTION_NAMES,
    CONNECT_TIMEOUT_S,
    DialectSupport,
    GuardRules,
)
from chatdb_server.sql.dialects.running import (
    Fetched,
    Interrupted,
    Rejected,
    is_transport_error,
    normalise_json,
    quietly,
    result_column,
)
from chatdb_server.sql.dsn import Dialect


def engine_url(url: URL, read_only: bool) -> URL:
    """The URL as given: read-only is a session setting here."""
    return url


def connect_args(read_only: bool) -> dict[str, Any]:
    """asyncpg's connect timeout; read-only sessions default to read-only transactions."""
    args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
    if read_only:
        args["server_settings"] = {"default_transaction_read_only": "on", "application_name": "chatdb"}
    return args


async def server_version(conn: AsyncConnection) -> str:
    """E.g. "PostgreSQL 15.19"."""
    version = str((await conn.execute(sa.text("SHOW server_version"))).scalar_one())
    return f"PostgreSQL {version.split()[0]}"


def is_connection_error(exc: BaseException) -> bool:
    """A lost socket, an asyncpg interface error, or a connection-class SQLSTATE (08xxx, 57P..)."""
    if is_transport_error(exc) or isinstance(exc, asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return str(getattr(exc, "sqlstate", "") or "").startswith(("08", "57P"))
    return False


async def run(conn: asyncpg.Connection, sql: str, limit: int, timeout_s: float) -> Fetched:
    """Run ``sql`` in a read-only transaction under ``statement_timeout``, fetching at most ``limit`` rows."""
    transaction = conn.transaction(readonly=True)
    await transaction.start()
    try:
        await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout_s * 1000))}")
        try:
            statement = await conn.prepare(sql)
            columns = [result_column(a.name, a.type.name) for a in statement.get_attributes()]
            cursor = await statement.cursor()
            records = await cursor.fetch(limit) if limit else []
        except asyncpg.QueryCanceledError:
            raise Interrupted() from None
        except asyncpg.PostgresError as exc:
            if is_connection_error(exc):
                raise
            raise Rejected(_message(exc)) from None
        return Fetched(columns, normalise_json([tuple(r) for r in records], columns))
    finally:
        await quietly(transaction.rollback(), unless=conn.is_closed(), is_connection_error=is_connection_error)


async def stream(conn: asyncpg.Connection, sql: str, timeout_s: float,
                 chunk_rows: int) -> AsyncGenerator[Fetched, None]:
    """Run ``sql`` in a read-only transaction under ``statement_timeout`` and read it through a server-side
    cursor (a portal of the extended protocol), ``chunk_rows`` rows a fetch."""
    transaction = conn.transaction(readonly=True)
    await transaction.start()
    finished = False
    try:
        await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout_s * 1000))}")
        statement = await _statement(conn.prepare(sql))
        columns = [result_column(a.name, a.type.name) for a in statement.get_attributes()]
        cursor = await _statement(statement.cursor())
        first = True
        while True:
            records = await _statement(cursor.fetch(chunk_rows))
            if records or first:
                yield Fetched(columns, normalise_json([tuple(r) for r in records], columns))
            first = False
            if len(records) < chunk_rows:
                break
        finished = True
    except (Interrupted, Rejected):
        finished = True  # the database ended the statement: the transaction can be rolled back
        raise
    finally:
        if finished:
            await quietly(transaction.rollback(), unless=conn.is_closed(), is_connection_error=is_connection_error)


async def _statement(step: Awaitable[Any]) -> Any:
    """``step``'s result; the server's errors as the runners' outcomes (Interrupted at the timeout, else
    Rejected), a lost connection as it is."""
    try:
        return await step
    except asyncpg.QueryCanceledError:
        raise Interrupted() from None
    except asyncpg.PostgresError as exc:
        if is_connection_error(exc):
            raise
        raise Rejected(_message(exc)) from None


def _message(exc: asyncpg.PostgresError) -> str:
    detail = getattr(exc, "detail", None)
    return f"{exc}{f' ({detail})' if detail else ''}"


async def cancel(engine: AsyncEngine, driver: Any) -> None:
    """Nothing to do: asyncpg cancels the statement in the server when its task is cancelled."""


async def limit_statement_time(conn: AsyncConnection, seconds: float) -> None:
    """``SET LOCAL statement_timeout`` for the current transaction."""
    await conn.execute(sa.text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))


ROW_ESTIMATES_SQL = ("SELECT n.nspname, c.relname, c.reltuples FROM pg_class c "
                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm')")

GUARD = GuardRules(
    safe_function_names=COMMON_FUNCTION_NAMES | {
        "age", "make_date", "make_time", "make_timestamp", "date_part", "date_trunc", "to_char",
        "to_date", "to_number", "to_timestamp", "now", "btrim", "initcap", "split_part", "strpos",
        "position", "octet_length", "regexp_replace", "string_agg", "bool_and", "bool_or", "every",
        "percentile_cont", "percentile_disc", "mode", "trunc", "div", "md5", "translate",
        "jsonb_extract_path_text", "json_extract_path_text", "jsonb_typeof", "json_typeof",
        "width_bucket", "scale", "isfinite", "justify_days", "justify_hours", "justify_interval",
    },
    system_schemas=frozenset({"pg_catalog", "information_schema", "pg_toast"}),
    system_schema_prefixes=("pg_",),
    system_table_prefixes=("pg_",),
    default_schemas=frozenset({"public"}),
)

SUPPORT = DialectSupport(
    dialect=Dialect.POSTGRESQL,
    engine_url=engine_url,
    connect_args=connect_args,
    server_pool=True,
    server_version=server_version,
    runner=run,
    streamer=stream,
    cancel=cancel,
    is_connection_error=is_connection_error,
    limit_statement_time=limit_statement_time,
    row_estimates_sql=ROW_ESTIMATES_SQL,
    selectable_schemas=True,
    has_materialized_views=True,
    guard=GUARD,
)
