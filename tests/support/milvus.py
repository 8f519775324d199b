"""A Milvus Lite server in a process of its own, for tests where several processes share one
vector store or where a process that writes vectors is killed (as Milvus runs in production:
a service apart from ChatDB's processes)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_DEADLINE_S = 90.0
"""Safety limit only: how long the server may take to accept connections."""


def free_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    """Run ``milvus-lite server`` on ``data_dir``; yield its URI; stop it after."""
    port = free_loopback_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir",
                               str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:  # ready once it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait(30)
