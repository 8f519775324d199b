"""Prometheus metrics of the resilience layer, and the small HTTP server that exposes them."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import Gauge

DEGRADATION_LEVEL = Gauge("chatdb_degradation_level",
                          "Degradation level 0 (full) to 4 (critical) of this process (requests to healthy sources).")
DEPENDENCY_HEALTHY = Gauge("chatdb_dependency_healthy", "1 when the dependency's last check succeeded.",
                           ["dependency"])
BREAKER_STATE = Gauge("chatdb_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
                      ["breaker"])
_BREAKER_STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}


def set_breaker_state(name: str, state: str) -> None:
    """Export a breaker's state."""
    BREAKER_STATE.labels(breaker=name).set(_BREAKER_STATE_VALUES.get(state, 0))


class MetricsServer:
    """The ``/metrics`` endpoint on its own port, in a background thread."""

    def __init__(self, host: str, port: int) -> None:
        server, thread = prometheus_client.start_http_server(port, addr=host)
        self._server: WSGIServer = server
        self._thread: threading.Thread = thread

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_port)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
