"""The progress panel's view of a training job, and what it says to do next."""

from __future__ import annotations

from chatdb.training.v1 import training_pb2
from chatdb_console.views.processing import advice, job_view


def test_a_failed_job_says_what_to_do_next() -> None:
    failed = training_pb2.TrainingJob(state=training_pb2.TRAINING_JOB_STATE_FAILED, error_reason="SOURCE_UNREACHABLE",
                                      error_message="connection refused", progress_percent=25,
                                      stage=training_pb2.TRAINING_STAGE_FETCH)
    assert advice(failed) == ("Failed (SOURCE_UNREACHABLE): connection refused — check the host, the port and that "
                              "the database is running and reachable from ChatDB.")
    view = job_view(failed)
    assert view["finished"] and view["state"] == "failed" and view["stage"] == "fetch" and view["progress"] == 25
    done = training_pb2.TrainingJob(state=training_pb2.TRAINING_JOB_STATE_SUCCEEDED)
    assert "Ask screen" in advice(done)
    assert job_view(training_pb2.TrainingJob(state=training_pb2.TRAINING_JOB_STATE_QUEUED))["stage"] == "waiting"
