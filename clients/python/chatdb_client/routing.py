"""Calls of some services sent to addresses of their own, for split deployments where each service has
its own name (``dns:///chatdb-schema:50051``, ``dns:///chatdb-training:50051``, ...)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chatdb_client.channel import STUB_CLASSES

C = TypeVar("C")


def route_stubs(default: C, target: str, service_targets: Mapping[str, str] | None,
                open_channel: Callable[[str], C]) -> tuple[dict[str, Any], dict[str, C]]:
    """A stub per service, on ``default`` unless ``service_targets`` (full service name → address, e.g.
    ``{"chatdb.schema.v1.SchemaService": "dns:///chatdb-schema:50051"}``) names another address; and the
    channels by address (one per address), to close with the client."""
    unknown = sorted(set(service_targets or {}) - set(STUB_CLASSES))
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(STUB_CLASSES)}")
    channels: dict[str, C] = {target: default}
    stubs: dict[str, Any] = {}
    for service, stub in STUB_CLASSES.items():
        address = (service_targets or {}).get(service) or target
        if address not in channels:
            channels[address] = open_channel(address)
        stubs[service] = stub(channels[address])
    return stubs, channels
