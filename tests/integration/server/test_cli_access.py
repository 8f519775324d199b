"""``chatdb keys`` and ``chatdb secrets rotate`` as an operator runs them: child processes on a data directory."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.crypto import KEY_FILE, SecretBox, load_or_create_key
from chatdb_server.errors import Unauthenticated
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow
from chatdb_server.pagination import PageTokens
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.records import DataSourceSpec
from chatdb_server.settings import EMBEDDED_METADATA_FILE
from tests.support.databases import postgres_database
from tests.support.trusted_targets import trusted_admission

SECRET = re.compile(r"^chatdb_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
PASSWORD = "Rotate-Me-7f3a"
"""A password in the registered PostgreSQL DSN (the local server trusts 127.0.0.1, so any one connects)."""


def chatdb(data_dir: Path, *args: str, secret_key: str = "",
           metadata_url: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``chatdb ARGS`` in a child process on ``data_dir`` (and ``metadata_url``), with no other ChatDB setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDB_")}
    env.update(CHATDB_DATA_DIR=str(data_dir), CHATDB_LOG_FORMAT="console", CHATDB_METADATA_URL=metadata_url,
               CHATDB_SECRET_KEY=secret_key)
    return subprocess.run([sys.executable, "-m", "chatdb_server.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@dataclass(frozen=True)
class Install:
    """Where an installation keeps its data: a data directory and a metadata store URL."""

    data_dir: Path
    url: str

    @staticmethod
    def embedded(data_dir: Path) -> Install:
        """The default: the metadata store is SQLite in the data directory."""
        return Install(data_dir, f"sqlite+aiosqlite:///{data_dir / EMBEDDED_METADATA_FILE}")

    @asynccontextmanager
    async def store(self) -> AsyncIterator[MetadataStore]:
        """The metadata store, migrated."""
        store = MetadataStore(self.url)
        await store.migrate()
        try:
            yield store
        finally:
            await store.close()

    def catalog(self, store: MetadataStore, key: bytes) -> SchemaCatalog:
        """A catalog over ``store`` sealing with ``key`` that admits the local test databases."""
        return SchemaCatalog(store, SecretBox(key), PageTokens(key),
                             admission=trusted_admission(self.data_dir, self.url))


async def test_a_key_is_created_listed_authenticated_and_revoked(tmp_path: Path) -> None:
    made = chatdb(tmp_path, "keys", "create", "--tenant", "acme", "--role", "asker", "--role", "editor",
                  "--data-source", "shop", "crm", "--expires-at", "2099-01-31T00:00Z", "--name", "ci")
    assert made.returncode == 0, made.stderr
    assert SECRET.match(made.stdout.rstrip("\n")) and made.stdout.count("\n") == 1
    key_id = made.stdout.split("_")[1]
    assert f"apiKeys/{key_id} (ci)" in made.stderr and made.stdout.strip() not in made.stderr

    listed = chatdb(tmp_path, "keys", "list", "--tenant", "acme")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "TENANT"]
    cells = row.split()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", cells.pop(5))
    assert cells == [key_id, "ci", "acme", "asker,editor", "crm,shop", "-", "2099-01-31T00:00Z", "-"]
    assert made.stdout.split("_")[2].strip() not in listed.stdout

    async with Install.embedded(tmp_path).store() as store:
        key = await ApiKeyStore(store).authenticate(made.stdout.strip())
        assert (key.key_id, key.tenant, key.roles) == (key_id, "acme", {Role.ASKER, Role.EDITOR})
        assert key.expire_time == datetime(2099, 1, 31, tzinfo=UTC)
        revoked = chatdb(tmp_path, "keys", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(Unauthenticated) as refused:
            await ApiKeyStore(store).authenticate(made.stdout.strip())
        assert refused.value.reason == "KEY_REVOKED"
    assert chatdb(tmp_path, "keys", "list").stdout.splitlines()[1].split()[-1] != "-"


async def test_expires_in_sets_the_expiry_from_now(tmp_path: Path) -> None:
    made = chatdb(tmp_path, "keys", "create", "--tenant", "acme", "--role", "viewer", "--expires-in", "30d")
    assert made.returncode == 0, made.stderr
    async with Install.embedded(tmp_path).store() as store:
        [key] = await ApiKeyStore(store).list("acme")
    assert key.expire_time is not None
    assert timedelta(days=30) - timedelta(minutes=5) < key.expire_time - key.create_time <= timedelta(days=30)


@pytest.mark.parametrize("args,status,message", [
    pytest.param(["keys", "create", "--tenant", "acme", "--role", "boss"], 2, "invalid choice: 'boss'", id="role"),
    pytest.param(["keys", "create", "--tenant", "acme", "--role", "admin", "--expires-in", "soon"], 2,
                 "not a duration", id="duration"),
    pytest.param(["keys", "create", "--tenant", "acme", "--role", "admin", "--expires-at", "2001-01-01"], 2,
                 "expire_time: is in the past", id="past"),
    pytest.param(["keys", "revoke", "0123456789abcdef"], 1, "'apiKeys/0123456789abcdef' not found", id="unknown"),
    pytest.param(["secrets", "rotate", "--new-key", "short"], 2, "--new-key", id="bad_new_key"),
])
def test_bad_input_is_one_clear_line_and_an_exit_status(tmp_path: Path, args: list[str], status: int,
                                                         message: str) -> None:
    load_or_create_key("", tmp_path)
    done = chatdb(tmp_path, *args)
    assert (done.returncode, done.stdout) == (status, "")
    assert message in done.stderr and "Traceback" not in done.stderr


def test_rotation_without_a_key_generates_none(tmp_path: Path) -> None:
    done = chatdb(tmp_path, "secrets", "rotate")
    assert (done.returncode, done.stdout) == (1, "")
    assert "no key to rotate" in done.stderr and not (tmp_path / KEY_FILE).exists()


def test_keys_secret_prints_a_fresh_secret_and_stores_nothing(tmp_path: Path) -> None:
    first, second = (chatdb(tmp_path / "data", "keys", "secret") for _ in range(2))
    assert first.returncode == second.returncode == 0
    assert SECRET.match(first.stdout.rstrip("\n")) and SECRET.match(second.stdout.rstrip("\n"))
    assert first.stdout != second.stdout
    assert not (tmp_path / "data").exists()


async def register_sources(install: Install, key: bytes, pg_dsn: str) -> dict[str, str]:
    """A PostgreSQL source with a password in two tenants, sealed with ``key``; their DSNs by tenant."""
    dsn = make_url(pg_dsn).set(password=PASSWORD).render_as_string(hide_password=False)
    async with install.store() as store:
        for tenant in ("acme", "beta"):
            await install.catalog(store, key).create(tenant, DataSourceSpec(dsn=dsn), source_id="warehouse")
    return {"acme": dsn, "beta": dsn}


async def sealed_values(install: Install) -> list[str]:
    async with install.store() as store, store.session() as session:
        return list((await session.scalars(select(DataSourceRow.dsn_sealed).order_by(DataSourceRow.pk))).all())


async def assert_sources_open_with(install: Install, new: bytes, old: bytes, dsns: dict[str, str]) -> None:
    """Every source's DSN opens with ``new`` alone and connects; none opens with ``old`` alone."""
    async with install.store() as store:
        for tenant, dsn in dsns.items():
            source = await install.catalog(store, new).resolve(tenant, "dataSources/warehouse")
            assert source.dsn.url.render_as_string(hide_password=False) == dsn
            report = await install.catalog(store, new).test_connection(tenant, name="dataSources/warehouse")
            assert report.server_version
    for sealed in await sealed_values(install):
        with pytest.raises(ValueError):
            SecretBox(old).open(sealed)


def temporary_files(data_dir: Path) -> list[str]:
    """Files a key-file replacement could have left behind."""
    return [p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture(params=["embedded", "postgresql"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    """An installation with its metadata store in the data directory, or in a PostgreSQL database of its own."""
    if request.param == "embedded":
        yield Install.embedded(tmp_path)
        return
    with postgres_database() as dsn:
        yield Install(tmp_path, make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(False))


async def test_rotation_rewrites_the_embedded_key_file_and_loses_no_source(tmp_path: Path, pg_dsn: str) -> None:
    install = Install.embedded(tmp_path)
    old = load_or_create_key("", tmp_path)
    dsns = await register_sources(install, old, pg_dsn)
    done = chatdb(tmp_path, "secrets", "rotate")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "re-sealed 2 data-source credential(s)" in done.stderr
    new = (tmp_path / KEY_FILE).read_bytes()
    assert new != old and Fernet(new)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert temporary_files(tmp_path) == []
    await assert_sources_open_with(install, new, old, dsns)


@pytest.mark.parametrize("first", ["any", "-"], ids=["a-key", "a-key-beginning-with-a-dash"])
async def test_rotation_of_a_configured_key_prints_the_new_one(install: Install, pg_dsn: str, first: str) -> None:
    old = Fernet.generate_key()
    # A Fernet key is URL-safe base64: one in 64 begins with "-" (0b111110), which reads as an option unless
    # given as --new-key=KEY.
    new = Fernet.generate_key() if first == "any" else base64.urlsafe_b64encode(b"\xf8" + os.urandom(31))
    assert first == "any" or new.startswith(b"-")
    dsns = await register_sources(install, old, pg_dsn)
    done = chatdb(install.data_dir, "secrets", "rotate", f"--new-key={new.decode()}", secret_key=old.decode(),
                  metadata_url=install.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == new.decode() + "\n"
    assert "old key(s) listed after it" in done.stderr and old.decode() not in done.stderr
    assert not (install.data_dir / KEY_FILE).exists()
    await assert_sources_open_with(install, new, old, dsns)


@pytest.mark.parametrize("configured", [True, False], ids=["configured", "key_file"])
async def test_rotation_changes_nothing_when_a_source_does_not_open(tmp_path: Path, pg_dsn: str,
                                                                    configured: bool) -> None:
    install = Install.embedded(tmp_path)
    real, wrong = Fernet.generate_key(), Fernet.generate_key()
    dsns = await register_sources(install, real, pg_dsn)
    if not configured:
        (tmp_path / KEY_FILE).write_bytes(wrong)
    before = await sealed_values(install)
    done = chatdb(tmp_path, "secrets", "rotate", secret_key=wrong.decode() if configured else "")
    assert done.returncode == 1
    assert "2 data source(s) do not open" in done.stderr and "acme: dataSources/warehouse" in done.stderr
    assert await sealed_values(install) == before
    assert configured or (tmp_path / KEY_FILE).read_bytes() == wrong
    await assert_sources_open_with(install, real, wrong, dsns)
