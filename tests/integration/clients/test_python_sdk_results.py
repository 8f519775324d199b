"""The Python SDK against the real suite, beyond the walk: typed values from PostgreSQL as dicts, DataFrames
and Arrow tables; the typed errors a caller catches; listings that follow pages lazily, counted by the
server's own metrics. Each test runs with the blocking and with the asyncio client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from chatdb_client import (
    AsyncChatDBClient,
    ChatDBClient,
    ChatDBError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QueryResult,
)
from tests.integration.clients.sdk_suite import Suite, receiver_fixture, settle, suite_fixture  # noqa: F401
from tests.support.scrape import scrape_until

pytestmark = pytest.mark.slow

TYPED_SQL = """SELECT o.id, o.total, o.placed_at, o.weight, o.receipt, o.pickup, c.name, c.joined, c.vip, c.prefs
               FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id"""


@pytest.fixture(params=["sync", "async"])
async def sdk(request: pytest.FixtureRequest, suite: Suite) -> AsyncIterator[Any]:
    """A client of each kind, acting for a tenant of its own, with the shop registered as ``shop``."""
    kind = ChatDBClient if request.param == "sync" else AsyncChatDBClient
    client = kind(suite.address, tenant=f"results-{request.param}", api_key=suite.admin_key, timeout=60)
    try:
        await settle(client.create_data_source(suite.shop_dsn, data_source_id="shop"))
        yield client
    finally:
        for source in await settle(client.list_data_sources()):
            await settle(client.delete_data_source(source.name))
        await settle(client.close())


async def pages_read(suite: Suite, expected: float) -> float:
    """ListDataSources calls the server counted, once it counted ``expected`` (the count is taken as a call ends,
    which may be a moment after its reply arrived)."""
    samples = await scrape_until(suite.metrics_port, f"{expected:.0f} ListDataSources calls", lambda samples: (
        suite.handled(samples, "chatdb.schema.v1.SchemaService", "ListDataSources") >= expected), 30)
    return suite.handled(samples, "chatdb.schema.v1.SchemaService", "ListDataSources")


async def typed_result(sdk: Any) -> QueryResult:
    result: QueryResult = await settle(sdk.execute_sql("shop", TYPED_SQL))
    assert [c.type for c in result.columns] == ["INTEGER", "DECIMAL", "TIMESTAMP", "DOUBLE", "BYTES", "TIME",
                                                "STRING", "DATE", "BOOL", "JSON"]
    return result


async def test_postgresql_values_keep_their_types_as_dicts(sdk: Any) -> None:
    rows = (await typed_result(sdk)).to_dicts()
    assert rows[0] == {"id": 10, "total": Decimal("12.50"),
                       "placed_at": dt.datetime(2024, 2, 1, 9, 30, tzinfo=dt.UTC), "weight": 1.5,
                       "receipt": b"\x00\x01\xff", "pickup": dt.time(9, 30), "name": "Ada",
                       "joined": dt.date(2024, 1, 5), "vip": True, "prefs": {"tags": ["a", "b"], "n": 1}}
    assert rows[1]["placed_at"] == dt.datetime(2024, 2, 2, 16, 0, tzinfo=dt.UTC)  # +02 read back in UTC
    assert (rows[1]["weight"], rows[1]["receipt"], rows[1]["joined"], rows[1]["prefs"]) == (None, None, None, None)


async def test_postgresql_values_as_a_typed_dataframe(sdk: Any) -> None:
    frame = (await typed_result(sdk)).to_pandas()
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "id": "Int64", "total": "object", "placed_at": "datetime64[us, UTC]", "weight": "Float64",
        "receipt": "object", "pickup": "object", "name": "string", "joined": "object", "vip": "boolean",
        "prefs": "object"}
    assert frame["total"].sum() == Decimal("123472.28")  # exact: decimals stay Decimal
    assert frame["placed_at"].tolist()[:2] == [pd.Timestamp("2024-02-01 09:30", tz="UTC"),
                                               pd.Timestamp("2024-02-02 16:00", tz="UTC")]
    assert frame["placed_at"].isna().tolist() == [False, False, True]
    assert frame["vip"].tolist() == [True, False, True]
    assert frame["prefs"][0] == {"tags": ["a", "b"], "n": 1}


async def test_postgresql_values_as_a_typed_arrow_table(sdk: Any) -> None:
    table = (await typed_result(sdk)).to_arrow()
    assert table.schema.field("total").type == pa.decimal128(8, 2)
    assert table.schema.field("placed_at").type == pa.timestamp("us", tz="UTC")
    assert (table.schema.field("joined").type, table.schema.field("pickup").type) == (pa.date32(), pa.time64("us"))
    assert table.schema.field("prefs").type == pa.json_(pa.string())
    assert table.column("total").to_pylist() == [Decimal("12.50"), Decimal("3.00"), Decimal("123456.78")]
    assert table.column("receipt").to_pylist() == [b"\x00\x01\xff", None, b""]


async def test_errors_are_typed_and_still_chatdb_errors(sdk: Any, suite: Suite) -> None:
    with pytest.raises(NotFound) as missing:
        await settle(sdk.execute_sql("no-such-source", "SELECT 1"))
    assert (missing.value.reason, missing.value.metadata) == ("NOT_FOUND", {"resource": "dataSources/no-such-source"})
    assert missing.value.request_id and isinstance(missing.value, ChatDBError)

    with pytest.raises(InvalidArgument) as malformed:
        await settle(sdk.create_data_source("definitely not a dsn"))
    assert malformed.value.fields == ["data_source.dsn"] and malformed.value.reason == "INVALID_FIELD"
    with pytest.raises(ChatDBError) as negative:  # code written against the single class keeps working
        await settle(sdk.list_tables("shop", page_size=-1))
    assert isinstance(negative.value, InvalidArgument) and negative.value.fields == ["page_size"]

    _, secret = await settle(sdk.create_api_key(["viewer"], tenant=sdk.tenant))
    viewer = type(sdk)(suite.address, api_key=secret, timeout=30)
    try:
        assert [s.name for s in await settle(viewer.list_data_sources())] == ["dataSources/shop"]
        with pytest.raises(PermissionDenied) as denied:
            await settle(viewer.execute_sql("shop", "SELECT 1"))
        assert denied.value.reason == "MISSING_PERMISSION" and denied.value.metadata["permission"] == "query.ask"
    finally:
        await settle(viewer.close())


async def test_listings_follow_pages_lazily(sdk: Any, suite: Suite) -> None:
    for n in range(4):
        await settle(sdk.create_data_source(suite.shop_dsn, data_source_id=f"copy-{n}"))
    before = await pages_read(suite, 0)
    items = sdk.iter_data_sources(page_size=2)
    first = await (items.__anext__() if isinstance(items, AsyncIterator) else settle(next(items)))
    assert first.name == "dataSources/shop"
    assert await pages_read(suite, before + 1) == before + 1  # one page read for the first item, no more
    rest = await settle(items)
    assert [s.name for s in rest] == [f"dataSources/copy-{n}" for n in range(4)]
    assert await pages_read(suite, before + 3) == before + 3  # 5 sources, 2 a page
    assert len(await settle(sdk.list_data_sources(page_size=2))) == 5
