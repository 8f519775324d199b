"""Durable training jobs in the metadata store: the state machine, claiming and recovery.

Every visible change is one conditional ``UPDATE`` that bumps ``version``, so two
replicas sharing a store never overwrite each other's transitions. A worker's writes are
fenced by its :class:`JobLease` (attempt and worker id): once another replica recovered
the job, the old worker's updates match no row and it learns it lost the job.

Claiming is one conditional ``UPDATE ... WHERE state = 'QUEUED'`` checked by its row count, so
however many workers race for a job exactly one gets it. Candidates are picked with ``SELECT ...
FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers pick different rows without waiting
on each other (SQLite has no row locks and ignores the clause; its writes are serialised).

A change that finishes a job queues its webhook event in the same transaction
(:mod:`chatdb_server.training.events`).

Heartbeats are stamped with the database's clock on PostgreSQL and recovery measures staleness
by it too, so replicas on hosts whose clocks disagree never take a live job for a dead one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatdb_server.errors import FailedPrecondition, NotFound
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow, TrainingJobRow, as_utc, utcnow
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.events import emit_if_finished
from chatdb_server.training.filters import JobFilter
from chatdb_server.training.job_model import (
    JOB_NAME_PREFIX,
    JobState,
    JobType,
    Stage,
    TrainingJob,
)
from chatdb_server.training.metrics import JobTally, by_type, job_ended
from chatdb_server.training.names import new_id
from chatdb_server.training.watch import JobChangeFeed

log = get_logger(__name__)

STAGED_KEY = "staged_tables"
"""Key in a job's ``result`` listing the tables whose vectors it wrote but did not commit."""
_ACTIVE = (JobState.RUNNING.value, JobState.CANCELLING.value)
_CLAIM_TRIES = 8
SOURCE_CLAIM_LOCK = 0x6A6F62
"""``job``: the class of the transaction-scoped advisory lock (with the source's pk) claimers of one source
take on PostgreSQL."""


class LeaseLost(Exception):
    """The job is no longer this worker's: recovered by another replica, or deleted."""


@dataclass(frozen=True)
class JobLease:
    """A worker's hold on a running job; every write of the worker is fenced by it."""

    job_id: str
    pk: int
    attempt: int
    worker_id: str


class JobStore:
    """Training jobs of every tenant, kept in the metadata store."""

    def __init__(self, store: MetadataStore, feed: JobChangeFeed | None = None) -> None:
        self._store = store
        self.feed = feed or JobChangeFeed()

    # --- reading -----------------------------------------------------------------------

    async def get(self, tenant: str, job_id: str) -> TrainingJob:
        """The tenant's job; NotFound otherwise."""
        async with self._store.session() as session:
            row = (await session.execute(_joined().where(TrainingJobRow.job_id == job_id,
                                                         TrainingJobRow.tenant == tenant))).first()
        if row is None:
            raise NotFound(JOB_NAME_PREFIX + job_id, "training job")
        return _snapshot(row[0], row[1])

    async def list_jobs(self, tenant: str, job_filter: JobFilter, offset: int,
                   limit: int) -> tuple[list[TrainingJob], bool]:
        """A page of the tenant's jobs, newest first, and whether more follow."""
        query = _joined().where(TrainingJobRow.tenant == tenant)
        if job_filter.source_id is not None:
            query = query.where(DataSourceRow.source_id == job_filter.source_id)
        if job_filter.state is not None:
            query = query.where(TrainingJobRow.state == job_filter.state.value)
        if job_filter.job_type is not None:
            query = query.where(TrainingJobRow.job_type == job_filter.job_type.value)
        query = query.order_by(TrainingJobRow.create_time.desc(), TrainingJobRow.pk.desc())
        async with self._store.session() as session:
            rows = (await session.execute(query.offset(offset).limit(limit + 1))).all()
        jobs = [_snapshot(job, source_id) for job, source_id in rows[:limit]]
        return jobs, len(rows) > limit

    # --- caller transitions --------------------------------------------------------------

    async def create(self, source: SourceRef, job_type: JobType, tables: Sequence[str] = (),
                     config: dict[str, Any] | None = None) -> TrainingJob:
        """Queue a job for ``source``."""
        now = utcnow()
        row = TrainingJobRow(job_id=new_id("job"), tenant=source.tenant, source_pk=source.pk,
                             job_type=job_type.value, state=JobState.QUEUED.value, stage=Stage.UNSPECIFIED.value,
                             progress_percent=0, tables=list(tables), trained_table_count=0,
                             total_table_count=len(tables), error_reason="", error_message="", attempt=0,
                             config=dict(config or {}), result={}, worker_id="", cancel_requested=False,
                             version=1, create_time=now, update_time=now)
        async with self._store.session() as session:
            session.add(row)
        job = _snapshot(row, source.source_id)
        log.info("training_job.created", job=job.name, source=job.data_source, type=job.job_type.value,
                 tables=len(tables))
        await self.feed.publish(job)
        return job

    async def cancel(self, tenant: str, job_id: str) -> TrainingJob:
        """Cancel a job: a queued one at once, a running one at its worker's next safe point.

        FailedPrecondition (JOB_STATE) for a job that already finished.
        """
        for _ in range(_CLAIM_TRIES):
            job = await self.get(tenant, job_id)
            if job.state is JobState.CANCELLING:
                return job
            if job.state.terminal:
                raise FailedPrecondition(f"training job {job.name!r} already finished ({job.state.value}); "
                                         "only queued or running jobs can be cancelled", "JOB_STATE",
                                         {"state": job.state.value})
            if job.state is JobState.QUEUED:
                now = utcnow()
                changed = await self._transition(job.pk, {JobState.QUEUED.value}, state=JobState.CANCELLED,
                                                 cancel_requested=True, end_time=now)
            else:
                changed = await self._transition(job.pk, {JobState.RUNNING.value},
                                                 state=JobState.CANCELLING, cancel_requested=True)
            if changed is not None:
                log.info("training_job.cancel", job=changed.name, state=changed.state.value)
                return changed
        raise FailedPrecondition(f"training job {JOB_NAME_PREFIX + job_id!r} keeps changing; try again",
                                 "JOB_STATE")

    # --- worker transitions --------------------------------------------------------------

    async def claim(self, worker_id: str, job_types: Collection[JobType]) -> tuple[JobLease, TrainingJob] | None:
        """Take the oldest queued job of one of ``job_types`` for ``worker_id``, or None.

        A job waits while another job of the same type and source is running, so two attempts never
        write the same source's vectors at once. The claiming ``UPDATE`` checks that as well as the
        state; on PostgreSQL a claimer first takes the source's advisory lock, so its check (a new
        statement, under READ COMMITTED) sees the committed claim of whoever held the lock before.
        """
        if not job_types:
            return None
        queued = (TrainingJobRow.state == JobState.QUEUED.value,
                  TrainingJobRow.job_type.in_([t.value for t in job_types]))
        if not await self._store.read_first(select(TrainingJobRow.pk).where(*queued).limit(1)):
            return None  # nothing queued: found without a transaction (on SQLite, without the write lock)
        candidates = (select(TrainingJobRow.pk, TrainingJobRow.source_pk)
                      .where(*queued, ~_busy_source())
                      .order_by(TrainingJobRow.create_time, TrainingJobRow.pk)
                      .limit(1)
                      .with_for_update(skip_locked=True, of=TrainingJobRow))
        for _ in range(_CLAIM_TRIES):
            now = utcnow()
            async with self._store.session() as session:
                found = (await session.execute(candidates)).first()
                if found is None:
                    return None
                pk, source_pk = found
                if not self._store.is_sqlite:
                    await session.execute(select(func.pg_advisory_xact_lock(SOURCE_CLAIM_LOCK, source_pk)))
                claimed = await session.execute(
                    update(TrainingJobRow)
                    .where(TrainingJobRow.pk == pk, TrainingJobRow.state == JobState.QUEUED.value, ~_busy_source())
                    .values(state=JobState.RUNNING.value, attempt=TrainingJobRow.attempt + 1, worker_id=worker_id,
                            heartbeat_time=self._stamp(), stage=Stage.UNSPECIFIED.value, progress_percent=0,
                            trained_table_count=0, error_reason="", error_message="",
                            start_time=_coalesce_start(now), update_time=now,
                            version=TrainingJobRow.version + 1)
                    .execution_options(synchronize_session=False))
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another worker won this row, or a job of its source began meanwhile; look again
                job = await _read(session, pk)
            lease = JobLease(job.job_id, pk, job.attempt, worker_id)
            log.info("training_job.claimed", job=job.name, worker=worker_id, attempt=job.attempt)
            await self.feed.publish(job)
            return lease, job
        return None

    async def heartbeat(self, lease: JobLease) -> bool:
        """Record that the worker is alive; whether cancellation was asked. LeaseLost when it is not ours."""
        async with self._store.session() as session:
            result = await session.execute(
                update(TrainingJobRow).where(*_fence(lease)).values(heartbeat_time=self._stamp())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(lease.job_id)
            requested = (await session.execute(select(TrainingJobRow.cancel_requested)
                                               .where(TrainingJobRow.pk == lease.pk))).scalar_one()
        return bool(requested)

    async def cancel_requested(self, lease: JobLease) -> bool:
        """Whether cancellation of the leased job was asked (a cheap read at safe points)."""
        async with self._store.session() as session:
            row = (await session.execute(select(TrainingJobRow.cancel_requested, TrainingJobRow.worker_id)
                                         .where(TrainingJobRow.pk == lease.pk))).first()
        if row is None or row[1] != lease.worker_id:
            raise LeaseLost(lease.job_id)
        return bool(row[0])

    async def progress(self, lease: JobLease, *, stage: Stage | None = None, percent: int | None = None,
                       trained: int | None = None, total: int | None = None,
                       staged: Sequence[str] | None = None) -> TrainingJob:
        """Record where the leased job is; each call is one visible change."""
        values: dict[str, Any] = {}
        if stage is not None:
            values["stage"] = stage.value
        if percent is not None:
            values["progress_percent"] = max(0, min(100, percent))
        if trained is not None:
            values["trained_table_count"] = trained
        if total is not None:
            values["total_table_count"] = total
        result_update = None if staged is None else {STAGED_KEY: list(staged)}
        return await self._leased_update(lease, values, result_update)

    async def finish(self, lease: JobLease, state: JobState, *, reason: str = "", message: str = "",
                     result: dict[str, Any] | None = None) -> TrainingJob:
        """Move the leased job to a terminal state and let go of it."""
        assert state.terminal, state
        values: dict[str, Any] = {"state": state.value, "end_time": utcnow(), "error_reason": reason,
                                  "error_message": message}
        if state is JobState.SUCCEEDED:
            values.update(stage=Stage.DONE.value, progress_percent=100)
        job = await self._leased_update(lease, values, {**(result or {}), STAGED_KEY: []}, replace_result=True)
        log.info("training_job.finished", job=job.name, state=state.value, reason=reason, message=message)
        job_ended(job)
        return job

    async def tally(self) -> JobTally:
        """Unfinished jobs by type: how many are queued (and since when) and how many a worker holds."""
        oldest = func.min(TrainingJobRow.create_time)
        query = (select(TrainingJobRow.job_type, TrainingJobRow.state, func.count(), oldest)
                 .where(TrainingJobRow.state.in_([JobState.QUEUED.value, *_ACTIVE]))
                 .group_by(TrainingJobRow.job_type, TrainingJobRow.state))
        async with self._store.session() as session:
            rows = (await session.execute(query)).all()
        return by_type({(job_type, state): (int(count), as_utc(first)) for job_type, state, count, first in rows},
                       utcnow())

    # --- recovery ------------------------------------------------------------------------

    async def clock(self) -> datetime:
        """Now, by the clock heartbeats are stamped with: recovery computes its staleness cutoff from it."""
        return await self._store.clock()

    def _stamp(self) -> Any:
        """A heartbeat's time: the database's clock on PostgreSQL (replicas may run on hosts whose clocks
        disagree); this host's on SQLite, whose file only processes of one host share."""
        return utcnow() if self._store.is_sqlite else func.now()

    async def stale_jobs(self, cutoff: datetime) -> list[TrainingJob]:
        """Jobs held by a worker whose last heartbeat is older than ``cutoff`` (the worker died)."""
        async with self._store.session() as session:
            rows = (await session.execute(
                _joined().where(TrainingJobRow.state.in_(_ACTIVE),
                                or_(TrainingJobRow.heartbeat_time.is_(None),
                                    TrainingJobRow.heartbeat_time < cutoff))
                .order_by(TrainingJobRow.create_time))).all()
        return [_snapshot(job, source_id) for job, source_id in rows]

    async def take_over(self, job: TrainingJob, worker_id: str, cutoff: datetime) -> JobLease | None:
        """Hold a stale job for recovery; None when its worker came back or another replica got it first."""
        async with self._store.session() as session:
            result = await session.execute(
                update(TrainingJobRow)
                .where(TrainingJobRow.pk == job.pk, TrainingJobRow.attempt == job.attempt,
                       TrainingJobRow.worker_id == job.worker_id, TrainingJobRow.state.in_(_ACTIVE),
                       or_(TrainingJobRow.heartbeat_time.is_(None), TrainingJobRow.heartbeat_time < cutoff))
                .values(worker_id=worker_id, heartbeat_time=self._stamp())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
        return JobLease(job.job_id, job.pk, job.attempt, worker_id)

    async def release_recovered(self, lease: JobLease, max_attempts: int) -> TrainingJob:
        """After its partial work was rolled back: requeue the job, or end it when it may not run again."""
        async with self._store.session() as session:
            job = await _read(session, lease.pk)
        if job.cancel_requested:
            return await self.finish(lease, JobState.CANCELLED, message="cancelled while its worker was lost")
        if job.attempt >= max_attempts:
            return await self.finish(
                lease, JobState.FAILED, reason="UNSPECIFIED",
                message=f"the worker running this job stopped unexpectedly {job.attempt} times "
                        f"(limit {max_attempts}); its partial vectors were removed; create a new job to retry")
        requeued = await self._leased_update(
            lease, {"state": JobState.QUEUED.value, "worker_id": "", "heartbeat_time": None,
                    "stage": Stage.UNSPECIFIED.value, "progress_percent": 0, "trained_table_count": 0},
            {STAGED_KEY: []})
        log.warning("training_job.requeued", job=requeued.name, attempt=requeued.attempt)
        return requeued

    # --- internals -----------------------------------------------------------------------

    async def _transition(self, pk: int, from_states: set[str], *, state: JobState,
                          **values: Any) -> TrainingJob | None:
        """Conditional state change of an unleased job; None when it was no longer in ``from_states``."""
        now = utcnow()
        async with self._store.session() as session:
            result = await session.execute(
                update(TrainingJobRow).where(TrainingJobRow.pk == pk, TrainingJobRow.state.in_(from_states))
                .values(state=state.value, update_time=now, version=TrainingJobRow.version + 1, **values)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            job = await _read(session, pk)
            await emit_if_finished(session, job)
        await self.feed.publish(job)
        return job

    async def _leased_update(self, lease: JobLease, values: dict[str, Any], result_update: dict[str, Any] | None,
                             *, replace_result: bool = False) -> TrainingJob:
        now = utcnow()
        values = {"update_time": now, "heartbeat_time": self._stamp(), **values}
        async with self._store.session() as session:
            if result_update is not None:
                current = (await session.execute(select(TrainingJobRow.result)
                                                 .where(TrainingJobRow.pk == lease.pk))).scalar_one_or_none()
                merged = dict(result_update) if replace_result else {**(current or {}), **result_update}
                values = {**values, "result": merged}
            result = await session.execute(
                update(TrainingJobRow).where(*_fence(lease))
                .values(version=TrainingJobRow.version + 1, **values)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(lease.job_id)
            job = await _read(session, lease.pk)
            await emit_if_finished(session, job)
        await self.feed.publish(job)
        return job


def _busy_source() -> Any:
    """Whether a job of the same source and type as the ``training_jobs`` row at hand is running."""
    other = aliased(TrainingJobRow)
    return exists().where(other.source_pk == TrainingJobRow.source_pk, other.job_type == TrainingJobRow.job_type,
                          other.state.in_(_ACTIVE))


def _fence(lease: JobLease) -> tuple[Any, ...]:
    return (TrainingJobRow.pk == lease.pk, TrainingJobRow.attempt == lease.attempt,
            TrainingJobRow.worker_id == lease.worker_id, TrainingJobRow.state.in_(_ACTIVE))


def _coalesce_start(now: datetime) -> Any:
    return func.coalesce(TrainingJobRow.start_time, now)


def _joined() -> Select[TrainingJobRow, str]:
    return select(TrainingJobRow, DataSourceRow.source_id).join(
        DataSourceRow, and_(DataSourceRow.pk == TrainingJobRow.source_pk))


async def _read(session: AsyncSession, pk: int) -> TrainingJob:
    row = (await session.execute(_joined().where(TrainingJobRow.pk == pk)
                                 .execution_options(populate_existing=True))).first()
    if row is None:
        raise LeaseLost(str(pk))
    return _snapshot(row[0], row[1])


def _snapshot(row: TrainingJobRow, source_id: str) -> TrainingJob:
    result = dict(row.result or {})
    staged = tuple(result.pop(STAGED_KEY, ()) or ())
    return TrainingJob(
        job_id=row.job_id, tenant=row.tenant, source_pk=row.source_pk, source_id=source_id,
        job_type=JobType(row.job_type), state=JobState(row.state), stage=Stage(row.stage),
        progress_percent=row.progress_percent, tables=tuple(row.tables or ()),
        trained_table_count=row.trained_table_count, total_table_count=row.total_table_count,
        error_reason=row.error_reason, error_message=row.error_message, attempt=row.attempt,
        config=dict(row.config or {}), result=result, worker_id=row.worker_id,
        cancel_requested=bool(row.cancel_requested), version=row.version,
        create_time=as_utc(row.create_time) or utcnow(), update_time=as_utc(row.update_time) or utcnow(),
        start_time=as_utc(row.start_time), end_time=as_utc(row.end_time),
        heartbeat_time=as_utc(row.heartbeat_time), staged_tables=staged, pk=row.pk)
