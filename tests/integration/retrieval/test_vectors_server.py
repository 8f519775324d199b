"""The vector store on a real Milvus server only: what Lite cannot show (another process reading
the store a server shares, a server killed and restarted)."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from chatdb_server.retrieval.vectors import TableVector, VectorStore
from tests.support.milvus_server import MilvusServerProcess, fresh_database

DIM = 16
READER_DEADLINE_S = 120.0
"""Safety limit only: how long the reader process may take to start or to answer."""

_READER = """
import json, sys
from chatdb_server.retrieval.vectors import VectorStore
store = VectorStore(sys.argv[1], dim=int(sys.argv[2]))
store.table_vectors("warm/up")
print("ready", flush=True)
for line in sys.stdin:
    names, _ = store.table_vectors(line.strip())
    print(json.dumps(names), flush=True)
"""


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def database(milvus_server: MilvusServerProcess) -> Iterator[str]:
    with fresh_database(milvus_server.uri) as uri:
        yield uri


def _read_line(reader: subprocess.Popen[str]) -> str:
    assert reader.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(reader.stdout, selectors.EVENT_READ)
        if not selector.select(READER_DEADLINE_S):
            raise AssertionError("the reader process did not answer in time")
    line = reader.stdout.readline()
    assert line, f"the reader process exited with {reader.wait()}"
    return line.strip()


@pytest.mark.slow
def test_another_process_loading_a_namespace_sees_a_write_the_moment_it_is_acknowledged(database: str) -> None:
    """A replica that learns from the metadata store that a source was just trained loads its
    vectors at once; that load must include them (a Session or Bounded read from another process
    misses a write for about one time tick)."""
    writer = VectorStore(database, dim=DIM)
    reader = subprocess.Popen([sys.executable, "-c", _READER, database, str(DIM)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert _read_line(reader) == "ready"
        assert reader.stdin is not None
        for round_ in range(3):
            namespace = f"trained/now{round_}"
            writer.upsert_tables(namespace, [TableVector("orders", "orders", unit(round_))])
            reader.stdin.write(namespace + "\n")
            reader.stdin.flush()
            assert json.loads(_read_line(reader)) == ["orders"], round_
    finally:
        reader.kill()
        reader.wait()
        writer.close()


@pytest.mark.slow
def test_a_killed_server_comes_back_with_every_acknowledged_vector(tmp_path: Path,
                                                                   milvus_server: MilvusServerProcess) -> None:
    """A second server beside the session's (its own ports, its own etcd), SIGKILLed right after
    the writes were acknowledged, restarted on the same ports and data."""
    with MilvusServerProcess(tmp_path / "milvus") as server:
        assert server.uri != milvus_server.uri
        first_pid = server.pid
        store = VectorStore(server.uri, dim=DIM)
        store.upsert_tables("kill/db", [TableVector(f"t{i}", f"table {i}", unit(i)) for i in range(20)])
        store.upsert_example("kill/db", "e1", "how many", "SELECT 1", unit(99))
        store.close()
        server.kill()
        server.restart()
        assert server.pid != first_pid
        reopened = VectorStore(server.uri, dim=DIM)
        try:
            assert reopened.count_tables("kill/db") == 20
            assert reopened.table_names("kill/db") == sorted(f"t{i}" for i in range(20))
            assert reopened.search_tables("kill/db", unit(7), 1)[0][0] == "t7"
            assert [hit.example_id for hit in reopened.search_examples("kill/db", unit(99), 1)] == ["e1"]
        finally:
            reopened.close()


@pytest.mark.slow
def test_a_hung_server_fails_calls_within_the_timeout_instead_of_holding_them(
        database: str, milvus_server: MilvusServerProcess) -> None:
    """A server that accepts connections but never answers (SIGSTOP) fails a call once ``timeout_s`` has
    passed, retries included, rather than holding its caller (a training job, an ask) indefinitely."""
    store = VectorStore(database, dim=DIM, timeout_s=2.0)
    store.upsert_tables("hung/db", [TableVector("t1", "table 1", unit(1))])
    outcome: list[BaseException | int] = []
    os.killpg(milvus_server.pid, signal.SIGSTOP)
    try:
        caller = threading.Thread(target=lambda: outcome.append(_call(lambda: store.count_tables("hung/db"))))
        caller.start()
        caller.join(READER_DEADLINE_S)  # safety limit only
        assert not caller.is_alive(), "the call to a hung Milvus never ended"
    finally:
        os.killpg(milvus_server.pid, signal.SIGCONT)
    (error,) = outcome
    assert isinstance(error, Exception), f"a hung Milvus answered {error!r}"
    assert store.count_tables("hung/db") == 1  # the store works again once the server does
    store.close()


def _call(read: Callable[[], int]) -> BaseException | int:
    try:
        return read()
    except Exception as error:
        return error
