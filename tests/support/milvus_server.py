"""A real Milvus standalone server for tests, beside Milvus Lite.

The PyPI package ``milvus`` carries the binaries of a Milvus standalone server with an embedded
etcd. :class:`MilvusServerProcess` runs them the way the package's ``MilvusServer`` does (its
config template, ``milvus run standalone`` in the data dir) but on free ports for the proxy, every
internal component and etcd (etcd binds 2379/2380 unless ``ETCD_CONFIG_PATH`` names a config
with other URLs, so two servers — or a leftover — would collide), with the binaries unpacked once
per user and version instead of into every data dir, and waiting by polling with a deadline.

Also here, as fixtures every test can use (imported by ``tests/conftest.py``): ``milvus_server``,
one server per test session, and ``milvus_backend``, which runs a test once on Milvus Lite and
once on that server, each test on a store of its own.
"""

from __future__ import annotations

import atexit
import fcntl
import lzma
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import milvus
import pytest

from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.settings import Settings
from tests.support.milvus import free_loopback_port, milvus_lite_server

MILVUS_VERSION: str = milvus.__version__
"""The version of the server the ``milvus`` package runs (2.3.5)."""

START_DEADLINE_S = 180.0
"""Safety limit only: how long a start may take before it counts as failed (a restart after SIGKILL
replays the server's log first)."""
STOP_GRACE_S = 5.0
"""How long ``stop`` waits after SIGTERM before SIGKILL (shutdown with loaded collections can hang;
SIGKILL loses no acknowledged write)."""
_POLL_S = 0.05

_PACKAGE_BIN = Path(milvus.__file__).parent / "data" / "bin"


@cache
def binaries_dir() -> Path:
    """The server's binaries, unpacked once per user and package version under the system temp dir
    (about 250 MB, 6 s to unpack) and shared by every server and test run after that."""
    root = Path(tempfile.gettempdir()) / f"chatdb-milvus-{os.getuid()}" / MILVUS_VERSION
    bin_dir = root / "bin"
    done = root / "unpacked"
    root.mkdir(parents=True, exist_ok=True)
    with (root / "unpack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be unpacking the same version
        if not done.exists():
            bin_dir.mkdir(exist_ok=True)
            for packed in sorted(_PACKAGE_BIN.glob("*.lzma")):
                target = bin_dir / packed.name.removesuffix(".lzma")
                partial = target.with_name(target.name + ".partial")
                with lzma.open(packed) as source, partial.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                partial.chmod(0o755)
                partial.replace(target)
            done.touch()
    return bin_dir


def _etcd_config(client_port: int, peer_port: int) -> str:
    """An embedded-etcd config listening on loopback ports of its own instead of 2379/2380."""
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    return (f"name: default\nlisten-client-urls: {client}\nadvertise-client-urls: {client}\n"
            f"listen-peer-urls: {peer}\ninitial-advertise-peer-urls: {peer}\ninitial-cluster: default={peer}\n")


class MilvusServerProcess:
    """A Milvus standalone server in a process group of its own, on free loopback ports, keeping its
    data (etcd, log, segments) in ``data_dir``; ``restart`` comes back on the same ports and data."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._process: subprocess.Popen[bytes] | None = None
        self._ports: dict[str, int] = {}
        self._metrics_port = 0
        self._configured = False
        atexit.register(self.kill)  # never outlive the test run, whatever happens to its teardown

    # -- what tests use ----------------------------------------------------------------------------

    @property
    def uri(self) -> str:
        """The proxy's address, e.g. ``http://127.0.0.1:40123``."""
        self._require_configured()
        return f"http://127.0.0.1:{self._ports['proxy_port']}"

    @property
    def pid(self) -> int:
        """The server's process id (also its process group id)."""
        if self._process is None:
            raise RuntimeError("the Milvus server is not running")
        return self._process.pid

    def start(self) -> MilvusServerProcess:
        """Start the server and return once it answers; the first start also picks the ports and
        writes the config."""
        if self._process is not None:
            raise RuntimeError("the Milvus server is already running")
        if not self._configured:
            self._configure()
        logs = self.data_dir / "logs"
        with (logs / "milvus-stdout.log").open("ab") as out:
            self._process = subprocess.Popen(
                [str(binaries_dir() / "milvus"), "run", "standalone"], cwd=self.data_dir, env=self._environment(),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_answering()
        except BaseException:
            self.kill()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL the server (safe: every acknowledged write is back after a restart)."""
        if self._process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def stop(self) -> None:
        """SIGTERM the server; SIGKILL it when it has not exited within :data:`STOP_GRACE_S`."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(STOP_GRACE_S)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def restart(self) -> MilvusServerProcess:
        """Stop the server if it runs, then start it again on the same ports and data."""
        self.stop()
        return self.start()

    def __enter__(self) -> MilvusServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    # -- how ---------------------------------------------------------------------------------------

    def _require_configured(self) -> None:
        if not self._configured:
            raise RuntimeError("the Milvus server has not been started yet")

    def _configure(self) -> None:
        """Pick free ports and write ``configs/milvus.yaml`` (the package's template) and the etcd config."""
        from milvus import MilvusServerConfig

        config = MilvusServerConfig(data_dir=str(self.data_dir))
        ports = {key: free_loopback_port() for key in config.configurable_items if key.endswith("_port")}
        config.update(**ports)
        config.resolve()  # checks the ports can be bound, writes the config, makes logs/ and data/
        etcd = self.data_dir / "configs" / "etcd.yaml"
        etcd.write_text(_etcd_config(ports["etcd_port"], free_loopback_port()))
        self._ports = ports
        self._metrics_port = free_loopback_port()
        self._configured = True

    def _environment(self) -> dict[str, str]:
        bin_dir = str(binaries_dir())
        return {**os.environ, "DEPLOY_MODE": "STANDALONE", "METRICS_PORT": str(self._metrics_port),
                "MILVUS_RUN_DIR": str(self.data_dir / "run"),
                "ETCD_CONFIG_PATH": str(self.data_dir / "configs" / "etcd.yaml"),
                "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [bin_dir, os.environ.get("LD_LIBRARY_PATH")]))}

    def _wait_until_answering(self) -> None:
        """Poll the health endpoint, then a real call through pymilvus, until both answer."""
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        deadline = time.monotonic() + START_DEADLINE_S
        health = f"http://127.0.0.1:{self._metrics_port}/healthz"
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(health, timeout=2) as reply:
                    if b"OK" in reply.read():
                        client = MilvusClient(uri=self.uri, timeout=5)
                        try:
                            client.list_databases()
                            return
                        finally:
                            client.close()
            except (OSError, urllib.error.URLError, MilvusException):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"Milvus did not answer within {START_DEADLINE_S:.0f} s; {self._log_tail()}")
            time.sleep(_POLL_S)

    def _check_alive(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            code = self._process.returncode
            self._process = None
            raise RuntimeError(f"Milvus exited with {code} while starting; {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.data_dir / "logs" / "milvus-stdout.log"
        lines = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        return "its output ended with:\n" + "\n".join(lines)


@contextmanager
def fresh_database(server_uri: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_uri``; yields its URI
    (``http://host:port/name``, what ``CHATDB_MILVUS_URI`` takes) and drops it, collections and all, after."""
    from pymilvus import MilvusClient

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = MilvusClient(uri=server_uri)
    admin.create_database(name)
    try:
        yield f"{server_uri}/{name}"
    finally:
        scoped = MilvusClient(uri=f"{server_uri}/{name}")
        for collection in scoped.list_collections():
            scoped.drop_collection(collection)
        scoped.close()
        admin.drop_database(name)
        admin.close()


@dataclass(frozen=True)
class MilvusBackend:
    """Where one test's vectors live: Milvus Lite in the test's data dir, or a database of its own on
    the real server. Tests reach either through ChatDB's ``milvus_uri`` setting."""

    name: str
    server: MilvusServerProcess | None = None

    @contextmanager
    def milvus_uri(self) -> Iterator[str]:
        """The value of the ``milvus_uri`` setting for one test: empty (Milvus Lite in the data dir)
        or a fresh database on the server, dropped after."""
        if self.server is None:
            yield ""
            return
        with fresh_database(self.server.uri) as uri:
            yield uri

    @contextmanager
    def shared_uri(self, lite_dir: Path) -> Iterator[str]:
        """A URI several processes can use at once: a ``milvus-lite server`` on ``lite_dir``, or a
        fresh database on the real server."""
        if self.server is None:
            with milvus_lite_server(lite_dir) as uri:
                yield uri
            return
        with fresh_database(self.server.uri) as uri:
            yield uri

    @contextmanager
    def vector_store(self, data_dir: Path, dim: int, **options: Any) -> Iterator[VectorStore]:
        """A VectorStore built the way a ChatDB process builds it from its settings, closed after."""
        with self.milvus_uri() as milvus_uri:
            settings = Settings(data_dir=data_dir, milvus_uri=milvus_uri)
            store = VectorStore(settings.resolved_milvus_uri, settings.milvus_token, dim, **options)
            try:
                yield store
            finally:
                store.close()


BACKENDS = ("lite", "server")


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServerProcess]:
    """One real Milvus standalone server for the whole test session (started on first use)."""
    server = MilvusServerProcess(tmp_path_factory.mktemp("milvus-server")).start()
    try:
        yield server
    finally:
        server.kill()  # its data goes with the session: no graceful stop to wait for


@pytest.fixture(scope="session", params=[pytest.param(name, marks=[pytest.mark.slow] if name == "server" else [])
                                         for name in BACKENDS])
def milvus_backend(request: pytest.FixtureRequest) -> MilvusBackend:
    """Runs the test once on Milvus Lite and once on the real Milvus server (marked slow: creating a
    test's collections there takes seconds)."""
    if request.param == "lite":
        return MilvusBackend("lite")
    return MilvusBackend("server", request.getfixturevalue("milvus_server"))


@pytest.fixture
def milvus_uri(milvus_backend: MilvusBackend) -> Iterator[str]:
    """The ``milvus_uri`` setting of one test, on each backend (see :meth:`MilvusBackend.milvus_uri`)."""
    with milvus_backend.milvus_uri() as uri:
        yield uri
