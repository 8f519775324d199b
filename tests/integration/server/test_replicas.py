"""Replicas that agree, each a process of its own: two QueryService replicas, two training workers (one
beside SchemaService), PredictionService, a PostgreSQL metadata store and one Milvus server.

What one replica trains, the others answer from at once: they learn of the commit from the source's
generation, read with every question, not from a timer, so the first question asked after the job
succeeded is answered from what it trained (the time from the job's end to that answer is printed; it
was 0.3 s here against the promised second). Jobs queued on both training replicas each run exactly
once, and never two of one source at a time.

Every wait polls an observable condition under a deadline; nothing is asserted on time.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from itertools import pairwise
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from chatdb.query.v1 import query_service_pb2
from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb.wire import value_to_python
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from tests.support.databases import postgres_database
from tests.support.milvus_server import MilvusServerProcess, fresh_database
from tests.support.rows import normalised
from tests.support.server import ServerProcess
from tests.support.stubs import SuiteStubs

pytestmark = pytest.mark.slow

DEADLINE_S = 240.0
"""Safety limit only, for waits that include process start-up, model loading and many jobs."""
CUSTOMERS = "How many customers are there?"
AVERAGE_PRICE = "What is the average price of products?"
SOURCES = 3
JOBS_PER_SOURCE = 4
SUCCEEDED = training_pb2.TRAINING_JOB_STATE_SUCCEEDED
FINISHED = (SUCCEEDED, training_pb2.TRAINING_JOB_STATE_FAILED, training_pb2.TRAINING_JOB_STATE_CANCELLED)
NOT_ANSWERABLE_YET = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT)
"""What a replica may say about a question whose tables are not trained yet (NOT_TRAINED, UNSAFE_SQL, ...)."""


@dataclass
class Deployment:
    """The processes of one deployment and the sample databases they serve."""

    prediction: ServerProcess
    trainers: list[ServerProcess]
    """The first also hosts SchemaService (and AccessService beside it)."""
    queries: list[ServerProcess]
    directory: Path


class Client(SuiteStubs):
    """Stubs over one process's channel."""

    async def queue(self, name: str, tables: tuple[str, ...] = ()) -> training_pb2.TrainingJob:
        return (await self.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
            parent=name, tables=list(tables)))).training_job

    async def finished(self, job_name: str) -> training_pb2.TrainingJob:
        """The job once it has ended (followed with WatchTrainingJob, whichever replica runs it)."""
        async for event in self.training.WatchTrainingJob(
                training_service_pb2.WatchTrainingJobRequest(name=job_name), timeout=DEADLINE_S):
            if event.training_job.state in FINISHED:
                return event.training_job
        raise AssertionError(f"the watch of {job_name} ended before the job did")

    async def rows(self, name: str, question: str) -> list[str] | None:
        """The normalised rows of the answer; None when the replica cannot answer it (yet)."""
        try:
            reply = await self.query.Ask(query_service_pb2.AskRequest(parent=name, question=question), timeout=30)
        except grpc.aio.AioRpcError as error:
            assert error.code() in NOT_ANSWERABLE_YET, error
            return None
        return normalised([tuple(value_to_python(v) for v in row.values) for row in reply.rows])


@asynccontextmanager
async def clients(processes: list[ServerProcess]) -> AsyncIterator[list[Client]]:
    channels = [process.channel() for process in processes]
    try:
        yield [Client(channel) for channel in channels]
    finally:
        for channel in channels:
            await channel.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, milvus_server: MilvusServerProcess) -> Iterator[Deployment]:
    """Six processes sharing a fresh PostgreSQL database, a fresh Milvus database, one secret key and one
    admin key (also the key the services send each other), started in dependency order."""
    directory = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        dsn = stack.enter_context(postgres_database())
        milvus_uri = stack.enter_context(fresh_database(milvus_server.uri))
        admin_key = new_secret()
        env = {"CHATDB_METADATA_URL": make_url(dsn).set(drivername="postgresql+asyncpg")
               .render_as_string(hide_password=False),
               "CHATDB_MILVUS_URI": milvus_uri, "CHATDB_SECRET_KEY": Fernet.generate_key().decode(),
               "CHATDB_BOOTSTRAP_ADMIN_KEY": admin_key, "CHATDB_SERVICE_KEY": admin_key,
               "CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_JOB_POLL_S": "0.1"}
        started: list[ServerProcess] = []

        def start(name: str, services: list[str], **extra: str) -> ServerProcess:
            process = ServerProcess(directory / name, services, env={**env, **extra})
            started.append(process)
            return process.start()

        stack.callback(lambda: [process.kill() for process in started])
        trainers = [start("training-a", ["schema", "training"]), start("training-b", ["training"])]
        prediction = start("prediction", ["prediction"])
        remote = {"CHATDB_PREDICTION_ADDRESS": prediction.address, "CHATDB_TRAINING_ADDRESS": trainers[0].address}
        queries = [start("query-a", ["query"], **remote), start("query-b", ["query"], **remote)]
        yield Deployment(prediction, trainers, queries, directory)


def scalar_rows(database: Path, sql: str) -> list[str]:
    with sqlite3.connect(database) as conn:
        return normalised([tuple(row) for row in conn.execute(sql).fetchall()])


def end_time(job: training_pb2.TrainingJob) -> float:
    """When the job reached its end, as a Unix time (every process runs on this host's clock)."""
    return job.end_time.ToDatetime(tzinfo=UTC).timestamp()


async def next_answer(client: Client, name: str, question: str,
                      job: training_pb2.TrainingJob) -> tuple[list[str] | None, float]:
    """The rows of the next ask, and the seconds from the job's end to that reply."""
    rows = await client.rows(name, question)
    return rows, time.time() - end_time(job)


async def answered_by_all(queries: list[Client], name: str, question: str, expected: list[str]) -> None:
    """Until every query replica answers ``question`` with ``expected`` (the first asks load their models)."""
    deadline = time.monotonic() + DEADLINE_S
    for client in queries:
        while await client.rows(name, question) != expected:
            assert time.monotonic() < deadline, f"{question!r} not answered within {DEADLINE_S:.0f} s"


async def test_what_one_replica_trains_the_others_answer_from_the_next_question(deployment: Deployment) -> None:
    shop = build_shop_database(deployment.directory / "shop.db")
    customers, average_price = (scalar_rows(shop, "SELECT COUNT(*) FROM customers"),
                                scalar_rows(shop, "SELECT AVG(price) FROM products"))
    async with clients(deployment.trainers) as trainers, clients(deployment.queries) as queries:
        name = await trainers[0].register("shop", f"sqlite:///{shop}")
        for client in queries:  # both replicas see the source untrained (and keep that context)
            assert await client.rows(name, CUSTOMERS) is None

        first = await trainers[0].finished((await trainers[0].queue(name, ("customers",))).name)
        assert first.state == SUCCEEDED, first
        await answered_by_all(queries, name, CUSTOMERS, customers)  # each replica now holds the source's copy

        job = await trainers[1].queue(name, ("products", "categories"))  # through the other training replica
        finished = await trainers[1].finished(job.name)
        assert finished.state == SUCCEEDED, finished
        # The very next question each replica gets is answered from the new tables: no refresh to wait for.
        answers = await asyncio.gather(*(next_answer(client, name, AVERAGE_PRICE, finished) for client in queries))
        assert [rows for rows, _ in answers] == [average_price] * len(queries)
        print(f"first answer after the job succeeded, per query replica: "
              f"{', '.join(f'{seconds * 1000:.0f} ms' for _, seconds in answers)}")
        for client in queries:  # what was trained first is still answered
            assert await client.rows(name, CUSTOMERS) == customers


def job_events(processes: list[ServerProcess], event: str) -> list[dict[str, Any]]:
    """The training processes' structured log records of ``event`` (claims, ends)."""
    records = []
    for process in processes:
        for line in list(process.log_lines):
            if f'"{event}"' in line:
                records.append(json.loads(line))
    return records


async def test_jobs_queued_on_both_workers_each_run_exactly_once(deployment: Deployment) -> None:
    async with clients(deployment.trainers) as trainers:
        names = [await trainers[0].register(
            f"store-{i}", f"sqlite:///{build_shop_database(deployment.directory / f'store-{i}.db')}")
                 for i in range(SOURCES)]
        queued = [await trainers[(i + j) % 2].queue(name)  # through both replicas, interleaved
                  for j in range(JOBS_PER_SOURCE) for i, name in enumerate(names)]
        ended = await asyncio.gather(*(trainers[0].finished(job.name) for job in queued))

    assert [job.state for job in ended] == [SUCCEEDED] * len(queued), [j.error_message for j in ended]
    assert {job.attempt for job in ended} == {1}
    ours = {job.name for job in queued}
    claims = Counter(r["job"] for r in job_events(deployment.trainers, "training_job.claimed") if r["job"] in ours)
    ends = Counter(r["job"] for r in job_events(deployment.trainers, "training_job.finished") if r["job"] in ours)
    assert claims == ends == Counter(ours), (claims, ends)
    workers = {r["worker"] for r in job_events(deployment.trainers, "training_job.claimed") if r["job"] in ours}
    print(f"{len(ours)} jobs ran on {len(workers)} workers")
    assert len(workers) == 2  # both replicas took jobs
    by_source: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for job in ended:
        by_source[job.data_source].append((job.start_time.ToDatetime(tzinfo=UTC).timestamp(), end_time(job)))
    for source, spans in by_source.items():  # one job of a source at a time, whichever replica ran it
        spans.sort()
        assert all(later[0] >= earlier[1] for earlier, later in pairwise(spans)), (source, spans)
