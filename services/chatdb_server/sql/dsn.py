"""Parsing, validating and redacting data-source DSNs.

A DSN is a SQLAlchemy-style URL. Callers may give the plain dialect
(``postgresql://``, ``mysql://``, ``mariadb://``, ``sqlite:///``) or name a driver;
ChatDB always connects through its async driver for the dialect. Query parameters pass
the per-dialect allow-list of ``dsn_params`` (TLS options, MySQL's charset) and reach the
driver as connect arguments, never as the URL's query. SQLite paths may not contain the
characters SQLite's URI syntax gives a meaning (``?``, ``#``, ``%``): the file is opened
through a ``file:`` URI, where they would name another file than the one checked.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from chatdb_server.errors import InvalidArgument
from chatdb_server.sql.dsn_params import NO_PARAMS, DsnParams, mysql_params, no_params, postgres_params


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
_PARAMS = {Dialect.POSTGRESQL: postgres_params, Dialect.MYSQL: mysql_params, Dialect.SQLITE: no_params}
_URI_SIGNIFICANT = re.compile(r"[?#%\x00-\x1f]")
_HOST = re.compile(r"^([A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+)$")
"""One host name or address: no host lists (``a,b``), socket paths or IPv6 zones."""
DEFAULT_PORTS = {Dialect.POSTGRESQL: 5432, Dialect.MYSQL: 3306}


def dialect_of(backend: str) -> Dialect | None:
    """The dialect of a SQLAlchemy backend name (``postgresql``, ``mariadb``, ...); None when unsupported."""
    return _DIALECTS.get(backend)


ConnectCheck = Callable[["ParsedDsn"], Awaitable[None]]
"""Raises when a connection for the DSN must not be opened (now)."""


@dataclass(frozen=True)
class ParsedDsn:
    """A validated DSN."""

    url: URL
    """The caller's URL, password included. Never log it."""
    dialect: Dialect
    params: DsnParams = NO_PARAMS
    """What the URL's query parameters ask of the connection (TLS, charset)."""
    connect_check: ConnectCheck | None = dataclasses.field(default=None, compare=False, repr=False)
    """Run before every connection an engine opens for this DSN (the admission rules, again)."""

    @property
    def async_url(self) -> URL:
        """The URL with ChatDB's async driver for the dialect and without query parameters
        (``params`` reach the driver as connect arguments)."""
        return self.url.set(drivername=_ASYNC_DRIVERS[self.dialect], query={})

    @property
    def port(self) -> int | None:
        """The URL's port, else the dialect's default; None for SQLite."""
        return self.url.port or DEFAULT_PORTS.get(self.dialect)

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
        if _URI_SIGNIFICANT.search(url.database):
            raise InvalidArgument(field, "a SQLite file path may not contain '?', '#', '%' or control characters")
    else:
        if not url.host:
            raise InvalidArgument(field, "has no host")
        if not _HOST.match(url.host):
            raise InvalidArgument(field, "host must be one host name or IP address")
        if not url.database:
            raise InvalidArgument(field, "has no database name")
    if url.port is not None and not 0 < url.port < 65536:
        raise InvalidArgument(field, "port is out of range")
    return ParsedDsn(url=url, dialect=dialect, params=_PARAMS[dialect](url.query, field))
