"""Fixtures of the training integration tests: a TrainingService behind a real gRPC server on a
loopback port, over real stores (see tests.unit.training.job_fixtures), its vectors on Milvus Lite
and on a real Milvus server (the ``milvus_uri`` fixture runs each test on both)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.training.servicer import TrainingServicer
from tests.unit.training.job_fixtures import TrainingStack, open_stack

ACME = (("x-chatdb-tenant", "acme"),)


@dataclass
class Served:
    """A stack served over gRPC and a client stub for it."""

    stack: TrainingStack
    stub: training_service_pb2_grpc.TrainingServiceStub


@pytest.fixture
async def stack(tmp_path: Path, milvus_uri: str) -> AsyncIterator[TrainingStack]:
    """A training stack in the test's temp dir whose vectors go where ``milvus_uri`` says (worker not
    started: tests drive it)."""
    opened = await open_stack(tmp_path / "chatdb", milvus_uri=milvus_uri)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def served(stack: TrainingStack) -> AsyncIterator[Served]:
    """The stack's TrainingService on a grpc.aio server bound to a free loopback port."""
    server = grpc.aio.server()
    training_service_pb2_grpc.add_TrainingServiceServicer_to_server(TrainingServicer(stack.service), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Served(stack, training_service_pb2_grpc.TrainingServiceStub(channel))
    finally:
        await channel.close()
        await server.stop(0)

