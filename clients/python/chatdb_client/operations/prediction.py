"""PredictionService operations: SQL generation and the models that serve it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2
from chatdb_client.operations.core import PREDICTION, Operation, dialect_value, identity


def generate_sql(question: str, dialect: str | int, schema_context: prediction_pb2.SchemaContext,
                 examples: Sequence[tuple[str, str]] = (), candidate_count: int = 0, model: str = "",
                 constrained_decoding: bool = False) -> Operation[Any]:
    """SQL candidates for a question over the given schema context, examples being (question, sql)
    pairs (``GenerateSqlResponse``: ``candidates``, best first, ``model``, ``backend``)."""
    request = prediction_service_pb2.GenerateSqlRequest(
        question=question, dialect=dialect_value(dialect), schema_context=schema_context,
        examples=[prediction_pb2.ExampleContext(question=q, sql=s) for q, s in examples],
        candidate_count=candidate_count, model=model, constrained_decoding=constrained_decoding)
    return Operation(PREDICTION, "GenerateSql", request, identity)


def list_models() -> Operation[list[prediction_pb2.Model]]:
    """The base model, every registered adapter version and the template generator."""
    return Operation(PREDICTION, "ListModels", prediction_service_pb2.ListModelsRequest(),
                     lambda reply: list(reply.models))


def load_adapter(name: str, require_better: bool = False) -> Operation[prediction_pb2.Model]:
    """Load a registered adapter into the running engine: ``"adapters/{adapter}"`` (its newest version)
    or ``"adapters/{adapter}/versions/{version}"``. FailedPrecondition when the engine cannot load LoRA;
    with ``require_better``, FailedPrecondition (reason ``NOT_BETTER``) unless its held-out accuracy beats
    every other version of the adapter loaded now."""
    request = prediction_service_pb2.LoadAdapterRequest(name=_adapter_name(name), require_better=require_better)
    return Operation(PREDICTION, "LoadAdapter", request, lambda reply: reply.model)


def unload_adapter(name: str) -> Operation[prediction_pb2.Model]:
    """Unload an adapter from the running engine; it stays registered."""
    request = prediction_service_pb2.UnloadAdapterRequest(name=_adapter_name(name))
    return Operation(PREDICTION, "UnloadAdapter", request, lambda reply: reply.model)


def _adapter_name(name: str) -> str:
    if not name:
        raise ValueError("an adapter name is required")
    return name if name.startswith("adapters/") else "adapters/" + name
