"""Calls of some services sent to addresses of their own (split deployments)."""

from __future__ import annotations

import grpc
import pytest

from chatdb_client import ChatDBClient
from chatdb_client.routing import route_stubs

SCHEMA = "chatdb.schema.v1.SchemaService"
ACCESS = "chatdb.access.v1.AccessService"
QUERY = "chatdb.query.v1.QueryService"


def test_one_channel_per_address_and_each_service_on_its_own() -> None:
    opened: list[str] = []

    def open_channel(address: str) -> grpc.Channel:
        opened.append(address)
        return grpc.insecure_channel(address)

    main = grpc.insecure_channel("main:1")
    stubs, channels = route_stubs(main, "main:1", {SCHEMA: "schema:1", ACCESS: "schema:1"}, open_channel)
    assert opened == ["schema:1"]
    assert list(channels) == ["main:1", "schema:1"] and channels["main:1"] is main
    assert len(stubs) == 6
    for channel in channels.values():
        channel.close()


def test_unknown_services_are_refused() -> None:
    with pytest.raises(ValueError, match=r"chatdb\.schema\.v2\.SchemaService"):
        ChatDBClient("127.0.0.1:1", service_targets={"chatdb.schema.v2.SchemaService": "x:1"})

