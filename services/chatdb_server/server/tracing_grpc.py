"""OpenTelemetry on ChatDB's gRPC calls: a server span for every call a server handles (health checks
and reflection aside), a client span for every call one service makes to another, and the W3C trace
context carried between them in the call's metadata (``traceparent``).

The server interceptor goes first, so every other interceptor (authentication, audit) and the handler
run inside the call's span, and their log lines carry its trace id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import any_of, negate, service_name

from chatdb_server import tracing

UNTRACED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                     "grpc.reflection.v1.ServerReflection")


def _traced() -> Any:
    """The filter that leaves health checks and reflection untraced."""
    return negate(any_of(*(service_name(name) for name in UNTRACED_SERVICES)))


def start_tracing(services: Sequence[str]) -> None:
    """Install the process's tracer provider (once), named after the services it hosts; the exporter is
    configured by the standard OTEL_* variables only."""
    tracing.configure_tracing("chatdb-" + "-".join(services) if services else "chatdb")


def server_interceptor() -> grpc.aio.ServerInterceptor:
    """The interceptor that opens each call's server span, continuing the caller's trace."""
    interceptor: grpc.aio.ServerInterceptor = aio_server_interceptor(filter_=_traced())
    return interceptor


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Interceptors that open a client span for each call and send the trace context with it."""
    return list(aio_client_interceptors())
