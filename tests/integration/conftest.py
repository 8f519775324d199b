"""Fixtures several integration suites share: the tiny local model and an adapter registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.generation.adapters import AdapterRegistry
from chatdb_server.metadata.db import MetadataStore
from tests.support.tiny_model import tiny_model_dir  # noqa: F401  (a fixture, used by name)


@pytest.fixture
def registry(metadata_store: MetadataStore, tmp_path: Path) -> AdapterRegistry:
    """An adapter registry over a fresh SQLite metadata store and model store."""
    return AdapterRegistry(metadata_store, tmp_path / "models")
