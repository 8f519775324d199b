"""A SchemaServicer over a real SchemaCatalog on a temporary SQLite metadata store, driven by grpc_testing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet

from chatdb.schema.v1 import schema_service_pb2
from chatdb_server.crypto import SecretBox
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.servicer import SchemaServicer
from tests.support.grpc_unit import UnitServer, bad_request_fields, error_info
from tests.support.trusted_targets import trusted_admission


@dataclass
class Outcome:
    """What one unary call ended with."""

    response: Any
    code: grpc.StatusCode
    details: str
    trailing: Any

    @property
    def reason(self) -> str:
        info = error_info(self.trailing)
        return info.reason if info else ""

    @property
    def fields(self) -> list[str]:
        return bad_request_fields(self.trailing)


@dataclass
class SchemaUnit:
    """The servicer under test, its catalog and a sample database to register."""

    server: UnitServer
    catalog: SchemaCatalog
    loop: asyncio.AbstractEventLoop
    shop: Path

    def call(self, method: str, tenant: str = "default", **fields: Any) -> Outcome:
        request = getattr(schema_service_pb2, f"{method}Request")(**fields)
        response, code, details, trailing = self.server.unary(method, request, (("x-chatdb-tenant", tenant),))
        return Outcome(response, code, details, trailing)

    def ok(self, method: str, tenant: str = "default", **fields: Any) -> Any:
        outcome = self.call(method, tenant, **fields)
        assert outcome.code == grpc.StatusCode.OK, outcome.details
        return outcome.response

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[SchemaUnit]:
    loop = asyncio.new_event_loop()
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    loop.run_until_complete(store.migrate())
    key = Fernet.generate_key()
    catalog = SchemaCatalog(store, SecretBox(key), PageTokens(key),
                            admission=trusted_admission(tmp_path / "data", store.url))
    descriptor = schema_service_pb2.DESCRIPTOR.services_by_name["SchemaService"]
    server = UnitServer(descriptor, SchemaServicer(catalog), loop)
    try:
        yield SchemaUnit(server, catalog, loop, build_shop_database(tmp_path / "shop.db"))
    finally:
        loop.run_until_complete(store.close())
        loop.close()
