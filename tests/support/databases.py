"""Throwaway databases on the local PostgreSQL and MariaDB servers.

Each test that needs one creates a uniquely named database and drops it after.
Servers: ``CHATDB_TEST_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres)
and ``CHATDB_TEST_MYSQL_URL`` (default mysql://root@127.0.0.1:3306/mysql).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("CHATDB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("CHATDB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")


def unique_name(prefix: str = "chatdb_t") -> str:
    """A database name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a PostgreSQL database; yield its plain DSN; drop it after."""
    name = unique_name()
    engine = _admin_engine(PG_ADMIN_URL, "postgres")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@contextmanager
def mysql_database() -> Iterator[str]:
    """Create a MariaDB/MySQL database; yield its plain DSN; drop it after."""
    name = unique_name()
    engine = _admin_engine(MYSQL_ADMIN_URL, "mysql")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield make_url(MYSQL_ADMIN_URL).set(drivername="mysql", database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()


def sync_engine_for(dsn: str):  # type: ignore[no-untyped-def]
    """A synchronous engine for a plain DSN, to set up fixtures (pymysql / psycopg-free asyncpg bridge)."""
    url = make_url(dsn)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return create_engine(url.set(drivername="postgresql+pg8000"), isolation_level="AUTOCOMMIT")
    if backend in ("mysql", "mariadb"):
        return create_engine(url.set(drivername="mysql+pymysql"), isolation_level="AUTOCOMMIT")
    return create_engine(url)


def _admin_engine(url: str, backend: str):  # type: ignore[no-untyped-def]
    try:
        engine = sync_engine_for(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return engine
    except Exception as exc:
        message = f"{backend} server not reachable at {make_url(url).render_as_string()}: {exc}"
        if os.environ.get("CHATDB_TEST_SKIP_MISSING_SERVERS") == "1":
            pytest.skip(message)
        pytest.fail(message + " (start it, or set CHATDB_TEST_SKIP_MISSING_SERVERS=1)")
