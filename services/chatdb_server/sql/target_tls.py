"""TLS to target databases: the ``ssl`` connect argument each driver gets for a DSN's TLS options.

asyncpg and aiomysql both take an ``ssl.SSLContext``; ChatDB builds it from the DSN
(``dsn_params``) rather than letting the driver read environment variables or files in the
server's home directory. Contexts speak TLS 1.2 or newer. ``require`` encrypts without checking
the certificate (unless a CA file is named), ``verify-ca`` checks the chain, ``verify-full``
the chain and the host name. An encrypted client key cannot be used (no password is given),
rather than making OpenSSL prompt on the server's terminal.

aiomysql quietly stays in plaintext when the server offers no TLS, so a MySQL/MariaDB
connection whose mode insists on TLS is checked after the handshake and refused when it is
not encrypted (:func:`refuse_plaintext_mysql`).
"""

from __future__ import annotations

import ssl
from typing import Any

from chatdb_server.sql.dsn_params import TargetTls, TlsMode


class PlaintextRefused(ConnectionError):
    """The server did not agree to TLS although the DSN's mode insists on it."""


def ssl_context(tls: TargetTls) -> ssl.SSLContext:
    """A client context for ``tls``: verification as its mode says, its CA and client certificate loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    verify = tls.mode in (TlsMode.VERIFY_CA, TlsMode.VERIFY_FULL) or bool(tls.mode is TlsMode.REQUIRE
                                                                             and tls.root_cert)
    context.check_hostname = tls.mode is TlsMode.VERIFY_FULL
    if verify:
        context.verify_mode = ssl.CERT_REQUIRED
        if tls.root_cert:
            context.load_verify_locations(cafile=tls.root_cert)
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.verify_mode = ssl.CERT_NONE
    if tls.cert:
        context.load_cert_chain(tls.cert, tls.key or None, password=_no_password)
    return context


def postgres_ssl_argument(tls: TargetTls) -> ssl.SSLContext | str | bool | None:
    """asyncpg's ``ssl``: None leaves its default, False turns TLS off, ``allow``/``prefer`` are its own."""
    if tls.mode is TlsMode.DRIVER_DEFAULT:
        return None
    if tls.mode is TlsMode.DISABLE:
        return False
    if tls.mode in (TlsMode.ALLOW, TlsMode.PREFER):
        return tls.mode.value
    return ssl_context(tls)


def mysql_ssl_argument(tls: TargetTls) -> ssl.SSLContext | None:
    """aiomysql's ``ssl``: None for no TLS; ``preferred`` encrypts when the server offers TLS."""
    if tls.mode in (TlsMode.DRIVER_DEFAULT, TlsMode.DISABLE):
        return None
    return ssl_context(tls)


def refuse_plaintext_mysql(dbapi_connection: Any, tls: TargetTls) -> None:
    """Close ``dbapi_connection`` and raise PlaintextRefused when ``tls`` insists but it is not encrypted."""
    if not tls.mode.insists:
        return
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    if getattr(driver, "_secure", False):
        return
    dbapi_connection.close()
    raise PlaintextRefused("the server did not agree to TLS, but the DSN's ssl_mode requires it")


def _no_password() -> bytes:
    return b""
