"""The result cache on a real metadata store: keys, TTL, stale serving, and its own serialisation
of typed values (exact round trips; unreadable entries are misses)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from chatdb.query.v1 import query_service_pb2
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ResultCacheRow, utcnow
from chatdb_server.query.cache import ResultCache, decode_result, encode_result, normalised_sql, sql_hash
from chatdb_server.query.convert import columns_to_proto, rows_to_proto
from chatdb_server.query.domain import Rows
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.values import ResultColumn
from tests.unit.query.test_pipeline_support import add_source_row


@pytest.fixture
def store(metadata_store: MetadataStore) -> MetadataStore:
    return metadata_store


def typed_result(truncated: bool = False) -> Rows:
    columns = [ResultColumn("id", "INTEGER"), ResultColumn("price", "DECIMAL", "NUMERIC(10,2)"),
               ResultColumn("at", "TIMESTAMP"), ResultColumn("note", "STRING"), ResultColumn("blob", "BYTES")]
    rows = [(2**40, Decimal("12.50"), datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), None, b"\x00\xff")]
    return Rows(columns, rows, truncated)


EVERY_KIND: list[tuple[str, Any]] = [
    ("STRING", None), ("BOOL", True), ("BOOL", False), ("BOOL", 1), ("INTEGER", 0), ("INTEGER", -(2**63)),
    ("DECIMAL", 2**64 + 1), ("DOUBLE", 1.25), ("DOUBLE", -0.0), ("DOUBLE", 1e308), ("DOUBLE", float("inf")),
    ("DOUBLE", float("-inf")), ("DECIMAL", Decimal("12.50")), ("DECIMAL", Decimal("-0.000001")),
    ("DECIMAL", Decimal("1E+30")), ("STRING", ""), ("STRING", "héllo \u2603 \"quoted\" {\"dec\": 1}"),
    ("BYTES", b""), ("BYTES", b"\x00\xff\xfe"), ("TIMESTAMP", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
    ("TIMESTAMP", datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))),
    ("TIMESTAMP", datetime(1999, 12, 31, 8, 0)), ("DATE", date(1, 1, 1)), ("DATE", date(2024, 2, 29)),
    ("TIME", time(13, 45, 1, 250)), ("TIME", time(23, 59, tzinfo=UTC)), ("TIME", timedelta(hours=-838, seconds=-59)),
    ("STRING", timedelta(days=3, microseconds=7)), ("JSON", {"a": [1, 2.5, None, True], "b": {"c": "d"}}),
    ("JSON", [{"dec": "not a tagged cell"}]), ("JSON", {"ts": "2024-01-01"}), ("JSON", "a JSON string"),
    ("JSON", 42), ("JSON", []),
]


def test_every_kind_of_cell_round_trips_exactly() -> None:
    columns = [ResultColumn(f"c{i}", kind, f"type{i}") for i, (kind, _) in enumerate(EVERY_KIND)]
    row = tuple(value for _, value in EVERY_KIND)
    back = decode_result(encode_result(Rows(columns, [row, row], truncated=True)))
    assert back.columns == columns and back.truncated
    for got, (kind, want) in zip(back.rows[0], EVERY_KIND, strict=True):
        assert type(got) is type(want) and got == want, (kind, want, got)
        if isinstance(want, datetime | time):
            assert got.utcoffset() == want.utcoffset()
    assert back.rows == [row, row]
    assert rows_to_proto(back.columns, back.rows) == rows_to_proto(columns, [row, row])


def test_a_nan_double_round_trips() -> None:
    back = decode_result(encode_result(Rows([ResultColumn("x", "DOUBLE")], [(float("nan"),)], False)))
    (value,) = back.rows[0]
    assert isinstance(value, float) and value != value


@pytest.mark.parametrize("payload", [
    b"", b"\x1a\x05\n\x03abc", b"not json", b"[]", b'{"format": "chatdb.result/0", "columns": [], "rows": []}',
    b'{"format": "chatdb.result/1", "columns": [["a", "INTEGER", ""]], "rows": [[{"nope": 1}]], "truncated": false}',
    b'{"format": "chatdb.result/1", "columns": [["a"]], "rows": [], "truncated": false}',
    b'{"format": "chatdb.result/1", "columns": [], "rows": [[{"dec": "x.y"}]], "truncated": false}',
    b'{"format": "chatdb.result/1", "columns": [], "rows": [[{"b64": "***"}]], "truncated": false}',
    b'{"format": "chatdb.result/1", "columns": []}',
])
def test_unreadable_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        decode_result(payload)


async def test_an_old_protobuf_entry_is_a_miss(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300)
    result = typed_result()
    await cache.put(source, "SELECT 1", result)
    old = query_service_pb2.ExecuteSqlResponse(
        columns=columns_to_proto(result.columns), rows=rows_to_proto(result.columns, result.rows), row_count=1)
    async with store.session() as session:
        await session.execute(update(ResultCacheRow).values(payload=old.SerializeToString()))
    assert await cache.get(source, "SELECT 1") is None
    assert await cache.get(source, "SELECT 1", allow_stale=True) is None
    await cache.put(source, "SELECT 1", result)
    hit = await cache.get(source, "SELECT 1")
    assert hit is not None and hit.result == result


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
    result = typed_result(truncated=True)
    await cache.put(source, "SELECT * FROM t LIMIT 10", result)
    hit = await cache.get(source, "select *   from t limit 10")
    assert hit is not None and hit.fresh and hit.result.truncated
    assert hit.result == result
    assert type(hit.result.rows[0][0]) is int and hit.result.rows[0][3] is None
    wire = rows_to_proto(hit.result.columns, hit.result.rows)
    assert wire[0].values[0].WhichOneof("kind") == "int_value"
    assert wire[0].values[1].decimal_value == "12.50"


async def test_entries_are_per_source(store: MetadataStore) -> None:
    shop, other = await add_source_row(store, "shop"), await add_source_row(store, "other")
    cache = ResultCache(store, ttl_s=300)
    await cache.put(shop, "SELECT 1", typed_result())
    assert await cache.get(other, "SELECT 1", allow_stale=True) is None


async def test_entries_are_per_policy_scope(store: MetadataStore) -> None:
    shop = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300)
    await cache.put(shop, "SELECT 1", typed_result(), scope="eu")
    assert await cache.get(shop, "SELECT 1", allow_stale=True) is None
    assert await cache.get(shop, "SELECT 1", allow_stale=True, scope="us") is None
    assert await cache.get(shop, "SELECT 1", scope="eu") is not None
    assert sql_hash("SELECT 1", Dialect.SQLITE, "") == sql_hash("SELECT 1", Dialect.SQLITE)


async def test_zero_ttl_serves_only_stale(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=0)
    await cache.put(source, "SELECT 1", typed_result())
    assert await cache.get(source, "SELECT 1") is None
    stale = await cache.get(source, "SELECT 1", allow_stale=True)
    assert stale is not None and not stale.fresh and stale.result == typed_result()


async def test_put_replaces_the_entry(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300)
    result = typed_result()
    await cache.put(source, "SELECT 1", result)
    await cache.put(source, "SELECT 1", Rows(result.columns[:1], [], truncated=False))
    hit = await cache.get(source, "SELECT 1")
    assert hit is not None and hit.row_count == 0 and len(hit.result.columns) == 1


async def test_entries_older_than_a_day_are_not_served(store: MetadataStore) -> None:
    source = await add_source_row(store, "shop")
    cache = ResultCache(store, ttl_s=300, purge_every_s=0)
    await cache.put(source, "SELECT 1", typed_result())
    async with store.session() as session:
        await session.execute(update(ResultCacheRow).values(cached_time=utcnow() - timedelta(days=2)))
    assert await cache.get(source, "SELECT 1", allow_stale=True) is None
    await cache.put(source, "SELECT 2", typed_result())
    async with store.session() as session:
        remaining = (await session.execute(ResultCacheRow.__table__.select())).all()
    assert len(remaining) == 1  # the expired entry was dropped
