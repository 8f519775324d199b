"""AccessService over gRPC on the real runtime: keys, policies, audit; and an excluded column found in
no stored sample and no vector document, before and after a refresh and a retraining."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server import log
from chatdb_server.metadata.models import SchemaTableRow
from chatdb_server.server.runtime import RunningServer
from chatdb_server.server.shared import shared_vectors
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite, keyed_channel
from tests.support.training import train
from tests.unit.access.test_access_service import SECRET_SSNS, write_shop

pytestmark = pytest.mark.slow

SHOP = "dataSources/shop"
NAMESPACE = "default/shop"
"""The admin key's tenant and the source below."""


async def register(channel: grpc.aio.Channel, db: Path) -> None:
    await schema_service_pb2_grpc.SchemaServiceStub(channel).CreateDataSource(
        schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                   data_source=schema_pb2.DataSource(dsn=f"sqlite:///{db}")))


async def everything_kept(running: RunningServer) -> str:
    """Every stored table (samples, description, the structure but for the column's own definition, which
    exempt roles need) and every vector document of the source, as text."""
    async with running.components.store.session() as session:
        rows = (await session.scalars(select(SchemaTableRow).where(SchemaTableRow.tenant == "default"))).all()
        stored = json.dumps([({**r.structure, "columns": [c for c in r.structure["columns"] if c["name"] != "ssn"]},
                              r.description) for r in rows])
    vectors = shared_vectors(running.components)
    documents = [vectors.table_document(NAMESPACE, t) for t in vectors.table_names(NAMESPACE)]
    assert len(documents) == 2  # both tables are trained: their documents are what is searched below
    return stored + json.dumps(documents)


def leaks(text: str) -> list[str]:
    """Which of the column's traces (its name, its values) ``text`` holds."""
    return [trace for trace in ("ssn", *SECRET_SSNS) if trace in text.lower()]


async def test_an_excluded_column_is_in_no_stored_sample_and_no_vector_document(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path / "server") as (running, channel):
        await register(channel, write_shop(tmp_path / "shop.db"))
        training = training_service_pb2_grpc.TrainingServiceStub(channel)
        await train(training, SHOP)
        assert leaks(await everything_kept(running)) == ["ssn", *SECRET_SSNS]

        access = access_service_pb2_grpc.AccessServiceStub(channel)
        created = await access.CreateColumnPolicy(access_service_pb2.CreateColumnPolicyRequest(
            parent=SHOP, column_policy=access_pb2.ColumnPolicy(table="customers", column="ssn",
                                                              action=access_pb2.COLUMN_ACTION_EXCLUDE,
                                                              exempt_roles=["admin"])))
        assert created.column_policy.name.startswith(f"{SHOP}/columnPolicies/")
        kept = await everything_kept(running)
        assert leaks(kept) == []
        assert "Ada" in kept and "customer" in kept

        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        await schema.RefreshSchema(schema_service_pb2.RefreshSchemaRequest(name=SHOP))
        await train(training, SHOP)
        assert leaks(await everything_kept(running)) == []
        table = (await schema.GetTable(schema_service_pb2.GetTableRequest(name=f"{SHOP}/tables/customers"))).table
        assert "ssn" in [c.name for c in table.columns] and not leaks(str(table.sample_rows) + table.description)
        listed = await access.ListColumnPolicies(access_service_pb2.ListColumnPoliciesRequest(parent=SHOP))
        assert [p.name for p in listed.column_policies] == [created.column_policy.name]


async def test_keys_over_grpc_stay_within_their_creator(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path / "server") as (running, channel):
        await register(channel, write_shop(tmp_path / "shop.db"))
        access = access_service_pb2_grpc.AccessServiceStub(channel)
        admin = await access.CreateApiKey(access_service_pb2.CreateApiKeyRequest(
            api_key=access_pb2.ApiKey(roles=["admin"], display_name="ops")))
        assert admin.secret.startswith("chatdb_") and admin.api_key.tenant == "default"
        listed = await access.ListApiKeys(access_service_pb2.ListApiKeysRequest())
        assert admin.api_key.name in [k.name for k in listed.api_keys]
        assert admin.secret not in str(listed)

        address = f"127.0.0.1:{running.port}"
        async with keyed_channel(address, admin.secret) as as_admin:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await access_service_pb2_grpc.AccessServiceStub(as_admin).CreateApiKey(
                    access_service_pb2.CreateApiKeyRequest(api_key=access_pb2.ApiKey(roles=["operator"])))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            info = error_info(refused.value.trailing_metadata())
            assert info is not None and info.reason == "ROLE_ESCALATION"
            limited = await access_service_pb2_grpc.AccessServiceStub(as_admin).CreateApiKey(
                access_service_pb2.CreateApiKeyRequest(api_key=access_pb2.ApiKey(roles=["viewer"],
                                                                                 data_sources=["other"])))
            seen = await schema_service_pb2_grpc.SchemaServiceStub(as_admin).GetDataSource(
                schema_service_pb2.GetDataSourceRequest(name=SHOP))
            assert seen.data_source.name == SHOP
        async with keyed_channel(address, limited.secret) as as_limited:
            with pytest.raises(grpc.aio.AioRpcError) as hidden:
                await schema_service_pb2_grpc.SchemaServiceStub(as_limited).GetDataSource(
                    schema_service_pb2.GetDataSourceRequest(name=SHOP))
            assert hidden.value.code() == grpc.StatusCode.NOT_FOUND

        revoked = await access.RevokeApiKey(access_service_pb2.RevokeApiKeyRequest(name=admin.api_key.name))
        assert revoked.api_key.HasField("revoke_time")
        async with keyed_channel(address, admin.secret) as as_admin:
            with pytest.raises(grpc.aio.AioRpcError) as dead:
                await access_service_pb2_grpc.AccessServiceStub(as_admin).ListApiKeys(
                    access_service_pb2.ListApiKeysRequest())
            assert dead.value.code() == grpc.StatusCode.UNAUTHENTICATED

        events = await access.ListAuditEvents(access_service_pb2.ListAuditEventsRequest())
        revokes = [e for e in events.audit_events if e.method.endswith("/RevokeApiKey")]
        assert [e.resource for e in revokes] == [admin.api_key.name]


@pytest.mark.parametrize(("method", "request_message", "code"), [
    pytest.param("RevokeApiKey", access_service_pb2.RevokeApiKeyRequest(name="apiKeys/0123456789abcdef"),
                 grpc.StatusCode.NOT_FOUND, id="unknown_key"),
    pytest.param("RevokeApiKey", access_service_pb2.RevokeApiKeyRequest(name="keys/1"),
                 grpc.StatusCode.INVALID_ARGUMENT, id="malformed_key_name"),
    pytest.param("CreateColumnPolicy", access_service_pb2.CreateColumnPolicyRequest(
        parent=SHOP, column_policy=access_pb2.ColumnPolicy(table="customers", column="ssn")),
                 grpc.StatusCode.INVALID_ARGUMENT, id="no_action"),
    pytest.param("CreateRowPolicy", access_service_pb2.CreateRowPolicyRequest(
        parent=SHOP, row_policy=access_pb2.RowPolicy(table="orders", predicate="total < (SELECT 1)")),
                 grpc.StatusCode.INVALID_ARGUMENT, id="subquery_predicate"),
    pytest.param("ListRowPolicies", access_service_pb2.ListRowPoliciesRequest(parent="dataSources/nowhere"),
                 grpc.StatusCode.NOT_FOUND, id="unknown_source"),
    pytest.param("DeleteColumnPolicy", access_service_pb2.DeleteColumnPolicyRequest(
        name=f"{SHOP}/columnPolicies/0123456789abcdef"), grpc.StatusCode.NOT_FOUND, id="unknown_policy"),
])
async def test_bad_requests_are_refused_with_their_status(tmp_path: Path, method: str,
                                                          request_message: object, code: grpc.StatusCode) -> None:
    async with in_process_suite(tmp_path / "server", ["schema"]) as (_, channel):
        await register(channel, write_shop(tmp_path / "shop.db"))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await getattr(access_service_pb2_grpc.AccessServiceStub(channel), method)(request_message)
        assert refused.value.code() == code


async def test_a_schema_only_process_serves_access_too(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path / "server", ["schema"]) as (_, channel):
        await register(channel, write_shop(tmp_path / "shop.db"))
        access = access_service_pb2_grpc.AccessServiceStub(channel)
        policy = await access.CreateRowPolicy(access_service_pb2.CreateRowPolicyRequest(
            parent=SHOP, row_policy=access_pb2.RowPolicy(table="orders", predicate="total < 15")))
        listed = await access.ListRowPolicies(access_service_pb2.ListRowPoliciesRequest(parent=SHOP))
        assert [p.name for p in listed.row_policies] == [policy.row_policy.name]
        await access.DeleteRowPolicy(access_service_pb2.DeleteRowPolicyRequest(name=policy.row_policy.name))
        assert not (await access.ListRowPolicies(access_service_pb2.ListRowPoliciesRequest(parent=SHOP))).row_policies


async def test_an_excluded_column_is_in_no_reply_log_line_or_audit_event_of_an_asker(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    log.configure("debug", "json")  # every line the server can write about these calls
    async with in_process_suite(tmp_path / "server", log_level="debug") as (running, channel):
        await register(channel, write_shop(tmp_path / "shop.db"))
        access = access_service_pb2_grpc.AccessServiceStub(channel)
        await access.CreateColumnPolicy(access_service_pb2.CreateColumnPolicyRequest(
            parent=SHOP, column_policy=access_pb2.ColumnPolicy(table="customers", column="ssn",
                                                              action=access_pb2.COLUMN_ACTION_EXCLUDE)))
        await train(training_service_pb2_grpc.TrainingServiceStub(channel), SHOP)
        asker = (await access.CreateApiKey(access_service_pb2.CreateApiKeyRequest(
            api_key=access_pb2.ApiKey(roles=["asker"])))).secret
        capfd.readouterr()  # from here on: only what the asker's calls make the server write
        replies: list[str] = []
        async with keyed_channel(f"127.0.0.1:{running.port}", asker) as as_asker:
            query = query_service_pb2_grpc.QueryServiceStub(as_asker)
            for question in ("list all customers", "show every customer with all their details",
                             "how many orders does each customer have"):
                replies.append(str(await query.Ask(query_service_pb2.AskRequest(parent=SHOP, question=question))))
                async for part in query.StreamAsk(query_service_pb2.StreamAskRequest(parent=SHOP, question=question)):
                    replies.append(str(part))
            for sql in ("SELECT * FROM customers", "SELECT c.* FROM customers c JOIN orders o ON o.customer_id = c.id"):
                replies.append(str(await query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql=sql))))
        written = capfd.readouterr()
        events = (await access.ListAuditEvents(access_service_pb2.ListAuditEventsRequest())).audit_events
    assert "Ada" in "".join(replies), "the asks answered with the customers' other columns"
    assert leaks("".join(replies)) == []
    assert leaks(written.out + written.err) == []
    assert "rpc.ok" in written.err or "ExecuteSql" in written.err, "the server logged the calls"
    asked = [e for e in events if e.method.endswith(("/Ask", "/StreamAsk", "/ExecuteSql"))]
    assert len(asked) == 8 and leaks(str(asked)) == []
