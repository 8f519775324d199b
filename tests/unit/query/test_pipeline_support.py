"""Helpers shared by the QueryService unit tests (no tests of its own)."""

from __future__ import annotations

from chatdb.connectors.dsn import parse_dsn
from chatdb.metadata.db import MetadataStore
from chatdb.metadata.models import DataSourceRow
from chatdb.schema.model import SourceRef


async def add_source_row(store: MetadataStore, source_id: str, dsn: str = "", tenant: str = "default") -> SourceRef:
    """A bare data source row (history and cache hang off it) and its reference."""
    parsed = parse_dsn(dsn or f"sqlite:///{source_id}.db")
    async with store.session() as session:
        row = DataSourceRow(tenant=tenant, source_id=source_id, dialect=parsed.dialect.value, dsn_sealed="x",
                            dsn_redacted=parsed.redacted)
        session.add(row)
        await session.flush()
        pk = row.pk
    return SourceRef(pk=pk, tenant=tenant, source_id=source_id, dialect=parsed.dialect, dsn=parsed)
