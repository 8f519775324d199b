"""What a console needs to run: where the services are, and the secret that seals its sessions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from cryptography.fernet import Fernet

SECRET_FILE = "console.key"
"""The console's session secret in the data directory, when no secret is configured."""


@dataclass(frozen=True)
class ConsoleConfig:
    """Configuration of one console."""

    target: str
    """gRPC address of the services (``host:port`` or ``dns:///name:port``)."""
    secret: str
    """Fernet key that seals session cookies (``new_secret()`` makes one); changing it signs everyone out."""
    credentials: grpc.ChannelCredentials | None = None
    """TLS credentials of the channel to the services; None for plaintext."""
    service_targets: Mapping[str, str] = field(default_factory=dict)
    """Addresses of services reached elsewhere than ``target`` (full service name → address), for
    deployments where each service has its own (Kubernetes: ``dns:///chatdb-schema:50051``, ...)."""
    secure_cookies: bool = False
    """Mark the session cookie ``Secure``: set it when people reach the console over HTTPS."""
    session_ttl_s: int = 8 * 3600
    """How long a sign-in lasts."""
    call_timeout_s: float = 30.0
    """Deadline of each call the console makes."""
    history_window: int = 500
    """How many of the most recent queries the history and its analytics are computed over."""


def new_secret() -> str:
    """A fresh session secret."""
    return Fernet.generate_key().decode("ascii")


def load_or_create_secret(data_dir: Path) -> str:
    """The secret in ``data_dir/console.key``, written (readable by its owner only) when absent."""
    path = data_dir / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = new_secret()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secret + "\n")
    return secret
