"""The retriever's in-process copies follow the source's version, on a Milvus Lite server and on a real
Milvus server: another replica's writes (its own vector-store client) show on the first question that
brings a newer version, and never before it; an older version never replaces a newer copy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatdb_server.metadata.generations import SourceVersion
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import ColumnStructure, SourceRef, StoredTable, TableStructure
from tests.support.milvus_server import MilvusBackend

SOURCE = SourceRef(pk=7, tenant="acme", source_id="travel", dialect=parse_dsn("sqlite:///t.db").dialect,
                   dsn=parse_dsn("sqlite:///t.db"))
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
QUESTION = "which flights leave Boston in the morning"


def table(name: str, *columns: str) -> StoredTable:
    structure = TableStructure(name=name, columns=tuple(ColumnStructure(c, "TEXT") for c in columns))
    return StoredTable(structure, "", f"fp-{name}", f"fp-{name}")


TABLES = [table("ledger", "invoice", "amount", "due_date"), table("roster", "employee", "salary", "department")]


def version(generation: int, created: datetime = CREATED) -> SourceVersion:
    return SourceVersion(pk=SOURCE.pk, created=created, generation=generation)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.shared()


@pytest.fixture
def replicas(milvus_backend: MilvusBackend, tmp_path: Path,
             embedder: Embedder) -> Iterator[tuple[VectorStore, VectorStore]]:
    """A writing replica's and a reading replica's clients of one Milvus (each counts only its own writes)."""
    with milvus_backend.shared_uri(tmp_path / "milvus") as uri:
        writer, reader = VectorStore(uri, dim=embedder.dim), VectorStore(uri, dim=embedder.dim)
        try:
            yield writer, reader
        finally:
            reader.close()
            writer.close()


def document(embedder: Embedder, name: str, text: str) -> TableVector:
    return TableVector(name, text, embedder.encode([text])[0], f"fp-{name}")


async def test_another_replicas_writes_show_with_the_next_version_and_not_before(
        replicas: tuple[VectorStore, VectorStore], embedder: Embedder) -> None:
    writer, reader = replicas
    namespace = SOURCE.namespace
    writer.upsert_tables(namespace, [document(embedder, "ledger", "invoices: amount due, due date, paid"),
                                     document(embedder, "roster", "employees: salary, department, hire date")])
    retriever = Retriever(embedder, reader)
    first = await retriever.retrieve(SOURCE, QUESTION, TABLES, [], k=1, example_k=1, version=version(1))
    assert first.examples == []

    # Another replica re-documents a table in place (same name and fingerprint: the tables the metadata
    # store lists do not change) and adds a golden example, then commits generation 2.
    writer.upsert_tables(namespace, [document(embedder, "roster", "flights: origin city, departure time")])
    writer.upsert_example(namespace, "ex-1", QUESTION, "SELECT * FROM roster", embedder.encode([QUESTION])[0])

    same = await retriever.retrieve(SOURCE, QUESTION, TABLES, [], k=1, example_k=1, version=version(1))
    assert same.tables == first.tables and same.examples == []  # the copy of generation 1 answers it
    newer = await retriever.retrieve(SOURCE, QUESTION, TABLES, [], k=1, example_k=1, version=version(2))
    assert newer.table_names == ["roster"] and newer.tables[0].score > first.tables[0].score
    assert [e.example_id for e in newer.examples] == ["ex-1"]

    writer.delete_example(namespace, "ex-1")  # uncommitted as far as the reader knows
    older = await retriever.retrieve(SOURCE, QUESTION, TABLES, [], k=1, example_k=1, version=version(1))
    assert older.tables == newer.tables and [e.example_id for e in older.examples] == ["ex-1"]

    # The same id deleted and created again is another source, whatever its generation.
    again = await retriever.retrieve(SOURCE, QUESTION, TABLES, [], k=1, example_k=1,
                                     version=version(0, created=datetime(2026, 2, 1, tzinfo=UTC)))
    assert again.examples == []


async def test_a_copy_loaded_without_a_version_is_replaced_by_a_versioned_one(
        replicas: tuple[VectorStore, VectorStore], embedder: Embedder) -> None:
    writer, reader = replicas
    namespace = SOURCE.namespace
    writer.upsert_tables(namespace, [document(embedder, "ledger", "invoices: amount due, due date, paid")])
    retriever = Retriever(embedder, reader)
    trained = TABLES[:1]
    assert (await retriever.retrieve(SOURCE, QUESTION, trained, [], k=1, example_k=1)).examples == []
    writer.upsert_example(namespace, "ex-2", QUESTION, "SELECT * FROM ledger", embedder.encode([QUESTION])[0])
    assert (await retriever.retrieve(SOURCE, QUESTION, trained, [], k=1, example_k=1)).examples == []
    versioned = await retriever.retrieve(SOURCE, QUESTION, trained, [], k=1, example_k=1, version=version(1))
    assert [e.example_id for e in versioned.examples] == ["ex-2"]
