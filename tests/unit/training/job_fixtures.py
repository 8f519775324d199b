"""Fixtures for training tests: real metadata stores, SQLite target databases registered
through the real SchemaCatalog, Milvus Lite in a temp dir and the real embedding model.

Imported by the unit and the integration training tests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatdb_server.crypto import SecretBox
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow
from chatdb_server.pagination import PageTokens
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.records import DataSourceSpec
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.jobs import JobStore
from chatdb_server.training.service import TrainingService
from chatdb_server.training.worker import WorkerOptions
from tests.support.trusted_targets import trusted_admission

FAST_WORKER = WorkerOptions(poll_s=0.05, heartbeat_s=0.2, stale_after_s=30.0, recover_every_s=5.0)


async def add_source(store: MetadataStore, tenant: str, source_id: str, dsn: str = "sqlite:///unused.db") -> SourceRef:
    """Register a data source row directly (for tests of the job store alone) and return its reference."""
    parsed = parse_dsn(dsn)
    row = DataSourceRow(tenant=tenant, source_id=source_id, dialect=parsed.dialect.value, dsn_sealed="-",
                        dsn_redacted=parsed.redacted)
    async with store.session() as session:
        session.add(row)
    return SourceRef(pk=row.pk, tenant=tenant, source_id=source_id, dialect=parsed.dialect, dsn=parsed)


def make_shop_database(path: Path, extra_tables: int = 0) -> Path:
    """A small SQLite shop (customers, products, orders, order_items) plus ``extra_tables`` side tables."""
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
            CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price REAL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                                 placed_at TEXT);
            CREATE TABLE order_items (order_id INTEGER REFERENCES orders(id),
                                      product_id INTEGER REFERENCES products(id), quantity INTEGER);
            INSERT INTO customers VALUES (1, 'Ada', 'London'), (2, 'Linus', 'Helsinki');
            INSERT INTO products VALUES (1, 'Keyboard', 49.5), (2, 'Mouse', 19.0);
            INSERT INTO orders VALUES (1, 1, '2024-01-02'), (2, 2, '2024-02-03');
            INSERT INTO order_items VALUES (1, 1, 2), (2, 2, 1);
        """)
        for index in range(extra_tables):
            conn.execute(f"CREATE TABLE side_{index:03d} (id INTEGER PRIMARY KEY, label TEXT, "
                         f"customer_id INTEGER REFERENCES customers(id))")
    return path


async def register_sqlite(catalog: SchemaCatalog, tenant: str, source_id: str, path: Path) -> SourceRef:
    """Create a data source through the catalog (connection test and discovery included)."""
    await catalog.create(tenant, DataSourceSpec(dsn=f"sqlite:///{path}"), source_id=source_id)
    return await catalog.resolve(tenant, f"dataSources/{source_id}")


@dataclass
class TrainingStack:
    """Everything a TrainingService runs on, built from real parts in one directory."""

    data_dir: Path
    store: MetadataStore
    catalog: SchemaCatalog
    vectors: VectorStore
    service: TrainingService
    milvus_path: Path

    async def close(self) -> None:
        """Stop the worker and release the stores (Milvus Lite's in-process server included)."""
        await self.service.stop(grace_s=2.0)
        self.vectors.close()
        release_milvus_lite(self.milvus_path)
        await self.store.close()


def release_milvus_lite(path: Path) -> None:
    """Stop this process's Milvus Lite server for ``path``, so its data dir is closed as after an exit."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(path))


def stack_key(data_dir: Path) -> bytes:
    """A Fernet key kept in ``data_dir``, so a reopened stack reads what an earlier one sealed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "test.key"
    if not key_file.exists():
        key_file.write_bytes(Fernet.generate_key())
    return key_file.read_bytes()


async def open_stack(data_dir: Path, *, metadata_url: str = "", worker: WorkerOptions = FAST_WORKER,
                     batch_size: int = 64, embedder: Embedder | None = None, worker_id: str | None = None,
                     vectors: VectorStore | None = None, milvus_uri: str = "") -> TrainingStack:
    """Open (or reopen) a training stack in ``data_dir``; the worker is not started. Vectors go where the
    ``milvus_uri`` setting says (empty: Milvus Lite in ``data_dir``), unless ``vectors`` is given."""
    key = stack_key(data_dir)
    settings = Settings(data_dir=data_dir, metadata_url=metadata_url, job_poll_s=worker.poll_s, grace_s=2.0,
                        milvus_uri=milvus_uri)
    store = MetadataStore(settings.resolved_metadata_url)
    await store.migrate()
    pages = PageTokens(key)
    catalog = SchemaCatalog(store, SecretBox(key), pages, admission=trusted_admission(data_dir, store.url))
    embedder = embedder or Embedder.shared()
    milvus_path = data_dir / "milvus.db"
    vectors = vectors or VectorStore(settings.resolved_milvus_uri, settings.milvus_token, dim=embedder.dim)
    service = TrainingService(store, catalog, vectors, embedder, pages, settings, worker_options=worker,
                              worker_id=worker_id, batch_size=batch_size)
    return TrainingStack(data_dir, store, catalog, vectors, service, milvus_path)


@pytest.fixture
def metadata(metadata_store: MetadataStore) -> MetadataStore:
    """A migrated metadata store in a SQLite file of its own."""
    return metadata_store


@pytest.fixture
def jobs(metadata: MetadataStore) -> JobStore:
    """A job store over the metadata store."""
    return JobStore(metadata)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[TrainingStack]:
    """A training stack in the test's temp dir (worker not started: tests drive it)."""
    opened = await open_stack(tmp_path / "chatdb")
    try:
        yield opened
    finally:
        await opened.close()
