"""Where the ``chatdb`` command connects, and with which credential.

Each setting is taken from the first place that names it: an explicit argument (a flag), then the
environment (``CHATDB_ADDRESS``, ``CHATDB_API_KEY``, ``CHATDB_TENANT``, ``CHATDB_CA_FILE``,
``CHATDB_CERT_FILE``, ``CHATDB_KEY_FILE``, ``CHATDB_TIMEOUT``), then the profile file, then the
defaults. The profile file is ``profiles.toml`` in the user's configuration directory
(``platformdirs``: ``~/.config/chatdb`` on Linux; ``CHATDB_CONFIG_DIR`` names another one), one
table per profile::

    [default]
    address = "chatdb.internal:443"
    api_key = "..."
    ca_file = "~/certs/chatdb-ca.pem"

    [staging]
    address = "chatdb.staging:50051"
    tenant = "acme"

The profile is ``--profile``, else ``CHATDB_PROFILE``, else ``default``; naming a profile the file
lacks is an error, while a missing ``[default]`` (or no file at all) just leaves the defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from chatdb_client import AsyncChatDBClient, ChatDBClient, tls_credentials

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 30.0
DEFAULT_PROFILE = "default"
PROFILES_FILE = "profiles.toml"
CONFIG_DIR_VARIABLE = "CHATDB_CONFIG_DIR"

# Setting name → its environment variable.
ENVIRONMENT = {
    "address": "CHATDB_ADDRESS",
    "api_key": "CHATDB_API_KEY",
    "tenant": "CHATDB_TENANT",
    "ca_file": "CHATDB_CA_FILE",
    "cert_file": "CHATDB_CERT_FILE",
    "key_file": "CHATDB_KEY_FILE",
    "timeout": "CHATDB_TIMEOUT",
}
PROFILE_VARIABLE = "CHATDB_PROFILE"
# Every variable a client reads: a server started in the same shell does not take them for typos.
CLIENT_VARIABLES = frozenset({*ENVIRONMENT.values(), PROFILE_VARIABLE, CONFIG_DIR_VARIABLE})
_PATH_SETTINGS = ("ca_file", "cert_file", "key_file")


class ConfigurationError(ValueError):
    """The connection settings cannot be used: a bad profile file, an unknown profile, a bad value."""


@dataclass(frozen=True)
class Connection:
    """Everything needed to reach a ChatDB server."""

    address: str = DEFAULT_ADDRESS
    """``host:port`` or ``dns:///name:port``."""
    api_key: str = ""
    """The API key sent as ``authorization: Bearer``; empty sends none."""
    tenant: str = ""
    """Another tenant to act for (operators only); empty means the key's own."""
    ca_file: Path | None = None
    """CA of the server's certificate; any of the three files turns TLS on (no CA: the system's roots)."""
    cert_file: Path | None = None
    """Client certificate for mTLS, with ``key_file``."""
    key_file: Path | None = None
    """Client private key for mTLS."""
    timeout: float = DEFAULT_TIMEOUT
    """Deadline of each call, in seconds."""

    @property
    def uses_tls(self) -> bool:
        """Whether the channel is TLS."""
        return any(path is not None for path in (self.ca_file, self.cert_file, self.key_file))


def config_dir() -> Path:
    """The directory of ``profiles.toml``: ``CHATDB_CONFIG_DIR``, else the user's configuration directory."""
    override = os.environ.get(CONFIG_DIR_VARIABLE, "")
    return Path(override) if override else Path(platformdirs.user_config_dir("chatdb", appauthor=False))


def load_profile(name: str | None = None, directory: Path | None = None) -> dict[str, Any]:
    """The settings of one profile of the profile file (``default`` when ``name`` is None)."""
    path = (directory or config_dir()) / PROFILES_FILE
    wanted = name or DEFAULT_PROFILE
    if not path.is_file():
        if name and name != DEFAULT_PROFILE:
            raise ConfigurationError(f"profile {name!r} not found: there is no {path.name}")
        return {}
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"cannot read {path.name}: {error}") from None
    profile = profiles.get(wanted)
    if profile is None:
        if name and name != DEFAULT_PROFILE:
            raise ConfigurationError(f"profile {name!r} not found in {path.name}")
        return {}
    if not isinstance(profile, Mapping):
        raise ConfigurationError(f"profile {wanted!r} in {path.name} is not a table")
    unknown = sorted(set(profile) - set(ENVIRONMENT))
    if unknown:
        raise ConfigurationError(f"profile {wanted!r} has unknown settings: {', '.join(unknown)}")
    return dict(profile)


def resolve_connection(address: str | None = None, api_key: str | None = None, tenant: str | None = None,
                       profile: str | None = None, ca_file: Path | str | None = None,
                       cert_file: Path | str | None = None, key_file: Path | str | None = None,
                       timeout: float | None = None) -> Connection:
    """The connection the arguments, the environment and the profile file name, in that order of precedence."""
    explicit: dict[str, Any] = {"address": address, "api_key": api_key, "tenant": tenant, "ca_file": ca_file,
                                "cert_file": cert_file, "key_file": key_file, "timeout": timeout}
    stored = load_profile(profile or os.environ.get(PROFILE_VARIABLE) or None)
    chosen: dict[str, Any] = {}
    for setting, variable in ENVIRONMENT.items():
        for value in (explicit[setting], os.environ.get(variable) or None, stored.get(setting)):
            if value is not None and value != "":
                chosen[setting] = value
                break
    return Connection(
        address=str(chosen.get("address", DEFAULT_ADDRESS)),
        api_key=str(chosen.get("api_key", "")),
        tenant=str(chosen.get("tenant", "")),
        ca_file=_path(chosen.get("ca_file")),
        cert_file=_path(chosen.get("cert_file")),
        key_file=_path(chosen.get("key_file")),
        timeout=_timeout(chosen.get("timeout", DEFAULT_TIMEOUT)),
    )


def open_client(connection: Connection) -> ChatDBClient:
    """A synchronous client for the connection (close it, or use it as a context manager)."""
    return ChatDBClient(connection.address, tenant=connection.tenant, timeout=connection.timeout,
                        credentials=_credentials(connection), api_key=connection.api_key)


def open_async_client(connection: Connection) -> AsyncChatDBClient:
    """An asyncio client for the connection; call it inside a running event loop."""
    return AsyncChatDBClient(connection.address, tenant=connection.tenant, timeout=connection.timeout,
                             credentials=_credentials(connection), api_key=connection.api_key)


def _credentials(connection: Connection) -> Any:
    if not connection.uses_tls:
        return None
    try:
        return tls_credentials(str(connection.ca_file or ""), str(connection.cert_file or ""),
                               str(connection.key_file or ""))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot set up TLS: {error}") from None


def _path(value: Any) -> Path | None:
    return None if value is None else Path(str(value)).expanduser()


def _timeout(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"timeout must be a number of seconds, not {value!r}") from None
    if seconds <= 0:
        raise ConfigurationError(f"timeout must be positive, not {value!r}")
    return seconds
