"""Scheduled schema refreshes: sources with a ``refresh_interval`` are discovered again by themselves.

Any replica hosting SchemaService runs a :class:`RefreshScheduler`. A due source is claimed with one
conditional ``UPDATE`` that moves its ``next_refresh_time`` one interval on (``WHERE next_refresh_time
<= now``; row count 1 wins, candidates picked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so exactly
one replica refreshes it each time, as training jobs are claimed. The refresh is RefreshSchema's own
(``SchemaCatalog.refresh``): the new discovery is stored, STALE tables marked, and drift queues its
webhook event in the same transaction. When the source asks for it (``auto_retrain``), the tables found
STALE are queued for training through the :class:`~chatdb_server.schema.ports.RetrainPort`. A refresh
that fails (the database is down) is logged and tried again an interval later. Times come from the
database's clock on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from chatdb_server.errors import ChatDBError
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow
from chatdb_server.names import DATA_SOURCE, format_name
from chatdb_server.resilience.background import cancel_and_wait
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.ports import RetrainPort
from chatdb_server.schema.records import RefreshReport

log = get_logger(__name__)

_CLAIM_TRIES = 8


@dataclass(frozen=True)
class DueRefresh:
    """A source this replica claimed for its scheduled refresh."""

    tenant: str
    source_id: str
    auto_retrain: bool


@dataclass(frozen=True)
class ScheduledRefresh:
    """What one scheduled refresh did."""

    source: DueRefresh
    report: RefreshReport | None
    """What the refresh found; None when it failed (``error`` says why)."""
    retrain_job: str = ""
    """The training job queued for the STALE tables; empty when none was."""
    error: str = ""


class RefreshSchedule:
    """The refresh times of every source, in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    async def clock(self) -> datetime:
        """Now, by the database's clock on PostgreSQL (this host's on SQLite)."""
        return await self._store.clock()

    async def claim_due(self) -> DueRefresh | None:
        """The oldest due source, now this replica's to refresh (its next refresh moved one interval on)."""
        now = await self.clock()
        due = (DataSourceRow.refresh_interval_s > 0, DataSourceRow.next_refresh_time <= now)
        candidates = (select(DataSourceRow.pk, DataSourceRow.refresh_interval_s).where(*due)
                      .order_by(DataSourceRow.next_refresh_time, DataSourceRow.pk).limit(1)
                      .with_for_update(skip_locked=True, of=DataSourceRow))
        for _ in range(_CLAIM_TRIES):
            async with self._store.session() as session:
                found = (await session.execute(candidates)).first()
                if found is None:
                    return None
                pk, interval = found
                claimed = await session.execute(
                    update(DataSourceRow).where(DataSourceRow.pk == pk, *due)
                    .values(next_refresh_time=now + timedelta(seconds=interval))
                    .execution_options(synchronize_session=False))
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another replica claimed it first; look again
                row = (await session.execute(select(DataSourceRow.tenant, DataSourceRow.source_id,
                                                    DataSourceRow.auto_retrain)
                                             .where(DataSourceRow.pk == pk))).one()
            return DueRefresh(tenant=row[0], source_id=row[1], auto_retrain=bool(row[2]))
        return None


class RefreshScheduler:
    """Refreshes due sources until stopped."""

    def __init__(self, catalog: SchemaCatalog, schedule: RefreshSchedule, retrain: RetrainPort,
                 poll_s: float = 10.0) -> None:
        self._catalog = catalog
        self._schedule = schedule
        self._retrain = retrain
        self._poll_s = poll_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Look for due sources in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="schema-refresh-scheduler")

    async def stop(self) -> None:
        """Stop looking (a refresh in progress is cancelled; its source is due again an interval later)."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def run_once(self) -> ScheduledRefresh | None:
        """Claim one due source and refresh it; None when none was due."""
        due = await self._schedule.claim_due()
        if due is None:
            return None
        name = format_name(DATA_SOURCE, data_source=due.source_id)
        try:
            report = await self._catalog.refresh(due.tenant, due.source_id, scheduled=True)
        except ChatDBError as error:
            log.warning("schema.scheduled_refresh_failed", source=due.source_id, tenant=due.tenant,
                        reason=error.reason, message=error.message)
            return ScheduledRefresh(due, None, error=error.message)
        job = ""
        if due.auto_retrain and report.stale:
            job = await self._retrain.retrain(await self._catalog.resolve(due.tenant, name), report.stale)
        log.info("schema.scheduled_refresh", source=due.source_id, tenant=due.tenant, stale=len(report.stale),
                 retrain_job=job or None)
        return ScheduledRefresh(due, report, job)

    async def _loop(self) -> None:
        while True:
            try:
                refreshed = await self.run_once()
            except Exception:  # the loop outlives any single failure (e.g. the store is down)
                log.exception("schema.scheduler_failed")
                refreshed = None
            if refreshed is None:
                await asyncio.sleep(self._poll_s)
