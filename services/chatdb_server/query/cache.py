"""The result cache: rows of a source's SQL, keyed by the normalised SQL text and the policy scope.

The scope (``EffectivePolicies.cache_key()``, empty when no policy binds) keeps a result
computed under one caller's column and row policies from being served to a caller on whom
other policies act, even where both run the same SQL text.

Entries are served fresh for ``ttl_s`` (a repeated question answers without touching
the database) and, when the database is unreachable, stale for up to a day (level 3).
Results are stored in a serialisation of their own: JSON with typed cells
(:func:`chatdb_server.query.domain.cell_to_json`), so cached values come back as the same
Python values. An entry that cannot be read (an older format, a damaged row) is a miss.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlglot
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlglot.errors import SqlglotError

from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ResultCacheRow, as_utc, utcnow
from chatdb_server.query.domain import Rows, cell_from_json, cell_to_json
from chatdb_server.query.metrics import cache_lookup
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn

STALE_MAX_AGE = timedelta(days=1)
PURGE_EVERY_S = 600.0
"""How often a process drops a source's entries older than the stale limit."""
PAYLOAD_FORMAT = "chatdb.result/1"

log = get_logger(__name__)


_REPLACED = ("sql", "payload", "row_count", "truncated", "cached_time")


def _upsert(insert: Any) -> Any:
    """Insert or replace one entry: built once per dialect, so SQLAlchemy compiles it once."""
    statement = insert(ResultCacheRow)
    return statement.on_conflict_do_update(index_elements=["source_pk", "sql_hash"],
                                           set_={column: statement.excluded[column] for column in _REPLACED})


_UPSERT_SQLITE = _upsert(sqlite_insert)
_UPSERT_POSTGRESQL = _upsert(postgresql_insert)


@dataclass(frozen=True)
class CachedResult:
    """A cached result set."""

    result: Rows
    cached_time: datetime
    fresh: bool
    """Within the TTL: as good as running the SQL now."""

    @property
    def row_count(self) -> int:
        """Rows in the result."""
        return len(self.result.rows)


def encode_result(result: Rows) -> bytes:
    """The cache's serialisation of a result: UTF-8 JSON, every cell typed."""
    document = {
        "format": PAYLOAD_FORMAT,
        "columns": [[c.name, c.value_type, c.database_type] for c in result.columns],
        "rows": [[cell_to_json(cell) for cell in row] for row in result.rows],
        "truncated": result.truncated,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def decode_result(payload: bytes) -> Rows:
    """The result :func:`encode_result` wrote; ValueError for anything else (an older entry's protobuf)."""
    try:
        document = json.loads(payload.decode())
        if not isinstance(document, dict) or document.get("format") != PAYLOAD_FORMAT:
            raise ValueError("not a cached result of this format")
        columns = [ResultColumn(str(name), str(value_type), str(database_type))
                   for name, value_type, database_type in document["columns"]]
        rows = [tuple(cell_from_json(cell) for cell in row) for row in document["rows"]]
        return Rows(columns, rows, bool(document["truncated"]))
    except (UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable cached result: {type(exc).__name__}") from None


NORMALISED_MAX_CHARS = 1_000
"""Longer SQL is keyed by its text with its spacing collapsed: what is cached was rendered by the guard
already, and parsing a large query again would hold the event loop (0.1 to 0.3 s at 10,000 tokens)."""


@functools.lru_cache(maxsize=4096)
def normalised_sql(sql: str, dialect: Dialect) -> str:
    """``sql`` in sqlglot's canonical form, so spacing and keyword case do not split cache entries. Remembered
    per text: the same answers' SQL comes back with every repeated question, and parsing it is not free."""
    if len(sql) > NORMALISED_MAX_CHARS:
        return " ".join(sql.split())
    try:
        return sqlglot.parse_one(sql, read=dialect.value).sql(dialect=dialect.value, normalize=True)
    except (SqlglotError, RecursionError):
        return " ".join(sql.split())


def sql_hash(sql: str, dialect: Dialect, scope: str = "") -> str:
    """The cache key of ``sql`` within a source, for callers in policy ``scope``."""
    text = f"{dialect.value}\n{normalised_sql(sql, dialect)}"
    if scope:
        text += f"\npolicies {scope}"
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Cached results in the metadata store."""

    def __init__(self, store: MetadataStore, ttl_s: float, stale_max_age: timedelta = STALE_MAX_AGE,
                 purge_every_s: float = PURGE_EVERY_S) -> None:
        self._store = store
        self.ttl = timedelta(seconds=max(ttl_s, 0.0))
        self._stale_max_age = stale_max_age
        self._purge_every_s = purge_every_s
        self._last_purge: dict[int, float] = {}

    async def get(self, source: SourceRef, sql: str, *, allow_stale: bool = False,
                  scope: str = "") -> CachedResult | None:
        """The cached result of ``sql`` in policy ``scope``: fresh only, or also stale (up to a day old) when
        ``allow_stale``. Each lookup counts as a hit or a miss (none while the cache is off)."""
        if not allow_stale and not self.ttl:
            return None
        found = await self._find(source, sql, allow_stale, scope)
        cache_lookup(found is not None, stale_allowed=allow_stale)
        return found

    async def _find(self, source: SourceRef, sql: str, allow_stale: bool, scope: str) -> CachedResult | None:
        key = sql_hash(sql, source.dialect, scope)
        row = await self._store.read_first(select(ResultCacheRow.cached_time, ResultCacheRow.payload).where(
            ResultCacheRow.source_pk == source.pk, ResultCacheRow.sql_hash == key))
        if row is None:
            return None
        cached_time, payload = as_utc(row[0]), row[1]
        age = utcnow() - cached_time
        fresh = age < self.ttl
        if not fresh and (not allow_stale or age > self._stale_max_age):
            return None
        try:
            result = decode_result(bytes(payload))
        except ValueError as exc:
            log.info("result_cache.unreadable_entry", source=source.name, detail=str(exc)[:200])
            return None
        return CachedResult(result, cached_time, fresh)

    async def put(self, source: SourceRef, sql: str, result: Rows, *, scope: str = "") -> None:
        """Remember the result of ``sql`` in policy ``scope``, replacing an older one, in one short upsert.

        Best effort: a cache that cannot be written (a busy metadata store) never fails the answer."""
        key = sql_hash(sql, source.dialect, scope)
        payload = encode_result(result)
        now = utcnow()
        values = {"sql": sql, "payload": payload, "row_count": len(result.rows), "truncated": result.truncated,
                  "cached_time": now}
        statement = _UPSERT_SQLITE if self._store.is_sqlite else _UPSERT_POSTGRESQL
        parameters = {"tenant": source.tenant, "source_pk": source.pk, "sql_hash": key, **values}
        try:
            await self._store.write_together((statement, parameters), replaces=f"result_cache/{source.pk}/{key}")
            if time.monotonic() - self._last_purge.get(source.pk, float("-inf")) >= self._purge_every_s:
                self._last_purge[source.pk] = time.monotonic()
                async with self._store.session() as session:
                    await session.execute(delete(ResultCacheRow).where(
                        ResultCacheRow.source_pk == source.pk, ResultCacheRow.cached_time < now - self._stale_max_age))
        except SQLAlchemyError as exc:
            log.warning("result_cache.write_failed", error=type(exc).__name__, source=source.name)
