"""The embedded data directory is private: 0700, and the key and metadata store in it 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatdb_server.server.components import Components
from chatdb_server.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable, as many shells have."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
async def test_a_new_data_dir_and_its_files_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "chatdb"
    components = Components(Settings(data_dir=data_dir))
    try:
        await components.start()
        assert mode(data_dir) == 0o700
        assert mode(data_dir / "secret.key") == 0o600
        assert mode(data_dir / "metadata.db") == 0o600
        assert (data_dir / "metadata.db").stat().st_size > 0  # the migrated store, not an empty file
    finally:
        await components.close()


@pytest.mark.usefixtures("loose_umask")
async def test_an_existing_loose_data_dir_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "chatdb"
    data_dir.mkdir(mode=0o755)
    (data_dir / "metadata.db").touch(mode=0o644)
    components = Components(Settings(data_dir=data_dir))
    try:
        assert mode(data_dir) == 0o700
        assert mode(data_dir / "metadata.db") == 0o600
    finally:
        await components.close()


async def test_a_metadata_url_leaves_no_sqlite_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "chatdb"
    elsewhere = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"
    components = Components(Settings(data_dir=data_dir, metadata_url=elsewhere))
    try:
        assert not (data_dir / "metadata.db").exists()
    finally:
        await components.close()
