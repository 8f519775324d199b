"""Servers the client SDK tests call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.clients.scripted_server import ScriptedServer


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """The scripted services on a loopback port, for this test alone."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()
