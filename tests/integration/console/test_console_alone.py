"""``chatdb serve console``: the console alone (as its Kubernetes Deployment runs it), against the services at
``CHATDB_ADDRESS``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import READY_TIMEOUT_S, ServerProcess
from tests.support.trusted_targets import TRUSTED_TARGET_ENV

pytestmark = pytest.mark.slow


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def services(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "services") as server:
        yield server


def start_console(tmp_path: Path, address: str, port: int, **more: str) -> tuple[subprocess.Popen[str], str]:
    """``chatdb serve console`` in a child process; returns it and the URL it logged."""
    env = {**os.environ, "CHATDB_ADDRESS": address, "CHATDB_CONSOLE_PORT": str(port),
           "CHATDB_DATA_DIR": str(tmp_path / "console"), "CHATDB_LOG_LEVEL": "info", **TRUSTED_TARGET_ENV, **more}
    proc = subprocess.Popen([sys.executable, "-m", "chatdb_server.cli", "serve", "console"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if '"console.started"' in line:
                started.update(json.loads(line))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(READY_TIMEOUT_S) or "url" not in started:
        proc.kill()
        raise RuntimeError("the console did not start")
    return proc, started["url"]


def sign_in(browser: httpx.Client, key: str) -> httpx.Response:
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/signin").text)
    assert token is not None
    return browser.post("/signin", data={"api_key": key, "csrf_token": token.group(1)})


def test_the_console_alone_signs_in_against_the_services(services: ServerProcess, tmp_path: Path) -> None:
    proc, url = start_console(tmp_path, services.address, free_port())
    try:
        with httpx.Client(base_url=url, timeout=30) as browser:
            signed_in = sign_in(browser, services.admin_key)
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/connect"
            assert browser.get("/connect").status_code == 200
            status = browser.get("/status")
            assert status.status_code == 200 and 'id="dependencies"' in status.text
        assert (tmp_path / "console" / "console.key").is_file()  # the generated session secret
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_services_with_addresses_of_their_own_are_called_there(services: ServerProcess, tmp_path: Path) -> None:
    """As in Kubernetes, where SchemaService has its own name: here that name leads nowhere, so the pages
    that need SchemaService say so, while the query and prediction pages work."""
    nowhere = f"127.0.0.1:{free_port()}"
    proc, url = start_console(tmp_path, services.address, free_port(), CHATDB_SCHEMA_ADDRESS=nowhere)
    try:
        with httpx.Client(base_url=url, timeout=60) as browser:
            assert sign_in(browser, services.admin_key).status_code == 303
            assert browser.get("/status").status_code == 200
            connect = browser.get("/connect")
            assert connect.status_code == 503 and "UNAVAILABLE" in connect.text
    finally:
        proc.terminate()
        assert proc.wait(30) == 0

