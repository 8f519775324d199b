"""The browser console (the chatdb-console distribution): beside every service under ``chatdb serve``,
or alone under ``chatdb serve console``. Either way it is a client of the public API: it calls the
services through the SDK with each signed-in person's key and reads nothing behind their back."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from pathlib import Path

import grpc

from chatdb_cli.connection import resolve_connection
from chatdb_client import tls_credentials
from chatdb_client.operations.core import ACCESS, PREDICTION, SCHEMA, TRAINING, WEBHOOK
from chatdb_console import ConsoleConfig, ConsoleServer, load_or_create_secret
from chatdb_server.log import get_logger
from chatdb_server.settings import Settings

log = get_logger(__name__)


def console_config(settings: Settings, target: str, credentials: grpc.ChannelCredentials | None,
                   service_targets: Mapping[str, str] | None = None) -> ConsoleConfig:
    """The console's configuration: the services at ``target`` (some elsewhere, by ``service_targets``), the
    secret set or kept in the data directory."""
    secret = settings.console_secret or load_or_create_secret(settings.data_dir)
    return ConsoleConfig(target=target, secret=secret, credentials=credentials,
                         service_targets=dict(service_targets or {}), secure_cookies=settings.console_secure_cookies)


def split_targets(settings: Settings) -> dict[str, str]:
    """Where a console alone finds the services that have addresses of their own in a split deployment
    (``CHATDB_SCHEMA_ADDRESS``, with access and webhooks hosted beside it, ``CHATDB_TRAINING_ADDRESS``,
    ``CHATDB_PREDICTION_ADDRESS``); the rest go to ``CHATDB_ADDRESS``."""
    hosts = {settings.schema_address: (SCHEMA, ACCESS, WEBHOOK), settings.training_address: (TRAINING,),
             settings.prediction_address: (PREDICTION,)}
    return {service: address for address, services in hosts.items() if address for service in services}


def local_target(settings: Settings, grpc_port: int) -> tuple[str, grpc.ChannelCredentials | None]:
    """How a console in this process reaches its gRPC server: plaintext on loopback, or TLS trusting the
    services' CA (or their own certificate) under the name ``localhost``."""
    if not settings.tls_cert_file:
        return f"127.0.0.1:{grpc_port}", None
    roots = Path(settings.tls_ca_file or settings.tls_cert_file).read_bytes()
    return f"localhost:{grpc_port}", grpc.ssl_channel_credentials(root_certificates=roots)


async def start_beside(settings: Settings, grpc_port: int) -> ConsoleServer | None:
    """The console for this process's services on ``console_port``; None when that is 0, or when the
    services require client certificates (the console has none: run it alone, then)."""
    if settings.console_port <= 0:
        return None
    if settings.tls_client_ca_file:
        log.warning("console.off", why="the services require client certificates; run `chatdb serve console`")
        return None
    target, credentials = local_target(settings, grpc_port)
    console = ConsoleServer(console_config(settings, target, credentials), settings.host, settings.console_port)
    await console.start()
    log.info("console.started", url=console.url)
    return console


async def serve_alone(settings: Settings) -> None:
    """Run only the console, against the services at ``CHATDB_ADDRESS`` and those with addresses of their own
    (``split_targets``), over TLS when ``CHATDB_CA_FILE``, ``CHATDB_CERT_FILE`` or ``CHATDB_KEY_FILE`` is set,
    until SIGTERM or SIGINT."""
    if settings.console_port <= 0:
        raise ValueError("CHATDB_CONSOLE_PORT is 0: give the console a port")
    connection = resolve_connection()
    credentials = (tls_credentials(str(connection.ca_file or ""), str(connection.cert_file or ""),
                                   str(connection.key_file or "")) if connection.uses_tls else None)
    config = console_config(settings, connection.address, credentials, split_targets(settings))
    console = ConsoleServer(config, settings.host, settings.console_port)
    await console.start()
    log.info("console.started", url=console.url, services=connection.address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await console.stop()
    log.info("console.stopped")
