"""The result cache on a real metadata store: keys, TTL, stale serving and typed values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.protobuf import struct_pb2, timestamp_pb2
from sqlalchemy import update

from chatdb.common.v1 import value_pb2
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ResultCacheRow, utcnow
from chatdb_server.query.cache import ResultCache, normalised_sql, sql_hash
from chatdb_server.sql.dsn import Dialect
from tests.unit.query.test_pipeline_support import add_source_row


@pytest.fixture
def store(metadata_store: MetadataStore) -> MetadataStore:
    return metadata_store


def typed_result() -> tuple[list[value_pb2.ResultColumn], list[value_pb2.Row]]:
    columns = [value_pb2.ResultColumn(name="id", type=value_pb2.VALUE_TYPE_INTEGER),
               value_pb2.ResultColumn(name="price", type=value_pb2.VALUE_TYPE_DECIMAL, database_type="NUMERIC(10,2)"),
               value_pb2.ResultColumn(name="at", type=value_pb2.VALUE_TYPE_TIMESTAMP),
               value_pb2.ResultColumn(name="note", type=value_pb2.VALUE_TYPE_STRING),
               value_pb2.ResultColumn(name="blob", type=value_pb2.VALUE_TYPE_BYTES)]
    rows = [value_pb2.Row(values=[
        value_pb2.Value(int_value=2**40), value_pb2.Value(decimal_value="12.50"),
        value_pb2.Value(timestamp_value=timestamp_pb2.Timestamp(seconds=1_700_000_000)),
        value_pb2.Value(null_value=struct_pb2.NULL_VALUE), value_pb2.Value(bytes_value=b"\x00\xff")])]
    return columns, rows


def test_normalisation_ignores_spacing_and_keyword_case() -> None:
    a = "select name  from singer\n where age > 3 LIMIT 10"
    b = "SELECT name FROM singer WHERE age > 3 limit 10"
    assert normalised_sql(a, Dialect.SQLITE) == normalised_sql(b, Dialect.SQLITE)
    assert sql_hash(a, Dialect.SQLITE) == sql_hash(b, Dialect.SQLITE)
    assert sql_hash(a, Dialect.SQLITE) != sql_hash(b.replace("3", "4"), Dialect.SQLITE)
    assert sql_hash(a, Dialect.SQLITE) != sql_hash(a, Dialect.POSTGRESQL)


async def test_fresh_hit_keeps_values_typed(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300)
    columns, rows = typed_result()
    await cache.put(source, "SELECT * FROM t LIMIT 10", columns, rows, truncated=True)
    hit = await cache.get(source, "select *   from t limit 10")
    assert hit is not None and hit.fresh and hit.truncated
    assert hit.columns == columns
    assert hit.rows == rows
    assert hit.rows[0].values[0].WhichOneof("kind") == "int_value"
    assert hit.rows[0].values[3].WhichOneof("kind") == "null_value"


async def test_entries_are_per_source(store: MetadataStore) -> None:
    shop, other = await add_source_row(store, "shop"), await add_source_row(store, "other")
    cache = ResultCache(store, ttl_s=300)
    columns, rows = typed_result()
    await cache.put(shop, "SELECT 1", columns, rows, truncated=False)
    assert await cache.get(other, "SELECT 1", allow_stale=True) is None


async def test_zero_ttl_serves_only_stale(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=0)
    columns, rows = typed_result()
    await cache.put(source, "SELECT 1", columns, rows, truncated=False)
    assert await cache.get(source, "SELECT 1") is None
    stale = await cache.get(source, "SELECT 1", allow_stale=True)
    assert stale is not None and not stale.fresh and stale.rows == rows


async def test_put_replaces_the_entry(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300)
    columns, rows = typed_result()
    await cache.put(source, "SELECT 1", columns, rows, truncated=False)
    await cache.put(source, "SELECT 1", columns[:1], [], truncated=False)
    hit = await cache.get(source, "SELECT 1")
    assert hit is not None and hit.row_count == 0 and len(hit.columns) == 1


async def test_entries_older_than_a_day_are_not_served(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300, purge_every_s=0)
    columns, rows = typed_result()
    await cache.put(source, "SELECT 1", columns, rows, truncated=False)
    async with store.session() as session:
        await session.execute(update(ResultCacheRow).values(cached_time=utcnow() - timedelta(days=2)))
    assert await cache.get(source, "SELECT 1", allow_stale=True) is None
    await cache.put(source, "SELECT 2", columns, rows, truncated=False)
    async with store.session() as session:
        remaining = (await session.execute(ResultCacheRow.__table__.select())).all()
    assert len(remaining) == 1  # the expired entry was dropped
