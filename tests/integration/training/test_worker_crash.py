"""A worker process killed with SIGKILL in the middle of VECTORIZE: after restart the job is
rolled back, resumed and finished, and the namespace holds exactly one vector per trained table.

The child runs a real worker on a file-backed metadata store; vectors go to a Milvus Lite server
in a process of its own, and to a real Milvus server, as Milvus runs in production (an embedded
Milvus Lite file killed in the middle of a write can be left unreadable, which is Lite's limit,
not what this test is about).
The child announces on stdout when its first batch of vectors is written and then blocks, so the
kill lands at a known point without any sleeping.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from chatdb_server.crypto import SecretBox
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.settings import Settings
from chatdb_server.training.job_model import JobState, JobType, Stage
from chatdb_server.training.jobs import JobStore
from tests.support.milvus_server import MilvusBackend
from tests.support.spider import REPO_ROOT
from tests.support.trusted_targets import trusted_admission
from tests.unit.training.job_fixtures import make_shop_database, open_stack, register_sqlite, stack_key

MARKER = "FIRST-BATCH-WRITTEN"
CHILD_DEADLINE_S = 300.0
"""Safety limit only: how long the child may take to load the model and write its first batch."""


class StopAfterFirstBatch(VectorStore):
    """The real vector store that, after its first table upsert, tells the parent and blocks forever."""

    def upsert_tables(self, namespace: str, items: list[TableVector]) -> int:  # type: ignore[override]
        written = super().upsert_tables(namespace, items)
        print(MARKER, flush=True)
        sys.stdin.readline()  # the parent never writes: this blocks until the process is killed
        return written


def child_main(data_dir: str, milvus_uri: str) -> None:
    """Entry point of the worker process: run one job until killed."""

    async def run() -> None:
        embedder = Embedder.shared()
        directory = Path(data_dir)
        vectors = StopAfterFirstBatch(milvus_uri, dim=embedder.dim)
        stack = await open_stack(directory, batch_size=3, vectors=vectors, worker_id="doomed-worker")
        await stack.service.worker.run_once()

    asyncio.run(run())


async def _register_and_queue(data_dir: Path, target: Path) -> str:
    """Register the source and queue a job using the metadata store only (Milvus stays closed)."""
    settings = Settings(data_dir=data_dir)
    store = MetadataStore(settings.resolved_metadata_url)
    await store.migrate()
    key = stack_key(data_dir)
    try:
        catalog = SchemaCatalog(store, SecretBox(key), PageTokens(key),
                                admission=trusted_admission(data_dir, store.url))
        source = await register_sqlite(catalog, "acme", "shop", target)
        job = await JobStore(store).create(source, JobType.SCHEMA)
        return job.job_id
    finally:
        await store.close()


def _wait_for_marker(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            if not selector.select(CHILD_DEADLINE_S):
                raise AssertionError("the worker process did not reach VECTORIZE in time")
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"the worker process exited early with {proc.wait()}")
            if line.strip() == MARKER:
                return


def test_killed_worker_job_resumes_after_restart(tmp_path: Path, milvus_backend: MilvusBackend) -> None:
    data_dir = tmp_path / "chatdb"
    data_dir.mkdir()
    job_id = asyncio.run(_register_and_queue(data_dir, make_shop_database(tmp_path / "shop.db", 5)))

    with milvus_backend.shared_uri(tmp_path / "milvus") as milvus_uri:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys; from tests.integration.training.test_worker_crash import child_main; "
                                   "child_main(sys.argv[1], sys.argv[2])", str(data_dir), milvus_uri],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=(tmp_path / "child.log").open("w"), text=True, start_new_session=True)
        try:
            _wait_for_marker(child)
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL

        asyncio.run(_restart_and_check(data_dir, job_id, milvus_uri))


async def _restart_and_check(data_dir: Path, job_id: str, milvus_uri: str) -> None:
    vectors = VectorStore(milvus_uri, dim=Embedder.shared().dim)
    stack = await open_stack(data_dir, batch_size=3, worker_id="restarted-worker", vectors=vectors)
    try:
        source = await stack.catalog.resolve("acme", "dataSources/shop")
        crashed = await stack.service.jobs.get("acme", job_id)
        assert (crashed.state, crashed.stage, crashed.worker_id) == (JobState.RUNNING, Stage.VECTORIZE,
                                                                     "doomed-worker")
        assert len(crashed.staged_tables) == 3
        assert stack.vectors.count_tables(source.namespace) == 3  # what the dead worker half-wrote

        (recovered,) = await stack.service.worker.recover(stale_after_s=0)
        assert recovered.state is JobState.QUEUED and recovered.attempt == 1
        assert stack.vectors.count_tables(source.namespace) == 0  # rolled back: nothing was trained yet

        (finished,) = await stack.service.worker.run_until_idle()
        assert finished.job_id == job_id
        assert (finished.state, finished.attempt, finished.trained_table_count) == (JobState.SUCCEEDED, 2, 9)
        tables = await stack.catalog.stored_tables(source)
        assert all(t.training_state == "TRAINED" for t in tables) and len(tables) == 9
        assert stack.vectors.count_tables(source.namespace) == len(tables)
        assert stack.vectors.table_names(source.namespace) == sorted(t.structure.name for t in tables)
        names, matrix = stack.vectors.table_vectors(source.namespace)
        assert len(set(names)) == len(names) and np.all(np.isfinite(matrix))
    finally:
        await stack.close()
