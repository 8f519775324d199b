"""Fault tests with real processes: PredictionService stopped under load and restarted, the target
database made unreachable, TrainingService down. Every wait loops on an observable condition under a
deadline; nothing sleeps to synchronise."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.training.v1 import training_service_pb2
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from tests.support.callers import until_observed
from tests.support.databases import PG_ADMIN_URL, postgres_database, sync_engine_for
from tests.support.grpc_unit import error_info
from tests.support.milvus import milvus_lite_server
from tests.support.server import ServerProcess
from tests.support.spider_copy import copy_sqlite_to
from tests.support.stubs import SuiteStubs
from tests.support.training import train

pytestmark = pytest.mark.slow
FULL = degradation_pb2.DEGRADATION_LEVEL_FULL
NO_TRAINING = degradation_pb2.DEGRADATION_LEVEL_NO_TRAINING
NO_MODEL = degradation_pb2.DEGRADATION_LEVEL_NO_MODEL
NO_DATABASE = degradation_pb2.DEGRADATION_LEVEL_NO_DATABASE
QUESTIONS = ("How many customers are there?", "What is the average price of products?",
             "How many orders were placed in each city?", "List the names of products in the Books category")
DEADLINE_S = 90.0
COMMON_ENV = {"CHATDB_RESULT_CACHE_TTL_S": "0", "CHATDB_BREAKER_FAIL_MAX": "2", "CHATDB_BREAKER_RESET_S": "1",
              "CHATDB_RPC_DEADLINE_S": "3"}


class Client(SuiteStubs):
    """Stubs of one server process."""

    async def ask(self, name: str, question: str) -> query_service_pb2.AskResponse:
        return await self.query.Ask(query_service_pb2.AskRequest(parent=name, question=question), timeout=30)

    async def level(self) -> int:
        return int((await self.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest())).degradation_level)


async def until(condition_name: str, check: object) -> None:
    """Await ``check()`` (a coroutine function returning bool) until true, or fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
    raise AssertionError(f"{condition_name}: not reached within {DEADLINE_S:.0f} s")


class Load:
    """Several clients asking in a loop; waits are on the replies they observe."""

    def __init__(self, client: Client, name: str, workers: int) -> None:
        self.replies: list[query_service_pb2.AskResponse] = []
        self._client = client
        self._name = name
        self._stopping = False
        self._changed = asyncio.Event()
        self._tasks = [asyncio.ensure_future(self._ask(worker)) for worker in range(workers)]

    async def _ask(self, worker: int) -> None:
        index = worker
        try:
            while not self._stopping:
                self.replies.append(await self._client.ask(self._name, QUESTIONS[index % len(QUESTIONS)]))
                index += 1
                self._changed.set()
        finally:
            self._changed.set()

    async def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        """Until ``condition()`` holds; a failed ask ends the wait with its error."""
        await until_observed(what, condition, self._changed, self._tasks, DEADLINE_S)

    async def stop(self) -> list[BaseException]:
        """Stop asking; the errors of any client that failed."""
        self._stopping = True
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        return [r for r in results if isinstance(r, BaseException)]


@contextlib.asynccontextmanager
async def client_of(process: ServerProcess) -> AsyncIterator[Client]:
    channel = process.channel()
    try:
        yield Client(channel)
    finally:
        await channel.close()


@pytest.fixture
def shared_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings every process of one test shares: a metadata store on PostgreSQL, a secret key, and the admin
    key, which the services also send when they call each other (it is an operator key)."""
    with postgres_database() as dsn:
        url = make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        admin_key = new_secret()
        yield {**COMMON_ENV, "CHATDB_METADATA_URL": url, "CHATDB_SECRET_KEY": Fernet.generate_key().decode(),
               "CHATDB_BOOTSTRAP_ADMIN_KEY": admin_key, "CHATDB_SERVICE_KEY": admin_key}


@contextlib.contextmanager
def running(processes: list[ServerProcess]) -> Iterator[list[ServerProcess]]:
    """Kill every process in ``processes`` (including ones added meanwhile) at the end."""
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()


async def test_prediction_stopped_under_load_answers_at_level_2_then_returns_to_0(
        tmp_path: Path, shared_env: dict[str, str]) -> None:
    prediction = ServerProcess(tmp_path / "prediction", ["prediction"], env=shared_env).start()
    suite = ServerProcess(tmp_path / "suite", ["schema", "training", "query"],
                          env={**shared_env, "CHATDB_PREDICTION_ADDRESS": prediction.address})
    with running([prediction, suite]) as processes:
        suite.start()
        async with client_of(suite) as client:
            name = await client.register("shop", f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}")
            await train(client.training, name)
            first = await client.ask(name, QUESTIONS[0])
            assert (first.degradation_level, first.served_by) == (FULL, query_pb2.SERVED_BY_TEMPLATE)
            assert not any("unavailable" in w for w in first.warnings)

            load = Load(client, name, workers=6)
            try:
                await load.wait_for("answers at level 0 under load", lambda: len(load.replies) >= 6)
                prediction.kill()
                seen = len(load.replies)
                await load.wait_for("answers at level 2 after the stop", lambda: sum(
                    r.degradation_level == NO_MODEL for r in load.replies[seen:]) >= 12)
            finally:
                failures = await load.stop()
            assert not failures, failures  # no ask failed while PredictionService went away
            replies = load.replies
            degraded = [r for r in replies[seen:] if r.degradation_level == NO_MODEL]
            assert all(r.served_by == query_pb2.SERVED_BY_TEMPLATE and r.row_count > 0 for r in degraded)
            # A reply whose generation finished just before the kill may still report level 2 (its level is
            # taken at reply time); once the breaker is open every reply says the template generator answered.
            assert all(any("template generator" in w for w in r.warnings) for r in degraded[-6:])
            assert await client.level() == NO_MODEL
            status = await client.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest())
            health = {d.name: d for d in status.dependencies}
            assert not health["prediction"].healthy

            prediction = ServerProcess(tmp_path / "prediction", ["prediction"], env=shared_env,
                                       port=prediction.port)
            processes.append(prediction)
            prediction.start()

            async def back_to_full() -> bool:
                reply = await client.ask(name, QUESTIONS[1])
                return reply.degradation_level == FULL and not any("template generator" in w for w in reply.warnings)

            await until("level 0 after the restart", back_to_full)
            assert await client.level() == FULL


async def test_unreachable_database_serves_stale_cache_at_level_3(tmp_path: Path,
                                                                  shared_env: dict[str, str]) -> None:
    suite = ServerProcess(tmp_path / "suite", [], env=shared_env)
    with running([suite]), postgres_database() as dsn:
        copy_sqlite_to(dsn, build_shop_database(tmp_path / "shop.db"))
        database = make_url(dsn).database
        admin = sync_engine_for(PG_ADMIN_URL)
        suite.start()
        try:
            async with client_of(suite) as client:
                name = await client.register("pg-shop", dsn)
                await train(client.training, name)
                fresh = await client.ask(name, QUESTIONS[2])
                assert fresh.degradation_level == FULL and fresh.row_count > 0 and not fresh.stale

                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database})

                stale = await client.ask(name, QUESTIONS[2])
                assert stale.stale and stale.served_by == query_pb2.SERVED_BY_CACHE
                assert stale.degradation_level == NO_DATABASE
                assert list(stale.rows) == list(fresh.rows) and stale.sql == fresh.sql
                assert stale.cached_time.seconds > 0 and any("stale" in w for w in stale.warnings)

                with pytest.raises(grpc.aio.AioRpcError) as nothing_cached:
                    await client.ask(name, QUESTIONS[1])
                assert nothing_cached.value.code() is grpc.StatusCode.UNAVAILABLE
                info = error_info(nothing_cached.value.trailing_metadata())
                assert info is not None and info.reason == "DEGRADED"
                status = await client.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest())
                database_health = {d.name: d for d in status.dependencies}[name]
                assert not database_health.healthy

                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))

                async def live_again() -> bool:
                    reply = await client.ask(name, QUESTIONS[2])
                    return not reply.stale and reply.degradation_level == FULL

                await until("live answers after the database is back", live_again)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
            admin.dispose()


@pytest.fixture
def milvus_uri(tmp_path: Path) -> Iterator[str]:
    """A Milvus Lite server process, so that two ChatDB processes can share one vector store."""
    with milvus_lite_server(tmp_path / "milvus") as uri:
        yield uri


async def test_training_down_is_level_1_and_refuses_feedback(tmp_path: Path, shared_env: dict[str, str],
                                                             milvus_uri: str) -> None:
    env = {**shared_env, "CHATDB_MILVUS_URI": milvus_uri}
    training = ServerProcess(tmp_path / "training", ["schema", "training"], env=env)
    suite = ServerProcess(tmp_path / "suite", ["query", "prediction"], env=env)
    with running([training, suite]):
        training.start()
        suite.extra_env["CHATDB_TRAINING_ADDRESS"] = training.address
        suite.start()
        async with client_of(training) as trainer, client_of(suite) as client:
            name = await trainer.register("shop", f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}")
            await train(trainer.training, name)
            before = await client.ask(name, QUESTIONS[0])
            assert before.degradation_level == FULL

            training.kill()

            async def level_1() -> bool:
                return (await client.ask(name, QUESTIONS[0])).degradation_level == NO_TRAINING

            await until("level 1 once TrainingService is down", level_1)
            reply = await client.ask(name, QUESTIONS[2])
            assert reply.degradation_level == NO_TRAINING and reply.row_count > 0  # asking still works
            status = await client.query.GetSystemStatus(query_service_pb2.GetSystemStatusRequest())
            assert status.degradation_level == NO_TRAINING
            assert not {d.name: d for d in status.dependencies}["training"].healthy

            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await client.query.SubmitFeedback(query_service_pb2.SubmitFeedbackRequest(
                    name=reply.query, rating=query_pb2.FEEDBACK_RATING_CORRECT))
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            info = error_info(refused.value.trailing_metadata())
            assert info is not None and info.reason == "DEGRADED"
            assert "TrainingService" in (refused.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as no_training:
                await trainer.training.CreateTrainingJob(
                    training_service_pb2.CreateTrainingJobRequest(parent=name), timeout=5)
            assert no_training.value.code() is grpc.StatusCode.UNAVAILABLE
