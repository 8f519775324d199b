"""Readable names of the API's enum values, for the pages (``TRAINING_JOB_STATE_RUNNING`` → ``running``)."""

from __future__ import annotations

from typing import Any

from chatdb.common.v1 import degradation_pb2, dialect_pb2
from chatdb.prediction.v1 import prediction_pb2
from chatdb.query.v1 import query_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb.training.v1 import training_pb2

_ENUMS: dict[str, tuple[Any, str]] = {
    "dialect": (dialect_pb2.Dialect, "DIALECT_"),
    "degradation": (degradation_pb2.DegradationLevel, "DEGRADATION_LEVEL_"),
    "job_state": (training_pb2.TrainingJobState, "TRAINING_JOB_STATE_"),
    "stage": (training_pb2.TrainingStage, "TRAINING_STAGE_"),
    "table_kind": (schema_pb2.TableKind, "TABLE_KIND_"),
    "training_state": (schema_pb2.TrainingState, "TRAINING_STATE_"),
    "query_state": (query_pb2.QueryState, "QUERY_STATE_"),
    "rating": (query_pb2.FeedbackRating, "FEEDBACK_RATING_"),
    "model_state": (prediction_pb2.ModelState, "MODEL_STATE_"),
    "model_kind": (prediction_pb2.ModelKind, "MODEL_KIND_"),
    "backend": (prediction_pb2.BackendKind, "BACKEND_KIND_"),
}


def label(kind: str, value: int) -> str:
    """The lower-case name of an enum value without its prefix; ``""`` for UNSPECIFIED or unknown values."""
    enum, prefix = _ENUMS[kind]
    try:
        name = str(enum.Name(value)).removeprefix(prefix)
    except ValueError:
        return ""
    return "" if name == "UNSPECIFIED" else name.lower().replace("_", " ")


def filters() -> dict[str, Any]:
    """A Jinja filter per enum kind (``{{ job.state | job_state }}``)."""
    return {kind: (lambda value, kind=kind: label(kind, value)) for kind in _ENUMS}
