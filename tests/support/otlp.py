"""An OTLP trace receiver for tests: a real gRPC server speaking the collector's TraceService, which keeps
every span the processes under test export to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, with the service that sent it."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: int

    @property
    def is_server(self) -> bool:
        return self.kind == trace_pb2.Span.SPAN_KIND_SERVER

    @property
    def is_client(self) -> bool:
        return self.kind == trace_pb2.Span.SPAN_KIND_CLIENT


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "bool_value", "int_value", "double_value") else None


@dataclass
class _Collector(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    spans: list[ReceivedSpan] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def Export(self, request: trace_service_pb2.ExportTraceServiceRequest,
                     context: grpc.aio.ServicerContext) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        service=str(resource.get("service.name", "")), name=span.name, kind=span.kind,
                        trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes}, status_code=span.status.code))
        self.arrived.set()
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpReceiver:
    """The receiver's spans, and waiting for the ones a test expects."""

    def __init__(self, collector: _Collector, port: int) -> None:
        self._collector = collector
        self.port = port

    @property
    def endpoint(self) -> str:
        """The OTLP/gRPC endpoint, for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        return list(self._collector.spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans received so far of one trace."""
        return [s for s in self._collector.spans if s.trace_id == trace_id]

    async def wait_for(self, what: str, condition: Callable[[list[ReceivedSpan]], bool],
                       timeout_s: float = 60.0) -> list[ReceivedSpan]:
        """Every span received, once ``condition`` holds for them; AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not condition(self.spans):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = sorted({(s.service, s.name) for s in self.spans})
                raise AssertionError(f"{what}: not received within {timeout_s:.0f} s; spans so far: {names}")
            self._collector.arrived.clear()
            try:
                await asyncio.wait_for(self._collector.arrived.wait(), remaining)
            except TimeoutError:
                continue
        return self.spans


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[OtlpReceiver]:
    """A started receiver on a free loopback port."""
    collector = _Collector()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield OtlpReceiver(collector, port)
    finally:
        await server.stop(0)
