"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from chatdb_server import log
from chatdb_server.metadata.db import MetadataStore
from tests.support.databases import mysql_database, postgres_database
from tests.support.milvus_server import milvus_backend, milvus_server, milvus_uri  # noqa: F401  (fixtures, used by name)


@pytest.fixture(autouse=True)
def _logging() -> None:
    """Every test starts with the process's default logging (JSON, info), whatever an earlier test set."""
    log.configure("info", "json")


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    with postgres_database() as dsn:
        yield dsn


@pytest.fixture
def mysql_dsn() -> Iterator[str]:
    """A fresh, empty MariaDB database, dropped after the test."""
    with mysql_database() as dsn:
        yield dsn


@pytest.fixture
async def metadata_store(tmp_path: Path) -> AsyncIterator[MetadataStore]:
    """A migrated metadata store in a SQLite file of the test's own."""
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}")
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()
