"""Which webhook event a training job's end is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatdb_server.training.events import job_event
from chatdb_server.training.job_model import JobState, JobType, Stage, TrainingJob
from chatdb_server.webhooks.events import EventType

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def _job(job_type: JobType, state: JobState) -> TrainingJob:
    return TrainingJob(job_id="j1", tenant="acme", source_pk=1, source_id="shop", job_type=job_type, state=state,
                       stage=Stage.DONE, progress_percent=100, tables=("orders",), trained_table_count=1,
                       total_table_count=1, error_reason="", error_message="", attempt=1, config={},
                       result={"adapter": "shop-v1"}, worker_id="", cancel_requested=False, version=3,
                       create_time=NOW, update_time=NOW, end_time=NOW)


@pytest.mark.parametrize(("job_type", "state", "expected"), [
    (JobType.SCHEMA, JobState.SUCCEEDED, EventType.TRAINING_JOB_SUCCEEDED),
    (JobType.SCHEMA, JobState.FAILED, EventType.TRAINING_JOB_FAILED),
    (JobType.SCHEMA, JobState.CANCELLED, EventType.TRAINING_JOB_CANCELLED),
    (JobType.FINE_TUNE, JobState.SUCCEEDED, EventType.FINE_TUNE_JOB_SUCCEEDED),
    (JobType.FINE_TUNE, JobState.FAILED, EventType.FINE_TUNE_JOB_FAILED),
    (JobType.FINE_TUNE, JobState.CANCELLED, EventType.FINE_TUNE_JOB_CANCELLED),
])
def test_a_finished_job_is_its_event(job_type: JobType, state: JobState, expected: EventType) -> None:
    event = job_event(_job(job_type, state))
    assert event is not None
    assert (event.tenant, event.event_type, event.resource) == ("acme", expected, "trainingJobs/j1")
    assert event.data["data_source"] == "dataSources/shop" and event.data["state"] == state.value
    assert event.data["result"] == {"adapter": "shop-v1"} and event.data["end_time"] == NOW.isoformat()


@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.RUNNING, JobState.CANCELLING])
def test_an_unfinished_job_is_no_event(state: JobState) -> None:
    assert job_event(_job(JobType.SCHEMA, state)) is None
