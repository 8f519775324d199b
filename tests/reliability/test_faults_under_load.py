"""Faults with real processes, under load: ``chatdb serve`` answering a stream of asks while one thing
it depends on fails.

- The server paused (SIGSTOP for 5 s, then SIGCONT): callers see DEADLINE_EXCEEDED or UNAVAILABLE,
  never INTERNAL, and it serves again.
- Its PostgreSQL metadata store stopped mid-load and started again: asks are refused UNAVAILABLE
  while it is down, the server reports level 4 (CRITICAL) as soon as it can answer, asks succeed at
  level 0 once the store is back, and every ask that was answered is in the history.
- A training worker killed with SIGKILL mid-job: another replica recovers the job and finishes it,
  with exactly one vector per table.
- The Milvus server killed mid-training: the run fails within ``milvus_timeout_s``, its job is left to
  recovery (its vectors cannot be rolled back yet), and once Milvus is back the job is rolled back and
  resumed (or, out of attempts, fails and is retried): the namespace holds exactly one vector per table.

PredictionService killed under load, the target database stopped and TrainingService down are in
``tests/integration/query/test_faults.py``; a worker killed and restarted in
``tests/integration/training/test_worker_crash.py``. Every wait polls an observable condition under a
deadline; the only sleeps are the faults' lengths (the pause, the store's downtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_service_pb2
from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb_server.access.keys import new_secret
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.samples.shop import build_shop_database
from tests.support.callers import until_observed
from tests.support.databases import postgres_database
from tests.support.milvus import milvus_lite_server
from tests.support.milvus_server import MilvusServerProcess
from tests.support.postgres_cluster import private_postgres
from tests.support.server import ServerProcess
from tests.support.shop_questions import SHOP_QUESTIONS
from tests.support.stubs import SuiteStubs
from tests.support.training import train

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

FULL = degradation_pb2.DEGRADATION_LEVEL_FULL
CRITICAL = degradation_pb2.DEGRADATION_LEVEL_CRITICAL
DEADLINE_S = 120.0
"""Safety limit only, for waits that include process start-up and model loading."""
CLIENTS = 8
ASK_TIMEOUT_S = 2.0
"""Each ask's deadline: short, so a paused server shows as DEADLINE_EXCEEDED within the pause."""
PAUSE_S = 5.0
STOP_AFTER_PAUSE_S = 120.0
STORE_DOWN_S = 5.0
SERVER_ENV = {"CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_PREDICTION_BACKEND": "template",
              "CHATDB_RPC_DEADLINE_S": "3"}
FINISHED = (training_pb2.TRAINING_JOB_STATE_SUCCEEDED, training_pb2.TRAINING_JOB_STATE_FAILED,
            training_pb2.TRAINING_JOB_STATE_CANCELLED)
ACCEPTED_FAULT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class Load:
    """``CLIENTS`` callers asking in a loop, keeping every reply and every error code, with when it came."""

    def __init__(self, stubs: SuiteStubs, source: str) -> None:
        self.answered: list[tuple[float, query_service_pb2.AskResponse]] = []
        self.errors: list[tuple[float, grpc.StatusCode, str]] = []
        self._stubs = stubs
        self._source = source
        self._stopping = False
        self._changed = asyncio.Event()
        self._tasks = [asyncio.ensure_future(self._ask(client)) for client in range(CLIENTS)]

    async def _ask(self, client: int) -> None:
        number = client
        while not self._stopping:
            question = SHOP_QUESTIONS[number % len(SHOP_QUESTIONS)]
            number += 1
            try:
                reply = await self._stubs.query.Ask(query_service_pb2.AskRequest(parent=self._source,
                                                                                 question=question),
                                                    timeout=ASK_TIMEOUT_S)
            except grpc.aio.AioRpcError as error:
                self.errors.append((time.monotonic(), error.code(), error.details() or ""))
                await asyncio.sleep(0.05)  # pacing only: a refused caller retries, as a real one would
            else:
                self.answered.append((time.monotonic(), reply))
            self._changed.set()

    def answered_since(self, moment: float, level: int = FULL) -> int:
        """Asks answered at ``level`` after ``moment``."""
        return sum(1 for at, reply in self.answered if at > moment and reply.degradation_level == level)

    def errors_since(self, moment: float) -> list[grpc.StatusCode]:
        return [code for at, code, _ in self.errors if at > moment]

    async def until(self, what: str, condition: Callable[[], bool]) -> None:
        """Wait for the callers to observe ``condition``."""
        await until_observed(what, condition, self._changed, self._tasks, DEADLINE_S)

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    def report(self, fault: str, started: float, ended: float) -> None:
        """Print what callers saw around the fault (for RELIABILITY.md); never asserted on time."""
        codes = Counter(code.name for _, code, _ in self.errors)
        back = min((at for at, reply in self.answered if at > ended and reply.degradation_level == FULL),
                   default=float("nan"))
        print(f"\n{fault}: {len(self.answered)} answered, errors {dict(codes)}, fault lasted "
              f"{ended - started:.1f} s, first full answer {back - ended:.2f} s after it ended")

    def unexpected_errors(self) -> Counter[str]:
        """Errors a fault may not cause (anything but UNAVAILABLE and DEADLINE_EXCEEDED), with their details."""
        return Counter(f"{code.name}: {details}" for _, code, details in self.errors
                       if code not in ACCEPTED_FAULT_CODES)


@contextlib.asynccontextmanager
async def trained_shop(process: ServerProcess, tmp_path: Path) -> AsyncIterator[tuple[SuiteStubs, str]]:
    """The sample shop registered and trained on ``process``; its stubs and the source's name."""
    shop = build_shop_database(tmp_path / "shop.db")
    channel = process.channel()
    stubs = SuiteStubs(channel)
    try:
        name = await stubs.register("shop", f"sqlite:///{shop}")
        await train(stubs.training, name)
        yield stubs, name
    finally:
        await channel.close()


async def wait_for(what: str, check: Callable[[], object]) -> None:
    """Poll the coroutine function ``check`` until it returns true, under the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not reached within {DEADLINE_S:.0f} s")


async def test_a_paused_server_times_out_its_callers_then_serves_again(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path / "data", [], env=SERVER_ENV).start()
    try:
        async with trained_shop(process, tmp_path) as (stubs, source):
            load = Load(stubs, source)
            try:
                await load.until("answers before the pause", lambda: load.answered_since(0) >= 20)
                assert process.proc is not None
                paused_at = time.monotonic()
                os.kill(process.proc.pid, signal.SIGSTOP)
                try:
                    await load.until("callers timing out while paused",
                                     lambda: grpc.StatusCode.DEADLINE_EXCEEDED in load.errors_since(paused_at))
                    await asyncio.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused_at)))  # the fault's length
                finally:
                    os.kill(process.proc.pid, signal.SIGCONT)
                resumed_at = time.monotonic()
                await load.until("answers after SIGCONT", lambda: load.answered_since(resumed_at) >= 20)
            finally:
                await load.stop()
            load.report("server paused", paused_at, resumed_at)
        stopping = time.monotonic()
        # A generous limit: on a loaded machine this server's shutdown has taken over 30 s (not understood yet;
        # the stack dump ServerProcess takes past the limit will tell).
        assert process.terminate(timeout=STOP_AFTER_PAUSE_S) == 0
        print(f"stopped {time.monotonic() - stopping:.1f} s after SIGTERM")
    finally:
        process.kill()
    assert not load.unexpected_errors(), load.unexpected_errors()
    assert load.errors_since(paused_at), "the pause was not seen by any caller"


async def test_the_metadata_store_restarted_mid_load_is_level_4_then_recovers_with_every_answer_recorded(
        tmp_path: Path) -> None:
    with private_postgres() as store, \
            ServerProcess(tmp_path / "data", [], env={**SERVER_ENV, "CHATDB_METADATA_URL": store.url}) as process:
        async with trained_shop(process, tmp_path) as (stubs, source):
            load = Load(stubs, source)
            try:
                await load.until("answers before the restart", lambda: load.answered_since(0) >= 20)
                stopped_at = time.monotonic()
                store.stop()
                await load.until("asks refused while the store is down",
                                 lambda: grpc.StatusCode.UNAVAILABLE in load.errors_since(stopped_at))

                async def critical() -> bool:
                    status = await stubs.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest(),
                                                               timeout=ASK_TIMEOUT_S)
                    return status.degradation_level == CRITICAL

                await wait_for("GetSystemStatus at level 4 while the store is down", critical)
                await asyncio.sleep(max(0.0, STORE_DOWN_S - (time.monotonic() - stopped_at)))  # the fault's length
                store.start()
                restarted_at = time.monotonic()
                await load.until("answers at level 0 after the restart",
                                 lambda: load.answered_since(restarted_at) >= 20)
            finally:
                await load.stop()
            load.report("metadata store restarted", stopped_at, restarted_at)
            missing = []
            for _, reply in load.answered:
                try:
                    await stubs.query.GetQuery(query_service_pb2.GetQueryRequest(name=reply.query), timeout=30)
                except grpc.aio.AioRpcError as error:
                    missing.append(f"{reply.query}: {error.code().name}")
    assert not load.unexpected_errors(), load.unexpected_errors()
    assert not missing, f"{len(missing)} answered asks are missing from the history: {missing[:5]}"
    assert load.errors_since(stopped_at), "the restart was not seen by any caller"


@pytest.fixture
def replicas_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """What two training replicas share: a PostgreSQL metadata store, a Milvus Lite server in a process of
    its own, one secret and admin key; heartbeats every second, a job stale after 4 s without one."""
    with postgres_database() as dsn, milvus_lite_server(tmp_path / "milvus") as milvus_uri:
        admin_key = new_secret()
        yield {**SERVER_ENV,
               "CHATDB_METADATA_URL": make_url(dsn).set(drivername="postgresql+asyncpg")
               .render_as_string(hide_password=False),
               "CHATDB_MILVUS_URI": milvus_uri, "CHATDB_SECRET_KEY": Fernet.generate_key().decode(),
               "CHATDB_BOOTSTRAP_ADMIN_KEY": admin_key, "CHATDB_SERVICE_KEY": admin_key,
               "CHATDB_JOB_HEARTBEAT_S": "1", "CHATDB_JOB_STALE_AFTER_S": "4", "CHATDB_JOB_RECOVER_EVERY_S": "1"}


def wide_database(path: Path, tables: int) -> Path:
    """A SQLite database of ``tables`` small tables: enough work for a job to be killed mid-way."""
    with sqlite3.connect(path) as db:
        for number in range(tables):
            db.execute(f"CREATE TABLE ledger_{number:03d} (id INTEGER PRIMARY KEY, account_name TEXT, "
                       f"amount NUMERIC, booked_on DATE)")
    return path


async def test_a_training_worker_killed_mid_job_is_recovered_by_another_replica(
        tmp_path: Path, replicas_env: dict[str, str]) -> None:
    tables = 60
    database = wide_database(tmp_path / "ledgers.db", tables)
    first = ServerProcess(tmp_path / "first", ["schema", "training"], env=replicas_env).start()
    try:
        channel = first.channel()
        stubs = SuiteStubs(channel)
        try:
            job = await training_under_way(stubs, database)
        finally:
            await channel.close()
        first.kill()  # SIGKILL mid-job: its heartbeats stop
        with ServerProcess(tmp_path / "second", ["schema", "training"], env=replicas_env) as second:
            channel = second.channel()
            stubs = SuiteStubs(channel)
            try:
                done = await job_ended(stubs, job.name)
                assert done.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED, done
                assert done.attempt >= 2, "the job was not claimed again"
                assert done.trained_table_count == done.total_table_count == tables
            finally:
                await channel.close()
        vectors = VectorStore(replicas_env["CHATDB_MILVUS_URI"])
        try:
            assert vectors.count_tables("default/ledgers") == tables, "not exactly one vector per table"
        finally:
            vectors.close()
    finally:
        first.kill()


async def training_under_way(stubs: SuiteStubs, database: Path) -> training_pb2.TrainingJob:
    """Register ``database`` as the source ``ledgers`` and start training it; the job, once it has trained a
    first table."""
    source = await stubs.register("ledgers", f"sqlite:///{database}")
    job = (await stubs.training.CreateTrainingJob(
        training_service_pb2.CreateTrainingJobRequest(parent=source))).training_job
    await watch_until_progress(stubs, job.name)
    return job


async def watch_until_progress(stubs: SuiteStubs, job_name: str) -> None:
    """Follow the job until it has trained at least one table (and not all)."""
    async for event in stubs.training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job_name)):
        if event.training_job.trained_table_count > 0:
            assert event.training_job.state == training_pb2.TRAINING_JOB_STATE_RUNNING, event.training_job
            print(f"\nprogress seen: {event.training_job.trained_table_count}/{event.training_job.total_table_count}")
            return
    raise AssertionError("the watch ended before the job made progress")


async def job_ended(stubs: SuiteStubs, job_name: str) -> training_pb2.TrainingJob:
    """Wait until the job is finished; the job."""
    ended: list[training_pb2.TrainingJob] = []

    async def finished() -> bool:
        found = (await stubs.training.GetTrainingJob(training_service_pb2.GetTrainingJobRequest(name=job_name),
                                                     timeout=30)).training_job
        ended[:] = [found] if found.state in FINISHED else []
        return bool(ended)

    await wait_for(f"{job_name} finished", finished)
    return ended[0]


async def test_milvus_killed_mid_training_leaves_the_job_to_recovery_and_each_table_is_stored_once(
        tmp_path: Path) -> None:
    tables = 400
    database = wide_database(tmp_path / "ledgers.db", tables)
    with MilvusServerProcess(tmp_path / "milvus") as milvus:
        env = {**SERVER_ENV, "CHATDB_MILVUS_URI": milvus.uri, "CHATDB_MILVUS_TIMEOUT_S": "5",
               "CHATDB_JOB_HEARTBEAT_S": "1", "CHATDB_JOB_STALE_AFTER_S": "4", "CHATDB_JOB_RECOVER_EVERY_S": "1"}
        with ServerProcess(tmp_path / "data", ["schema", "training"], env=env) as process:
            channel = process.channel()
            stubs = SuiteStubs(channel)
            try:
                job = await training_under_way(stubs, database)
                source = job.data_source
                milvus.kill()

                async def recovery_waits_for_milvus() -> bool:
                    return any('"training_worker.recovery_failed"' in line for line in process.log_lines)

                # The run fails; its vectors cannot be rolled back while Milvus is down, so the job is left to
                # recovery, which retries until Milvus is back.
                await wait_for("recovery trying while Milvus is down", recovery_waits_for_milvus)
                interrupted = (await stubs.training.GetTrainingJob(
                    training_service_pb2.GetTrainingJobRequest(name=job.name))).training_job
                assert interrupted.state == training_pb2.TRAINING_JOB_STATE_RUNNING
                milvus.start()
                ended = await job_ended(stubs, job.name)
                if ended.state == training_pb2.TRAINING_JOB_STATE_FAILED:  # out of attempts: retried by hand
                    assert ended.error_reason and ended.error_message, "a failed job says why"
                    retry = (await stubs.training.CreateTrainingJob(
                        training_service_pb2.CreateTrainingJobRequest(parent=source))).training_job
                    ended = await job_ended(stubs, retry.name)
                assert ended.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED, ended
                assert ended.trained_table_count == tables
                print(f"\nMilvus killed mid-training: job {ended.name} succeeded at attempt {ended.attempt}")
            finally:
                await channel.close()
        vectors = VectorStore(milvus.uri)
        try:
            assert vectors.count_tables("default/ledgers") == tables, "not exactly one vector per table"
        finally:
            vectors.close()
