"""TLS and mTLS with certificates the test generates: the server speaks TLS from its settings, a
client CA makes client certificates required and maps them to principals, a certificate from a
foreign CA is refused, and ChatDB's own services call each other over TLS with the service key."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_client import AsyncChatDBClient, tls_credentials
from chatdb_server.access.bootstrap import read_admin_key
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.tls import bearer_interceptors
from tests.support.certificates import Authority, Issued
from tests.support.server import in_process_suite
from tests.support.training import train

pytestmark = pytest.mark.slow

LIST = schema_service_pb2.ListDataSourcesRequest()


def _channel(port: int, ca: Path, client: Issued | None = None, key: str = "") -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(), private_key=client.key.read_bytes() if client else None,
        certificate_chain=client.cert.read_bytes() if client else None)
    return grpc.aio.secure_channel(f"localhost:{port}", credentials, interceptors=bearer_interceptors(key) or None)


async def _code(channel: grpc.aio.Channel) -> grpc.StatusCode:
    try:
        await schema_service_pb2_grpc.SchemaServiceStub(channel).ListDataSources(LIST, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code()
    finally:
        await channel.close()
    return grpc.StatusCode.OK


async def test_tls_serves_a_keyed_client_and_refuses_plaintext(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki", "chatdb")
    server = ca.localhost()
    data = tmp_path / "data"
    async with in_process_suite(data, ["schema"], tls_cert_file=str(server.cert),
                                tls_key_file=str(server.key)) as (running, _):
        key = read_admin_key(data)
        assert await _code(_channel(running.port, ca.cert, key=key)) is grpc.StatusCode.OK
        assert await _code(_channel(running.port, ca.cert)) is grpc.StatusCode.UNAUTHENTICATED
        plaintext = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}",
                                              interceptors=bearer_interceptors(key))
        assert await _code(plaintext) is grpc.StatusCode.UNAVAILABLE
        foreign = Authority(tmp_path / "foreign", "foreign")
        assert await _code(_channel(running.port, foreign.cert, key=key)) is grpc.StatusCode.UNAVAILABLE


async def test_mtls_maps_client_certificates_to_principals_and_refuses_foreign_ones(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki", "chatdb")
    server = ca.localhost()
    reporting = ca.issue("reporting.acme.internal")
    unmapped = ca.issue("stranger.acme.internal")
    foreign = Authority(tmp_path / "foreign", "foreign").issue("reporting.acme.internal")
    principals = tmp_path / "principals.json"
    principals.write_text(json.dumps({"reporting.acme.internal": {"tenant": "acme", "roles": ["viewer"]}}))
    async with in_process_suite(tmp_path / "data", ["schema"], tls_cert_file=str(server.cert),
                                tls_key_file=str(server.key), tls_client_ca_file=str(ca.cert),
                                tls_client_principals=str(principals)) as (running, _):
        assert await _code(_channel(running.port, ca.cert, reporting)) is grpc.StatusCode.OK
        viewer = _channel(running.port, ca.cert, reporting)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await schema_service_pb2_grpc.SchemaServiceStub(viewer).CreateDataSource(
                    schema_service_pb2.CreateDataSourceRequest(data_source={"dsn": "sqlite:///x.db"}), timeout=10)
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
        finally:
            await viewer.close()
        assert await _code(_channel(running.port, ca.cert, unmapped)) is grpc.StatusCode.UNAUTHENTICATED
        assert await _code(_channel(running.port, ca.cert)) is grpc.StatusCode.UNAVAILABLE  # no certificate
        assert await _code(_channel(running.port, ca.cert, foreign)) is grpc.StatusCode.UNAVAILABLE


async def test_the_python_sdk_connects_over_tls_with_a_key(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki", "chatdb")
    server = ca.localhost()
    data = tmp_path / "data"
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(data, ["schema"], tls_cert_file=str(server.cert),
                                tls_key_file=str(server.key)) as (running, _), \
            AsyncChatDBClient(f"localhost:{running.port}", api_key=read_admin_key(data),
                              credentials=tls_credentials(str(ca.cert)), timeout=30) as sdk:
        created = await sdk.create_data_source(f"sqlite:///{shop}", data_source_id="shop")
        assert created.name == "dataSources/shop"
        assert "customers" in {t.table for t in await sdk.list_tables("shop")}


async def test_services_call_each_other_over_mtls_with_the_service_key(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki", "chatdb")
    server = ca.localhost()
    key = new_secret()
    tls = {"tls_cert_file": str(server.cert), "tls_key_file": str(server.key), "tls_client_ca_file": str(ca.cert),
           "bootstrap_admin_key": key, "service_key": key}
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(tmp_path / "prediction", ["prediction"], **tls) as (prediction, _), \
            in_process_suite(tmp_path / "suite", ["schema", "training", "query"],
                             prediction_address=f"localhost:{prediction.port}", **tls) as (suite, _):
        channel = _channel(suite.port, ca.cert, ca.issue("caller"), key=key)
        try:
            schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
            await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
                data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}), timeout=60)
            await train(training_service_pb2_grpc.TrainingServiceStub(channel), "dataSources/shop")
            reply = await query_service_pb2_grpc.QueryServiceStub(channel).Ask(
                query_service_pb2.AskRequest(parent="dataSources/shop", question="how many customers are there"),
                timeout=60)
        finally:
            await channel.close()
    # Generation went to the other process (over mTLS, with the service key): a refused or failed call there
    # would have put the reply at level 2 with a warning that the template generator stood in.
    assert reply.degradation_level == degradation_pb2.DEGRADATION_LEVEL_FULL, list(reply.warnings)
    assert reply.row_count > 0
