"""DSN parsing: the dialect a URL names and the async driver ChatDB connects through."""

from __future__ import annotations

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.sql.dsn import Dialect, parse_dsn


@pytest.mark.parametrize(("dsn", "dialect", "driver"), [
    pytest.param("postgresql://u:p@db:5432/shop", Dialect.POSTGRESQL, "postgresql+asyncpg", id="postgresql"),
    pytest.param("postgres://u:p@db/shop", Dialect.POSTGRESQL, "postgresql+asyncpg", id="postgres_alias"),
    pytest.param("postgresql+psycopg://u:p@db/shop", Dialect.POSTGRESQL, "postgresql+asyncpg", id="named_driver"),
    pytest.param("mysql://u:p@db:3306/shop", Dialect.MYSQL, "mysql+aiomysql", id="mysql"),
    pytest.param("mariadb://u:p@db/shop", Dialect.MYSQL, "mysql+aiomysql", id="mariadb"),
    pytest.param("sqlite:///data/shop.db", Dialect.SQLITE, "sqlite+aiosqlite", id="sqlite"),
])
def test_dialect_and_async_driver(dsn: str, dialect: Dialect, driver: str) -> None:
    parsed = parse_dsn(dsn)
    assert parsed.dialect is dialect
    assert parsed.async_url.drivername == driver


def test_redacted_hides_the_password() -> None:
    parsed = parse_dsn("postgresql://app:s3cret@db:5432/shop")
    assert "s3cret" not in parsed.redacted
    assert parsed.database == "shop"


@pytest.mark.parametrize("dsn", ["", "oracle://u:p@db/x", "sqlite:///:memory:", "mysql://u:p@db:3306",
                                 "postgresql://u:p@/shop"])
def test_malformed(dsn: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_dsn(dsn)
