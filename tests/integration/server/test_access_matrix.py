"""Every RPC of the contract, called over gRPC against the real runtime with authentication on:
no credential, bad or dead credentials, a forged tenant header, a role without the permission,
and another tenant's valid key on this tenant's resources."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from google.protobuf import descriptor, json_format, message_factory
from sqlalchemy import update

from chatdb.access.v1 import access_service_pb2
from chatdb.prediction.v1 import prediction_service_pb2
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc
from chatdb.webhook.v1 import webhook_service_pb2, webhook_service_pb2_grpc
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import ROLE_PERMISSIONS, RPC_PERMISSIONS, Role
from chatdb_server.metadata.models import ApiKeyRow, utcnow
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from chatdb_server.server.runtime import RunningServer
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite, keyed_metadata

pytestmark = pytest.mark.slow

JWT_SECRET = "matrix-test-shared-secret-of-32-bytes!"
ISSUER, AUDIENCE = "https://issuer.test", "chatdb"
MODULES = (schema_service_pb2, training_service_pb2, query_service_pb2, prediction_service_pb2,
           access_service_pb2, webhook_service_pb2)


def _methods() -> dict[str, descriptor.MethodDescriptor]:
    found = {}
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found[f"/{service.full_name}/{method.name}"] = method
    return found


METHODS = _methods()


def test_the_permission_table_names_every_rpc_of_the_contract() -> None:
    assert set(METHODS) == set(RPC_PERMISSIONS)


async def call(channel: grpc.aio.Channel, path: str, request: Mapping[str, Any] | None = None,
               metadata: tuple[tuple[str, str], ...] = ()) -> grpc.StatusCode:
    """Call ``path`` with ``request`` (a JSON mapping); the status code it ended with."""
    method = METHODS[path]
    message = message_factory.GetMessageClass(method.input_type)()
    json_format.ParseDict(dict(request or {}), message)
    payload = message.SerializeToString()
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path, request_serializer=bytes, response_deserializer=bytes)
            async for _ in stream(payload, metadata=metadata, timeout=60):
                break
        else:
            unary = channel.unary_unary(path, request_serializer=bytes, response_deserializer=bytes)
            await unary(payload, metadata=metadata, timeout=60)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def codes(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...],
                requests: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, grpc.StatusCode]:
    return {path: await call(channel, path, (requests or {}).get(path), metadata) for path in METHODS}


@dataclass
class Suite:
    running: RunningServer
    channel: grpc.aio.Channel
    """A channel without a credential of its own: every call names its own in its metadata."""
    keys: ApiKeyStore
    alpha_admin: str
    alpha_resources: dict[str, dict[str, Any]]

    async def key(self, tenant: str, *roles: Role, **options: Any) -> str:
        return (await self.keys.create(tenant, [r.value for r in roles], **options)).secret


def token(**changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "someone", "tenant": "alpha",
                              "roles": ["admin"], "iat": now, "nbf": now - 5, "exp": now + 300}
    key = changes.pop("key", JWT_SECRET)
    algorithm = changes.pop("algorithm", "HS256")
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


async def _alpha_resources(channel: grpc.aio.Channel, admin: str, shop: Path) -> dict[str, dict[str, Any]]:
    """Resources of tenant alpha, created by its admin, and a request naming each for every RPC that takes one."""
    meta = keyed_metadata(admin)
    source = "dataSources/shop"
    await schema_service_pb2_grpc.SchemaServiceStub(channel).CreateDataSource(
        schema_service_pb2.CreateDataSourceRequest(data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}),
        metadata=meta)
    training = training_service_pb2_grpc.TrainingServiceStub(channel)
    job = (await training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(parent=source),
                                            metadata=meta)).training_job.name
    example = (await training.CreateExample(training_service_pb2.CreateExampleRequest(
        parent=source, example={"question": "how many customers", "sql": "SELECT COUNT(*) FROM customers"}),
        metadata=meta)).example.name
    query = (await query_service_pb2_grpc.QueryServiceStub(channel).ExecuteSql(
        query_service_pb2.ExecuteSqlRequest(parent=source, sql="SELECT 1 AS one"), metadata=meta)).query
    webhook = (await webhook_service_pb2_grpc.WebhookServiceStub(channel).CreateWebhook(
        webhook_service_pb2.CreateWebhookRequest(webhook={"url": "http://10.255.255.1:9/hook"}),
        metadata=meta)).webhook.name
    return {
        "/chatdb.schema.v1.SchemaService/GetDataSource": {"name": source},
        "/chatdb.schema.v1.SchemaService/UpdateDataSource": {"data_source": {"name": source, "display_name": "x"},
                                                              "update_mask": "displayName"},
        "/chatdb.schema.v1.SchemaService/DeleteDataSource": {"name": source},
        "/chatdb.schema.v1.SchemaService/TestConnection": {"name": source},
        "/chatdb.schema.v1.SchemaService/ListTables": {"parent": source},
        "/chatdb.schema.v1.SchemaService/GetTable": {"name": f"{source}/tables/customers"},
        "/chatdb.schema.v1.SchemaService/RefreshSchema": {"name": source},
        "/chatdb.schema.v1.SchemaService/GetSchemaGraph": {"parent": source},
        "/chatdb.training.v1.TrainingService/CreateTrainingJob": {"parent": source},
        "/chatdb.training.v1.TrainingService/GetTrainingJob": {"name": job},
        "/chatdb.training.v1.TrainingService/CancelTrainingJob": {"name": job},
        "/chatdb.training.v1.TrainingService/WatchTrainingJob": {"name": job},
        "/chatdb.training.v1.TrainingService/CreateExample": {
            "parent": source, "example": {"question": "how many customers", "sql": "SELECT COUNT(*) FROM customers"}},
        "/chatdb.training.v1.TrainingService/ListExamples": {"parent": source},
        "/chatdb.training.v1.TrainingService/DeleteExample": {"name": example},
        "/chatdb.query.v1.QueryService/Ask": {"parent": source, "question": "how many customers are there"},
        "/chatdb.query.v1.QueryService/StreamAsk": {"parent": source, "question": "how many customers are there"},
        "/chatdb.query.v1.QueryService/ExecuteSql": {"parent": source, "sql": "SELECT 1"},
        "/chatdb.query.v1.QueryService/BatchAsk": {"parent": source,
                                                   "questions": [{"question": "how many customers are there"}]},
        "/chatdb.query.v1.QueryService/ExportQueryResult": {"parent": source, "sql": "SELECT 1",
                                                            "format": "EXPORT_FORMAT_CSV"},
        "/chatdb.query.v1.QueryService/ValidateSql": {"parent": source, "sql": "SELECT 1"},
        "/chatdb.query.v1.QueryService/SearchTables": {"parent": source, "query": "customers and their orders"},
        "/chatdb.query.v1.QueryService/ListQueries": {"parent": source},
        "/chatdb.query.v1.QueryService/GetQuery": {"name": query},
        "/chatdb.query.v1.QueryService/SubmitFeedback": {"name": query, "rating": "FEEDBACK_RATING_CORRECT"},
        "/chatdb.access.v1.AccessService/CreateColumnPolicy": {
            "parent": source,
            "column_policy": {"table": "customers", "column": "email", "action": "COLUMN_ACTION_MASK"}},
        "/chatdb.access.v1.AccessService/ListColumnPolicies": {"parent": source},
        "/chatdb.access.v1.AccessService/CreateRowPolicy": {
            "parent": source, "row_policy": {"table": "customers", "predicate": "id > 0"}},
        "/chatdb.access.v1.AccessService/ListRowPolicies": {"parent": source},
        "/chatdb.webhook.v1.WebhookService/GetWebhook": {"name": webhook},
        "/chatdb.webhook.v1.WebhookService/DeleteWebhook": {"name": webhook},
        "/chatdb.webhook.v1.WebhookService/ListWebhookDeliveries": {"parent": webhook},
    }


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[Suite]:
    async with in_process_suite(tmp_path / "data", jwt_secret=JWT_SECRET, jwt_issuer=ISSUER,
                                jwt_audience=AUDIENCE) as (running, _):
        keys = shared_keys(running.components)
        alpha_admin = (await keys.create("alpha", ["admin"])).secret
        bare = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        try:
            resources = await _alpha_resources(bare, alpha_admin, build_shop_database(tmp_path / "shop.db"))
            yield Suite(running, bare, keys, alpha_admin, resources)
        finally:
            await bare.close()


async def test_every_rpc_refuses_a_call_without_a_credential(suite: Suite) -> None:
    found = await codes(suite.channel, ())
    assert found == dict.fromkeys(METHODS, grpc.StatusCode.UNAUTHENTICATED)


async def test_every_rpc_refuses_expired_revoked_and_malformed_keys(suite: Suite) -> None:
    expiring = await suite.keys.create("alpha", ["admin"], expire_time=utcnow() + timedelta(hours=1))
    revoked = await suite.keys.create("alpha", ["admin"])
    await suite.keys.revoke(revoked.key.key_id)
    async with suite.running.components.store.session() as session:  # expire it where it is stored, as time would
        await session.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == expiring.key.key_id)
                              .values(expire_time=utcnow() - timedelta(seconds=1)))
    for secret in (expiring.secret, revoked.secret, revoked.secret[:-4] + "AAAA", "chatdb_nonsense"):
        assert await codes(suite.channel, keyed_metadata(secret)) == \
            dict.fromkeys(METHODS, grpc.StatusCode.UNAUTHENTICATED), secret[:20]


@pytest.mark.parametrize("bad", [
    {"iss": "https://someone-else.test"}, {"aud": "another-audience"}, {"exp": int(time.time()) - 3600},
    {"nbf": int(time.time()) + 3600}, {"algorithm": "none", "key": None},
    {"key": "a-different-secret-of-at-least-32-bytes"}, {"exp": None}],
    ids=["issuer", "audience", "expired", "not-yet-valid", "alg-none", "wrong-key", "no-expiry"])
async def test_every_rpc_refuses_a_bad_token(suite: Suite, bad: dict[str, Any]) -> None:
    found = await codes(suite.channel, keyed_metadata(token(**bad)))
    assert found == dict.fromkeys(METHODS, grpc.StatusCode.UNAUTHENTICATED)


async def test_a_good_token_is_a_principal_of_its_tenant(suite: Suite) -> None:
    meta = keyed_metadata(token())
    assert await call(suite.channel, "/chatdb.schema.v1.SchemaService/GetDataSource",
                      {"name": "dataSources/shop"}, meta) is grpc.StatusCode.OK
    other = keyed_metadata(token(tenant="beta"))
    assert await call(suite.channel, "/chatdb.schema.v1.SchemaService/GetDataSource",
                      {"name": "dataSources/shop"}, other) is grpc.StatusCode.NOT_FOUND


async def test_a_forged_tenant_header_is_permission_denied_on_every_rpc(suite: Suite) -> None:
    beta_admin = await suite.key("beta", Role.ADMIN)
    found = await codes(suite.channel, keyed_metadata(beta_admin, tenant="alpha"), suite.alpha_resources)
    assert found == dict.fromkeys(METHODS, grpc.StatusCode.PERMISSION_DENIED)
    unary = suite.channel.unary_unary("/chatdb.schema.v1.SchemaService/ListDataSources",
                                      request_serializer=bytes, response_deserializer=bytes)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await unary(b"", metadata=keyed_metadata(beta_admin, tenant="alpha"))
    info = error_info(refused.value.trailing_metadata())
    assert info is not None and info.reason == "TENANT_MISMATCH"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ASKER, Role.EDITOR])
async def test_a_role_without_the_permission_is_refused_and_one_with_it_passes(suite: Suite, role: Role) -> None:
    key = await suite.key("alpha", role)
    found = await codes(suite.channel, keyed_metadata(key), suite.alpha_resources)
    allowed = ROLE_PERMISSIONS[role]
    denied = {path for path, permission in RPC_PERMISSIONS.items() if permission not in allowed}
    assert denied, role
    assert {path for path, code in found.items() if code is grpc.StatusCode.PERMISSION_DENIED} == denied
    assert not {path for path, code in found.items() if code is grpc.StatusCode.UNAUTHENTICATED}


async def test_another_tenants_valid_key_finds_none_of_this_tenants_resources(suite: Suite) -> None:
    beta_admin = await suite.key("beta", Role.ADMIN)
    found = await codes(suite.channel, keyed_metadata(beta_admin), suite.alpha_resources)
    named = {path: found[path] for path in suite.alpha_resources}
    assert named == dict.fromkeys(suite.alpha_resources, grpc.StatusCode.NOT_FOUND)
    alpha_key_id = suite.alpha_admin.split("_")[1]
    assert await call(suite.channel, "/chatdb.access.v1.AccessService/RevokeApiKey",
                      {"name": f"apiKeys/{alpha_key_id}"}, keyed_metadata(beta_admin)) is grpc.StatusCode.NOT_FOUND


async def test_a_key_limited_to_some_sources_finds_no_other(suite: Suite, tmp_path: Path) -> None:
    meta = keyed_metadata(suite.alpha_admin)
    other = build_shop_database(tmp_path / "other.db")
    assert await call(suite.channel, "/chatdb.schema.v1.SchemaService/CreateDataSource",
                      {"data_source_id": "other", "data_source": {"dsn": f"sqlite:///{other}"}}, meta) \
        is grpc.StatusCode.OK
    limited = await suite.key("alpha", Role.ASKER, data_sources=["other"])
    sql = {"sql": "SELECT 1"}
    assert await call(suite.channel, "/chatdb.query.v1.QueryService/ExecuteSql",
                      {"parent": "dataSources/other", **sql}, keyed_metadata(limited)) is grpc.StatusCode.OK
    for path, request in suite.alpha_resources.items():
        if RPC_PERMISSIONS[path] in ROLE_PERMISSIONS[Role.ASKER]:
            assert await call(suite.channel, path, request, keyed_metadata(limited)) is grpc.StatusCode.NOT_FOUND, path
