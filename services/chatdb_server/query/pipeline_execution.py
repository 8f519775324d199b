"""Guarded execution shared by Ask, ExecuteSql and ValidateSql.

Limits are clamped to the server's settings, SQL passes the guard, and execution goes
through the source's database breaker. When the database is unreachable the result
cache answers stale (level 3); when nothing is cached the caller gets UNAVAILABLE
(DEGRADED) saying so. Fresh cache hits answer without touching the database when asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chatdb_server.errors import ChatDBError, InvalidArgument, Unavailable
from chatdb_server.query.cache import ResultCache
from chatdb_server.query.domain import Rows, plain_rows
from chatdb_server.query.pipeline_sources import SourceContext, metadata_store_errors
from chatdb_server.resilience.breakers import BreakerOpen, Breakers, database_key
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.settings import Settings
from chatdb_server.sql.errors import SourceUnreachable
from chatdb_server.sql.guard import PARSE_ERROR, GuardVerdict, SqlGuard
from chatdb_server.sql.structure import SourceRef

MAX_SQL_CHARS = 100_000


class Executor(Protocol):
    """The read-only executor."""

    async def execute(self, source: SourceRef, sql: str, *, max_rows: int, timeout_s: float) -> Any: ...

    async def dispose_source(self, pk: int) -> None: ...


@dataclass(frozen=True)
class Limits:
    """A request's row cap and timeout after defaults and clamping."""

    max_rows: int
    timeout_s: float


@dataclass
class Run:
    """How a guarded SQL was answered."""

    rows: Rows
    elapsed_s: float
    from_cache: bool = False
    stale: bool = False
    cached_time: datetime | None = None
    warnings: list[str] = field(default_factory=list)


class GuardedExecution:
    """Guard, limits, breaker, executor and cache, in the one order every RPC uses them."""

    def __init__(self, settings: Settings, guard: SqlGuard, executor: Executor, cache: ResultCache,
                 breakers: Breakers, monitor: HealthMonitor) -> None:
        self._settings = settings
        self._guard = guard
        self._executor = executor
        self._cache = cache
        self._breakers = breakers
        self._monitor = monitor

    def limits(self, max_rows: int, timeout_s: float | None, *, prefix: str = "") -> Limits:
        """Defaults for zero/unset values, clamped to the server's maxima; InvalidArgument when negative."""
        if max_rows < 0:
            raise InvalidArgument(f"{prefix}max_rows", "must not be negative")
        if timeout_s is not None and timeout_s < 0:
            raise InvalidArgument(f"{prefix}timeout", "must not be negative")
        rows = min(max_rows or self._settings.default_rows, self._settings.max_rows)
        timeout = min(timeout_s or self._settings.default_query_timeout_s, self._settings.max_query_timeout_s)
        return Limits(rows, timeout)

    def check(self, context: SourceContext, sql: str, max_rows: int) -> GuardVerdict:
        """The guard's verdict on ``sql`` for the source."""
        return self._guard.check(sql, context.source.dialect, context.known_columns, max_rows)

    async def run(self, source: SourceRef, verdict: GuardVerdict, limits: Limits, *, fresh_cache: bool,
                  live: bool = True) -> Run:
        """Answer a valid verdict's SQL: a fresh cache hit (when ``fresh_cache``), the database, or — with
        the database unreachable (or ``live`` false) — a stale cache entry. Errors: the executor's
        (QUERY_FAILED, QUERY_TIMEOUT) and UNAVAILABLE (DEGRADED) when nothing can answer.

        The executable SQL runs and keys the cache: the shown SQL alone cannot tell a guard's cap
        (which may find more rows than it returns) from a caller's own LIMIT of the same size."""
        sql = verdict.executable_sql
        if fresh_cache:
            async with metadata_store_errors():
                hit = await self._cache.get(source, sql)
            if hit is not None:
                return Run(hit.result, 0.0, from_cache=True, cached_time=hit.cached_time)
        key = database_key(source.tenant, source.name)
        if live:
            started = time.perf_counter()
            try:
                result = await self._breakers.database(key).call(
                    self._executor.execute, source, sql, max_rows=limits.max_rows, timeout_s=limits.timeout_s)
            except (SourceUnreachable, BreakerOpen) as exc:
                self._monitor.database_unreachable(key, exc.message)
            except ChatDBError:
                self._monitor.database_reachable(key)  # it answered, if only to refuse the query
                raise
            else:
                self._monitor.database_reachable(key)
                rows = Rows(list(result.columns), plain_rows(result.rows), result.truncated)
                async with metadata_store_errors():
                    await self._cache.put(source, sql, rows)
                return Run(rows, float(getattr(result, "elapsed_s", time.perf_counter() - started)))
        return await self._stale(source, sql)

    async def _stale(self, source: SourceRef, sql: str) -> Run:
        """The cached result of executable ``sql`` while its database is unreachable; UNAVAILABLE (DEGRADED)
        if none."""
        async with metadata_store_errors():
            hit = await self._cache.get(source, sql, allow_stale=True)
        if hit is None:
            raise Unavailable(
                f"the database of {source.name} is unreachable and no cached result of this query exists; "
                "retry when it is back (GetSystemStatus shows its state)",
                reason="DEGRADED", metadata={"dependency": source.name})
        moment = hit.cached_time.isoformat(timespec="seconds")
        return Run(hit.result, 0.0, from_cache=True, stale=True,
                   cached_time=hit.cached_time,
                   warnings=[f"the database is unreachable: rows served stale from the cache, read at {moment}"])

    def database_down(self, source: SourceRef) -> bool:
        """Whether the source's database is known to be unreachable now."""
        return self._monitor.database_down(database_key(source.tenant, source.name))


def require_sql(sql: str, field_name: str = "sql") -> str:
    """The stripped SQL; InvalidArgument when empty or oversized."""
    text = sql.strip()
    if not text:
        raise InvalidArgument(field_name, "is required")
    if len(text) > MAX_SQL_CHARS:
        raise InvalidArgument(field_name, f"must be at most {MAX_SQL_CHARS} characters", reason="TOO_LARGE")
    return text


def refusal(verdict: GuardVerdict, field_name: str = "sql") -> InvalidArgument:
    """The INVALID_ARGUMENT for caller-supplied SQL the guard refused (INVALID_SQL when it does not parse)."""
    reason = "INVALID_SQL" if verdict.violations and verdict.violations[0].reason == PARSE_ERROR else "UNSAFE_SQL"
    return InvalidArgument(field_name, "; ".join(v.message for v in verdict.violations) or "refused by the guard",
                           reason=reason)
