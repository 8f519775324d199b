"""The vector store of record: table documents and golden examples in Milvus.

One code path for Milvus Lite (a local file, the embedded default) and a Milvus standalone
or cluster (an ``http://`` URI, optionally ``http://host:port/database``). Two collections, each
partitioned by a ``namespace`` key (``tenant/source_id``): every search, count and listing carries
a namespace filter, and every delete either does too or names primary keys, which are derived
from the namespace and the table (or example) id — so no caller can ever reach another
namespace's rows, and retraining replaces vectors in place, never duplicates them.

What differs between Lite and a server (consistency, how rows are replaced, flushing, the
namespace index) is decided in :mod:`chatdb_server.retrieval.vector_milvus`; what only Lite needs
in :mod:`chatdb_server.retrieval.vector_lite`. Filter templates are unsupported on Lite, so
values are escaped into filter strings instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chatdb_server.errors import FailedPrecondition, InvalidArgument, Unavailable
from chatdb_server.log import get_logger
from chatdb_server.retrieval.embeddings import Vector
from chatdb_server.retrieval.vector_lite import LiteFiles, is_lite_uri
from chatdb_server.retrieval.vector_milvus import (
    READ_YOUR_WRITES,
    SNAPSHOT,
    WRITE_BATCH,
    MilvusTraits,
    TimedClient,
    ids_filter,
    replace_rows,
    settle_deletes,
)

__all__ = ["INDEX_PARAMS", "ExampleHit", "ExampleVector", "TableVector", "VectorStore", "is_lite_uri", "quote",
           "vector_id"]

log = get_logger(__name__)

DEFAULT_TIMEOUT_S = 30.0
"""How long one call to Milvus may take, its retries included (``milvus_timeout_s``)."""
TABLES_SUFFIX = "tables"
EXAMPLES_SUFFIX = "examples"
NUM_PARTITIONS = 64
"""Partitions a namespace key hashes into (Lite creates one more)."""

_NAMESPACE_MAX = 256
_TABLE_MAX = 512
_TEXT_MAX = 16_384
_SQL_MAX = 65_535
_EXAMPLE_ID_MAX = 128
_QUERY_PAGE = 16_384
"""Milvus caps offset + limit of one query at 16,384 rows; beyond that an iterator pages."""

INDEX_PARAMS: dict[str, dict[str, Any]] = {
    "FLAT": {},
    "IVF_FLAT": {"nlist": 128},
    "HNSW": {"M": 16, "efConstruction": 200},
    "AUTOINDEX": {},
}
"""Index types this store can build, with their build parameters."""


@dataclass(frozen=True)
class TableVector:
    """A table's document and its embedding, ready to store."""

    table: str
    text: str
    vector: Vector
    fingerprint: str = ""
    """The schema fingerprint the document was built from (lets a resumed job skip it)."""


@dataclass(frozen=True)
class ExampleVector:
    """A golden example's question embedding, ready to store."""

    example_id: str
    question: str
    sql: str
    vector: Vector


@dataclass(frozen=True)
class ExampleHit:
    """An example found by similarity of its question."""

    example_id: str
    question: str
    sql: str
    score: float


def quote(value: str) -> str:
    """``value`` as a Milvus filter string literal, with quotes, backslashes and controls escaped."""
    return json.dumps(value, ensure_ascii=False)


def vector_id(namespace: str, key: str) -> str:
    """The deterministic primary key of ``key`` (a table name or an example id) in ``namespace``."""
    return hashlib.blake2b(f"{namespace}\x00{key}".encode(), digest_size=16).hexdigest()


def _truncate(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes (Milvus VARCHAR lengths are bytes)."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode(errors="ignore")


def _check_namespace(namespace: str) -> None:
    if not namespace or len(namespace.encode()) > _NAMESPACE_MAX:
        raise InvalidArgument("namespace", f"must be 1 to {_NAMESPACE_MAX} bytes")


class VectorStore:
    """Table and example vectors in Milvus, isolated per namespace.

    ``uri`` is a Milvus Lite file path or a server URI; ``token`` is ``user:password`` when the
    server needs one. ``collection_prefix`` lets several deployments share one Milvus database.
    Methods are blocking (call them from a thread in async code); the client is thread-safe.
    """

    def __init__(self, uri: str, token: str = "", dim: int = 384, *, collection_prefix: str = "chatdb",
                 index_type: str = "", timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """``index_type`` empty picks FLAT on Milvus Lite (exact, and measured fastest there at
        100k vectors: the cost is Lite's own overhead) and HNSW on a Milvus server. Each call to Milvus
        ends within ``timeout_s`` (:class:`TimedClient`)."""
        index_type = index_type or ("FLAT" if is_lite_uri(uri) else "HNSW")
        if index_type not in INDEX_PARAMS:
            raise InvalidArgument("index_type", f"one of {', '.join(INDEX_PARAMS)}")
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        self.uri = uri
        self.dim = dim
        self.index_type = index_type
        self.tables_collection = f"{collection_prefix}_{TABLES_SUFFIX}"
        self.examples_collection = f"{collection_prefix}_{EXAMPLES_SUFFIX}"
        self._generations: defaultdict[str, int] = defaultdict(int)
        self._generation_lock = threading.Lock()
        self._lite_path = os.path.abspath(uri) if is_lite_uri(uri) else ""
        self._closed = False
        if self._lite_path:
            LiteFiles.open(self._lite_path)
        try:
            self._client = TimedClient(MilvusClient(uri=uri, token=token, timeout=timeout_s), timeout_s)
            self.traits = MilvusTraits.of(self._client, lite=bool(self._lite_path))
        except MilvusException as exc:
            if self._lite_path:
                LiteFiles.close(self._lite_path)
                raise Unavailable(
                    f"Milvus Lite file {os.path.basename(self._lite_path)!r} cannot be opened ({exc.message}); "
                    "one process owns a Milvus Lite file at a time: give each process its own data dir, "
                    "or run a Milvus (or milvus-lite) server and set CHATDB_MILVUS_URI") from exc
            raise Unavailable(f"vector store unreachable: {exc.message}") from exc
        self._ensure_collections()

    # -- collections -------------------------------------------------------------------------

    def _ensure_collections(self) -> None:
        from pymilvus import DataType

        def tables_fields(schema: Any) -> None:
            schema.add_field("table_name", DataType.VARCHAR, max_length=_TABLE_MAX)
            schema.add_field("fingerprint", DataType.VARCHAR, max_length=128)
            schema.add_field("text", DataType.VARCHAR, max_length=_TEXT_MAX)

        def examples_fields(schema: Any) -> None:
            schema.add_field("example_id", DataType.VARCHAR, max_length=_EXAMPLE_ID_MAX)
            schema.add_field("question", DataType.VARCHAR, max_length=_TEXT_MAX)
            schema.add_field("sql", DataType.VARCHAR, max_length=_SQL_MAX)

        self._ensure(self.tables_collection, tables_fields)
        self._ensure(self.examples_collection, examples_fields)

    def _ensure(self, name: str, add_fields: Any) -> None:
        from pymilvus import DataType, MilvusClient

        if self._client.has_collection(name):
            dim = next(f["params"]["dim"] for f in self._client.describe_collection(name)["fields"]
                       if f["name"] == "vector")
            if int(dim) != self.dim:
                raise FailedPrecondition(
                    f"collection {name} holds {dim}-d vectors but the embedding model makes {self.dim}-d ones; "
                    "use the model it was trained with, or drop the collection and retrain",
                    "BACKEND_UNAVAILABLE", {"collection": name})
            self._client.load_collection(name)
            return
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, max_length=64, is_primary=True)
        schema.add_field("namespace", DataType.VARCHAR, max_length=_NAMESPACE_MAX, is_partition_key=True)
        add_fields(schema)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        index = self._client.prepare_index_params()
        index.add_index(field_name="vector", index_type=self.index_type, metric_type="COSINE",
                        params=INDEX_PARAMS[self.index_type])
        index.add_index(field_name="namespace", index_type=self.traits.namespace_index)
        # The collection's default level serves clients that name none (an operator's queries);
        # this store names one on every read.
        self._client.create_collection(name, schema=schema, index_params=index, num_partitions=NUM_PARTITIONS,
                                       consistency_level=READ_YOUR_WRITES)
        log.info("vector_collection_created", collection=name, dim=self.dim, index=self.index_type)

    def flush(self) -> None:
        """Seal pending writes of both collections where that matters (Milvus Lite, whose searches
        over unflushed rows are slow); a no-op on a server, which needs no flush."""
        if self.traits.flush_after_write:
            self._client.flush(self.tables_collection)
            self._client.flush(self.examples_collection)

    def close(self) -> None:
        """Release the client; for Milvus Lite, the last store of a file also stops its embedded
        server, so another process can open the file."""
        if self._closed:
            return
        self._closed = True
        self._client.close()
        if self._lite_path:
            LiteFiles.close(self._lite_path)

    # -- generations: lets in-process caches notice this process's writes ------------------------

    def generation(self, namespace: str) -> int:
        """A number that changes whenever this process writes to ``namespace``."""
        with self._generation_lock:
            return self._generations[namespace]

    def _bump(self, namespace: str) -> None:
        with self._generation_lock:
            self._generations[namespace] += 1

    # -- shared helpers ------------------------------------------------------------------------

    @staticmethod
    def _scope(namespace: str, extra: str = "") -> str:
        _check_namespace(namespace)
        scope = f"namespace == {quote(namespace)}"
        return f"{scope} and ({extra})" if extra else scope

    def _written(self, collection: str, namespace: str, *, flush: bool = True, deleted: bool = False) -> None:
        """After a write: flush where that matters (unless the caller batches), make an explicit delete
        visible to this process's next reads, bump the generation."""
        if flush and self.traits.flush_after_write:
            self._client.flush(collection)
        if deleted and self.traits.settle_after_delete:
            settle_deletes(self._client, collection)
        self._bump(namespace)

    def _count(self, collection: str, namespace: str) -> int:
        rows = self._client.query(collection, filter=self._scope(namespace), output_fields=["count(*)"],
                                  consistency_level=SNAPSHOT)
        return int(rows[0]["count(*)"]) if rows else 0

    def _rows(self, collection: str, namespace: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every row of ``namespace`` with ``fields`` as of now (whoever wrote them), paging past
        Milvus's per-query cap."""
        scope = self._scope(namespace)
        rows: list[dict[str, Any]] = self._client.query(collection, filter=scope, output_fields=fields,
                                                        limit=_QUERY_PAGE, consistency_level=SNAPSHOT)
        if len(rows) < _QUERY_PAGE:
            return rows
        rows = []
        iterator = self._client.query_iterator(collection, batch_size=4096, filter=scope, output_fields=fields,
                                               consistency_level=SNAPSHOT)
        try:
            while batch := iterator.next():
                rows.extend(batch)
        finally:
            iterator.close()
        return rows

    def _delete_keys(self, collection: str, namespace: str, keys: Iterable[str]) -> int:
        """Delete ``keys`` of ``namespace``; returns how many of them were stored.

        The count comes from a query, not from ``delete``'s reply, which differs between Lite and a
        server. The delete names every requested id, found or not.
        """
        ids = list(dict.fromkeys(vector_id(namespace, key) for key in keys))
        if not ids:
            return 0
        found = 0
        for start in range(0, len(ids), WRITE_BATCH):
            batch = ids[start:start + WRITE_BATCH]
            found += len(self._client.query(collection, filter=self._scope(namespace, ids_filter(batch)),
                                            output_fields=["id"], consistency_level=SNAPSHOT))
            self._client.delete(collection, ids=batch)
        self._written(collection, namespace, deleted=True)
        return found

    def _search(self, collection: str, namespace: str, vector: Vector, k: int,
                fields: list[str]) -> list[dict[str, Any]]:
        if k <= 0:
            return []
        self._check_vector(vector)
        hits = self._client.search(collection, data=[np.asarray(vector, dtype=np.float32).tolist()],
                                   filter=self._scope(namespace), limit=k, output_fields=fields,
                                   search_params={"metric_type": "COSINE"}, consistency_level=READ_YOUR_WRITES)
        return list(hits[0]) if hits else []

    def _check_vector(self, vector: Vector) -> None:
        if vector.shape[-1] != self.dim:
            raise InvalidArgument("vector", f"has {vector.shape[-1]} dimensions; the store holds {self.dim}")

    # -- tables ----------------------------------------------------------------------------------

    def upsert_tables(self, namespace: str, items: Sequence[TableVector], *, flush: bool = True) -> int:
        """Insert or replace the vectors of ``items`` (by table name); returns the count.

        A bulk load of many batches may pass ``flush=False`` and call :meth:`flush` once at the end:
        on Milvus Lite each flush costs a fraction of a second, and searches are slow until it runs.
        """
        if not items:
            return 0
        _check_namespace(namespace)
        rows = []
        for item in items:
            self._check_vector(item.vector)
            rows.append({
                "id": vector_id(namespace, item.table), "namespace": namespace,
                "table_name": _truncate(item.table, _TABLE_MAX), "fingerprint": _truncate(item.fingerprint, 128),
                "text": _truncate(item.text, _TEXT_MAX),
                "vector": np.asarray(item.vector, dtype=np.float32).tolist(),
            })
        replace_rows(self._client, self.tables_collection, rows)
        self._written(self.tables_collection, namespace, flush=flush)
        return len(rows)

    def delete_tables(self, namespace: str, tables: Iterable[str]) -> int:
        """Remove the vectors of ``tables`` from ``namespace``; returns how many were removed."""
        return self._delete_keys(self.tables_collection, namespace, tables)

    def search_tables(self, namespace: str, vector: Vector, k: int) -> list[tuple[str, float]]:
        """The ``k`` tables of ``namespace`` most similar to ``vector``: (table, cosine), best first."""
        hits = self._search(self.tables_collection, namespace, vector, k, ["table_name"])
        return [(hit["entity"]["table_name"], float(hit["distance"])) for hit in hits]

    def count_tables(self, namespace: str) -> int:
        """How many table vectors ``namespace`` holds."""
        return self._count(self.tables_collection, namespace)

    def table_names(self, namespace: str) -> list[str]:
        """Names of the tables ``namespace`` holds vectors for, sorted."""
        return sorted(row["table_name"] for row in self._rows(self.tables_collection, namespace, ["table_name"]))

    def table_fingerprints(self, namespace: str) -> dict[str, str]:
        """Table name → the fingerprint its stored vector was built from."""
        rows = self._rows(self.tables_collection, namespace, ["table_name", "fingerprint"])
        return {row["table_name"]: row["fingerprint"] for row in rows}

    def table_vectors(self, namespace: str) -> tuple[list[str], Vector]:
        """Every table name of ``namespace`` and its vector (one row each), for an in-process index."""
        rows = self._rows(self.tables_collection, namespace, ["table_name", "vector"])
        names = [row["table_name"] for row in rows]
        matrix = (np.asarray([row["vector"] for row in rows], dtype=np.float32) if rows
                  else np.zeros((0, self.dim), dtype=np.float32))
        return names, matrix

    def table_document(self, namespace: str, table: str) -> str | None:
        """The stored document text of ``table``, or None."""
        rows = self._client.query(self.tables_collection,
                                  filter=self._scope(namespace, f"id == {quote(vector_id(namespace, table))}"),
                                  output_fields=["text"], consistency_level=SNAPSHOT)
        return rows[0]["text"] if rows else None

    # -- examples --------------------------------------------------------------------------------

    def upsert_examples(self, namespace: str, items: Sequence[ExampleVector]) -> int:
        """Insert or replace examples (by example id); returns the count."""
        if not items:
            return 0
        _check_namespace(namespace)
        rows = []
        for item in items:
            self._check_vector(item.vector)
            if not item.example_id or len(item.example_id.encode()) > _EXAMPLE_ID_MAX:
                raise InvalidArgument("example_id", f"must be 1 to {_EXAMPLE_ID_MAX} bytes")
            rows.append({
                "id": vector_id(namespace, item.example_id), "namespace": namespace,
                "example_id": item.example_id, "question": _truncate(item.question, _TEXT_MAX),
                "sql": _truncate(item.sql, _SQL_MAX), "vector": np.asarray(item.vector, dtype=np.float32).tolist(),
            })
        replace_rows(self._client, self.examples_collection, rows)
        self._written(self.examples_collection, namespace)
        return len(rows)

    def upsert_example(self, namespace: str, example_id: str, question: str, sql: str, vector: Vector) -> None:
        """Insert or replace one example."""
        self.upsert_examples(namespace, [ExampleVector(example_id, question, sql, vector)])

    def delete_example(self, namespace: str, example_id: str) -> bool:
        """Remove one example; whether it was there."""
        return self._delete_keys(self.examples_collection, namespace, [example_id]) > 0

    def search_examples(self, namespace: str, vector: Vector, k: int) -> list[ExampleHit]:
        """The ``k`` examples whose questions are most similar to ``vector``, best first."""
        hits = self._search(self.examples_collection, namespace, vector, k, ["example_id", "question", "sql"])
        return [ExampleHit(h["entity"]["example_id"], h["entity"]["question"], h["entity"]["sql"],
                           float(h["distance"])) for h in hits]

    def count_examples(self, namespace: str) -> int:
        """How many examples ``namespace`` holds."""
        return self._count(self.examples_collection, namespace)

    def examples(self, namespace: str) -> tuple[list[ExampleHit], Vector]:
        """Every example of ``namespace`` (score 0) with its question vector, for an in-process index."""
        rows = self._rows(self.examples_collection, namespace, ["example_id", "question", "sql", "vector"])
        hits = [ExampleHit(r["example_id"], r["question"], r["sql"], 0.0) for r in rows]
        matrix = (np.asarray([r["vector"] for r in rows], dtype=np.float32) if rows
                  else np.zeros((0, self.dim), dtype=np.float32))
        return hits, matrix

    # -- whole namespaces --------------------------------------------------------------------------

    def delete_namespace(self, namespace: str) -> None:
        """Remove every table and example vector of ``namespace`` (a deleted data source)."""
        scope = self._scope(namespace)
        for collection in (self.tables_collection, self.examples_collection):
            self._client.delete(collection, filter=scope)
            self._written(collection, namespace, deleted=True)
