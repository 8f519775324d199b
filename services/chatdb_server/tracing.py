"""Traces (OpenTelemetry): the process's tracer provider, spans for the steps of a call, the trace id.

Every server process installs the SDK's tracer provider, so each call has a trace id — in its
log lines and in AskResponse — whether or not anything is exported. Spans leave the process only
when the standard variables ask for it:

- ``OTEL_TRACES_EXPORTER=otlp``, or an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` /
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), exports over OTLP in batches; the protocol follows
  ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`` (``grpc``, the default, or ``http/protobuf``), and the
  exporter reads its endpoint, headers, certificates and timeout from the ``OTEL_EXPORTER_OTLP_*``
  variables, the batching from ``OTEL_BSP_*``;
- ``OTEL_TRACES_EXPORTER=none`` (or ``OTEL_SDK_DISABLED=true``) exports nothing;
- sampling follows ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` (default: parent-based,
  always on), the resource ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``.

Trace context travels between ChatDB's services as W3C ``traceparent`` (``OTEL_PROPAGATORS``).
Spans carry names and shapes, never secrets: a database span records the statement as the
caller sees it, never DSNs or bound parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from chatdb_server.log import current_trace_id

__all__ = ["Span", "SpanKind", "configure_tracing", "current", "current_trace_id", "db_span", "exports_spans", "flush",
           "mark_failed", "span", "start_span", "tracer"]

_TRACER_NAME = "chatdb"
_provider: TracerProvider | None = None


def tracer() -> trace.Tracer:
    """ChatDB's tracer (a no-op until :func:`configure_tracing` installs the provider)."""
    return trace.get_tracer(_TRACER_NAME)


def _disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exports_spans() -> bool:
    """Whether the OTEL_* variables ask for spans to be exported."""
    named = [e.strip().lower() for e in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",") if e.strip()]
    if named:
        return "otlp" in named
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def _otlp_exporter() -> SpanExporter:
    protocol = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc").strip().lower()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )
        return HttpSpanExporter()
    raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r} is not supported: use grpc or http/protobuf")


def configure_tracing(service_name: str, version: str = "",
                      processors: tuple[SpanProcessor, ...] = ()) -> TracerProvider | None:
    """Install the SDK's tracer provider once per process (later calls return the first one); None when
    ``OTEL_SDK_DISABLED`` is true. ``service_name`` applies when ``OTEL_SERVICE_NAME`` is unset;
    ``processors`` are added to the exporter the variables configure (tests collect spans this way)."""
    global _provider
    if _disabled():
        return None
    if _provider is not None:
        return _provider
    attributes: dict[str, Any] = {SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name}
    if version:
        attributes[SERVICE_VERSION] = version
    provider = TracerProvider(resource=Resource.create(attributes))
    if exports_spans():
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def flush(timeout_s: float = 5.0) -> None:
    """Export what is buffered (at shutdown)."""
    if _provider is not None:
        _provider.force_flush(int(timeout_s * 1000))


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """A child span of the current one around a step; an exception marks it failed and propagates."""
    with tracer().start_as_current_span(name, attributes=_clean(attributes or {})) as opened:
        yield opened


@contextmanager
def db_span(system: str, statement: str, database: str = "") -> Iterator[Span]:
    """A client span around one statement on a target database (``db.system`` as OpenTelemetry names
    it: postgresql, mysql, sqlite). The statement is the SQL text; parameters are never recorded."""
    attributes = {"db.system": system, "db.statement": statement, "db.name": database}
    with tracer().start_as_current_span(f"db.query {system}", kind=SpanKind.CLIENT,
                                        attributes=_clean(attributes)) as opened:
        yield opened


def start_span(name: str, parent: Span | None = None, attributes: Mapping[str, Any] | None = None) -> Span:
    """A span the caller ends itself (one that outlives a ``with`` block), child of ``parent`` or of the
    current span."""
    context = trace.set_span_in_context(parent) if parent is not None else None
    return tracer().start_span(name, context=context, attributes=_clean(attributes or {}))


@contextmanager
def current(span_: Span) -> Iterator[None]:
    """Make ``span_`` the current span inside the block (it is not ended on exit)."""
    with trace.use_span(span_, end_on_exit=False):
        yield


def mark_failed(current: Span, reason: str) -> None:
    """Set a span's status to error with a short reason (an expected failure, not an exception)."""
    current.set_status(Status(StatusCode.ERROR, reason))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None and v != ""}
