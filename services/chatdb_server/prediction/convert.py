"""PredictionService messages to and from the domain types of the generator interface."""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2
from chatdb_server.errors import InvalidArgument
from chatdb_server.generation.interface import (
    ConversationTurn,
    ExampleInfo,
    GenerationRequest,
    GenerationResult,
    RepairHint,
    Sampling,
)
from chatdb_server.prediction.engine import ModelEntry
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import JoinEdge

_DIALECTS: dict[int, Dialect] = {dialect_pb2.DIALECT_POSTGRESQL: Dialect.POSTGRESQL,
                                 dialect_pb2.DIALECT_MYSQL: Dialect.MYSQL, dialect_pb2.DIALECT_SQLITE: Dialect.SQLITE}
_BACKENDS = {"template": prediction_pb2.BACKEND_KIND_TEMPLATE, "vllm": prediction_pb2.BACKEND_KIND_VLLM,
             "openai": prediction_pb2.BACKEND_KIND_OPENAI}


def dialect_from_proto(value: int) -> Dialect:
    """The domain dialect; InvalidArgument (UNSUPPORTED_DIALECT) for unset or unknown values."""
    if value == dialect_pb2.DIALECT_UNSPECIFIED:
        raise InvalidArgument("dialect", "the dialect is required (POSTGRESQL, MYSQL or SQLITE)",
                              reason="UNSUPPORTED_DIALECT")
    if value not in _DIALECTS:
        raise InvalidArgument("dialect", f"dialect {value} is not supported; use POSTGRESQL, MYSQL or SQLITE",
                              reason="UNSUPPORTED_DIALECT")
    return _DIALECTS[value]


def schema_from_proto(schema: prediction_pb2.SchemaContext) -> SchemaContext:
    """The domain schema context."""
    tables = tuple(
        TableInfo(name=t.name, description=t.description, score=t.score,
                  columns=tuple(ColumnInfo(name=c.name, data_type=c.data_type, primary_key=c.primary_key,
                                           comment=c.comment, sample_values=tuple(c.sample_values))
                                for c in t.columns))
        for t in schema.tables)
    joins = tuple(JoinEdge(from_table=j.from_table, from_columns=tuple(j.from_columns), to_table=j.to_table,
                           to_columns=tuple(j.to_columns), inferred=j.kind == join_pb2.JOIN_EDGE_KIND_INFERRED,
                           confidence=j.confidence or 1.0)
                  for j in schema.joins)
    return SchemaContext(tables=tables, joins=joins)


def request_from_proto(request: prediction_service_pb2.GenerateSqlRequest) -> GenerationRequest:
    """The domain request (values are validated by the engine; the dialect here)."""
    sampling = request.sampling
    return GenerationRequest(
        question=request.question, dialect=dialect_from_proto(request.dialect),
        schema=schema_from_proto(request.schema_context),
        examples=tuple(ExampleInfo(question=e.question, sql=e.sql) for e in request.examples),
        candidate_count=request.candidate_count, model=request.model,
        sampling=Sampling(temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_tokens,
                          seed=sampling.seed),
        constrained=request.constrained_decoding,
        repair=RepairHint(request.repair.failed_sql, request.repair.error) if request.HasField("repair") else None,
        previous_turns=tuple(ConversationTurn(t.question, t.sql) for t in request.previous_turns))


def response_to_proto(result: GenerationResult) -> prediction_service_pb2.GenerateSqlResponse:
    """The GenerateSql response."""
    return prediction_service_pb2.GenerateSqlResponse(
        candidates=[prediction_pb2.Candidate(sql=c.sql, confidence=c.confidence, explanation=c.explanation)
                    for c in result.candidates],
        model=result.model, backend=_BACKENDS.get(result.backend, prediction_pb2.BACKEND_KIND_UNSPECIFIED),
        generation_time=duration_pb2.Duration(seconds=int(result.generation_seconds),
                                              nanos=int((result.generation_seconds % 1) * 1e9)),
        usage=prediction_service_pb2.TokenUsage(prompt_tokens=result.prompt_tokens,
                                                completion_tokens=result.completion_tokens))


def model_to_proto(entry: ModelEntry) -> prediction_pb2.Model:
    """A ListModels entry."""
    message = prediction_pb2.Model(
        name=entry.name, kind=prediction_pb2.ModelKind.Value(f"MODEL_KIND_{entry.kind}"),
        state=prediction_pb2.ModelState.Value(f"MODEL_STATE_{entry.state}"),
        backend=_BACKENDS.get(entry.backend, prediction_pb2.BACKEND_KIND_UNSPECIFIED), base_model=entry.base_model,
        data_source=entry.data_source, dataset_size=entry.dataset_size, loss_curve=list(entry.loss_curve),
        detail=entry.detail)
    if entry.held_out_accuracy is not None:
        message.held_out_accuracy = entry.held_out_accuracy
    if entry.create_time is not None:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(entry.create_time)
        message.create_time.CopyFrom(stamp)
    return message
