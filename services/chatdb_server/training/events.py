"""The webhook event of a training job that finished, emitted in the transaction that finishes it.

``JobStore`` calls :func:`emit_if_finished` inside the session of every state change, so a job's
``*.succeeded``, ``*.failed`` or ``*.cancelled`` event commits with its terminal state and never
without it (the outbox: ``chatdb_server.webhooks.outbox``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.training.job_model import JobState, JobType, TrainingJob
from chatdb_server.webhooks.events import Event, EventType
from chatdb_server.webhooks.outbox import emit

_EVENTS = {
    (JobType.SCHEMA, JobState.SUCCEEDED): EventType.TRAINING_JOB_SUCCEEDED,
    (JobType.SCHEMA, JobState.FAILED): EventType.TRAINING_JOB_FAILED,
    (JobType.SCHEMA, JobState.CANCELLED): EventType.TRAINING_JOB_CANCELLED,
    (JobType.FINE_TUNE, JobState.SUCCEEDED): EventType.FINE_TUNE_JOB_SUCCEEDED,
    (JobType.FINE_TUNE, JobState.FAILED): EventType.FINE_TUNE_JOB_FAILED,
    (JobType.FINE_TUNE, JobState.CANCELLED): EventType.FINE_TUNE_JOB_CANCELLED,
}


def job_event(job: TrainingJob) -> Event | None:
    """The event of ``job`` as it now stands; None while it has not finished."""
    event_type = _EVENTS.get((job.job_type, job.state))
    if event_type is None:
        return None
    return Event(tenant=job.tenant, event_type=event_type, resource=job.name, data=_details(job))


async def emit_if_finished(session: AsyncSession, job: TrainingJob) -> None:
    """Queue ``job``'s event in ``session``'s transaction when the change just made finished it."""
    event = job_event(job)
    if event is not None:
        await emit(session, event)


def _details(job: TrainingJob) -> dict[str, Any]:
    return {"name": job.name, "data_source": job.data_source, "type": job.job_type.value, "state": job.state.value,
            "tables": list(job.tables), "trained_table_count": job.trained_table_count,
            "total_table_count": job.total_table_count, "error_reason": job.error_reason,
            "error_message": job.error_message, "result": dict(job.result),
            "create_time": _iso(job.create_time), "start_time": _iso(job.start_time), "end_time": _iso(job.end_time)}


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()
