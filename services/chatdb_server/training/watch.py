"""WatchTrainingJob: the job now, then every change, until a terminal state.

Changes made in this process arrive through :class:`JobChangeFeed` (one
``asyncio.Condition`` per watched job, with the snapshots published since the watcher
subscribed, so a fast job's intermediate states are not lost). Changes made by another
replica sharing the metadata store are seen by polling the job's ``version``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from chatdb_server.training.job_model import TrainingJob

HISTORY = 1024
"""Snapshots kept per watched job between two reads by a slow watcher."""


@dataclass
class _Channel:
    condition: asyncio.Condition = field(default_factory=asyncio.Condition)
    snapshots: deque[TrainingJob] = field(default_factory=lambda: deque(maxlen=HISTORY))
    watchers: int = 0


class Subscription:
    """One watcher's view of a job's published snapshots."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    async def changes_after(self, version: int, wait_s: float) -> list[TrainingJob]:
        """Snapshots newer than ``version`` in version order; empty when none came within ``wait_s`` seconds."""
        channel = self._channel

        def newer() -> list[TrainingJob]:
            return sorted((job for job in channel.snapshots if job.version > version), key=lambda j: j.version)

        # asyncio.timeout rather than wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that races with the inner wait finishing, and the watching task would never stop.
        async with channel.condition:
            try:
                async with asyncio.timeout(wait_s):
                    await channel.condition.wait_for(lambda: bool(newer()))
            except TimeoutError:
                return []
            return newer()


class JobChangeFeed:
    """In-process notification of job changes; only jobs someone watches keep a channel."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}

    async def publish(self, job: TrainingJob) -> None:
        """Tell this job's watchers about a committed change."""
        channel = self._channels.get(job.job_id)
        if channel is None:
            return
        async with channel.condition:
            channel.snapshots.append(job)
            channel.condition.notify_all()

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[Subscription]:
        """Receive the job's changes for the duration of the block."""
        channel = self._channels.setdefault(job_id, _Channel())
        channel.watchers += 1
        try:
            yield Subscription(channel)
        finally:
            channel.watchers -= 1
            if channel.watchers == 0:
                self._channels.pop(job_id, None)

    def watched(self, job_id: str) -> bool:
        """Whether anyone watches the job now."""
        return job_id in self._channels


class JobReader(Protocol):
    """What watching needs from the job store."""

    async def get(self, tenant: str, job_id: str) -> TrainingJob:
        """The job now; NotFound when it does not exist for the tenant."""


async def watch_job(jobs: JobReader, feed: JobChangeFeed, tenant: str, job_id: str,
                    poll_s: float) -> AsyncIterator[TrainingJob]:
    """Yield the job now, then each newer version, and stop after a terminal state.

    ``poll_s`` bounds how late a change made by another replica is noticed.
    """
    async with feed.subscribe(job_id) as subscription:
        job = await jobs.get(tenant, job_id)
        yield job
        seen = job.version
        while not job.state.terminal:
            changes = await subscription.changes_after(seen, poll_s)
            if not changes:
                latest = await jobs.get(tenant, job_id)
                changes = [latest] if latest.version > seen else []
            for job in changes:
                yield job
                seen = job.version
                if job.state.terminal:
                    break
