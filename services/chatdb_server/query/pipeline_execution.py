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
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from chatdb_server.access.enforce import enforce
from chatdb_server.access.masking import Masker
from chatdb_server.errors import ChatDBError, InvalidArgument, Unavailable
from chatdb_server.query.cache import ResultCache
from chatdb_server.query.domain import Rows, plain_rows
from chatdb_server.query.pipeline_sources import SourceContext, metadata_store_errors
from chatdb_server.resilience.breakers import BreakerOpen, Breakers, database_key
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.settings import Settings
from chatdb_server.sql.errors import QueryFailed, SourceUnreachable
from chatdb_server.sql.guard import PARSE_ERROR, GuardVerdict, SqlGuard, with_row_count
from chatdb_server.sql.structure import SourceRef

MAX_SQL_CHARS = 100_000
WITHHELD_MESSAGE = ("its message is withheld because row or column policies apply to the tables the query reads; "
                    "check the query's types and functions against the schema")


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
class PolicedVerdict(GuardVerdict):
    """The guard's verdict with the caller's policies applied: ``sql`` and ``executable_sql`` rewritten,
    the result positions to mask, and the policy scope results are cached under."""

    checked_sql: str = ""
    """The guard's ``sql``, before policies: what the history records and generators are shown again."""
    masked: tuple[int, ...] = ()
    policy_key: str = ""
    policed: bool = False
    """Whether the query reads a table the caller's policies act on: the database's messages about it are
    withheld (they may quote a filtered row's or a masked column's value)."""


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
                 breakers: Breakers, monitor: HealthMonitor, masker: Masker | None = None) -> None:
        self._settings = settings
        self._guard = guard
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

    def check(self, context: SourceContext, sql: str, max_rows: int) -> PolicedVerdict:
        """The guard's verdict on ``sql`` for the source, under the policies that bind the current caller.

        A query the policies refuse is an invalid verdict (EXCLUDED_COLUMN, POLICY_UNENFORCEABLE);
        PermissionDenied (POLICY_ATTRIBUTE_MISSING) when a row policy needs an attribute the caller lacks."""
        dialect = context.source.dialect
        verdict = self._guard.check(sql, dialect, context.known_columns, max_rows)
        policed = PolicedVerdict(**{f.name: getattr(verdict, f.name) for f in fields(GuardVerdict)},
                                 checked_sql=verdict.sql)
        policies = context.caller_policies()
        if not verdict.valid or policies.empty:
            return policed
        # One rewrite serves both forms: the guard's shown and executable SQL differ only in the count of the
        # outermost LIMIT, which the rewrite leaves where it is.
        enforced = enforce(verdict.executable_sql, dialect, context.stored_columns, policies)
        if enforced.refused:
            return PolicedVerdict(valid=False, sql="", violations=list(enforced.violations), tables=verdict.tables)
        shown = enforced.sql
        if verdict.executable_sql != verdict.sql:
            shown = verdict.sql if enforced.tree is None else with_row_count(enforced.tree, dialect, max_rows)
        policed.sql, policed.executable_sql = shown, enforced.sql
        policed.masked, policed.policy_key, policed.policed = enforced.masked, policies.cache_key(), enforced.applied
        return policed

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
                return Run(hit.result, 0.0, from_cache=True, cached_time=hit.cached_time)
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
                rows = Rows(columns, cells, result.truncated)
                async with metadata_store_errors():
                    await self._cache.put(source, sql, rows, scope=scope)
                return Run(rows, float(getattr(result, "elapsed_s", time.perf_counter() - started)))
        return await self._stale(source, sql, scope)

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
