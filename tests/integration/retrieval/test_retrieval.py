"""Retrieval on Milvus Lite and on a real Milvus server, with the real embedding model: hits, join
bridges, examples, context."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, SEARCH, RetrievalSettings, Retriever
from chatdb_server.retrieval.table_indexing import index_tables
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import ColumnStructure, JoinEdge, SourceRef, StoredTable, TableStructure
from tests.support.milvus_server import MilvusBackend


def table(name: str, *columns: str, pk: str = "id", samples: dict[str, tuple[str, ...]] | None = None) -> StoredTable:
    structure = TableStructure(
        name=name, columns=tuple(ColumnStructure(c, "INTEGER" if c.endswith("id") else "TEXT", primary_key=c == pk)
                                 for c in columns),
        primary_key=(pk,), sample_values=samples or {})
    return StoredTable(structure, "", f"fp-{name}", f"fp-{name}")


def join(a: str, column: str, b: str, inferred: bool = False) -> JoinEdge:
    return JoinEdge(a, (column,), b, ("id",), inferred=inferred, confidence=0.7 if inferred else 1.0)


SHOP_TABLES = [
    table("customers", "id", "first_name", "last_name", "email", "city", samples={"city": ("Lyon", "Porto")}),
    table("orders", "id", "customer_id", "order_date", "status"),
    table("order_items", "id", "order_id", "product_id", "quantity", "unit_price"),
    table("products", "id", "product_name", "category", "list_price"),
    table("suppliers", "id", "supplier_name", "country"),
    table("employees", "id", "first_name", "last_name", "hire_date", "salary"),
    table("departments", "id", "department_name", "budget"),
    table("warehouses", "id", "warehouse_name", "capacity"),
]
GLOBEX_TABLES = [table("salaries", "id", "employee_name", "salary_amount")]
"""Another tenant's source, indexed by the tests that search it (each test stands alone)."""
SHOP_JOINS = [
    join("orders", "customer_id", "customers"),
    join("order_items", "order_id", "orders"),
    join("order_items", "product_id", "products"),
    join("products", "supplier_id", "suppliers", inferred=True),
    join("employees", "department_id", "departments"),
]


def source(tenant: str, source_id: str = "shop") -> SourceRef:
    dsn = parse_dsn("sqlite:///shop.db")
    return SourceRef(pk=1, tenant=tenant, source_id=source_id, dialect=dsn.dialect, dsn=dsn)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.shared()


@pytest.fixture(scope="module")
def store(milvus_backend: MilvusBackend, tmp_path_factory: pytest.TempPathFactory,
          embedder: Embedder) -> Iterator[VectorStore]:
    with milvus_backend.vector_store(tmp_path_factory.mktemp("milvus"), embedder.dim) as vectors:
        index_tables(embedder, vectors, source("acme").namespace, SHOP_TABLES, SHOP_JOINS)
        yield vectors


@pytest.fixture
def retriever(embedder: Embedder, store: VectorStore) -> Retriever:
    return Retriever(embedder, store)


async def test_hits_come_first_and_bridges_make_them_joinable(retriever: Retriever) -> None:
    question = "the email of each customer and the name of each product they bought"
    found = await retriever.retrieve(source("acme"), question, SHOP_TABLES, SHOP_JOINS, k=2, example_k=0)
    hits = [t.name for t in found.tables if t.reason == SEARCH]
    bridges = [t.name for t in found.tables if t.reason == JOIN_NEIGHBOR]
    assert set(hits) == {"customers", "products"}
    assert set(bridges) == {"orders", "order_items"}
    assert found.table_names == hits + bridges
    assert found.tables[0].score >= found.tables[1].score
    joins = {(j.from_table, j.to_table) for j in found.context.joins}
    assert joins == {("orders", "customers"), ("order_items", "orders"), ("order_items", "products")}


async def test_context_carries_columns_keys_and_sample_values(retriever: Retriever) -> None:
    found = await retriever.retrieve(source("acme"), "How many customers live in each city?", SHOP_TABLES,
                                     SHOP_JOINS, k=1, example_k=0)
    assert found.table_names == ["customers"]
    info = found.context.table("customers")
    assert info is not None and info.score == found.tables[0].score
    city = next(c for c in info.columns if c.name == "city")
    assert city.sample_values == ("Lyon", "Porto")
    assert next(c for c in info.columns if c.name == "id").primary_key
    assert found.embed_seconds > 0 and found.search_seconds > 0


async def test_only_trained_tables_of_the_callers_namespace_are_searched(
        retriever: Retriever, embedder: Embedder, store: VectorStore) -> None:
    index_tables(embedder, store, source("globex").namespace, GLOBEX_TABLES, [])
    untrained = [dataclasses.replace(t, trained_fingerprint=None) if t.structure.name == "employees" else t
                 for t in SHOP_TABLES]
    found = await retriever.retrieve(source("acme"), "What is the salary of each employee?", untrained, SHOP_JOINS,
                                     k=3, example_k=0)
    assert "employees" not in found.table_names
    assert "salaries" not in found.table_names
    assert set(found.table_names) <= {t.structure.name for t in SHOP_TABLES}


async def test_similar_examples_are_returned_best_first(
        retriever: Retriever, embedder: Embedder, store: VectorStore) -> None:
    ns = source("acme").namespace
    questions = {"e-count": ("How many orders were placed?", "SELECT COUNT(*) FROM orders"),
                 "e-budget": ("Which department has the largest budget?",
                              "SELECT department_name FROM departments ORDER BY budget DESC LIMIT 1"),
                 "e-email": ("List the email of every customer", "SELECT email FROM customers")}
    for example_id, (question, sql) in questions.items():
        store.upsert_example(ns, example_id, question, sql, embedder.encode_query(question))
    found = await retriever.retrieve(source("acme"), "how many orders are there", SHOP_TABLES, SHOP_JOINS,
                                     k=2, example_k=2)
    assert found.examples[0].example_id == "e-count"
    assert found.examples[0].sql == "SELECT COUNT(*) FROM orders"
    assert len(found.examples) == 2 and found.examples[0].score > found.examples[1].score
    index_tables(embedder, store, source("globex").namespace, GLOBEX_TABLES, [])
    other = await retriever.retrieve(source("globex"), "how many orders are there", GLOBEX_TABLES, [], k=1)
    assert other.examples == []


async def test_local_index_and_milvus_search_agree(embedder: Embedder, store: VectorStore) -> None:
    local = Retriever(embedder, store)
    remote = Retriever(embedder, store, RetrievalSettings(local_index=False))
    for question in ("average salary by department", "products and their suppliers", "orders per status"):
        a = await local.retrieve(source("acme"), question, SHOP_TABLES, SHOP_JOINS, k=3, example_k=1)
        b = await remote.retrieve(source("acme"), question, SHOP_TABLES, SHOP_JOINS, k=3, example_k=1)
        assert a.table_names == b.table_names
        assert [t.score for t in a.tables] == pytest.approx([t.score for t in b.tables], abs=1e-4)
        assert [e.example_id for e in a.examples] == [e.example_id for e in b.examples]


async def test_writes_in_this_process_refresh_the_local_index(
        embedder: Embedder, milvus_backend: MilvusBackend, tmp_path_factory: pytest.TempPathFactory) -> None:
    with milvus_backend.vector_store(tmp_path_factory.mktemp("milvus"), embedder.dim) as vectors:
        ref = source("initech")
        first = [table("invoices", "id", "amount", "due_date")]
        index_tables(embedder, vectors, ref.namespace, first, [])
        retriever = Retriever(embedder, vectors)
        assert await retriever.preload(ref, first) == 1
        assert (await retriever.retrieve(ref, "which flights depart from Boston", first, [], k=5)).table_names == [
            "invoices"]
        both = [*first, table("flights", "id", "origin_city", "destination_city", "departure_time")]
        index_tables(embedder, vectors, ref.namespace, both[1:], [])
        found = await retriever.retrieve(ref, "which flights depart from Boston", both, [], k=5)
        assert found.table_names[0] == "flights"


async def test_bad_input_and_untrained_sources(retriever: Retriever) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await retriever.retrieve(source("acme"), "  ", SHOP_TABLES, SHOP_JOINS)
    assert caught.value.metadata["field"] == "question"
    with pytest.raises(InvalidArgument):
        await retriever.retrieve(source("acme"), "orders", SHOP_TABLES, SHOP_JOINS, k=0)
    untrained = [dataclasses.replace(t, trained_fingerprint=None) for t in SHOP_TABLES]
    with pytest.raises(FailedPrecondition) as refused:
        await retriever.retrieve(source("acme"), "orders", untrained, SHOP_JOINS)
    assert refused.value.reason == "NOT_TRAINED"
    for settings in (RetrievalSettings(), RetrievalSettings(local_index=False)):
        lost = Retriever(retriever.embedder, retriever.vectors, settings)
        with pytest.raises(FailedPrecondition) as missing:
            await lost.retrieve(source("acme", "never-vectorised"), "orders", SHOP_TABLES, SHOP_JOINS)
        assert missing.value.reason == "NOT_TRAINED" and "holds none" in missing.value.message
