"""Translation between training's domain objects and the TrainingService messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from chatdb.training.v1 import training_pb2
from chatdb.wire import timestamp
from chatdb_server.errors import InvalidArgument
from chatdb_server.training.examples import Example
from chatdb_server.training.job_model import JobType, TrainingJob

_RESULT_FIELDS = ("adapter_version", "base_model", "dataset_size", "loss_curve")


def job_type_from_proto(value: int) -> JobType:
    """SCHEMA for UNSPECIFIED, as the contract says; InvalidArgument on ``type`` for a number it does not define."""
    try:
        name = training_pb2.TrainingJobType.Name(value).removeprefix("TRAINING_JOB_TYPE_")
    except ValueError:
        raise InvalidArgument("type", f"{value} is not a training job type; use SCHEMA or FINE_TUNE") from None
    return JobType.SCHEMA if name == "UNSPECIFIED" else JobType(name)


def fine_tune_config_to_dict(config: training_pb2.FineTuneConfig) -> dict[str, Any]:
    """The set fields of a FineTuneConfig, by their proto names."""
    return json_format.MessageToDict(config, preserving_proto_field_name=True)


def job_to_proto(job: TrainingJob) -> training_pb2.TrainingJob:
    """The wire form of a job (internal fields such as the worker id stay out)."""
    message = training_pb2.TrainingJob(
        name=job.name, data_source=job.data_source,
        type=training_pb2.TrainingJobType.Value(f"TRAINING_JOB_TYPE_{job.job_type.value}"),
        state=training_pb2.TrainingJobState.Value(f"TRAINING_JOB_STATE_{job.state.value}"),
        stage=training_pb2.TrainingStage.Value(f"TRAINING_STAGE_{job.stage.value}"),
        progress_percent=job.progress_percent, tables=list(job.tables),
        trained_table_count=job.trained_table_count, total_table_count=job.total_table_count,
        error_reason=job.error_reason, error_message=job.error_message, attempt=job.attempt,
        create_time=timestamp(job.create_time), update_time=timestamp(job.update_time))
    if job.start_time is not None:
        message.start_time.CopyFrom(timestamp(job.start_time))
    if job.end_time is not None:
        message.end_time.CopyFrom(timestamp(job.end_time))
    if job.job_type is JobType.FINE_TUNE:
        json_format.ParseDict(job.config, message.fine_tune_config, ignore_unknown_fields=True)
        result = {k: v for k, v in job.result.items() if k in _RESULT_FIELDS}
        json_format.ParseDict(result, message.fine_tune_result, ignore_unknown_fields=True)
    return message


def example_to_proto(example: Example) -> training_pb2.Example:
    """The wire form of an example."""
    return training_pb2.Example(
        name=example.name, question=example.question, sql=example.sql,
        source=training_pb2.ExampleSource.Value(f"EXAMPLE_SOURCE_{example.origin}"),
        tables=list(example.tables), create_time=timestamp(example.create_time))
