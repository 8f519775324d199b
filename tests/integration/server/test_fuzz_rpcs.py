"""Every RPC of the contract, fuzzed against a real server (all services, a registered and trained
source, authentication on): whatever a caller sends, the answer is a clear status — never UNKNOWN
or INTERNAL, never a stall — and the server keeps serving.

Examples are derandomised, so a run is repeatable; a failure prints the request that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings

from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.integration.server.test_access_matrix import METHODS
from tests.support.fuzz import message_strategy
from tests.support.server import ServerProcess, keyed_metadata

pytestmark = pytest.mark.slow

EXAMPLES_PER_RPC = 30
CALL_DEADLINE_S = 30.0
NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED,
         grpc.StatusCode.DATA_LOSS}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[grpc.Channel, tuple[tuple[str, str], ...]]]:
    directory = tmp_path_factory.mktemp("fuzz")
    shop = build_shop_database(directory / "shop.db")
    with ServerProcess(directory / "data") as process:
        channel = grpc.insecure_channel(process.address)
        metadata = keyed_metadata(process.admin_key)
        schema_service_pb2_grpc.SchemaServiceStub(channel).CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}), metadata=metadata, timeout=60)
        training = training_service_pb2_grpc.TrainingServiceStub(channel)
        job = training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(parent="dataSources/shop"),
                                         metadata=metadata, timeout=60).training_job
        for _ in training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name),
                                           metadata=metadata, timeout=300):
            pass
        try:
            yield channel, metadata
        finally:
            channel.close()


Metadata = tuple[tuple[str, str], ...]


def _status(channel: grpc.Channel, path: str, request: Message, metadata: Metadata) -> grpc.StatusCode:
    method = METHODS[path]
    payload = request.SerializeToString()
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path, request_serializer=bytes, response_deserializer=bytes)
            for _ in stream(payload, metadata=metadata, timeout=CALL_DEADLINE_S):
                pass
        else:
            channel.unary_unary(path, request_serializer=bytes, response_deserializer=bytes)(
                payload, metadata=metadata, timeout=CALL_DEADLINE_S)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


@pytest.mark.parametrize("path", sorted(METHODS))
def test_fuzzed_requests_get_a_clear_status(server: tuple[grpc.Channel, tuple[tuple[str, str], ...]],
                                            path: str) -> None:
    channel, metadata = server
    seen: set[grpc.StatusCode] = set()

    @settings(max_examples=EXAMPLES_PER_RPC, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(message_strategy(METHODS[path].input_type))
    def answers_clearly(request: Message) -> None:
        code = _status(channel, path, request, metadata)
        seen.add(code)
        assert code not in NEVER, f"{path} answered {code.name} to {request}"

    answers_clearly()
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert seen, path
