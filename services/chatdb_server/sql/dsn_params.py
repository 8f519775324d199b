"""The query parameters a DSN may carry, per dialect, and the TLS options they ask for.

Every other parameter is refused with INVALID_ARGUMENT naming the DSN's field and the
parameter: SQLAlchemy would hand an unknown one to the driver as a keyword argument
(a TypeError at connect time), and some would change where a session connects (``host``,
``unix_socket``) or what it may do (PostgreSQL's ``options``).

PostgreSQL, with libpq's names:

- ``sslmode``: ``disable``, ``allow``, ``prefer``, ``require``, ``verify-ca`` or ``verify-full``.
  Absent means asyncpg's default (``prefer``). ``allow`` and ``prefer`` are asyncpg's own
  (plaintext when the server has no TLS, certificates unchecked).
- ``sslrootcert`` (CA file), ``sslcert`` and ``sslkey`` (client certificate and key): they need
  ``require`` or stronger; ``require`` with ``sslrootcert`` checks the chain like ``verify-ca``.

MySQL and MariaDB, with the MySQL client's names:

- ``ssl_mode``: ``disabled``, ``preferred``, ``required``, ``verify_ca`` or ``verify_identity``
  (any case, ``-`` or ``_``). Absent means ``verify_ca`` when ``ssl_ca`` is given, ``required``
  when only a client certificate is, else no TLS.
- ``ssl_ca``, ``ssl_cert``, ``ssl_key``: as ``sslrootcert``, ``sslcert``, ``sslkey``.
- ``charset``: the connection's character set (e.g. ``utf8mb4``).

SQLite takes none. ``verify-ca``/``verify_ca`` and stronger without a CA file trust the
system's CAs. Certificate files are paths on the server; the admission rules check them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from chatdb_server.errors import InvalidArgument

PARAMETER_NOT_ALLOWED = "DSN_PARAMETER_NOT_ALLOWED"
_CHARSET = re.compile(r"^[A-Za-z0-9_]{1,32}$")


class TlsMode(StrEnum):
    """How a connection uses TLS, named after libpq's ``sslmode`` values."""

    DRIVER_DEFAULT = "driver-default"
    """The DSN says nothing: the driver's own default."""
    DISABLE = "disable"
    ALLOW = "allow"
    PREFER = "prefer"
    REQUIRE = "require"
    VERIFY_CA = "verify-ca"
    VERIFY_FULL = "verify-full"

    @property
    def insists(self) -> bool:
        """Whether a connection without TLS must be refused."""
        return self in (TlsMode.REQUIRE, TlsMode.VERIFY_CA, TlsMode.VERIFY_FULL)


@dataclass(frozen=True)
class TargetTls:
    """The TLS a DSN asks for."""

    mode: TlsMode = TlsMode.DRIVER_DEFAULT
    root_cert: str = ""
    """CA file that must have signed the server's certificate; empty means the system's CAs."""
    cert: str = ""
    """Client certificate file (PEM), for servers that authenticate clients by certificate."""
    key: str = ""
    """The client certificate's private key file; empty when it is in the certificate file."""
    files: tuple[tuple[str, str], ...] = ()
    """(parameter, path) of every file the DSN names, as given."""


@dataclass(frozen=True)
class DsnParams:
    """What a DSN's query parameters ask of the connection."""

    tls: TargetTls = TargetTls()
    charset: str = ""
    """MySQL/MariaDB connection character set; empty means the driver's."""


NO_PARAMS = DsnParams()
"""A DSN without query parameters."""

_POSTGRES_MODES = {mode.value: mode for mode in TlsMode if mode is not TlsMode.DRIVER_DEFAULT}
_MYSQL_MODES = {"disabled": TlsMode.DISABLE, "preferred": TlsMode.PREFER, "required": TlsMode.REQUIRE,
                "verify_ca": TlsMode.VERIFY_CA, "verify_identity": TlsMode.VERIFY_FULL}
POSTGRES_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey")
MYSQL_PARAMETERS = ("ssl_mode", "ssl_ca", "ssl_cert", "ssl_key", "charset")


def postgres_params(query: Mapping[str, str | Sequence[str]], field: str) -> DsnParams:
    """The parameters of a PostgreSQL DSN; InvalidArgument naming ``field`` for a bad one."""
    values = _single_values(query, POSTGRES_PARAMETERS, "PostgreSQL", field)
    mode = TlsMode.DRIVER_DEFAULT
    if "sslmode" in values:
        mode = _mode(values["sslmode"].lower(), _POSTGRES_MODES, "sslmode", field)
    tls = _tls(mode, values, ("sslrootcert", "sslcert", "sslkey"), "sslmode=require, verify-ca or verify-full",
               field)
    return DsnParams(tls=tls)


def mysql_params(query: Mapping[str, str | Sequence[str]], field: str) -> DsnParams:
    """The parameters of a MySQL/MariaDB DSN; InvalidArgument naming ``field`` for a bad one."""
    values = _single_values(query, MYSQL_PARAMETERS, "MySQL/MariaDB", field)
    if "ssl_mode" in values:
        mode = _mode(values["ssl_mode"].lower().replace("-", "_"), _MYSQL_MODES, "ssl_mode", field)
    elif values.get("ssl_ca"):
        mode = TlsMode.VERIFY_CA
    elif values.get("ssl_cert") or values.get("ssl_key"):
        mode = TlsMode.REQUIRE
    else:
        mode = TlsMode.DRIVER_DEFAULT
    tls = _tls(mode, values, ("ssl_ca", "ssl_cert", "ssl_key"), "ssl_mode=required, verify_ca or verify_identity",
               field)
    charset = values.get("charset", "")
    if charset and not _CHARSET.match(charset):
        raise InvalidArgument(field, f"parameter 'charset' has an invalid value {charset!r}")
    return DsnParams(tls=tls, charset=charset)


def no_params(query: Mapping[str, str | Sequence[str]], field: str) -> DsnParams:
    """SQLite DSNs take no parameters."""
    _single_values(query, (), "SQLite", field)
    return NO_PARAMS


def _single_values(query: Mapping[str, str | Sequence[str]], allowed: Sequence[str], dialect: str,
                   field: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in query.items():
        if name not in allowed:
            known = f"; allowed: {', '.join(allowed)}" if allowed else "; it takes none"
            raise InvalidArgument(field, f"parameter {name!r} is not allowed in a {dialect} DSN{known}",
                                  reason=PARAMETER_NOT_ALLOWED)
        if not isinstance(value, str):
            raise InvalidArgument(field, f"parameter {name!r} is given more than once")
        values[name] = value.strip()
    return values


def _mode(value: str, modes: Mapping[str, TlsMode], parameter: str, field: str) -> TlsMode:
    if value not in modes:
        raise InvalidArgument(field, f"parameter {parameter!r} must be one of {', '.join(modes)}, not {value!r}")
    return modes[value]


def _tls(mode: TlsMode, values: Mapping[str, str], names: tuple[str, str, str], needs: str,
         field: str) -> TargetTls:
    """The TLS options; ``names`` are the dialect's (CA, certificate, key) parameters."""
    root_cert, cert, key = (values.get(name, "") for name in names)
    files = tuple((name, values[name]) for name in names if values.get(name))
    if files and not mode.insists:
        raise InvalidArgument(field, f"parameter {files[0][0]!r} needs {needs}")
    if key and not cert:
        raise InvalidArgument(field, f"parameter {names[2]!r} needs {names[1]!r} (the certificate it belongs to)")
    return TargetTls(mode=mode, root_cert=root_cert, cert=cert, key=key, files=files)
