"""The training worker: claims queued jobs, runs them, recovers jobs of dead workers.

Several processes may run workers on one metadata store; claiming is safe (see
:mod:`chatdb_server.training.jobs`). A worker that dies leaves its job RUNNING with a heartbeat
that stops advancing; any worker's recovery pass (at start, then periodically) rolls back
that job's uncommitted vectors and re-queues it, or fails it after ``max_attempts`` claims.
On a graceful stop, a job still running after the grace period is rolled back and re-queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta

from chatdb_server.errors import ChatDBError, NotFound
from chatdb_server.log import get_logger, redact_url_passwords
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.handlers import HandlerRegistry, JobCancelled
from chatdb_server.training.job_model import JobState, JobType, TrainingJob
from chatdb_server.training.job_run import JobRun
from chatdb_server.training.jobs import JobLease, JobStore, LeaseLost
from chatdb_server.training.ports import TrainingCatalog
from chatdb_server.training.schema_job import SchemaTrainer

log = get_logger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    """Timing and limits of a worker."""

    concurrency: int = 1
    """Jobs this worker runs at once."""
    poll_s: float = 1.0
    """How often an idle worker looks for queued jobs (new jobs in this process wake it at once)."""
    heartbeat_s: float = 5.0
    """How often a running job's heartbeat is written."""
    stale_after_s: float = 60.0
    """A running job whose heartbeat is older than this is taken to have lost its worker."""
    max_attempts: int = 3
    """Claims a job gets before a lost worker fails it instead of re-queueing it."""
    recover_every_s: float = 30.0
    """How often a running worker looks for jobs of dead workers."""


def new_worker_id() -> str:
    """host:pid:random, unique per worker instance."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TrainingWorker:
    """Runs training jobs from the metadata store until stopped."""

    def __init__(self, jobs: JobStore, catalog: TrainingCatalog, schema: SchemaTrainer,
                 handlers: HandlerRegistry | None = None, options: WorkerOptions | None = None,
                 worker_id: str | None = None) -> None:
        self.jobs = jobs
        self.handlers = handlers or HandlerRegistry()
        self.options = options or WorkerOptions()
        self.worker_id = worker_id or new_worker_id()
        self._catalog = catalog
        self._schema = schema
        self._wake = asyncio.Event()
        self._stopping = False
        self._loops: list[asyncio.Task[None]] = []

    @property
    def job_types(self) -> list[JobType]:
        """Job types this worker claims: SCHEMA, plus every type with a registered handler."""
        return list(dict.fromkeys([JobType.SCHEMA, *self.handlers.types()]))

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover jobs of dead workers, then run the claim loops in the background."""
        self._stopping = False
        await self._recover_logged()
        self._loops = [asyncio.create_task(self._loop(i), name=f"training-worker-{i}")
                       for i in range(max(1, self.options.concurrency))]
        log.info("training_worker.started", worker=self.worker_id, concurrency=len(self._loops))

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming; give running jobs ``grace_s`` to finish, then roll them back and re-queue them."""
        self._stopping = True
        self._wake.set()
        if not self._loops:
            return
        _, pending = await asyncio.wait(self._loops, timeout=grace_s)
        for task in pending:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops = []
        log.info("training_worker.stopped", worker=self.worker_id)

    def wake(self) -> None:
        """Look for queued jobs now (called after a job is created in this process)."""
        self._wake.set()

    async def _loop(self, index: int) -> None:
        next_recovery = asyncio.get_running_loop().time() + self.options.recover_every_s
        while not self._stopping:
            try:
                ran = await self.run_once()
            except Exception:  # the loop outlives any single failure (e.g. store down)
                log.exception("training_worker.loop_error", worker=self.worker_id)
                ran = None
            if self._stopping:
                return
            now = asyncio.get_running_loop().time()
            if index == 0 and now >= next_recovery:
                next_recovery = now + self.options.recover_every_s
                await self._recover_logged()
            if ran is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.poll_s):
                        await self._wake.wait()

    # --- one job --------------------------------------------------------------------------------

    async def run_once(self) -> TrainingJob | None:
        """Claim one queued job and run it to a terminal state; None when nothing was queued."""
        claimed = await self.jobs.claim(self.worker_id, self.job_types)
        if claimed is None:
            return None
        lease, job = claimed
        return await self._execute(lease, job)

    async def run_until_idle(self) -> list[TrainingJob]:
        """Run queued jobs one after another until none is left; the jobs as they ended."""
        finished = []
        while (job := await self.run_once()) is not None:
            finished.append(job)
        return finished

    async def _execute(self, lease: JobLease, job: TrainingJob) -> TrainingJob:
        try:
            source = await self._catalog.resolve(job.tenant, job.data_source)
        except ChatDBError as error:
            return await self.jobs.finish(lease, JobState.FAILED, reason=error.reason, message=error.message)
        async with JobRun(self.jobs, lease, job, source, self.options.heartbeat_s) as run:
            try:
                result = await self._dispatch(run)
                return await run.finish(JobState.SUCCEEDED, result=result)
            except JobCancelled:
                return await self._end(run, JobState.CANCELLED, message="cancelled on request")
            except LeaseLost:
                await self._abandon(run.job)
                return run.job
            except asyncio.CancelledError:
                await self._requeue_on_shutdown(run)
                raise
            except ChatDBError as error:
                return await self._end(run, JobState.FAILED, reason=error.reason, message=error.message)
            except Exception as error:  # any failure ends the job with its reason
                log.exception("training_job.crashed", job=job.name)
                message = redact_url_passwords(f"{type(error).__name__}: {error}")
                return await self._end(run, JobState.FAILED, reason="UNSPECIFIED", message=message)

    async def _dispatch(self, run: JobRun) -> dict[str, object]:
        if run.job.job_type is JobType.SCHEMA:
            return await self._schema.run(run)
        handler = self.handlers.get(run.job.job_type)
        if handler is None:
            self.handlers.require(run.job.job_type)  # raises FailedPrecondition
        assert handler is not None
        return dict(await handler(run) or {})

    async def _end(self, run: JobRun, state: JobState, *, reason: str = "", message: str = "") -> TrainingJob:
        """Roll back what the run wrote, then finish it. A failed rollback leaves the job to recovery."""
        await self._roll_back(run.source, run.job)
        return await run.finish(state, reason=reason, message=message)

    async def _roll_back(self, source: SourceRef, job: TrainingJob) -> None:
        if job.job_type is JobType.SCHEMA:
            await self._schema.roll_back(source, job)

    async def _abandon(self, job: TrainingJob) -> None:
        """The job is no longer ours. If its row is gone (the source was deleted), nobody else will
        clean up what it staged, so do it here; otherwise the replica that recovered it does."""
        log.warning("training_job.abandoned", job=job.name, worker=self.worker_id)
        try:
            await self.jobs.get(job.tenant, job.job_id)
        except NotFound:
            if job.job_type is JobType.SCHEMA:
                await self._schema.drop_staged(job)

    async def _requeue_on_shutdown(self, run: JobRun) -> None:
        """The worker is stopping mid-job: undo the job's partial vectors and queue it for another worker."""
        try:
            await run.stop_background()
            await self._roll_back(run.source, run.job)
            await self.jobs.release_recovered(run.lease, max_attempts=sys.maxsize)
        except Exception:  # recovery by another worker will finish the job
            log.exception("training_job.requeue_failed", job=run.job.name)

    # --- recovery -------------------------------------------------------------------------------

    async def recover(self, stale_after_s: float | None = None) -> list[TrainingJob]:
        """Roll back and re-queue (or fail) jobs whose worker stopped heartbeating; the jobs recovered."""
        stale_after = self.options.stale_after_s if stale_after_s is None else stale_after_s
        cutoff = await self.jobs.clock() - timedelta(seconds=stale_after)
        recovered = []
        for job in await self.jobs.stale_jobs(cutoff):
            lease = await self.jobs.take_over(job, self.worker_id, cutoff)
            if lease is None:
                continue
            log.warning("training_job.recovering", job=job.name, lost_worker=job.worker_id, attempt=job.attempt)
            source = await self._catalog.resolve(job.tenant, job.data_source)
            await self._roll_back(source, job)
            recovered.append(await self.jobs.release_recovered(lease, self.options.max_attempts))
        return recovered

    async def _recover_logged(self) -> None:
        try:
            await self.recover()
        except Exception:  # a job that could not be recovered stays stale and is retried
            log.exception("training_worker.recovery_failed", worker=self.worker_id)

