"""How QueryService reaches PredictionService and TrainingService.

Embedded (``chatdb serve`` with no ``*_address`` settings) it calls their domain objects
in-process; split deployments set ``CHATDB_PREDICTION_ADDRESS`` / ``CHATDB_TRAINING_ADDRESS``
and it calls them over gRPC with the generated stubs, a deadline, and the caller's tenant
and request id forwarded. Either way every call goes through that dependency's breaker.
Remote services are probed with gRPC health checking.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Generic, Protocol, TypeVar

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.errors import STATUS_DETAILS_KEY, ChatDBError, FieldViolation, InvalidArgument
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.resilience.breakers import AsyncBreaker
from chatdb_server.rpc import REQUEST_ID_HEADER, TENANT_HEADER
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import SourceRef

PREDICTION_SERVICE = prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name
TRAINING_SERVICE = training_service_pb2.DESCRIPTOR.services_by_name["TrainingService"].full_name
HEALTH_PROBE_DEADLINE_S = 1.0

DIALECT_TO_PROTO: dict[Dialect, dialect_pb2.Dialect] = {
    Dialect.POSTGRESQL: dialect_pb2.DIALECT_POSTGRESQL,
    Dialect.MYSQL: dialect_pb2.DIALECT_MYSQL,
    Dialect.SQLITE: dialect_pb2.DIALECT_SQLITE,
}
_BACKEND_NAMES = {prediction_pb2.BACKEND_KIND_TEMPLATE: "template", prediction_pb2.BACKEND_KIND_VLLM: "vllm",
                  prediction_pb2.BACKEND_KIND_OPENAI: "openai"}


class Generator(Protocol):
    """An in-process generator (the template generator of level 2)."""

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates for the request, best first."""
        ...


class LocalPrediction(Protocol):
    """PredictionService's engine, called in-process."""

    async def generate(self, request: GenerationRequest, tenant: str) -> GenerationResult:
        """Candidates for the request, best first; adapters resolved for ``tenant``."""
        ...


class ExampleMaker(Protocol):
    """What in-process training offers for feedback: store a golden example, return its resource name."""

    async def __call__(self, source: SourceRef, question: str, sql: str) -> str:
        ...


L = TypeVar("L")


class _ServiceClient(Generic[L]):
    """Reaches one ChatDB service in-process (``local``) or over gRPC (``channel``), behind its breaker."""

    service_name: str = ""
    """The service's full name, for health checks."""

    def __init__(self, breaker: AsyncBreaker, *, local: L | None = None,
                 channel: grpc.aio.Channel | None = None, deadline_s: float = 10.0) -> None:
        if (local is None) == (channel is None):
            raise ValueError("give exactly one of local or channel")
        self.breaker = breaker
        self.remote = channel is not None
        self._local = local
        self._channel = channel
        self._deadline_s = deadline_s

    async def probe(self) -> None:
        """Raise unless the service answers its health check as SERVING (in-process: always healthy)."""
        if self._channel is not None:
            await health_probe(self._channel, self.service_name)


class PredictionClient(_ServiceClient[LocalPrediction]):
    """Generates SQL through PredictionService (in-process or remote), behind its breaker."""

    service_name = PREDICTION_SERVICE

    def __init__(self, breaker: AsyncBreaker, *, local: LocalPrediction | None = None,
                 channel: grpc.aio.Channel | None = None, deadline_s: float = 10.0) -> None:
        super().__init__(breaker, local=local, channel=channel, deadline_s=deadline_s)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(channel) if channel else None

    async def generate(self, request: GenerationRequest, *, tenant: str, request_id: str = "") -> GenerationResult:
        """Candidates for ``request``; BreakerOpen while the service is considered down."""
        if self._stub is None:
            assert self._local is not None
            return await self.breaker.call(self._local.generate, request, tenant)
        stub = self._stub
        message = generate_sql_request(request)

        async def remote() -> GenerationResult:
            try:
                response = await stub.GenerateSql(message, timeout=self._deadline_s,
                                                  metadata=forwarded(tenant, request_id))
            except grpc.aio.AioRpcError as exc:
                raise remote_error(exc, "PredictionService") from None
            return generation_result(response)

        return await self.breaker.call(remote)


class TrainingClient(_ServiceClient[ExampleMaker]):
    """Creates golden examples through TrainingService (in-process or remote), behind its breaker."""

    service_name = TRAINING_SERVICE

    def __init__(self, breaker: AsyncBreaker, *, local: ExampleMaker | None = None,
                 channel: grpc.aio.Channel | None = None, deadline_s: float = 10.0) -> None:
        super().__init__(breaker, local=local, channel=channel, deadline_s=deadline_s)
        self._stub = training_service_pb2_grpc.TrainingServiceStub(channel) if channel else None

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        """Store a FEEDBACK example; returns ``dataSources/{ds}/examples/{id}``."""
        if self._stub is None:
            assert self._local is not None
            return await self.breaker.call(self._local, source, question, sql)
        stub = self._stub
        message = training_service_pb2.CreateExampleRequest(
            parent=source.name,
            example=training_pb2.Example(question=question, sql=sql, source=training_pb2.EXAMPLE_SOURCE_FEEDBACK))

        async def remote() -> str:
            try:
                response = await stub.CreateExample(message, timeout=self._deadline_s,
                                                    metadata=forwarded(source.tenant, request_id))
            except grpc.aio.AioRpcError as exc:
                raise remote_error(exc, "TrainingService") from None
            return str(response.example.name)

        return await self.breaker.call(remote)



async def health_probe(channel: grpc.aio.Channel, service: str) -> None:
    """gRPC health check of ``service``; raises unless it is SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=HEALTH_PROBE_DEADLINE_S)
    except grpc.aio.AioRpcError as exc:
        raise ConnectionError(f"{service}: {exc.code().name} {exc.details() or ''}".strip()) from None
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        raise ConnectionError(f"{service}: {status}")


def remote_error(exc: grpc.aio.AioRpcError, service: str) -> ChatDBError:
    """The domain error of another service's failed call: its code, ErrorInfo reason and field violations
    kept, so a caller sees the same status the other service gave (UNAVAILABLE and deadlines as DEGRADED)."""
    code = exc.code()
    details = exc.details() or code.name
    info = error_details_pb2.ErrorInfo()
    fields: list[error_details_pb2.BadRequest.FieldViolation] = []
    for key, value in exc.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if not detail.Unpack(info) and detail.Unpack(bad):
                    fields.extend(bad.field_violations)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ChatDBError(f"{service} is unavailable: {details}", "DEGRADED", {"dependency": service.lower()}, code)
    if fields:
        first, *more = fields
        return InvalidArgument(first.field, first.description, reason=info.reason or "INVALID_FIELD",
                               more=[FieldViolation(f.field, f.description) for f in more])
    return ChatDBError(details, info.reason or code.name, dict(info.metadata), code)


def forwarded(tenant: str, request_id: str) -> tuple[tuple[str, str], ...]:
    """Metadata that carries the caller's tenant and request id to another service."""
    metadata = [(TENANT_HEADER, tenant)]
    if request_id:
        metadata.append((REQUEST_ID_HEADER, request_id))
    return tuple(metadata)


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
        question=request.question, dialect=DIALECT_TO_PROTO[request.dialect], schema_context=schema,
        examples=[prediction_pb2.ExampleContext(question=e.question, sql=e.sql) for e in request.examples],
        candidate_count=request.candidate_count, model=request.model,
        sampling=prediction_pb2.SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p,
                                               max_tokens=sampling.max_tokens, seed=sampling.seed),
        constrained_decoding=request.constrained,
        repair=prediction_pb2.RepairHint(failed_sql=request.repair.failed_sql, error=request.repair.error)
        if request.repair else None)


def generation_result(response: prediction_service_pb2.GenerateSqlResponse) -> GenerationResult:
    """The domain result of a GenerateSql response."""
    elapsed: timedelta = response.generation_time.ToTimedelta()
    return GenerationResult(
        candidates=[SqlCandidate(c.sql, c.confidence, c.explanation) for c in response.candidates],
        model=response.model, backend=_BACKEND_NAMES.get(response.backend, "template"),
        generation_seconds=elapsed.total_seconds(), prompt_tokens=response.usage.prompt_tokens,
        completion_tokens=response.usage.completion_tokens)
