"""TrainingService's golden examples for their callers (QueryService's example sink), in-process or
over gRPC.

:class:`LocalExamples` stores FEEDBACK examples in this process's example book;
:class:`RemoteExamples` calls another process's TrainingService (CreateExample) with a deadline,
the caller's tenant and request id forwarded, and its failures turned back into domain errors.
Both answer ``create_feedback_example(source, question, sql, request_id)`` and ``probe()``; the
caller adds its circuit breaker.
"""

from __future__ import annotations

import grpc

from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.rpc import forwarded, health_probe, remote_error
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.examples import FEEDBACK, ExampleBook

TRAINING_SERVICE = training_service_pb2.DESCRIPTOR.services_by_name["TrainingService"].full_name
"""The service's full name, as gRPC health checking knows it."""


class LocalExamples:
    """The example book of this process."""

    def __init__(self, book: ExampleBook) -> None:
        self.book = book

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        """Store a FEEDBACK example; returns ``dataSources/{ds}/examples/{id}``."""
        return (await self.book.create(source, question, sql, FEEDBACK)).name

    async def probe(self) -> None:
        """In-process: always healthy."""


class RemoteExamples:
    """TrainingService of another process, over ``channel``."""

    def __init__(self, channel: grpc.aio.Channel, *, deadline_s: float = 10.0) -> None:
        self._channel = channel
        self._stub = training_service_pb2_grpc.TrainingServiceStub(channel)
        self._deadline_s = deadline_s

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        """CreateExample (source FEEDBACK); the service's errors as domain errors."""
        message = training_service_pb2.CreateExampleRequest(
            parent=source.name,
            example=training_pb2.Example(question=question, sql=sql, source=training_pb2.EXAMPLE_SOURCE_FEEDBACK))
        try:
            response = await self._stub.CreateExample(message, timeout=self._deadline_s,
                                                      metadata=forwarded(source.tenant, request_id))
        except grpc.aio.AioRpcError as exc:
            raise remote_error(exc, "TrainingService") from None
        return str(response.example.name)

    async def probe(self) -> None:
        """gRPC health check; raises unless the service is SERVING."""
        await health_probe(self._channel, TRAINING_SERVICE)
