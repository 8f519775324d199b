"""Fixtures of the PredictionService integration tests: the tiny local model and a schema to train on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from chatdb.metadata.db import MetadataStore
from chatdb.prediction.adapters import AdapterRegistry
from tests.support.tiny_model import tiny_model_dir  # noqa: F401  (a fixture, used by name)


@pytest_asyncio.fixture
async def registry(tmp_path: Path) -> AsyncIterator[AdapterRegistry]:
    """An adapter registry over a fresh SQLite metadata store and model store."""
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}")
    await store.migrate()
    yield AdapterRegistry(store, tmp_path / "models")
    await store.close()
