"""Training a source over gRPC and waiting for the job, for tests that need a trained source."""

from __future__ import annotations

from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc


async def train(training: training_service_pb2_grpc.TrainingServiceStub, name: str) -> None:
    """Train ``name`` and wait (following WatchTrainingJob) until the job succeeds; fail on any other end."""
    job = (await training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(parent=name))).training_job
    async for event in training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name)):
        if event.training_job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED:
            return
        assert event.training_job.state in (training_pb2.TRAINING_JOB_STATE_QUEUED,
                                            training_pb2.TRAINING_JOB_STATE_RUNNING), event
    raise AssertionError("watch ended before the job finished")
