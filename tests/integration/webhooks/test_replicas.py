"""Two servers on one PostgreSQL metadata store, each with its own dispatcher and refresh scheduler:
every event is delivered exactly once, and one change of a source's database is one drift event."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from google.protobuf import duration_pb2
from sqlalchemy.engine import make_url

from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb.training.v1 import training_service_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from tests.integration.webhooks.conftest import WEBHOOK_SETTINGS, Suite
from tests.integration.webhooks.receiver import DEADLINE_S, Receiver
from tests.support.server import in_process_suite, keyed_channel

pytestmark = pytest.mark.slow

JOBS = 6
SOURCE = "dataSources/shop"


@pytest.fixture
async def replicas(tmp_path: Path, pg_dsn: str) -> AsyncIterator[tuple[Suite, Suite]]:
    """Two servers sharing the store and the secret key; no training workers (jobs are cancelled queued)."""
    admin = new_secret()  # one bootstrap key for both: only the first start of a store writes a key file
    shared = {**WEBHOOK_SETTINGS, "training_workers": 0, "secret_key": Fernet.generate_key().decode(),
              "bootstrap_admin_key": admin,
              "metadata_url": make_url(pg_dsn).set(drivername="postgresql+asyncpg").render_as_string(
                  hide_password=False)}
    async with AsyncExitStack() as stack:
        suites = []
        for name in ("a", "b"):
            running, _ = await stack.enter_async_context(in_process_suite(tmp_path / name, **shared))
            channel = keyed_channel(f"127.0.0.1:{running.port}", admin)
            stack.push_async_callback(channel.close)
            suites.append(Suite(running, channel))
        yield suites[0], suites[1]


async def test_each_event_is_delivered_once_and_each_drift_reported_once(replicas: tuple[Suite, Suite],
                                                                         receiver: Receiver,
                                                                         tmp_path: Path) -> None:
    a, b = replicas
    webhook, secret = await a.subscribe(receiver.url)
    shop = build_shop_database(tmp_path / "shop.db")
    await b.schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="shop", data_source=schema_pb2.DataSource(
            dsn=f"sqlite:///{shop}", refresh_interval=duration_pb2.Duration(seconds=1))))
    for index in range(JOBS):
        creator, canceller = (a, b) if index % 2 else (b, a)
        job = (await creator.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
            parent=SOURCE))).training_job
        await canceller.training.CancelTrainingJob(training_service_pb2.CancelTrainingJobRequest(name=job.name))
    with sqlite3.connect(shop) as db:
        db.execute("ALTER TABLE products ADD COLUMN discontinued INTEGER")

    await receiver.wait_for(lambda: len(receiver.of_type("training_job.cancelled")) >= JOBS
                            and bool(receiver.of_type("schema.drift_detected")), "every event")
    await _refreshed_again(a)
    deliveries = await b.settled(webhook, JOBS + 1)

    ids = Counter(r.payload["id"] for r in receiver.requests)
    assert len(ids) == JOBS + 1 and set(ids.values()) == {1}
    assert all(r.signed_by(secret) for r in receiver.requests)
    assert Counter(r.payload["type"] for r in receiver.requests) == {"training_job.cancelled": JOBS,
                                                                     "schema.drift_detected": 1}
    assert len(deliveries) == JOBS + 1
    assert {(d.state, len(d.attempts)) for d in deliveries} == {(webhook_pb2.WEBHOOK_DELIVERY_STATE_SUCCEEDED, 1)}


async def _refreshed_again(suite: Suite) -> None:
    """Wait until the schedule has moved on three more intervals (both schedulers had their chances)."""
    async def due() -> timedelta:
        source = (await suite.schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name=SOURCE))).data_source
        return source.next_refresh_time.ToDatetime() - source.create_time.ToDatetime()

    start = await due()
    deadline = time.monotonic() + DEADLINE_S
    while await due() - start < timedelta(seconds=3):
        assert time.monotonic() < deadline, "the source was not refreshed again"
        await asyncio.sleep(0.1)
