"""PredictionService for its callers (QueryService's generator port), in-process or over gRPC.

:class:`LocalPrediction` calls the prediction engine of this process; :class:`RemotePrediction`
calls another process's PredictionService with the generated stub, a deadline, the caller's
tenant and request id forwarded, and its failures turned back into domain errors. Both answer
``generate(request, tenant, request_id)`` and ``probe()``; the caller adds its circuit breaker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import grpc

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2, prediction_service_pb2_grpc
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.rpc import forwarded, health_probe, remote_error
from chatdb_server.sql.dsn import Dialect

PREDICTION_SERVICE = prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name
"""The service's full name, as gRPC health checking knows it."""

_DIALECTS: dict[Dialect, dialect_pb2.Dialect] = {
    Dialect.POSTGRESQL: dialect_pb2.DIALECT_POSTGRESQL,
    Dialect.MYSQL: dialect_pb2.DIALECT_MYSQL,
    Dialect.SQLITE: dialect_pb2.DIALECT_SQLITE,
}
_BACKEND_NAMES = {prediction_pb2.BACKEND_KIND_TEMPLATE: "template", prediction_pb2.BACKEND_KIND_VLLM: "vllm",
                  prediction_pb2.BACKEND_KIND_OPENAI: "openai"}


class Engine(Protocol):
    """What :class:`LocalPrediction` needs of the engine (``chatdb_server.prediction.engine.PredictionEngine``)."""

    async def generate(self, request: GenerationRequest, tenant: str) -> GenerationResult: ...


class LocalPrediction:
    """The prediction engine of this process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        """Candidates for ``request``, best first; adapters resolved for ``tenant``."""
        return await self.engine.generate(request, tenant)

    async def probe(self) -> None:
        """In-process: always healthy."""


class RemotePrediction:
    """PredictionService of another process, over ``channel``."""

    def __init__(self, channel: grpc.aio.Channel, *, deadline_s: float = 10.0) -> None:
        self._channel = channel
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        self._deadline_s = deadline_s

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        """GenerateSql; the service's errors as domain errors (UNAVAILABLE and deadlines: DEGRADED)."""
        try:
            response = await self._stub.GenerateSql(generate_sql_request(request), timeout=self._deadline_s,
                                                    metadata=forwarded(tenant, request_id))
        except grpc.aio.AioRpcError as exc:
            raise remote_error(exc, "PredictionService") from None
        return generation_result(response)

    async def probe(self) -> None:
        """gRPC health check; raises unless the service is SERVING."""
        await health_probe(self._channel, PREDICTION_SERVICE)


def generate_sql_request(request: GenerationRequest) -> prediction_service_pb2.GenerateSqlRequest:
    """The GenerateSql message of a domain request."""
    schema = prediction_pb2.SchemaContext(
        tables=[prediction_pb2.TableContext(
            name=t.name, description=t.description, score=t.score,
            columns=[prediction_pb2.ColumnContext(name=c.name, data_type=c.data_type, primary_key=c.primary_key,
                                                  comment=c.comment, sample_values=list(c.sample_values))
                     for c in t.columns])
            for t in request.schema.tables],
        joins=[join_pb2.JoinEdge(
            from_table=j.from_table, from_columns=list(j.from_columns), to_table=j.to_table,
            to_columns=list(j.to_columns), confidence=j.confidence,
            kind=join_pb2.JOIN_EDGE_KIND_INFERRED if j.inferred else join_pb2.JOIN_EDGE_KIND_DECLARED)
            for j in request.schema.joins])
    sampling = request.sampling
    return prediction_service_pb2.GenerateSqlRequest(
        question=request.question, dialect=_DIALECTS[request.dialect], schema_context=schema,
        examples=[prediction_pb2.ExampleContext(question=e.question, sql=e.sql) for e in request.examples],
        candidate_count=request.candidate_count, model=request.model,
        sampling=prediction_pb2.SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p,
                                               max_tokens=sampling.max_tokens, seed=sampling.seed),
        constrained_decoding=request.constrained,
        repair=prediction_pb2.RepairHint(failed_sql=request.repair.failed_sql, error=request.repair.error)
        if request.repair else None,
        previous_turns=[prediction_pb2.ConversationTurn(question=t.question, sql=t.sql)
                        for t in request.previous_turns])


def generation_result(response: prediction_service_pb2.GenerateSqlResponse) -> GenerationResult:
    """The domain result of a GenerateSql response."""
    elapsed: timedelta = response.generation_time.ToTimedelta()
    return GenerationResult(
        candidates=[SqlCandidate(c.sql, c.confidence, c.explanation) for c in response.candidates],
        model=response.model, backend=_BACKEND_NAMES.get(response.backend, "template"),
        generation_seconds=elapsed.total_seconds(), prompt_tokens=response.usage.prompt_tokens,
        completion_tokens=response.usage.completion_tokens)
