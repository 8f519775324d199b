"""Parsing, validating and redacting data-source DSNs.

A DSN is a SQLAlchemy-style URL. Callers may give the plain dialect
(``postgresql://``, ``mysql://``, ``mariadb://``, ``sqlite:///``) or name a driver;
ChatDB always connects through its async driver for the dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from chatdb_server.errors import InvalidArgument


class Dialect(StrEnum):
    """Target database dialects, valued by their sqlglot names."""

    POSTGRESQL = "postgres"
    MYSQL = "mysql"
    SQLITE = "sqlite"


_DIALECTS = {
    "postgresql": Dialect.POSTGRESQL,
    "postgres": Dialect.POSTGRESQL,
    "mysql": Dialect.MYSQL,
    "mariadb": Dialect.MYSQL,
    "sqlite": Dialect.SQLITE,
}
_ASYNC_DRIVERS = {Dialect.POSTGRESQL: "postgresql+asyncpg", Dialect.MYSQL: "mysql+aiomysql",
                  Dialect.SQLITE: "sqlite+aiosqlite"}


@dataclass(frozen=True)
class ParsedDsn:
    """A validated DSN."""

    url: URL
    """The caller's URL, password included. Never log it."""
    dialect: Dialect

    @property
    def async_url(self) -> URL:
        """The URL with ChatDB's async driver for the dialect."""
        return self.url.set(drivername=_ASYNC_DRIVERS[self.dialect])

    @property
    def redacted(self) -> str:
        """The URL with the password masked, safe to show and log."""
        return self.url.render_as_string(hide_password=True)

    @property
    def database(self) -> str:
        """Database name, or the file path for SQLite."""
        return self.url.database or ""


def parse_dsn(dsn: str, field: str = "data_source.dsn") -> ParsedDsn:
    """Validate ``dsn``; InvalidArgument naming ``field`` when it is malformed."""
    if not dsn or not dsn.strip():
        raise InvalidArgument(field, "is required")
    try:
        url = make_url(dsn.strip())
    except (ArgumentError, ValueError):
        raise InvalidArgument(field, "is not a database URL such as postgresql://user:pw@host:5432/db, "
                                     "mysql://user:pw@host:3306/db or sqlite:///path.db") from None
    backend = url.get_backend_name()
    dialect = _DIALECTS.get(backend)
    if dialect is None:
        raise InvalidArgument(field, f"dialect {backend!r} is not supported; use postgresql, mysql, "
                                     "mariadb or sqlite", reason="UNSUPPORTED_DIALECT")
    if dialect is Dialect.SQLITE:
        if not url.database or url.database == ":memory:":
            raise InvalidArgument(field, "SQLite needs a file path, e.g. sqlite:///path/to/file.db")
    else:
        if not url.host:
            raise InvalidArgument(field, "has no host")
        if not url.database:
            raise InvalidArgument(field, "has no database name")
    if url.port is not None and not 0 < url.port < 65536:
        raise InvalidArgument(field, "port is out of range")
    return ParsedDsn(url=url, dialect=dialect)
