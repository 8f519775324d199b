"""Guarded execution shared by Ask, ExecuteSql and ValidateSql.

Limits are clamped to the server's settings, SQL passes the guard and then the caller's column
and row policies (:func:`chatdb_server.access.enforce.enforce`, after the guard's safety checks
and row cap, which the rewrite keeps), and execution goes through the source's database breaker.

Policies: the SQL a caller is shown (and the call's audit event notes) is the rewritten SQL, so
the caller sees the filters that bind it. The history records the SQL as the guard passed it,
before policies (``PolicedVerdict.checked_sql``): the tenant's other callers read it and it
becomes golden examples, which must carry no caller's filters or attribute values. Result
columns derived from masked columns are masked before they are cached or returned; the cache is
keyed by the caller's policies too; the database's error messages about a policed query are
withheld (they may quote values the caller may not see).

When the database is unreachable the result cache answers stale (level 3); when nothing is
cached the caller gets UNAVAILABLE (DEGRADED) saying so. Fresh cache hits answer without
touching the database when asked.

Checking is kept off the event loop where it could hold it: SQL longer than
:data:`INLINE_SQL_CHARS` is checked, guard and policies together
(:func:`chatdb_server.query.policed_check.policed_check`), in a guard worker process within
``guard_timeout_s``; shorter SQL, which the guard's size and nesting limits keep to a few
milliseconds, is checked in place. Rows come back within ``max_cell_bytes`` per value and
``max_reply_bytes`` per reply (:func:`chatdb_server.query.domain.capped`), with warnings that say so.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chatdb_server.access.masking import Masker
from chatdb_server.errors import ChatDBError, InvalidArgument, Unavailable
from chatdb_server.log import get_logger
from chatdb_server.query.cache import ResultCache
from chatdb_server.query.domain import ByteCaps, Rows, capped, plain_rows
from chatdb_server.query.pipeline_sources import SourceContext, metadata_store_errors
from chatdb_server.query.policed_check import CheckRequest, Denied, PolicedVerdict, policed_check
from chatdb_server.resilience.breakers import BreakerOpen, Breakers, database_key
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.settings import Settings
from chatdb_server.sql.dialects.running import Fetched
from chatdb_server.sql.errors import QueryFailed, SourceUnreachable
from chatdb_server.sql.guard import PARSE_ERROR, GuardVerdict, SqlGuard, Violation
from chatdb_server.sql.guard_limits import SQL_TOO_COMPLEX, SqlLimits
from chatdb_server.sql.guard_pool import BudgetSpent, GuardPool, WorkerFailed, WorkerUnavailable, shared_pool
from chatdb_server.sql.structure import SourceRef

__all__ = ["INLINE_SQL_CHARS", "MAX_SQL_CHARS", "Executor", "GuardedExecution", "Limits", "PolicedVerdict",
           "RowStreamer", "Rows", "Run", "refusal", "require_sql", "too_complex"]

log = get_logger(__name__)

MAX_SQL_CHARS = 100_000
INLINE_SQL_CHARS = 1_000
"""SQL up to this long is checked in place: within the guard's limits that costs a few milliseconds at
most (a 1,000-character ``OR`` chain, the worst shape measured, about 12 ms on 2 cores), less than
handing it to a worker, and never waits behind large checks."""
WITHHELD_MESSAGE = ("its message is withheld because row or column policies apply to the tables the query reads; "
                    "check the query's types and functions against the schema")


class Executor(Protocol):
    """The read-only executor."""

    async def execute(self, source: SourceRef, sql: str, *, max_rows: int, timeout_s: float) -> Any: ...

    async def dispose_source(self, pk: int) -> None: ...


class RowStreamer(Protocol):
    """Reads a whole result through a server-side cursor (:meth:`chatdb_server.sql.executor.QueryExecutor.stream`)."""

    def stream(self, source: SourceRef, sql: str, *, timeout_s: float,
               chunk_rows: int) -> AsyncGenerator[Fetched, None]: ...


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

    def __init__(self, settings: Settings, guard: SqlGuard | None, executor: Executor, cache: ResultCache,
                 breakers: Breakers, monitor: HealthMonitor, masker: Masker | None = None,
                 pool: GuardPool | None = None) -> None:
        self._settings = settings
        self._guard = guard or SqlGuard(SqlLimits(settings.max_sql_tokens, settings.max_sql_depth))
        self._pool = pool or (shared_pool(settings.guard_workers) if settings.guard_workers > 0 else None)
        self._caps = ByteCaps(settings.max_cell_bytes, settings.max_reply_bytes)
        self._masker = masker or Masker()
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

    async def check(self, context: SourceContext, sql: str, max_rows: int) -> PolicedVerdict:
        """The guard's verdict on ``sql`` for the source, under the policies that bind the current caller.

        A query the policies refuse is an invalid verdict (EXCLUDED_COLUMN, POLICY_UNENFORCEABLE), and so is
        one too large or too complex to check (SQL_TOO_COMPLEX); PermissionDenied (POLICY_ATTRIBUTE_MISSING)
        when a row policy needs an attribute the caller lacks."""
        policies = context.caller_policies()
        key = (sql, max_rows, policies.cache_key())
        if (known := context.verdicts.get(key)) is not None:
            return known
        request = CheckRequest(sql, context.source.dialect, context.known_columns, context.stored_columns,
                               policies, max_rows)
        inline = len(sql) <= INLINE_SQL_CHARS
        if self._pool is None or inline:
            outcome = policed_check(self._guard, request)
        else:
            outcome = await self._check_in_worker(self._pool, request)
        if isinstance(outcome, Denied):  # the caller's attributes, not the SQL: never kept
            raise outcome.error()
        if inline:  # large SQL is rare and would crowd out the common
            context.verdicts[key] = outcome
        return outcome

    async def _check_in_worker(self, pool: GuardPool, request: CheckRequest) -> PolicedVerdict | Denied:
        budget = self._settings.guard_timeout_s
        try:
            return await pool.run(budget, policed_check, self._guard, request)
        except BudgetSpent:
            return _too_complex(f"checking the SQL took longer than {budget:g} s (guard_timeout_s): simplify it")
        except WorkerUnavailable as failed:
            log.error("guard.worker_unavailable", error=str(failed))
            raise Unavailable("large SQL cannot be checked now: the guard's worker processes cannot start; "
                              "retry later", reason="DEGRADED", metadata={"dependency": "guard"}) from None
        except WorkerFailed:
            return _too_complex("the SQL could not be checked: checking it exhausted the checking process")

    async def run(self, source: SourceRef, verdict: PolicedVerdict, limits: Limits, *, fresh_cache: bool,
                  live: bool = True) -> Run:
        """Answer a valid verdict's SQL: a fresh cache hit (when ``fresh_cache``), the database, or — with
        the database unreachable (or ``live`` false) — a stale cache entry. Errors: the executor's
        (QUERY_FAILED, QUERY_TIMEOUT) and UNAVAILABLE (DEGRADED) when nothing can answer.

        The executable SQL runs and keys the cache: the shown SQL alone cannot tell a guard's cap
        (which may find more rows than it returns) from a caller's own LIMIT of the same size."""
        sql, scope = verdict.executable_sql, verdict.policy_key
        if fresh_cache:
            async with metadata_store_errors():
                hit = await self._cache.get(source, sql, scope=scope)
            if hit is not None:
                rows, warnings = capped(hit.result, self._caps)
                return Run(rows, 0.0, from_cache=True, cached_time=hit.cached_time, warnings=warnings)
        key = database_key(source.tenant, source.name)
        if live:
            started = time.perf_counter()
            try:
                result = await self._breakers.database(key).call(
                    self._executor.execute, source, sql, max_rows=limits.max_rows, timeout_s=limits.timeout_s)
            except (SourceUnreachable, BreakerOpen) as exc:
                self._monitor.database_unreachable(key, exc.message)
            except QueryFailed as failed:
                self._monitor.database_reachable(key)  # it answered, if only to refuse the query
                if verdict.policed:
                    raise QueryFailed(source.name, WITHHELD_MESSAGE) from None
                raise failed
            except ChatDBError:
                self._monitor.database_reachable(key)
                raise
            else:
                self._monitor.database_reachable(key)
                columns, cells = self._masker.result(result.columns, plain_rows(result.rows), verdict.masked)
                rows, warnings = capped(Rows(columns, cells, result.truncated), self._caps)
                async with metadata_store_errors():
                    await self._cache.put(source, sql, rows, scope=scope)
                return Run(rows, float(getattr(result, "elapsed_s", time.perf_counter() - started)),
                           warnings=warnings)
        return await self._stale(source, sql, scope)

    async def stream(self, streamer: RowStreamer, source: SourceRef, verdict: PolicedVerdict, limits: Limits,
                     chunk_rows: int) -> AsyncGenerator[Fetched, None]:
        """A valid verdict's whole result in chunks, read live (a cache holds capped results only). Opening the
        read goes through the source's database breaker and tells the health monitor, as :meth:`run` does; a
        policed query's database errors are withheld. Use it inside ``contextlib.aclosing``."""
        key = database_key(source.tenant, source.name)
        chunks = streamer.stream(source, verdict.executable_sql, timeout_s=limits.timeout_s, chunk_rows=chunk_rows)
        async with aclosing(chunks):
            try:
                yield await self._breakers.database(key).call(anext, chunks)
                async for fetched in chunks:
                    yield fetched
            except (SourceUnreachable, BreakerOpen) as exc:
                self._monitor.database_unreachable(key, exc.message)
                raise
            except QueryFailed:
                self._monitor.database_reachable(key)
                if verdict.policed:
                    raise QueryFailed(source.name, WITHHELD_MESSAGE) from None
                raise
            self._monitor.database_reachable(key)

    async def _stale(self, source: SourceRef, sql: str, scope: str) -> Run:
        """The cached result of executable ``sql`` in policy ``scope`` while its database is unreachable;
        UNAVAILABLE (DEGRADED) if none."""
        async with metadata_store_errors():
            hit = await self._cache.get(source, sql, allow_stale=True, scope=scope)
        if hit is None:
            raise Unavailable(
                f"the database of {source.name} is unreachable and no cached result of this query exists; "
                "retry when it is back (GetSystemStatus shows its state)",
                reason="DEGRADED", metadata={"dependency": source.name})
        moment = hit.cached_time.isoformat(timespec="seconds")
        rows, warnings = capped(hit.result, self._caps)
        return Run(rows, 0.0, from_cache=True, stale=True, cached_time=hit.cached_time,
                   warnings=[f"the database is unreachable: rows served stale from the cache, read at {moment}",
                             *warnings])

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
    """The INVALID_ARGUMENT for caller-supplied SQL the guard refused: INVALID_SQL when it does not parse,
    SQL_TOO_COMPLEX when it is beyond what is checked, UNSAFE_SQL otherwise."""
    first = verdict.violations[0].reason if verdict.violations else ""
    reason = {PARSE_ERROR: "INVALID_SQL", SQL_TOO_COMPLEX: SQL_TOO_COMPLEX}.get(first, "UNSAFE_SQL")
    return InvalidArgument(field_name, "; ".join(v.message for v in verdict.violations) or "refused by the guard",
                           reason=reason)


def too_complex(verdict: GuardVerdict) -> bool:
    """Whether the guard refused the SQL as beyond what it checks (size, nesting, time), not as unsafe."""
    return any(v.reason == SQL_TOO_COMPLEX for v in verdict.violations)


def _too_complex(message: str) -> PolicedVerdict:
    return PolicedVerdict(valid=False, sql="", violations=[Violation(SQL_TOO_COMPLEX, message)])
