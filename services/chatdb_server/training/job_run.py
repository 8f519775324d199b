"""One claimed job while a worker runs it: progress writes, heartbeats and the cancel flag.

A monitor task keeps the lease alive (heartbeats) and raises the cancel flag when a cancel
arrives, from this process (through the change feed, at once) or from another replica
(seen at the next heartbeat). Progress reported from a handler thread is queued and
written in order by a single writer task. The run is traced: a job span, a child span per stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from chatdb_server.log import get_logger
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.handlers import JobCancelled
from chatdb_server.training.job_model import JobState, Stage, TrainingJob
from chatdb_server.training.job_spans import JobSpans
from chatdb_server.training.jobs import JobLease, JobStore, LeaseLost

log = get_logger(__name__)

_STAGE_PREFIX = "TRAINING_STAGE_"
FLUSH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class JobRun:
    """The worker's handle on a running job; also the handler's :class:`JobContext`."""

    def __init__(self, jobs: JobStore, lease: JobLease, job: TrainingJob, source: SourceRef,
                 heartbeat_s: float) -> None:
        self._jobs = jobs
        self.lease = lease
        self._job = job
        self._source = source
        self._heartbeat_s = heartbeat_s
        self._cancel = threading.Event()
        self.lost = False
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[Stage | None, int]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self._spans = JobSpans(job)

    @property
    def job(self) -> TrainingJob:
        """The job as last written by this run."""
        return self._job

    @property
    def source(self) -> SourceRef:
        """The job's data source."""
        return self._source

    async def __aenter__(self) -> JobRun:
        self._spans.__enter__()
        self._tasks = [asyncio.create_task(self._monitor(), name=f"job-monitor-{self.lease.job_id}"),
                       asyncio.create_task(self._write_progress(), name=f"job-progress-{self.lease.job_id}")]
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop_background()
        self._spans.__exit__()

    async def stop_background(self) -> None:
        """Stop heartbeating and writing progress (the job is being handed back or finished)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            done, _ = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("training_job.background_failed", job=self._job.name, error=repr(task.exception()))

    # --- for handlers (thread-safe) ------------------------------------------------------------

    def progress(self, stage: str, percent: int) -> None:
        """Queue a progress report; ``stage`` is a TrainingStage name (with or without prefix) or ""."""
        parsed = Stage(stage.removeprefix(_STAGE_PREFIX)) if stage else None
        item = (parsed, int(percent))
        if _on_loop(self._loop):
            self._queue.put_nowait(item)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def should_cancel(self) -> bool:
        """Whether cancellation was asked (or the job was lost to another worker)."""
        return self._cancel.is_set()

    # --- for the worker and the schema trainer --------------------------------------------------

    async def enter(self, stage: Stage, percent: int, *, total: int | None = None) -> None:
        """Record entering ``stage`` at ``percent`` (and the number of tables the job covers)."""
        self._spans.enter(stage)
        self._job = await self._jobs.progress(self.lease, stage=stage, percent=percent, total=total)

    async def record(self, *, trained: int | None = None, total: int | None = None,
                     staged: list[str] | None = None) -> None:
        """Record counts and the tables staged so far."""
        self._job = await self._jobs.progress(self.lease, trained=trained, total=total, staged=staged)

    async def checkpoint(self) -> None:
        """A safe point: JobCancelled when cancellation was asked; LeaseLost when the job is not ours."""
        if self.lost:
            raise LeaseLost(self.lease.job_id)
        if self._cancel.is_set() or await self._jobs.cancel_requested(self.lease):
            self._cancel.set()
            raise JobCancelled(self.lease.job_id)

    async def flush(self) -> None:
        """Wait until every queued progress report is written."""
        await self._queue.join()

    async def finish(self, state: JobState, *, reason: str = "", message: str = "",
                     result: dict[str, Any] | None = None) -> TrainingJob:
        """Write the queued progress, stop heartbeating, and move the job to ``state``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_TIMEOUT_S):
                await self.flush()
        await self.stop_background()
        self._job = await self._jobs.finish(self.lease, state, reason=reason, message=message, result=result)
        self._spans.finish(state, reason)
        return self._job

    # --- background ----------------------------------------------------------------------------

    async def _monitor(self) -> None:
        async with self._jobs.feed.subscribe(self.lease.job_id) as changes:
            seen = self._job.version
            while True:
                newer = await changes.changes_after(seen, self._heartbeat_s)
                if newer:
                    seen = newer[-1].version
                    if any(job.cancel_requested for job in newer):
                        self._cancel.set()
                    continue
                try:
                    if await self._jobs.heartbeat(self.lease):
                        self._cancel.set()
                except LeaseLost:
                    log.warning("training_job.lease_lost", job=self._job.name)
                    self.lost = True
                    self._cancel.set()
                    return

    async def _write_progress(self) -> None:
        while True:
            stage, percent = await self._queue.get()
            try:
                if not self.lost:
                    if stage is not None:
                        self._spans.enter(stage)
                    self._job = await self._jobs.progress(self.lease, stage=stage, percent=percent)
            except LeaseLost:
                self.lost = True
                self._cancel.set()
            except Exception:  # a failed progress write must not kill the job
                log.exception("training_job.progress_write_failed", job=self._job.name)
            finally:
                self._queue.task_done()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
