"""A real grpc.aio server on a loopback port, for tests of gRPC clients.

The test adds its servicers; the server also answers gRPC health checks, with statuses the
test sets. Unlike grpcio-testing, calls cross a real channel: deadlines, metadata, status
codes and trailing metadata behave as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer


@dataclass
class Loopback:
    """A started server, a channel to it and its health servicer."""

    server: grpc.aio.Server
    channel: grpc.aio.Channel
    health: HealthServicer
    address: str

    async def serving(self, service: str, serving: bool = True) -> None:
        """Set ``service``'s health status (SERVING or NOT_SERVING)."""
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.health.set(service, status)


@asynccontextmanager
async def loopback_server(*add: Callable[[grpc.aio.Server], Any]) -> AsyncIterator[Loopback]:
    """Start a server with the servicers that each ``add(server)`` registers; stop it afterwards."""
    server = grpc.aio.server()
    for register in add:
        register(server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    address = f"127.0.0.1:{port}"
    channel = grpc.aio.insecure_channel(address)
    try:
        yield Loopback(server, channel, health, address)
    finally:
        await server.stop(0)
        await channel.close()
