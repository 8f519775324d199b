"""The migrations build exactly the tables the ORM models describe, and step down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import Base


def differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_store_matches_the_models(metadata_store: MetadataStore) -> None:
    async with metadata_store.engine.connect() as conn:
        diff = await conn.run_sync(differences)
    assert diff == []
