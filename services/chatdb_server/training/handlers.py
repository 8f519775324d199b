"""How job types plug into the worker: a registry of handlers and what a handler is given.

A handler is ``async def handler(context: JobContext) -> dict | None``. It reports progress
with ``context.progress(stage, percent)`` and stops at its safe points when
``context.should_cancel()`` is true by raising :class:`JobCancelled`. Both callbacks are
cheap and thread-safe, so a handler may call them from a worker thread (a training loop).
Whatever dict it returns becomes the job's result (for FINE_TUNE the ``FineTuneResult``
fields: ``adapter_version``, ``base_model``, ``dataset_size``, ``loss_curve``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from chatdb_server.errors import FailedPrecondition
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.job_model import JobType, TrainingJob


class JobCancelled(Exception):  # named for what happened, like asyncio.CancelledError
    """Raised by a job at a safe point after cancellation was asked."""


class JobContext(Protocol):
    """What a running job's handler sees."""

    @property
    def job(self) -> TrainingJob:
        """The job as last written by this worker."""

    @property
    def source(self) -> SourceRef:
        """The job's data source (holds the live DSN: never log it)."""

    def progress(self, stage: str, percent: int) -> None:
        """Report the stage (a TrainingStage name such as ``TRAIN``) and percent done (0-100)."""

    def should_cancel(self) -> bool:
        """Whether the job was asked to stop; check between units of work."""


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]


class HandlerRegistry:
    """The handlers this process can run, by job type."""

    def __init__(self) -> None:
        self._handlers: dict[JobType, JobHandler] = {}

    def register(self, job_type: JobType | str, handler: JobHandler) -> None:
        """Run jobs of ``job_type`` with ``handler`` (replacing any earlier one)."""
        self._handlers[JobType(job_type)] = handler

    def get(self, job_type: JobType) -> JobHandler | None:
        """The handler of ``job_type``, if any."""
        return self._handlers.get(job_type)

    def types(self) -> list[JobType]:
        """Job types with a handler; a worker claims only these."""
        return list(self._handlers)

    def require(self, job_type: JobType) -> None:
        """FailedPrecondition (BACKEND_UNAVAILABLE) when no handler runs ``job_type`` here."""
        if job_type in self._handlers:
            return
        if job_type is JobType.FINE_TUNE:
            message = ("fine-tuning is not available on this deployment: no fine-tune runner is installed "
                       "(it needs the finetune extras and a configured base model)")
        else:
            message = f"{job_type.value} jobs are not available on this deployment"
        raise FailedPrecondition(message, "BACKEND_UNAVAILABLE", {"type": job_type.value})
