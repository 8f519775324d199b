"""Prometheus metrics of training jobs: the queue as the metadata store sees it, and how jobs end.

The queue is a fact of the shared store, not of one process: every replica's workers claim from
the same table, so a replica counting the jobs it created or claimed would be wrong. Each process
serving TrainingService reads the store's counts as often as an idle worker polls, at most once a
second (:class:`QueueGauges`, one indexed ``GROUP BY`` on state), and exports them as they are;
replicas therefore export the same values, and queries aggregate them with ``max``, not ``sum``.
Those that hold no worker export them too, so a worker pool scaled to zero is still woken by its
queue (k8s/README.md).

How jobs end is counted where the end is written (:meth:`JobStore.finish`), by the replica that
wrote it; a queued job cancelled before any worker took it has no run to time and is not counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

from chatdb_server.log import get_logger
from chatdb_server.resilience.background import cancel_and_wait
from chatdb_server.training.job_model import JobState, JobType, TrainingJob

log = get_logger(__name__)

MIN_REFRESH_S = 1.0
"""The queue gauges are read from the store at most this often."""

JOBS_QUEUED = Gauge("chatdb_training_jobs_queued",
                    "Training jobs waiting for a worker, by type, as the metadata store counts them (every replica "
                    "exports the same value: aggregate with max).", ["type"])
JOBS_RUNNING = Gauge("chatdb_training_jobs_running",
                     "Training jobs a worker holds (running or stopping on request), by type, as the metadata store "
                     "counts them (aggregate with max).", ["type"])
OLDEST_QUEUED_SECONDS = Gauge("chatdb_training_oldest_queued_seconds",
                              "Age of the oldest queued training job, by type; 0 when none is queued.", ["type"])
JOB_DURATION_SECONDS = Histogram(
    "chatdb_training_job_duration_seconds",
    "Time from a job's first claim to its end, by type and final state.", ["type", "state"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800))
JOBS_FINISHED = Counter("chatdb_training_jobs_finished", "Jobs this process ended, by type and final state.",
                        ["type", "state"])
JOB_FAILURES = Counter("chatdb_training_job_failures", "Jobs this process ended FAILED, by type and error reason.",
                       ["type", "reason"])


@dataclass(frozen=True)
class QueueCounts:
    """Unfinished jobs of one type in the store."""

    queued: int = 0
    running: int = 0
    oldest_queued: datetime | None = None


@dataclass
class JobTally:
    """What the store says of the unfinished jobs, by type (types without any are absent)."""

    by_type: dict[JobType, QueueCounts] = field(default_factory=dict)
    read_time: datetime | None = None


def export_tally(tally: JobTally) -> None:
    """Set the queue gauges of every job type (zero for types with nothing unfinished)."""
    for job_type in JobType:
        counts = tally.by_type.get(job_type, QueueCounts())
        JOBS_QUEUED.labels(type=job_type.value).set(counts.queued)
        JOBS_RUNNING.labels(type=job_type.value).set(counts.running)
        age = 0.0
        if counts.oldest_queued is not None and tally.read_time is not None:
            age = max(0.0, (tally.read_time - counts.oldest_queued).total_seconds())
        OLDEST_QUEUED_SECONDS.labels(type=job_type.value).set(age)


def job_ended(job: TrainingJob) -> None:
    """Count a job that reached a terminal state, with its duration and, when it failed, its reason."""
    JOBS_FINISHED.labels(type=job.job_type.value, state=job.state.value).inc()
    if job.state is JobState.FAILED:
        JOB_FAILURES.labels(type=job.job_type.value, reason=job.error_reason or "UNSPECIFIED").inc()
    if job.start_time is not None and job.end_time is not None:
        seconds = max(0.0, (job.end_time - job.start_time).total_seconds())
        JOB_DURATION_SECONDS.labels(type=job.job_type.value, state=job.state.value).observe(seconds)


class TallySource(Protocol):
    """What :class:`QueueGauges` reads: the job store's ``tally``."""

    async def tally(self) -> JobTally: ...


class QueueGauges:
    """Keeps the queue gauges at the store's counts, read every ``every_s`` seconds in the background."""

    def __init__(self, jobs: TallySource, every_s: float) -> None:
        self._jobs = jobs
        self._every_s = max(every_s, MIN_REFRESH_S)
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def refresh(self) -> JobTally:
        """Read the counts now and export them."""
        tally = await self._jobs.tally()
        export_tally(tally)
        return tally

    def start(self) -> None:
        """Start refreshing in the background (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="training-queue-gauges")

    async def stop(self) -> None:
        """Stop refreshing."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
                self._failing = False
            except Exception as exc:  # the store may be down for a while; the gauges keep their last values
                if not self._failing:
                    log.warning("training_metrics.refresh_failed", error=type(exc).__name__)
                self._failing = True
            await asyncio.sleep(self._every_s)


def by_type(rows: Mapping[tuple[str, str], tuple[int, datetime | None]], read_time: datetime) -> JobTally:
    """The tally from (type, state) → (count, oldest create time) rows of unfinished jobs."""
    tally = JobTally(read_time=read_time)
    for (type_value, state_value), (count, oldest) in rows.items():
        try:
            job_type, state = JobType(type_value), JobState(state_value)
        except ValueError:
            continue
        current = tally.by_type.get(job_type, QueueCounts())
        if state is JobState.QUEUED:
            current = QueueCounts(current.queued + count, current.running, oldest)
        elif state.active:
            current = QueueCounts(current.queued, current.running + count, current.oldest_queued)
        tally.by_type[job_type] = current
    return tally
