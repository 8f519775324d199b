"""SearchTables over gRPC against the real suite: the sample shop registered and trained by tenant alpha,
searched by keys of alpha (admin and viewer) and of another tenant; a column policy that excludes
``customers.email`` for everyone but admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from tests.support.grpc_unit import bad_request_fields, error_info
from tests.support.server import in_process_suite, keyed_channel, keyed_metadata
from tests.support.training import train

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SHOP = "dataSources/shop"


@dataclass
class Shop:
    query: query_service_pb2_grpc.QueryServiceStub
    access: access_service_pb2_grpc.AccessServiceStub
    admin: tuple[tuple[str, str], ...]
    viewer: tuple[tuple[str, str], ...]
    stranger: tuple[tuple[str, str], ...]
    """An admin of another tenant."""

    async def search(self, text: str, page_size: int = 0, parent: str = SHOP,
                     metadata: tuple[tuple[str, str], ...] | None = None) -> query_service_pb2.SearchTablesResponse:
        request = query_service_pb2.SearchTablesRequest(parent=parent, query=text, page_size=page_size)
        reply: query_service_pb2.SearchTablesResponse = await self.query.SearchTables(
            request, metadata=self.admin if metadata is None else metadata)
        return reply

    async def refused(self, text: str, page_size: int = 0, parent: str = SHOP,
                      metadata: tuple[tuple[str, str], ...] | None = None) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await self.search(text, page_size, parent, metadata)
        return refused.value


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    root = tmp_path_factory.mktemp("search")
    async with in_process_suite(root / "data") as (running, _):
        keys = shared_keys(running.components)
        admin_key = (await keys.create("alpha", ["admin"])).secret
        viewer = keyed_metadata((await keys.create("alpha", ["viewer"])).secret)
        stranger = keyed_metadata((await keys.create("beta", ["admin"])).secret)
        async with keyed_channel(f"127.0.0.1:{running.port}", admin_key) as setup:
            schema = schema_service_pb2_grpc.SchemaServiceStub(setup)
            for source_id, path in (("shop", root / "shop.db"), ("untrained", root / "untrained.db")):
                await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
                    data_source_id=source_id, data_source={"dsn": f"sqlite:///{build_shop_database(path)}"}))
            await train(training_service_pb2_grpc.TrainingServiceStub(setup), SHOP)
            await access_service_pb2_grpc.AccessServiceStub(setup).CreateColumnPolicy(
                access_service_pb2.CreateColumnPolicyRequest(parent=SHOP, column_policy=access_pb2.ColumnPolicy(
                    table="customers", column="email", action=access_pb2.COLUMN_ACTION_EXCLUDE,
                    exempt_roles=["admin"])))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Shop(query_service_pb2_grpc.QueryServiceStub(channel),
                       access_service_pb2_grpc.AccessServiceStub(channel), keyed_metadata(admin_key), viewer, stranger)


def by_table(reply: query_service_pb2.SearchTablesResponse) -> dict[str, query_pb2.TableMatch]:
    return {m.table: m for m in reply.tables}


async def test_the_best_table_comes_first_with_the_words_and_columns_it_matched(shop: Shop) -> None:
    reply = await shop.search("payment method of each order", page_size=3)
    searched = [m for m in reply.tables if m.reason == query_pb2.RETRIEVAL_REASON_SEARCH]
    assert len(searched) == 3
    assert searched[0].table == "payments", reply
    assert [m.score for m in searched] == sorted((m.score for m in searched), reverse=True)
    best = searched[0]
    assert "payment" in best.matched_words
    assert set(best.matched_columns) >= {"method", "order_id"}
    assert reply.degradation_level == 1  # FULL


async def test_join_neighbours_follow_the_hits_and_say_what_they_join(shop: Shop) -> None:
    reply = await shop.search("customers who bought products", page_size=2)
    hits = [m for m in reply.tables if m.reason == query_pb2.RETRIEVAL_REASON_SEARCH]
    neighbours = [m for m in reply.tables if m.reason == query_pb2.RETRIEVAL_REASON_JOIN_NEIGHBOR]
    assert {m.table for m in hits} == {"customers", "products"}, reply
    assert neighbours, reply
    assert list(reply.tables) == hits + neighbours  # neighbours come after every hit
    names = {m.table for m in reply.tables}
    for match in reply.tables:
        assert match.joins_with and set(match.joins_with) <= names - {match.table}, match
    assert {t for m in neighbours for t in m.joins_with} & {"customers", "products"}


async def test_an_excluded_column_neither_shows_nor_lifts_its_table(shop: Shop) -> None:
    admin = by_table(await shop.search("email address", page_size=10))["customers"]
    viewer = by_table(await shop.search("email address", page_size=10, metadata=shop.viewer))["customers"]
    assert "email" in admin.matched_columns
    assert "email" not in viewer.matched_columns
    assert viewer.score < admin.score


async def test_page_size_bounds_the_hits_and_is_clamped(shop: Shop) -> None:
    one = await shop.search("orders", page_size=1)
    assert [m.reason for m in one.tables] == [query_pb2.RETRIEVAL_REASON_SEARCH]
    assert one.tables[0].table == "orders"
    every = await shop.search("orders", page_size=10_000)
    assert len(every.tables) == len({m.table for m in every.tables}) >= 7
    default = await shop.search("orders")
    assert len([m for m in default.tables if m.reason == query_pb2.RETRIEVAL_REASON_SEARCH]) <= 10


@pytest.mark.parametrize(("text", "page_size", "field"), [
    pytest.param("", 0, "query", id="empty-query"),
    pytest.param("x" * 2001, 0, "query", id="long-query"),
    pytest.param("orders", -1, "page_size", id="negative-page-size"),
])
async def test_bad_input_names_the_field(shop: Shop, text: str, page_size: int, field: str) -> None:
    error = await shop.refused(text, page_size)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(error.trailing_metadata()) == [field]


async def test_another_tenants_source_is_not_found_and_an_untrained_one_is_not_trained(shop: Shop) -> None:
    hidden = await shop.refused("orders", metadata=shop.stranger)
    assert hidden.code() is grpc.StatusCode.NOT_FOUND
    untrained = await shop.refused("orders", parent="dataSources/untrained")
    assert untrained.code() is grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(untrained.trailing_metadata())
    assert info is not None and info.reason == "NOT_TRAINED"


async def test_a_search_is_audited_with_its_query(shop: Shop) -> None:
    await shop.search("refunds by payment method", metadata=shop.viewer)
    events = (await shop.access.ListAuditEvents(access_service_pb2.ListAuditEventsRequest(data_source=SHOP),
                                                metadata=shop.admin)).audit_events
    searched = [e for e in events if e.method == "/chatdb.query.v1.QueryService/SearchTables"]
    assert any(e.question == "refunds by payment method" and e.status_code == "OK" for e in searched), searched
