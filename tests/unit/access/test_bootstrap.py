"""The first start with an empty key store leaves an admin key in a private file, and only then."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chatdb_server.access.bootstrap import bootstrap_admin_key, import_service_key, read_admin_key
from chatdb_server.access.keys import ApiKeyStore, new_secret
from chatdb_server.access.permissions import Role
from chatdb_server.errors import InvalidArgument
from chatdb_server.metadata.db import MetadataStore


@pytest.fixture
def keys(metadata_store: MetadataStore) -> ApiKeyStore:
    return ApiKeyStore(metadata_store)


async def test_an_empty_store_gets_an_admin_key_in_a_private_file(keys: ApiKeyStore, tmp_path: Path) -> None:
    path = await bootstrap_admin_key(keys, tmp_path)
    assert path == tmp_path / "admin.key" and stat.S_IMODE(path.stat().st_mode) == 0o600
    key = await keys.authenticate(read_admin_key(tmp_path))
    assert key.tenant == "default" and {Role.ADMIN, Role.OPERATOR} <= key.roles


async def test_a_second_start_creates_no_other_key(keys: ApiKeyStore, tmp_path: Path) -> None:
    await bootstrap_admin_key(keys, tmp_path)
    first = read_admin_key(tmp_path)
    assert await bootstrap_admin_key(keys, tmp_path) is None
    assert read_admin_key(tmp_path) == first and await keys.count() == 1


async def test_a_configured_key_is_stored_once_and_no_file_is_written(keys: ApiKeyStore, tmp_path: Path) -> None:
    secret = new_secret()
    assert await bootstrap_admin_key(keys, tmp_path, secret) is None
    await bootstrap_admin_key(keys, tmp_path, secret)
    assert not (tmp_path / "admin.key").exists() and await keys.count() == 1
    assert Role.ADMIN in (await keys.authenticate(secret)).roles


async def test_a_malformed_configured_key_names_the_setting(keys: ApiKeyStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await bootstrap_admin_key(keys, tmp_path, "hunter2")
    assert caught.value.metadata["field"] == "bootstrap_admin_key"


def test_no_key_file_reads_empty(tmp_path: Path) -> None:
    assert read_admin_key(tmp_path) == ""


async def test_a_configured_service_key_is_stored_as_an_operator_once(keys: ApiKeyStore, tmp_path: Path) -> None:
    secret = new_secret()
    await import_service_key(keys, secret)
    await import_service_key(keys, secret)
    key = await keys.authenticate(secret)
    assert key.roles == frozenset({Role.OPERATOR}) and await keys.count() == 1
