"""API keys: high-entropy secrets shown once, stored only as a hash, each bound to a tenant and roles.

A key reads ``chatdb_<key id>_<secret>``: the id finds the stored record, the secret (32 random
bytes) is compared by its SHA-256 in constant time. A fast hash is the right one here: the secret
is random, not a password, so there is nothing for a slow hash to protect against, and every call
pays for the check. Keys may be limited to some data sources, may expire, and can be revoked;
the time of last use is kept to the minute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from chatdb_server.access.permissions import Role, roles_argument
from chatdb_server.errors import InvalidArgument, NotFound, Unauthenticated, Unavailable
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ApiKeyRow, as_utc, utcnow

log = get_logger(__name__)

KEY_PREFIX = "chatdb"
SECRET_BYTES = 32
CACHE_TTL_S = 5.0
"""A verified key is trusted from memory this long; revoking it through this store forgets it at once,
another replica's revocation takes effect within this time."""
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""A key's last-use time is written at most this often, so checking a key rarely writes."""
_STORE_DOWN = (DBAPIError, OSError, TimeoutError)
"""What a key lookup raises while the metadata store is unreachable."""
_KEY = re.compile(rf"^{KEY_PREFIX}_([a-z0-9]{{16}})_([A-Za-z0-9_-]{{20,}})$")


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    tenant: str
    roles: frozenset[Role]
    data_sources: tuple[str, ...]
    display_name: str
    create_time: datetime
    expire_time: datetime | None = None
    last_used_time: datetime | None = None
    revoke_time: datetime | None = None

    @property
    def name(self) -> str:
        """Resource name, ``apiKeys/{id}``."""
        return f"apiKeys/{self.key_id}"


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its secret, which is never shown again."""

    key: ApiKey
    secret: str


def new_secret() -> str:
    """A fresh key secret: ``chatdb_<16 hex id>_<32 random bytes, base64url>``."""
    return f"{KEY_PREFIX}_{secrets.token_hex(8)}_{secrets.token_urlsafe(SECRET_BYTES)}"


def _key_id(secret: str) -> str:
    match = _KEY.match(secret)
    if match is None:
        raise ValueError("an API key reads chatdb_<16 hex characters>_<at least 20 base64url characters>")
    return match.group(1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key_of(row: ApiKeyRow) -> ApiKey:
    return ApiKey(key_id=row.key_id, tenant=row.tenant, roles=frozenset(Role(r) for r in row.roles),
                  data_sources=tuple(row.data_sources), display_name=row.display_name,
                  create_time=as_utc(row.create_time), expire_time=as_utc(row.expire_time),
                  last_used_time=as_utc(row.last_used_time), revoke_time=as_utc(row.revoke_time))


class ApiKeyStore:
    """API keys in the metadata store."""

    def __init__(self, store: MetadataStore, *, cache_ttl_s: float = CACHE_TTL_S) -> None:
        self._store = store
        self._ttl = cache_ttl_s
        self._verified: dict[str, tuple[ApiKey, float]] = {}
        """Recently verified keys by the hash of their secret, with when they were read."""

    async def create(self, tenant: str, roles: Sequence[str], *, data_sources: Sequence[str] = (),
                     display_name: str = "", expire_time: datetime | None = None) -> IssuedKey:
        """A new key for ``tenant`` with ``roles``; the returned secret is the only copy."""
        return await self._store_key(new_secret(), tenant, roles, data_sources=data_sources,
                                     display_name=display_name, expire_time=expire_time)

    async def import_key(self, secret: str, tenant: str, roles: Sequence[str], *, display_name: str = "") -> ApiKey:
        """Store a key whose secret the operator made (a bootstrap key from a Secret); idempotent."""
        try:
            key_id = _key_id(secret)
        except ValueError as exc:
            raise InvalidArgument("bootstrap_admin_key", str(exc)) from None
        async with self._store.session() as session:
            row = (await session.execute(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))).scalar_one_or_none()
        if row is not None:
            return _key_of(row)
        return (await self._store_key(secret, tenant, roles, display_name=display_name)).key

    async def _store_key(self, secret: str, tenant: str, roles: Sequence[str], *, data_sources: Sequence[str] = (),
                         display_name: str = "", expire_time: datetime | None = None) -> IssuedKey:
        if not tenant:
            raise InvalidArgument("api_key.tenant", "is required")
        if not roles:
            raise InvalidArgument("api_key.roles", "name at least one role")
        parsed = roles_argument(list(roles), "api_key.roles")
        now = utcnow()
        if expire_time is not None and as_utc(expire_time) <= now:
            raise InvalidArgument("api_key.expire_time", "is in the past")
        key_id = _key_id(secret)
        row = ApiKeyRow(key_id=key_id, tenant=tenant, display_name=display_name, secret_hash=_hash(secret),
                        roles=sorted(parsed), data_sources=sorted(set(data_sources)), create_time=now,
                        expire_time=expire_time)
        async with self._store.session() as session:
            session.add(row)
        return IssuedKey(_key_of(row), secret)

    async def authenticate(self, secret: str) -> ApiKey:
        """The key ``secret`` belongs to; Unauthenticated when it is unknown, revoked or expired."""
        match = _KEY.match(secret)
        if match is None:
            raise Unauthenticated("the API key is malformed")
        digest = _hash(secret)
        cached = self._verified.get(digest)
        if cached is not None and time.monotonic() - cached[1] < self._ttl:
            key = cached[0]
        else:
            try:
                key = await self._read(match.group(1), digest)
            except _STORE_DOWN:
                if cached is None:
                    raise Unavailable("the key store is unreachable; retry later",
                                      metadata={"dependency": "metadata"}) from None
                # The store is down: a key verified before is trusted as it was last read (a revocation
                # made since cannot be stored either), so status calls still answer at level 4.
                log.warning("access.key_store_unreachable", key=cached[0].name)
                key = cached[0]
        now = utcnow()
        if key.revoke_time is not None:
            raise Unauthenticated("the API key was revoked", "KEY_REVOKED")
        if key.expire_time is not None and key.expire_time <= now:
            raise Unauthenticated("the API key has expired", "KEY_EXPIRED")
        if key.last_used_time is None or now - key.last_used_time >= LAST_USED_RESOLUTION:
            with contextlib.suppress(*_STORE_DOWN):
                await self._touch(key.key_id, now)
                self._verified[digest] = (dataclasses.replace(key, last_used_time=now), self._verified[digest][1])
        return key

    async def _read(self, key_id: str, digest: str) -> ApiKey:
        """The stored key ``key_id`` if ``digest`` is its secret's; remembered as verified."""
        async with self._store.session() as session:
            row = (await session.execute(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))).scalar_one_or_none()
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            raise Unauthenticated("the API key is not valid")
        key = _key_of(row)
        self._verified[digest] = (key, time.monotonic())
        return key

    async def list(self, tenant: str | None = None) -> list[ApiKey]:
        """Keys of ``tenant`` (all tenants when None), oldest first; revoked ones included."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.pk)
        if tenant is not None:
            query = query.where(ApiKeyRow.tenant == tenant)
        async with self._store.session() as session:
            return [_key_of(row) for row in (await session.execute(query)).scalars()]

    async def revoke(self, key_id: str, tenant: str | None = None) -> ApiKey:
        """Revoke a key (of ``tenant``, when given); NotFound for an unknown one. Revoking twice is harmless."""
        async with self._store.session() as session:
            query = select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)
            if tenant is not None:
                query = query.where(ApiKeyRow.tenant == tenant)
            row = (await session.execute(query)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"apiKeys/{key_id}", "API key")
            if row.revoke_time is None:
                row.revoke_time = utcnow()
            self._verified = {d: entry for d, entry in self._verified.items() if entry[0].key_id != key_id}
            return _key_of(row)

    async def count(self) -> int:
        """How many keys exist (revoked ones too): zero means the server needs a bootstrap key."""
        async with self._store.session() as session:
            return int((await session.execute(select(func.count()).select_from(ApiKeyRow))).scalar_one())

    async def _touch(self, key_id: str, now: datetime) -> None:
        async with self._store.session() as session:
            await session.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_time=now))
