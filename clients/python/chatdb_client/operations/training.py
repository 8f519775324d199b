"""TrainingService operations: training jobs and golden examples, and how a watched job ends."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb_client.errors import ChatDBError, TrainingJobFailed
from chatdb_client.operations.core import (
    TRAINING,
    Listing,
    Operation,
    child_name,
    enum_value,
    listing,
    nothing,
    resource_name,
    source_name,
)

_TERMINAL_FAILURES = {
    training_pb2.TRAINING_JOB_STATE_FAILED: "FAILED",
    training_pb2.TRAINING_JOB_STATE_CANCELLED: "CANCELLED",
}
_TERMINAL_STATES = {training_pb2.TRAINING_JOB_STATE_SUCCEEDED, *_TERMINAL_FAILURES}


def create_training_job(source: str, tables: Sequence[str] | None = None, job_type: str | int = "schema",
                        fine_tune_config: training_pb2.FineTuneConfig | None = None,
                        ) -> Operation[training_pb2.TrainingJob]:
    """Queue a job for some tables, or all when ``tables`` is empty: ``"schema"`` (embed the tables) or
    ``"fine_tune"`` (train a LoRA adapter, with ``fine_tune_config``). Returns the QUEUED job."""
    request = training_service_pb2.CreateTrainingJobRequest(
        parent=source_name(source), tables=list(tables or ()),
        type=enum_value(training_pb2.TrainingJobType, "TRAINING_JOB_TYPE_", job_type),
        fine_tune_config=fine_tune_config)
    return Operation(TRAINING, "CreateTrainingJob", request, lambda reply: reply.training_job)


def get_training_job(name: str) -> Operation[training_pb2.TrainingJob]:
    """One training job, by id or ``trainingJobs/{id}``."""
    request = training_service_pb2.GetTrainingJobRequest(name=resource_name("trainingJobs", name))
    return Operation(TRAINING, "GetTrainingJob", request, lambda reply: reply.training_job)


def list_training_jobs(source: str = "", state: str | int = "", job_type: str | int = "", filter: str = "",
                       page_size: int = 0) -> Listing[training_pb2.TrainingJob]:
    """Training jobs, newest first; ``source``, ``state`` (``"running"``) and ``job_type``
    (``"fine_tune"``) narrow them, ``filter`` adds terms of the server's filter syntax."""
    terms = [filter] if filter else []
    if source:
        terms.append(f'data_source = "{source_name(source)}"')
    if state:
        number = enum_value(training_pb2.TrainingJobState, "TRAINING_JOB_STATE_", state)
        terms.append("state = " + training_pb2.TrainingJobState.Name(number).removeprefix("TRAINING_JOB_STATE_"))
    if job_type:
        number = enum_value(training_pb2.TrainingJobType, "TRAINING_JOB_TYPE_", job_type)
        terms.append("type = " + training_pb2.TrainingJobType.Name(number).removeprefix("TRAINING_JOB_TYPE_"))
    request = training_service_pb2.ListTrainingJobsRequest(page_size=page_size, filter=" AND ".join(terms))
    return listing(TRAINING, "ListTrainingJobs", request, "training_jobs")


def cancel_training_job(name: str) -> Operation[training_pb2.TrainingJob]:
    """Ask a queued or running job to stop (FailedPrecondition for a finished one); returns it
    CANCELLING or CANCELLED."""
    request = training_service_pb2.CancelTrainingJobRequest(name=resource_name("trainingJobs", name))
    return Operation(TRAINING, "CancelTrainingJob", request, lambda reply: reply.training_job)


def watch_training_job(name: str, timeout: float | None = None) -> Operation[training_pb2.TrainingJob]:
    """The job now, then every change, until it ends (a stream)."""
    request = training_service_pb2.WatchTrainingJobRequest(name=resource_name("trainingJobs", name))
    return Operation(TRAINING, "WatchTrainingJob", request, lambda reply: reply.training_job, timeout)


def create_example(source: str, question: str, sql: str) -> Operation[training_pb2.Example]:
    """Store a golden question and the SQL that answers it (the SQL is checked against the source)."""
    request = training_service_pb2.CreateExampleRequest(
        parent=source_name(source), example=training_pb2.Example(question=question, sql=sql))
    return Operation(TRAINING, "CreateExample", request, lambda reply: reply.example)


def list_examples(source: str, page_size: int = 0) -> Listing[training_pb2.Example]:
    """A source's golden examples, newest first."""
    request = training_service_pb2.ListExamplesRequest(parent=source_name(source), page_size=page_size)
    return listing(TRAINING, "ListExamples", request, "examples")


def delete_example(name: str, source: str = "") -> Operation[None]:
    """Delete an example and its vector: ``"dataSources/{id}/examples/{example}"``, or the example's id
    with its ``source``."""
    request = training_service_pb2.DeleteExampleRequest(name=child_name(source, "examples", name))
    return Operation(TRAINING, "DeleteExample", request, nothing)


def watch_resumes(error: ChatDBError, delivered: bool) -> bool:
    """Whether a broken WatchTrainingJob is started again: it had delivered updates (the job exists, a
    server answered) and ended with UNAVAILABLE, as a stream does when its server closes an aged
    connection or stops. Any other error is the caller's to see."""
    return delivered and error.code is grpc.StatusCode.UNAVAILABLE


def is_finished(job: training_pb2.TrainingJob) -> bool:
    """Whether the job reached a terminal state."""
    return job.state in _TERMINAL_STATES


def succeeded(job: training_pb2.TrainingJob) -> training_pb2.TrainingJob:
    """The job if it succeeded; raises :class:`TrainingJobFailed` if it failed or was cancelled."""
    if job.state in _TERMINAL_FAILURES:
        raise TrainingJobFailed(job, _TERMINAL_FAILURES[job.state])
    return job
