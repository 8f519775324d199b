"""Which data sources ChatDB may connect to: the admission rules every DSN passes.

A DSN enters through CreateDataSource, UpdateDataSource and TestConnection; the catalog
checks it there (:meth:`SourceAdmission.admit`), and every engine checks it again before
each connection it opens (a host name may resolve elsewhere by then, a symlink may have
moved). The rules:

- SQLite files only under ``allowed_sqlite_dirs`` (``CHATDB_ALLOWED_SQLITE_DIRS``) or in
  ``data_dir/samples``, where ChatDB builds its sample databases. Never the metadata store's
  file, nor anything else in the data directory, whatever the allowed directories say. Paths
  are resolved (symlinks, ``..``, relative to the working directory) before the check.
- Network hosts: the name is resolved and every address must pass ``allowed_hosts``
  (``CHATDB_ALLOWED_HOSTS``, see ``host_rules``): empty allows every address but loopback,
  link-local, unspecified, multicast and cloud metadata ones; otherwise only listed names and
  CIDRs. The metadata store's own database (same dialect, host or address, port and database)
  is always refused.
- Certificate files a DSN names (``sslrootcert``, ``ssl_ca``, ...): readable regular files
  outside the data directory.

Refusals are PERMISSION_DENIED with reason SOURCE_NOT_ALLOWED, the rule in the metadata, or
INVALID_ARGUMENT for a certificate path that is no readable file; a host that does not resolve
is FAILED_PRECONDITION (SOURCE_UNREACHABLE). Messages name the host or path as given, never
the password. The connect-time check narrows, but cannot close, the gap between the check's
resolution of a name and the driver's own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from chatdb_server.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import DEFAULT_PORTS, Dialect, ParsedDsn, dialect_of
from chatdb_server.sql.errors import SOURCE_UNREACHABLE
from chatdb_server.sql.host_rules import (
    NO_HOST_LIMITS,
    HostAllowList,
    IPAddress,
    normalise_host,
    parse_address,
    special_kind,
)

SOURCE_NOT_ALLOWED = "SOURCE_NOT_ALLOWED"
SAMPLES_DIR = "samples"
"""The data directory's one registrable corner: the sample databases ChatDB builds (``chatdb demo``)."""
CONNECT_FIELD = "data_source.dsn"

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Host name and port → the addresses a connection may reach."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class MetadataStoreTarget:
    """Where the metadata store lives: a SQLite file, or a database on a server."""

    file: Path | None = None
    dialect: Dialect | None = None
    host: str = ""
    port: int = 0
    database: str = ""
    """Empty when the URL names none: every database of that server is the store's then."""

    @classmethod
    def from_url(cls, url_text: str) -> MetadataStoreTarget:
        """The store of ``settings.resolved_metadata_url``."""
        try:
            url = make_url(url_text)
        except (ArgumentError, ValueError):
            return cls()
        dialect = dialect_of(url.get_backend_name())
        if dialect is Dialect.SQLITE:
            return cls(file=Path(url.database).resolve()) if url.database and url.database != ":memory:" else cls()
        if dialect is None:
            return cls()
        return cls(dialect=dialect, host=normalise_host(url.host or "localhost"),
                   port=url.port or DEFAULT_PORTS[dialect], database=(url.database or "").lower())

    def same_database(self, dsn: ParsedDsn) -> bool:
        """Whether ``dsn`` names the store's dialect, port and database (the host is for the caller to compare)."""
        return (self.dialect is dsn.dialect and self.port == dsn.port
                and (not self.database or self.database == dsn.database.lower()))


class SourceAdmission:
    """The admission rules of one process, built from its settings."""

    def __init__(self, *, data_dir: Path, metadata: MetadataStoreTarget, sqlite_dirs: Sequence[Path] = (),
                 hosts: HostAllowList = NO_HOST_LIMITS, resolver: Resolver = resolve_host) -> None:
        self._data_dir = data_dir
        self._metadata = metadata
        self._sqlite_dirs = tuple(sqlite_dirs)
        self._hosts = hosts
        self._resolve = resolver

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver = resolve_host) -> SourceAdmission:
        """The rules ``settings`` ask for; ValueError for a malformed ``allowed_hosts``."""
        dirs = [Path(d.strip()) for d in settings.allowed_sqlite_dirs.split(",") if d.strip()]
        return cls(data_dir=settings.data_dir, metadata=MetadataStoreTarget.from_url(settings.resolved_metadata_url),
                   sqlite_dirs=dirs, hosts=HostAllowList.parse(settings.allowed_hosts), resolver=resolver)

    async def admit(self, dsn: ParsedDsn, field: str = CONNECT_FIELD) -> ParsedDsn:
        """Check ``dsn``; the same DSN, with the rules attached for every connection it opens."""
        await self.check(dsn, field)
        return self.guarded(dsn)

    def guarded(self, dsn: ParsedDsn) -> ParsedDsn:
        """``dsn`` with the rules attached for every connection (a stored source's DSN, checked when it connects)."""
        return dataclasses.replace(dsn, connect_check=self._check_on_connect)

    async def check(self, dsn: ParsedDsn, field: str = CONNECT_FIELD) -> None:
        """Raise PermissionDenied, InvalidArgument or FailedPrecondition when ChatDB may not connect to ``dsn``."""
        if dsn.dialect is Dialect.SQLITE:
            self._check_sqlite_file(dsn.database, field)
            return
        for parameter, path in dsn.params.tls.files:
            self._check_certificate_file(parameter, path, field)
        await self._check_host(dsn, field)

    async def _check_on_connect(self, dsn: ParsedDsn) -> None:
        await self.check(dsn, CONNECT_FIELD)

    # ------------------------------------------------------------------ files

    def _check_sqlite_file(self, given: str, field: str) -> None:
        path = Path(given).resolve()
        self._refuse_own_files(path, f"the SQLite file {given!r}", field)
        if path.is_relative_to(self._data_dir.resolve() / SAMPLES_DIR):
            return
        if not any(path.is_relative_to(d.resolve()) for d in self._sqlite_dirs):
            raise _denied(f"{field}: the SQLite file {given!r} is outside the directories ChatDB may open; "
                          "an operator allows directories with CHATDB_ALLOWED_SQLITE_DIRS", "allowed_sqlite_dirs",
                          field)

    def _check_certificate_file(self, parameter: str, given: str, field: str) -> None:
        path = Path(given).resolve()
        self._refuse_own_files(path, f"the file {given!r} of parameter {parameter!r}", field)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise InvalidArgument(field, f"parameter {parameter!r} names {given!r}, which is not a readable "
                                         "regular file on the ChatDB server")

    def _refuse_own_files(self, path: Path, what: str, field: str) -> None:
        """The metadata store's file (and its journals) and, but for the samples, the data directory."""
        store = self._metadata.file
        if store is not None and path.parent == store.parent and (path == store or path.name.startswith(
                f"{store.name}-")):
            raise _denied(f"{field}: {what} is ChatDB's own metadata store", "metadata_store", field)
        data_dir = self._data_dir.resolve()
        if path.is_relative_to(data_dir) and not path.is_relative_to(data_dir / SAMPLES_DIR):
            raise _denied(f"{field}: {what} is inside ChatDB's own data directory", "data_dir", field)

    # ------------------------------------------------------------------ hosts

    async def _check_host(self, dsn: ParsedDsn, field: str) -> None:
        host = normalise_host(dsn.url.host or "")
        addresses = await self._addresses(host, dsn.port or 0, field)
        if await self._is_metadata_store(dsn, host, addresses, field):
            raise _denied(f"{field}: {host}:{dsn.port}/{dsn.database} is ChatDB's own metadata store",
                          "metadata_store", field)
        for address in addresses:
            if self._hosts.admits(host, address):
                continue
            kind = special_kind(address)
            if kind is not None and not self._hosts.lists(host, address):
                raise _denied(f"{field}: host {host!r} resolves to a {kind} address; ChatDB connects there only "
                              "when CHATDB_ALLOWED_HOSTS lists it", "special_address", field, address_kind=kind)
            raise _denied(f"{field}: host {host!r} is not in CHATDB_ALLOWED_HOSTS (by name, or an address "
                          "it resolves to by CIDR)", "allowed_hosts", field)

    async def _is_metadata_store(self, dsn: ParsedDsn, host: str, addresses: Sequence[IPAddress],
                                 field: str) -> bool:
        store = self._metadata
        if store.dialect is None or not store.same_database(dsn):
            return False
        if store.host == host:
            return True
        try:
            store_addresses = await self._addresses(store.host, store.port, field)
        except FailedPrecondition:
            return False
        return bool(set(store_addresses) & set(addresses))

    async def _addresses(self, host: str, port: int, field: str) -> list[IPAddress]:
        literal = parse_address(host)
        if literal is not None:
            return [literal]
        try:
            found = [parse_address(a) for a in await self._resolve(host, port)]
        except OSError as error:
            raise FailedPrecondition(f"{field}: cannot resolve host {host!r}: {error.strerror or error}",
                                     SOURCE_UNREACHABLE, {"field": field, "host": host}) from None
        addresses = [a for a in found if a is not None]
        if not addresses:
            raise FailedPrecondition(f"{field}: host {host!r} resolves to no address", SOURCE_UNREACHABLE,
                                     {"field": field, "host": host})
        return addresses


def _denied(message: str, rule: str, field: str, **more: str) -> PermissionDenied:
    return PermissionDenied(message, SOURCE_NOT_ALLOWED, {"rule": rule, "field": field, **more})
