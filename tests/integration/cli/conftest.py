"""A real ChatDB server per test module, the sample shop database registered and trained on it, and
the ``chatdb`` command run against it as a separate process, as a person or a script runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest

from chatdb_client import ChatDBClient
from chatdb_server.samples.shop import build_shop_database
from tests.support.server import ServerProcess

SHOP = "shop"
"""The id of the trained shop source every module's server has."""

CLI_TIMEOUT_S = 120.0


@dataclass
class Chatdb:
    """The ``chatdb`` command for one server: its environment (address, key, config and data dirs of
    its own) and ways to run it."""

    address: str
    api_key: str
    home: Path
    shop_db: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        """CHATDB_CONFIG_DIR: where profiles.toml is read."""
        return self.home / "config"

    @property
    def data_home(self) -> Path:
        """XDG_DATA_HOME: where the shell keeps its history."""
        return self.home / "data"

    def env(self, **overrides: str) -> dict[str, str]:
        """The command's environment: none of the caller's CHATDB_* variables, this server's instead."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("CHATDB_")}
        env.update({"CHATDB_ADDRESS": self.address, "CHATDB_API_KEY": self.api_key,
                    "CHATDB_CONFIG_DIR": str(self.config_dir), "XDG_DATA_HOME": str(self.data_home),
                    "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **self.extra_env})
        env.update(overrides)
        return {name: value for name, value in env.items() if value != ""}

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        """``python -m chatdb_cli ARGS`` to its end (stdin given, or empty)."""
        return subprocess.run([sys.executable, "-m", "chatdb_cli", *args], input=stdin, capture_output=True,
                              text=True, env=self.env(**env), timeout=CLI_TIMEOUT_S, check=False)

    def spawn(self, *args: str, **env: str) -> pexpect.spawn:
        """``python -m chatdb_cli ARGS`` in a pseudo-terminal, for what only a terminal shows."""
        return pexpect.spawn(sys.executable, ["-m", "chatdb_cli", *args], env=self.env(TERM="xterm", **env),
                             encoding="utf-8", timeout=CLI_TIMEOUT_S, dimensions=(50, 200))

    def client(self) -> ChatDBClient:
        """The SDK, to set up and check what a command did."""
        return ChatDBClient(self.address, api_key=self.api_key, timeout=60)


@contextmanager
def start_chatdb(home: Path, **server_env: str) -> Iterator[Chatdb]:
    """A server (``chatdb serve``, all services) with the shop source registered; the command for it."""
    shop_db = build_shop_database(home / "databases" / "shop.db")
    with ServerProcess(home / "server", env={"CHATDB_JOB_POLL_S": "0.1", **server_env}) as server:
        chatdb = Chatdb(server.address, server.admin_key, home, shop_db)
        with chatdb.client() as client:
            client.create_data_source(f"sqlite:///{shop_db}", data_source_id=SHOP)
        yield chatdb


@pytest.fixture(scope="module")
def chatdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chatdb]:
    """The command against this module's server, on which the shop source is trained."""
    with start_chatdb(tmp_path_factory.mktemp("cli")) as started:
        with started.client() as client:
            client.train(SHOP, timeout=CLI_TIMEOUT_S)
        yield started
