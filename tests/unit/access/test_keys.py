"""API keys: shown once, stored as a hash, refused when malformed, unknown, revoked or expired."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.errors import InvalidArgument, NotFound, Unauthenticated, Unavailable
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ApiKeyRow, utcnow


@pytest.fixture
def keys(metadata_store: MetadataStore) -> ApiKeyStore:
    return ApiKeyStore(metadata_store)


async def test_a_new_key_authenticates_as_its_tenant_and_roles(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["asker"], data_sources=["shop"], display_name="reports")
    key = await keys.authenticate(issued.secret)
    assert (key.tenant, key.roles, key.data_sources) == ("acme", {Role.ASKER}, ("shop",))
    assert key.last_used_time is None  # as it was read; the store now has the use
    assert (await keys.list("acme"))[0].last_used_time is not None


async def test_only_a_hash_of_the_secret_is_stored(keys: ApiKeyStore, metadata_store: MetadataStore) -> None:
    issued = await keys.create("acme", ["admin"])
    secret_part = issued.secret.split("_", 2)[2]
    assert len(secret_part) >= 40  # 32 random bytes
    async with metadata_store.session() as session:
        row = (await session.execute(select(ApiKeyRow))).scalar_one()
    assert secret_part not in row.secret_hash and issued.secret != row.secret_hash
    assert all(secret_part not in repr(k) for k in await keys.list())


@pytest.mark.parametrize("secret", [
    pytest.param("", id="empty"),
    pytest.param("not-a-key", id="malformed"),
    pytest.param("chatdb_0123456789abcdef_" + "A" * 43, id="unknown_id"),
])
async def test_bad_secrets_are_unauthenticated(keys: ApiKeyStore, secret: str) -> None:
    with pytest.raises(Unauthenticated):
        await keys.authenticate(secret)


async def test_a_right_id_with_a_wrong_secret_is_unauthenticated(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["viewer"])
    forged = issued.secret[:-4] + ("AAAA" if not issued.secret.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        await keys.authenticate(forged)


async def test_a_revoked_key_is_refused_and_revoking_twice_is_harmless(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["asker"])
    await keys.revoke(issued.key.key_id)
    again = await keys.revoke(issued.key.key_id)
    assert again.revoke_time is not None
    with pytest.raises(Unauthenticated) as caught:
        await keys.authenticate(issued.secret)
    assert caught.value.reason == "KEY_REVOKED"


async def test_another_tenants_key_cannot_be_revoked(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["asker"])
    with pytest.raises(NotFound):
        await keys.revoke(issued.key.key_id, tenant="globex")
    assert await keys.authenticate(issued.secret)


async def test_an_expired_key_is_refused(keys: ApiKeyStore, metadata_store: MetadataStore) -> None:
    issued = await keys.create("acme", ["asker"], expire_time=utcnow() + timedelta(hours=1))
    async with metadata_store.session() as session:
        row = (await session.execute(select(ApiKeyRow))).scalar_one()
        row.expire_time = utcnow() - timedelta(seconds=1)
    with pytest.raises(Unauthenticated) as caught:
        await keys.authenticate(issued.secret)
    assert caught.value.reason == "KEY_EXPIRED"


@pytest.mark.parametrize(("tenant", "roles", "field"), [
    pytest.param("", ["asker"], "api_key.tenant", id="no_tenant"),
    pytest.param("acme", [], "api_key.roles", id="no_role"),
    pytest.param("acme", ["root"], "api_key.roles", id="unknown_role"),
])
async def test_bad_key_requests_name_the_field(keys: ApiKeyStore, tenant: str, roles: list[str], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await keys.create(tenant, roles)
    assert caught.value.metadata["field"] == field


async def test_an_expiry_in_the_past_is_refused(keys: ApiKeyStore) -> None:
    with pytest.raises(InvalidArgument):
        await keys.create("acme", ["asker"], expire_time=utcnow() - timedelta(minutes=1))


async def test_keys_are_listed_per_tenant_and_counted(keys: ApiKeyStore) -> None:
    await keys.create("acme", ["asker"])
    await keys.create("globex", ["viewer"])
    assert [k.tenant for k in await keys.list("acme")] == ["acme"]
    assert await keys.count() == 2


async def test_a_key_revoked_after_use_is_refused_at_once(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["asker"])
    await keys.authenticate(issued.secret)  # now remembered as verified
    await keys.revoke(issued.key.key_id, tenant="acme")
    with pytest.raises(Unauthenticated):
        await keys.authenticate(issued.secret)


async def test_with_the_store_down_a_verified_key_still_authenticates_and_an_unknown_one_is_unavailable(
        tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    await store.migrate()
    keys = ApiKeyStore(store, cache_ttl_s=0.0)  # every check goes to the store
    known, unknown = await keys.create("acme", ["asker"]), await keys.create("acme", ["asker"])
    await keys.authenticate(known.secret)
    await store.close()
    (tmp_path / "keys.db").unlink()
    (tmp_path / "keys.db").mkdir()  # the file is gone and cannot be recreated: every read fails
    assert (await keys.authenticate(known.secret)).key_id == known.key.key_id
    with pytest.raises(Unavailable):
        await keys.authenticate(unknown.secret)
