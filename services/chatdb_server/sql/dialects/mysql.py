"""MySQL and MariaDB: read-only sessions, timed ``START TRANSACTION READ ONLY`` runs, ``KILL QUERY``, guard rules.

Queries run under the session's ``max_statement_time`` (MariaDB) or ``max_execution_time``
(MySQL), inside ``START TRANSACTION READ ONLY``, always rolled back; the driver does not
enable multi-statements; the server interrupts the query at the timeout. The backstop
kills the query from a second connection.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import aiomysql
import pymysql
import sqlalchemy as sa
from pymysql.constants import FIELD_TYPE
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
from chatdb_server.sql.errors import REACH_ERRORS
from chatdb_server.sql.values import ResultColumn

CONNECTION_LOST = frozenset({2003, 2006, 2013, 2055})
INTERRUPTED = frozenset({1317, 1969, 3024})  # KILL QUERY, MariaDB max_statement_time, MySQL max_execution_time


def engine_url(url: URL, read_only: bool) -> URL:
    """The URL as given: read-only is a session setting here."""
    return url


def connect_args(read_only: bool) -> dict[str, Any]:
    """aiomysql's connect timeout; read-only sessions default to ``READ ONLY`` transactions."""
    args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if read_only:
        args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    return args


async def server_version(conn: AsyncConnection) -> str:
    """E.g. "8.0.36" or "10.11.19-MariaDB"."""
    return str((await conn.execute(sa.text("SELECT VERSION()"))).scalar_one())


def is_connection_error(exc: BaseException) -> bool:
    """A lost socket or one of the client's connection-lost error codes."""
    if is_transport_error(exc):
        return True
    return isinstance(exc, pymysql.err.MySQLError) and bool(exc.args) and exc.args[0] in CONNECTION_LOST


async def run(conn: aiomysql.Connection, sql: str, limit: int, timeout_s: float) -> Fetched:
    """Run ``sql`` in a timed read-only transaction, fetching at most ``limit`` rows."""
    async with conn.cursor() as control:
        await _limit_time(conn, control, timeout_s)
        await control.execute("START TRANSACTION READ ONLY")
        try:
            async with conn.cursor(aiomysql.SSCursor) as cursor:
                try:
                    await cursor.execute(sql)
                    description = cursor.description or ()
                    rows = list(await cursor.fetchmany(limit)) if limit else []
                except pymysql.err.MySQLError as exc:
                    raise _error(exc) from None
            columns = [describe_column(d, [r[i] for r in rows]) for i, d in enumerate(description)]
            return Fetched(columns, normalise_json([tuple(r) for r in rows], columns))
        finally:
            await quietly(control.execute("ROLLBACK"), unless=conn.closed, is_connection_error=is_connection_error)


async def stream(conn: aiomysql.Connection, sql: str, timeout_s: float,
                 chunk_rows: int) -> AsyncGenerator[Fetched, None]:
    """Run ``sql`` in a timed read-only transaction and read it unbuffered (``SSCursor``: the server sends rows as
    they are read), ``chunk_rows`` at a time; the columns are typed by the first chunk.

    Closed early, the rest of the result is left unread (closing the cursor would read it all): the caller
    kills the query and discards the connection."""
    async with conn.cursor() as control:
        await _limit_time(conn, control, timeout_s)
        await control.execute("START TRANSACTION READ ONLY")
        finished = False
        try:
            cursor = await conn.cursor(aiomysql.SSCursor)
            try:
                await cursor.execute(sql)
                description = cursor.description or ()
                columns: list[ResultColumn] | None = None
                while True:
                    rows = [tuple(r) for r in await cursor.fetchmany(chunk_rows)]
                    if columns is None:
                        columns = [describe_column(d, [r[i] for r in rows]) for i, d in enumerate(description)]
                    elif not rows:
                        break
                    yield Fetched(columns, normalise_json(rows, columns))
                    if len(rows) < chunk_rows:
                        break
            except pymysql.err.MySQLError as exc:
                finished = True
                raise _error(exc) from None
            await cursor.close()
            finished = True
        finally:
            if finished:
                await quietly(control.execute("ROLLBACK"), unless=conn.closed, is_connection_error=is_connection_error)


async def _limit_time(conn: aiomysql.Connection, control: Any, timeout_s: float) -> None:
    """The session's statement timeout: ``max_statement_time`` on MariaDB, ``max_execution_time`` on MySQL."""
    if "mariadb" in (conn.get_server_info() or "").lower():
        await control.execute(f"SET SESSION max_statement_time = {max(timeout_s, 0.001):.3f}")
    else:
        await control.execute(f"SET SESSION max_execution_time = {max(1, round(timeout_s * 1000))}")


def _error(exc: pymysql.err.MySQLError) -> Exception:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    if code in INTERRUPTED:
        return Interrupted()
    if code in CONNECTION_LOST:
        return exc
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    return Rejected(f"({code}) {message}")


TYPE_NAMES: dict[int, str] = {
    FIELD_TYPE.TINY: "TINYINT", FIELD_TYPE.SHORT: "SMALLINT", FIELD_TYPE.INT24: "MEDIUMINT",
    FIELD_TYPE.LONG: "INT", FIELD_TYPE.LONGLONG: "BIGINT", FIELD_TYPE.YEAR: "YEAR",
    FIELD_TYPE.FLOAT: "FLOAT", FIELD_TYPE.DOUBLE: "DOUBLE", FIELD_TYPE.DECIMAL: "DECIMAL",
    FIELD_TYPE.NEWDECIMAL: "DECIMAL", FIELD_TYPE.DATE: "DATE", FIELD_TYPE.NEWDATE: "DATE",
    FIELD_TYPE.DATETIME: "DATETIME", FIELD_TYPE.TIMESTAMP: "TIMESTAMP", FIELD_TYPE.TIME: "TIME",
    FIELD_TYPE.JSON: "JSON", FIELD_TYPE.BIT: "BIT", FIELD_TYPE.ENUM: "ENUM", FIELD_TYPE.SET: "SET",
    FIELD_TYPE.VARCHAR: "VARCHAR", FIELD_TYPE.VAR_STRING: "VARCHAR", FIELD_TYPE.STRING: "CHAR",
    FIELD_TYPE.TINY_BLOB: "TINYBLOB", FIELD_TYPE.MEDIUM_BLOB: "MEDIUMBLOB", FIELD_TYPE.LONG_BLOB: "LONGBLOB",
    FIELD_TYPE.BLOB: "BLOB", FIELD_TYPE.GEOMETRY: "GEOMETRY", FIELD_TYPE.NULL: "NULL",
}
"""The driver's field type codes → type names that ``value_type_for_database_type`` knows."""


def describe_column(description: Sequence[Any], values: list[Any]) -> ResultColumn:
    """A column from the driver's description; text and binary share type codes, so values tell them apart."""
    name, type_code = description[0], description[1]
    type_name = TYPE_NAMES.get(type_code, "")
    if type_code == FIELD_TYPE.TINY and description[3] == 1:
        type_name = "TINYINT(1)"
    column = result_column(name, type_name)
    present = [v for v in values if v is not None]
    if column.value_type in ("STRING", "BYTES") and present:
        kind = "BYTES" if all(isinstance(v, bytes | bytearray) for v in present) else "STRING"
        column = ResultColumn(name, kind, type_name)
    return column


async def cancel(engine: AsyncEngine, driver: Any) -> None:
    """``KILL QUERY`` the driver connection's statement from another connection of the pool."""
    async with engine.connect() as other:
        killer: Any = (await other.get_raw_connection()).driver_connection
        async with killer.cursor() as cursor:
            await cursor.execute(f"KILL QUERY {int(driver.thread_id())}")


async def limit_statement_time(conn: AsyncConnection, seconds: float) -> None:
    """Best effort: each server knows only one of the two settings."""
    for statement in (f"SET SESSION max_statement_time = {seconds}",  # MariaDB
                      f"SET SESSION max_execution_time = {int(seconds * 1000)}"):  # MySQL
        try:
            await conn.execute(sa.text(statement))
        except REACH_ERRORS:
            continue


ROW_ESTIMATES_SQL = ("SELECT table_schema, table_name, table_rows FROM information_schema.tables "
                     "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")

GUARD = GuardRules(
    safe_function_names=COMMON_FUNCTION_NAMES | {
        "now", "curdate", "curtime", "unix_timestamp", "from_unixtime", "date_format", "str_to_date",
        "datediff", "timestampdiff", "timediff", "year", "month", "day", "dayname", "monthname",
        "dayofweek", "dayofmonth", "dayofyear", "week", "weekday", "weekofyear", "quarter", "hour",
        "minute", "second", "last_day", "makedate", "adddate", "subdate", "date_add", "date_sub",
        "if", "ifnull", "isnull", "lcase", "ucase", "locate", "position", "substring_index", "format",
        "truncate", "log10", "log2", "rand", "std", "field", "elt", "find_in_set", "json_extract",
        "json_unquote", "json_length", "json_type", "json_valid",
    },
    system_schemas=frozenset({"mysql", "information_schema", "performance_schema", "sys"}),
    executable_comment_prefixes=("!", "M!"),
)

SUPPORT = DialectSupport(
    dialect=Dialect.MYSQL,
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
    guard=GUARD,
)
