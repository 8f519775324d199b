"""Prometheus metrics of every call a server handles: how many, by outcome, and how long they took.

Recorded by the access interceptor, so refusals (UNAUTHENTICATED, PERMISSION_DENIED,
RESOURCE_EXHAUSTED) count like any other outcome; health checks and reflection are not counted.
"""

from __future__ import annotations

import grpc
from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter("chatdb_rpc_handled", "Calls handled, by service, method and gRPC status code.",
                  ["service", "method", "code"])
DURATION = Histogram("chatdb_rpc_duration_seconds", "Time from a call's arrival to its status, by service and method.",
                     ["service", "method"],
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
IN_FLIGHT = Gauge("chatdb_rpc_in_flight", "Calls being served now, by service and method.", ["service", "method"])


def split(method: str) -> tuple[str, str]:
    """``/chatdb.query.v1.QueryService/Ask`` → (``chatdb.query.v1.QueryService``, ``Ask``)."""
    service, _, name = method.lstrip("/").partition("/")
    return service, name


def handled(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """Count one finished call and its duration."""
    service, name = split(method)
    HANDLED.labels(service=service, method=name, code=code.name).inc()
    DURATION.labels(service=service, method=name).observe(seconds)
