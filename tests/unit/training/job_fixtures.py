"""Fixtures for job tests: a real metadata store (SQLite file) with data sources in it.

Data sources are inserted as rows here because these tests exercise the job store, not
data-source registration (SchemaService's job).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatdb.connectors.dsn import parse_dsn
from chatdb.metadata.db import MetadataStore
from chatdb.metadata.models import DataSourceRow
from chatdb.schema.model import SourceRef
from chatdb.training.jobs import JobStore


async def add_source(store: MetadataStore, tenant: str, source_id: str, dsn: str = "sqlite:///unused.db") -> SourceRef:
    """Register a data source row directly and return its reference."""
    parsed = parse_dsn(dsn)
    row = DataSourceRow(tenant=tenant, source_id=source_id, dialect=parsed.dialect.value, dsn_sealed="-",
                        dsn_redacted=parsed.redacted)
    async with store.session() as session:
        session.add(row)
    return SourceRef(pk=row.pk, tenant=tenant, source_id=source_id, dialect=parsed.dialect, dsn=parsed)


@pytest.fixture
async def metadata(tmp_path: Path) -> AsyncIterator[MetadataStore]:
    """A migrated metadata store in a SQLite file of its own."""
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}")
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def jobs(metadata: MetadataStore) -> JobStore:
    """A job store over the metadata store."""
    return JobStore(metadata)
