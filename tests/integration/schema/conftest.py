"""A real grpc.aio server hosting SchemaService on a loopback port, and live target databases.

The server is built the way the runtime builds it: a metadata SQLite file and a
generated secret key in its own data directory, a SchemaCatalog, the servicer.
Target databases carry the same small schema on every dialect (see ``targets``).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatdb.schema.v1 import schema_service_pb2_grpc
from chatdb_server.crypto import SecretBox, load_or_create_key
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.servicer import SchemaServicer
from tests.integration.schema.targets import mysql_statements, postgres_statements, sqlite_statements
from tests.support.databases import MYSQL_ADMIN_URL, sync_engine_for
from tests.support.trusted_targets import trusted_admission


@dataclass
class SchemaServer:
    """A running SchemaService: its stub, the catalog behind it and its data directory."""

    stub: schema_service_pb2_grpc.SchemaServiceStub
    catalog: SchemaCatalog
    data_dir: Path

    @staticmethod
    def tenant(name: str) -> tuple[tuple[str, str], ...]:
        """Call metadata naming a tenant."""
        return (("x-chatdb-tenant", name),)


@pytest.fixture
async def schema_server(tmp_path: Path) -> AsyncIterator[SchemaServer]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = load_or_create_key("", data_dir)
    store = MetadataStore(f"sqlite+aiosqlite:///{data_dir / 'metadata.db'}")
    await store.migrate()
    catalog = SchemaCatalog(store, SecretBox(key), PageTokens(key), admission=trusted_admission(data_dir, store.url))
    server = grpc.aio.server()
    schema_service_pb2_grpc.add_SchemaServiceServicer_to_server(SchemaServicer(catalog), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield SchemaServer(schema_service_pb2_grpc.SchemaServiceStub(channel), catalog, data_dir)
    finally:
        await server.stop(None)
        await channel.close()
        await store.close()


def execute_all(dsn: str, statements: list[str]) -> None:
    """Run DDL/DML on a PostgreSQL or MariaDB test database, one statement at a time."""
    engine = sync_engine_for(dsn)
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def execute_sqlite(path: Path, statements: list[str]) -> None:
    """Run statements on a SQLite file."""
    db = sqlite3.connect(path)
    try:
        for statement in statements:
            db.execute(statement)
        db.commit()
    finally:
        db.close()


@dataclass(frozen=True)
class Target:
    """A live database holding the test schema."""

    dialect: str
    dsn: str
    run: Any
    """Callable taking a list of statements to run on the database."""


@pytest.fixture
def pg_target(pg_dsn: str) -> Target:
    execute_all(pg_dsn, postgres_statements())
    return Target("postgresql", pg_dsn, lambda statements: execute_all(pg_dsn, statements))


@pytest.fixture
def mysql_target(mysql_dsn: str) -> Target:
    execute_all(mysql_dsn, mysql_statements())
    return Target("mysql", mysql_dsn, lambda statements: execute_all(mysql_dsn, statements))


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Iterator[Target]:
    path = tmp_path / "target.db"
    execute_sqlite(path, sqlite_statements())
    yield Target("sqlite", f"sqlite:///{path}", lambda statements: execute_sqlite(path, statements))


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each dialect in turn."""
    fixture = {"postgresql": "pg_target", "mysql": "mysql_target", "sqlite": "sqlite_target"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def mysql_user(mysql_target: Target) -> Iterator[tuple[str, str]]:
    """A MariaDB account with a real password and SELECT on the test database: (dsn, password)."""
    user, password = f"chatdb_u_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}"
    database = make_url(mysql_target.dsn).database
    admin = sync_engine_for(MYSQL_ADMIN_URL)
    with admin.connect() as conn:
        for host in ("127.0.0.1", "localhost"):
            conn.execute(text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'"))
            conn.execute(text(f"GRANT SELECT, SHOW VIEW ON `{database}`.* TO '{user}'@'{host}'"))
    try:
        yield f"mysql://{user}:{password}@127.0.0.1:3306/{database}", password
    finally:
        with admin.connect() as conn:
            for host in ("127.0.0.1", "localhost"):
                conn.execute(text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
        admin.dispose()
