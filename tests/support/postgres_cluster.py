"""A PostgreSQL server of a test's own, to stop and start under load.

The shared local server (127.0.0.1:5432) serves every other test, so a fault test may not restart it.
:class:`PrivatePostgres` runs the same installed PostgreSQL binaries on a data directory and a free
loopback port of its own (``initdb`` once, then ``pg_ctl start``/``stop`` as often as the test likes),
trusting local connections like the shared one. PostgreSQL refuses to run as root, so as root the
commands run as the ``postgres`` system user that the package installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from tests.support.milvus import free_loopback_port

START_TIMEOUT_S = 60
"""Safety limit only: how long ``pg_ctl`` may wait for the server to accept connections."""


@cache
def postgres_bin_dir() -> Path:
    """The directory of the installed PostgreSQL server binaries (``pg_ctl``, ``initdb``)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    if found is None:
        raise RuntimeError("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
    return Path(found).parent


class PrivatePostgres:
    """A PostgreSQL server on ``data_dir`` and a free loopback port, user ``postgres`` with trust auth."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_loopback_port()
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The SQLAlchemy asyncpg URL of its ``postgres`` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(postgres_bin_dir() / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def initialise(self) -> PrivatePostgres:
        """Create the cluster's files (once)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(self.data_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync")
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.data_dir / "server.log"),
                  "-w", "-t", str(START_TIMEOUT_S), "start")

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open connections are closed, as on a restart)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started :class:`PrivatePostgres`, stopped and removed at the end whatever state the test left it in.
    Its files go under the system temp dir, which the ``postgres`` user can reach (pytest's are private)."""
    root = Path(tempfile.mkdtemp(prefix="chatdb-pg-"))
    root.chmod(0o755)
    server = PrivatePostgres(root / "data").initialise()
    try:
        server.start()
        yield server
    finally:
        if (server.data_dir / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
