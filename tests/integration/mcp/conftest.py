"""A real ChatDB suite for the MCP server tests: tenant alpha's sample shop registered and trained, an
asker key the MCP server calls ChatDB with, and an admin who reads the audit log."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from tests.support.server import in_process_suite, keyed_channel
from tests.support.training import train

SHOP = "dataSources/shop"
MCP_COMMAND = [sys.executable, "-m", "chatdb_cli", "mcp"]
"""``chatdb mcp`` as the client distribution installs it."""


@dataclass
class ChatDB:
    """The running suite as the MCP tests see it."""

    address: str
    agent_key: str
    """An asker key of alpha: what the MCP server calls ChatDB with."""
    agent_principal: str
    """The audit log's name for it, ``apiKeys/{id}``."""
    shop_db: Path
    config_dir: Path
    """An empty configuration directory, so no profile file of the machine's user applies."""
    access: access_service_pb2_grpc.AccessServiceStub
    """AccessService on a channel that sends alpha's admin key."""

    def env(self, api_key: str | None = None, **extra: str) -> dict[str, str]:
        """The whole environment of an MCP server process: where ChatDB is and which key it uses."""
        return {"PATH": os.environ.get("PATH", ""), "HOME": str(self.config_dir),
                "CHATDB_CONFIG_DIR": str(self.config_dir), "CHATDB_ADDRESS": self.address,
                "CHATDB_API_KEY": self.agent_key if api_key is None else api_key, **extra}

    def rows(self, sql: str) -> list[list[Any]]:
        """What ``sql`` returns read straight from the shop's SQLite file."""
        with sqlite3.connect(self.shop_db) as connection:
            return [list(row) for row in connection.execute(sql).fetchall()]

    async def audit_events(self) -> list[access_pb2.AuditEvent]:
        """The agent key's audit events, newest first."""
        reply = await self.access.ListAuditEvents(access_service_pb2.ListAuditEventsRequest(
            principal=self.agent_principal, page_size=1000))
        return list(reply.audit_events)


@pytest_asyncio.fixture(loop_scope="package", scope="package")
async def chatdb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ChatDB]:
    root = tmp_path_factory.mktemp("mcp")
    (root / "config").mkdir()
    async with in_process_suite(root / "data") as (running, _):
        keys = shared_keys(running.components)
        admin = (await keys.create("alpha", ["admin"])).secret
        agent = await keys.create("alpha", ["asker"])
        address = f"127.0.0.1:{running.port}"
        shop_db = build_shop_database(root / "shop.db")
        async with keyed_channel(address, admin) as channel:
            await schema_service_pb2_grpc.SchemaServiceStub(channel).CreateDataSource(
                schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                           data_source={"dsn": f"sqlite:///{shop_db}"}))
            await train(training_service_pb2_grpc.TrainingServiceStub(channel), SHOP)
            yield ChatDB(address, agent.secret, f"apiKeys/{agent.key.key_id}", shop_db, root / "config",
                         access_service_pb2_grpc.AccessServiceStub(channel))

