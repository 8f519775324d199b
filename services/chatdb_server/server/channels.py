"""Options of every channel a ChatDB service opens to another one.

A Kubernetes Service balances connections, and gRPC keeps one connection open for as long as it can,
so a channel to a ClusterIP would send every call to the one pod it happened to reach. These channels
resolve the name themselves (``dns:///chatdb-prediction:50051``, or a bare ``host:port``, which gRPC
resolves through DNS too) and keep a connection to every address a headless Service returns, taking
them in turn (``round_robin``). Servers close connections after ``max_connection_age_s``; the channel
then resolves the name again and finds pods added since. Keepalive pings notice a vanished pod within
seconds rather than at the next call's deadline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_RECEIVE_BYTES = 64 * 1024 * 1024
"""Replies carry up to ``max_rows`` typed rows: well beyond gRPC's 4 MiB default."""

SERVICE_CONFIG: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}]}
"""gRPC service config: calls go to every resolved address in turn, not to the first one only."""

KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    # A ping every 30 s, idle or not; the servers accept one every 10 s (runtime.SERVER_OPTIONS).
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    *KEEPALIVE_OPTIONS,
]
"""What every channel between services is opened with."""


def channel_options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """CHANNEL_OPTIONS with ``extra`` added, an option named in both taking ``extra``'s value."""
    merged = dict(CHANNEL_OPTIONS)
    merged.update(extra)
    return list(merged.items())
