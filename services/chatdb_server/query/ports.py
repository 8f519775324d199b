"""What QueryService needs from the other services, one protocol per dependency.

Each port has an in-process implementation (embedded ``chatdb serve``) and, where the other
service's API allows it, a gRPC one (split deployments); ``chatdb_server.server.wiring.query``
chooses between them from settings, and is the only place the concrete classes meet:

* :class:`Generator` — PredictionService. In-process: ``chatdb_server.prediction.client.LocalPrediction``
  over the prediction engine; gRPC: ``chatdb_server.prediction.client.RemotePrediction``.
* :class:`ExampleSink` — TrainingService's golden examples. In-process:
  ``chatdb_server.training.client.LocalExamples`` over the example book; gRPC:
  ``chatdb_server.training.client.RemoteExamples`` (CreateExample).
* :class:`SchemaLookup` — SchemaService's catalog. In-process only: the catalog itself
  (``chatdb_server.schema.catalog.SchemaCatalog``). SchemaService's API does not expose which
  tables are trained at which fingerprint, so there is no gRPC implementation.
* :class:`PolicyLookup` — a source's column and row policies. In-process only: the process's
  ``chatdb_server.access.policies.PolicyStore`` (the metadata store is shared by every replica).

Calls to the first two go through their dependency's circuit breaker: :class:`BreakerGenerator`
and :class:`BreakerExampleSink` wrap any implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from chatdb_server.access.policies import SourcePolicies
from chatdb_server.generation.interface import GenerationRequest, GenerationResult
from chatdb_server.metadata.generations import SourceVersion
from chatdb_server.resilience.breakers import AsyncBreaker
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable

SourceDeletedListener = Callable[[SourceRef], Awaitable[None]]


class Generator(Protocol):
    """PredictionService: SQL candidates for a question."""

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        """Candidates for ``request``, best first; adapters resolved for ``tenant``. Domain errors
        (``chatdb_server.errors``) for bad requests; UNAVAILABLE (DEGRADED) while the service is down."""
        ...

    async def probe(self) -> None:
        """Raise unless the service is healthy (in-process: always healthy)."""
        ...


class ExampleSink(Protocol):
    """TrainingService: where feedback's golden examples go."""

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        """Store a FEEDBACK example of ``source``; returns ``dataSources/{ds}/examples/{id}``."""
        ...

    async def probe(self) -> None:
        """Raise unless the service is healthy (in-process: always healthy)."""
        ...


class SchemaLookup(Protocol):
    """SchemaService's catalog, the part QueryService reads (in-process only: see the module docstring)."""

    async def resolve(self, tenant: str, name: str, field: str = "name") -> SourceRef:
        """The tenant's source called ``dataSources/{id}``; NotFound, or InvalidArgument naming ``field``."""
        ...

    async def version(self, tenant: str, name: str, field: str = "name") -> SourceVersion:
        """The source's row and generation, read fresh and cheaply (per question); errors as :meth:`resolve`."""
        ...

    async def stored_tables(self, source: SourceRef) -> list[StoredTable]:
        """The source's stored tables, with the fingerprint each was trained at (if any)."""
        ...

    async def join_edges(self, source: SourceRef) -> list[JoinEdge]:
        """Declared and inferred joins of the source."""
        ...

    def add_delete_listener(self, listener: SourceDeletedListener) -> Any:
        """Call ``listener`` when a data source is deleted."""
        ...


class PolicyLookup(Protocol):
    """The column and row policies of a source (applied to every query of a caller they bind)."""

    async def policies(self, source: SourceRef) -> SourcePolicies:
        """Every policy of ``source``."""
        ...


class BreakerGenerator:
    """A :class:`Generator` whose calls go through PredictionService's breaker."""

    def __init__(self, generator: Generator, breaker: AsyncBreaker) -> None:
        self.generator = generator
        self.breaker = breaker

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        """The wrapped generator's candidates; BreakerOpen while the service is considered down."""
        return await self.breaker.call(self.generator.generate, request, tenant, request_id)

    async def probe(self) -> None:
        """The wrapped generator's health probe."""
        await self.generator.probe()


class BreakerExampleSink:
    """An :class:`ExampleSink` whose calls go through TrainingService's breaker."""

    def __init__(self, sink: ExampleSink, breaker: AsyncBreaker) -> None:
        self.sink = sink
        self.breaker = breaker

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        """The wrapped sink's example; BreakerOpen while the service is considered down."""
        return await self.breaker.call(self.sink.create_feedback_example, source, question, sql, request_id)

    async def probe(self) -> None:
        """The wrapped sink's health probe."""
        await self.sink.probe()
