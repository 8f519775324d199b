"""Caller-supplied SQL: ValidateSql (the guard's verdict, never an error for unsafe SQL) and
ExecuteSql (the same guard and read-only executor as Ask, recorded in the history)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chatdb_server.access import context as call
from chatdb_server.errors import ChatDBError
from chatdb_server.query.domain import QueryState, ServedBy
from chatdb_server.query.history import QueryHistory, QueryRecord
from chatdb_server.query.pipeline_execution import GuardedExecution, Run, refusal, require_sql, too_complex
from chatdb_server.query.pipeline_sources import SourceContext, SourceContexts, metadata_store_errors
from chatdb_server.resilience.breakers import database_key
from chatdb_server.resilience.levels import HealthMonitor, Level
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import GuardVerdict


@dataclass
class SqlRun:
    """The reply to ExecuteSql."""

    query: str
    verdict: GuardVerdict
    run: Run
    timings: dict[str, float]
    level: Level

    @property
    def served_by(self) -> ServedBy:
        """CALLER_SQL, or CACHE when the rows are stale."""
        return ServedBy.CACHE if self.run.stale else ServedBy.CALLER_SQL


@dataclass(frozen=True)
class SqlValidation:
    """The reply to ValidateSql: the guard's verdict and the dialect it judged in."""

    dialect: Dialect
    verdict: GuardVerdict


class CallerSql:
    """ValidateSql and ExecuteSql."""

    def __init__(self, contexts: SourceContexts, execution: GuardedExecution, history: QueryHistory,
                 monitor: HealthMonitor) -> None:
        self._contexts = contexts
        self._execution = execution
        self._history = history
        self._monitor = monitor

    async def validate(self, tenant: str, parent: str, sql: str) -> SqlValidation:
        """The guard's verdict on ``sql`` as it would run with the default row cap; INVALID_ARGUMENT
        (SQL_TOO_COMPLEX) on ``sql`` when it is beyond what the guard checks, like SQL over the size limit."""
        text = require_sql(sql)
        context: SourceContext = await self._contexts.get(tenant, parent)
        limits = self._execution.limits(0, None)
        verdict = await self._execution.check(context, text, limits.max_rows)
        if too_complex(verdict):
            raise refusal(verdict)
        return SqlValidation(context.source.dialect, verdict)

    async def execute(self, tenant: str, parent: str, sql: str, max_rows: int, timeout_s: float | None) -> SqlRun:
        """Guard and run ``sql``; INVALID_ARGUMENT (UNSAFE_SQL / INVALID_SQL) on ``sql`` when refused."""
        started = time.perf_counter()
        text = require_sql(sql)
        limits = self._execution.limits(max_rows, timeout_s)
        context = await self._contexts.get(tenant, parent)
        source = context.source
        call.note(data_source=source.source_id, sql=text)
        verdict = await self._execution.check(context, text, limits.max_rows)
        timings = {"guard": time.perf_counter() - started}
        try:
            if not verdict.valid:
                raise refusal(verdict)
            call.note(sql=verdict.sql)
            run = await self._execution.run(source, verdict, limits, fresh_cache=False)
        except ChatDBError as error:
            timings["total"] = time.perf_counter() - started
            async with metadata_store_errors():
                await self._history.record(source, QueryRecord(
                    sql=verdict.checked_sql or text, state=QueryState.FAILED, error_reason=error.reason,
                    error_message=error.message, served_by=ServedBy.CALLER_SQL, timings=timings))
            raise
        timings["execution"] = run.elapsed_s
        level = await self._monitor.level(database_key(source.tenant, source.name))
        if run.stale:
            level = max(level, Level.NO_DATABASE)
        timings["total"] = time.perf_counter() - started
        call.note(row_count=len(run.rows.rows))
        result = SqlRun("", verdict, run, timings, level)
        async with metadata_store_errors():
            result.query = await self._history.record(source, QueryRecord(
                sql=verdict.checked_sql, served_by=result.served_by, level=level, row_count=len(run.rows.rows),
                timings=timings))
        return result
