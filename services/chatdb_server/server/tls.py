"""TLS for the server and for calls between ChatDB's own services.

The server speaks TLS when a certificate and key are set; a client CA makes client
certificates required (mTLS). A service calling another uses TLS whenever the server is
configured for it, trusting ``tls_ca_file`` (or the client CA), presenting the server's own
certificate when the other side requires one, and sending the service key as its bearer. Those
channels balance calls over every address of the other service (``chatdb_server.server.channels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from chatdb_server.server.channels import channel_options
from chatdb_server.server.tracing_grpc import client_interceptors
from chatdb_server.settings import Settings


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def tls_enabled(settings: Settings) -> bool:
    """Whether the server speaks TLS."""
    return bool(settings.tls_cert_file and settings.tls_key_file)


def check_tls_settings(settings: Settings) -> None:
    """ValueError for a half-configured TLS (a certificate without a key, a client CA without TLS)."""
    if bool(settings.tls_cert_file) != bool(settings.tls_key_file):
        raise ValueError("TLS needs both tls_cert_file and tls_key_file")
    if settings.tls_client_ca_file and not tls_enabled(settings):
        raise ValueError("tls_client_ca_file (mTLS) needs tls_cert_file and tls_key_file")


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """The server's TLS credentials; None for plaintext."""
    check_tls_settings(settings)
    if not tls_enabled(settings):
        return None
    client_ca = settings.tls_client_ca_file
    return grpc.ssl_server_credentials(
        [(_read(settings.tls_key_file), _read(settings.tls_cert_file))],
        root_certificates=_read(client_ca) if client_ca else None, require_client_auth=bool(client_ca))


class _Bearer:
    """Adds ``authorization: Bearer <key>`` to a call's metadata (plaintext channels cannot carry call
    credentials, so this works with and without TLS)."""

    def __init__(self, key: str) -> None:
        self._header = ("authorization", f"Bearer {key}")

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = [(k, v) for k, v in (details.metadata or ()) if k != "authorization"]
        return grpc.aio.ClientCallDetails(details.method, details.timeout, grpc.aio.Metadata(*metadata, self._header),
                                          details.credentials, details.wait_for_ready)


class _UnaryBearer(_Bearer, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation: Any, details: grpc.aio.ClientCallDetails,
                                    request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamBearer(_Bearer, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_stream(self, continuation: Any, details: grpc.aio.ClientCallDetails,
                                     request: Any) -> Any:
        return await continuation(self._details(details), request)


def bearer_interceptors(key: str) -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that send ``key`` as the bearer of unary and server-streaming calls (none when
    ``key`` is empty). grpc.aio files an interceptor under one call kind only, hence one for each."""
    return [_UnaryBearer(key), _StreamBearer(key)] if key else []


def service_channel(settings: Settings, address: str,
                    options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """A channel to another ChatDB service at ``address`` (``host:port`` or ``dns:///name:port``), with TLS
    and the service credential whenever they are configured, round-robin over every address the name
    resolves to, keepalive, and ``options`` over the shared channel options. Each call is traced (a client
    span, the trace context sent along)."""
    interceptors = [*client_interceptors(), *bearer_interceptors(settings.service_key)]
    merged = channel_options(options)
    if not tls_enabled(settings):
        return grpc.aio.insecure_channel(address, options=merged, interceptors=interceptors)
    ca = settings.tls_ca_file or settings.tls_client_ca_file
    presents_certificate = bool(settings.tls_client_ca_file)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(ca) if ca else None,
        private_key=_read(settings.tls_key_file) if presents_certificate else None,
        certificate_chain=_read(settings.tls_cert_file) if presents_certificate else None)
    return grpc.aio.secure_channel(address, credentials, options=merged, interceptors=interceptors)
