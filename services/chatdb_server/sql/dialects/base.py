"""What ChatDB must know about one target-database dialect, as one frozen record.

Each dialect module (``postgresql``, ``mysql``, ``sqlite``) builds one :class:`DialectSupport`;
the generic modules (engines, connection, executor, guard, schema sampling and discovery)
ask the registry in ``chatdb_server.sql.dialects`` for it instead of branching on the dialect.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server.sql.dialects.running import Fetched
from chatdb_server.sql.dsn import Dialect

CONNECT_TIMEOUT_S = 5

COMMON_FUNCTION_NAMES = frozenset({
    "count", "sum", "avg", "min", "max", "abs", "round", "floor", "ceil", "ceiling", "sqrt", "power",
    "pow", "mod", "ln", "log", "exp", "sign", "lower", "upper", "length", "char_length",
    "character_length", "substr", "substring", "replace", "trim", "ltrim", "rtrim", "concat",
    "concat_ws", "coalesce", "nullif", "greatest", "least", "left", "right", "reverse", "instr",
    "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value",
    "nth_value", "group_concat", "date", "time", "datetime", "extract", "cast",
})
"""Functions sqlglot may parse as ``Anonymous`` that are safe in every dialect (lower-case)."""

Runner = Callable[[Any, str, int, float], Awaitable[Fetched]]
"""Runs one statement read-only on a driver connection: (driver, sql, row limit, timeout_s)."""

Streamer = Callable[[Any, str, float, int], AsyncGenerator[Fetched, None]]
"""Runs one statement read-only on a driver connection and reads its rows through a server-side cursor,
``chunk_rows`` at a time: (driver, sql, timeout_s, chunk_rows) → chunks, the first one even when empty (it
carries the columns). Closed early, it leaves the statement as it is: the caller cancels it in the database
and discards the connection."""


@dataclass(frozen=True)
class GuardRules:
    """What the SQL guard lets through in one dialect."""

    safe_function_names: frozenset[str]
    """Functions sqlglot parses as ``Anonymous`` that are safe to call (lower-case)."""
    system_schemas: frozenset[str]
    system_schema_prefixes: tuple[str, ...] = ()
    """Schema names starting with these are system catalogs too (PostgreSQL's ``pg_*``)."""
    system_table_prefixes: tuple[str, ...] = ()
    """Unqualified names that resolve to the catalog (PostgreSQL searches pg_catalog first)."""
    default_schemas: frozenset[str] = frozenset()
    """Schema qualifiers that name the default schema, where known tables are unqualified."""
    executable_comment_prefixes: tuple[str, ...] = ()
    """Comments that the server runs as SQL (MySQL's ``/*! ... */``); refused wherever they appear."""
    derived_tables_need_alias: bool = True
    """Whether a subquery in FROM must have an alias (MySQL/MariaDB, PostgreSQL before 16)."""
    quoted_unknown_is_string: bool = False
    """Whether a double-quoted name matching no column is a string literal (SQLite's fallback)."""


@dataclass(frozen=True)
class ReflectionExtras:
    """What SQLAlchemy's reflection leaves out for a table: declared types, foreign-key actions
    and unique constraints declared inline on a column (SQLite)."""

    declared_types: dict[str, str]
    fk_actions: dict[tuple[str, ...], tuple[str, str]]
    """(ON DELETE, ON UPDATE) by constrained columns."""
    unique_constraints: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True)
class DialectSupport:
    """Everything dialect-specific about connecting, running, sampling, discovering and guarding."""

    dialect: Dialect
    # --- engines and connections
    engine_url: Callable[[URL, bool], URL]
    """The async URL as the engine opens it, given ``read_only``."""
    connect_args: Callable[[bool], dict[str, Any]]
    """Driver connect arguments (timeout, read-only session), given ``read_only``."""
    server_pool: bool
    """Whether a pooled engine gets a sized connection pool (a server, not a file)."""
    server_version: Callable[[AsyncConnection], Awaitable[str]]
    on_read_only_connect: Callable[[Any, Any], None] | None = None
    """A SQLAlchemy ``connect`` listener that read-only engines install (SQLite's authorizer)."""
    # --- execution
    runner: Runner
    streamer: Streamer
    """Reads a whole result in chunks through a server-side cursor (exports)."""
    cancel: Callable[[AsyncEngine, Any], Awaitable[None]]
    """The backstop: stop the statement running on a driver connection, from outside it."""
    is_connection_error: Callable[[BaseException], bool]
    """Whether a driver error means the connection is lost (rather than the SQL refused)."""
    # --- sampling and discovery
    limit_statement_time: Callable[[AsyncConnection, float], Awaitable[None]] | None = None
    """Bounds the statements of the current transaction; None where the dialect has no timeout."""
    row_estimates_sql: str | None = None
    """Catalog query of (schema, table, estimated rows); None where there is none."""
    counts_exactly: bool = False
    """Whether sampling counts every table's rows (no catalog estimate to trust)."""
    selectable_schemas: bool = False
    """Whether discovery may be asked for named schemas (else the connection's database)."""
    has_materialized_views: bool = False
    reflection_extras: Callable[[Connection, str], ReflectionExtras] | None = None
    # --- the guard
    guard: GuardRules
