"""Scheduled drift checks on a real server: a source refreshed every second whose database gains a
column records the drift, delivers the drift webhook, and (with auto_retrain) trains the new column;
intervals below the server's minimum are refused."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2

from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_server.samples.shop import build_shop_database
from tests.integration.webhooks.conftest import Suite
from tests.integration.webhooks.receiver import DEADLINE_S, Receiver
from tests.support.grpc_unit import error_info

pytestmark = pytest.mark.slow

DRIFT = webhook_pb2.WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED
TRAINED = webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED
SOURCE = "dataSources/shop"


def _create(path: Path, seconds: int, auto_retrain: bool) -> schema_service_pb2.CreateDataSourceRequest:
    return schema_service_pb2.CreateDataSourceRequest(data_source_id="shop", data_source=schema_pb2.DataSource(
        dsn=f"sqlite:///{path}", refresh_interval=duration_pb2.Duration(seconds=seconds), auto_retrain=auto_retrain))


async def _jobs(suite: Suite) -> list[training_pb2.TrainingJob]:
    reply = await suite.training.ListTrainingJobs(training_service_pb2.ListTrainingJobsRequest(page_size=100))
    return list(reply.training_jobs)


async def test_a_drifted_source_is_reported_and_retrained_by_itself(suite: Suite, receiver: Receiver,
                                                                    tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    _, secret = await suite.subscribe(receiver.url, DRIFT, TRAINED)
    created = (await suite.schema.CreateDataSource(_create(shop, 1, auto_retrain=True))).data_source
    assert created.refresh_interval.seconds == 1 and created.auto_retrain and created.HasField("next_refresh_time")
    first = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=SOURCE, tables=["customers"]))).training_job
    assert (await suite.finished_job(first.name)).state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED

    with sqlite3.connect(shop) as db:
        db.execute("ALTER TABLE customers ADD COLUMN loyalty_tier TEXT")
    await receiver.wait_for(lambda: bool(receiver.of_type("schema.drift_detected")), "the drift webhook")
    [drift] = receiver.of_type("schema.drift_detected")
    assert drift.signed_by(secret)
    data = drift.payload["data"]
    assert drift.payload["resource"] == SOURCE and data["scheduled"] is True
    assert [(c["table"], c["changes"]) for c in data["changed_tables"]] == [("customers",
                                                                            ["column added: loyalty_tier"])]
    assert data["stale_tables"] == ["customers"] and data["added_tables"] == data["removed_tables"] == []

    retrain = await _retrain_job(suite, first.name)
    assert list(retrain.tables) == ["customers"]
    assert (await suite.finished_job(retrain.name)).state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED
    await receiver.wait_for(lambda: retrain.name in {r.payload["resource"] for r in
                                                     receiver.of_type("training_job.succeeded")},
                            "the retrain job's webhook")
    table = (await suite.schema.GetTable(schema_service_pb2.GetTableRequest(
        name=f"{SOURCE}/tables/customers", view=schema_pb2.TABLE_VIEW_BASIC))).table
    assert table.training_state == schema_pb2.TRAINING_STATE_TRAINED
    assert "loyalty_tier" in [c.name for c in table.columns]
    await _refreshed_again(suite)
    assert len(receiver.of_type("schema.drift_detected")) == 1  # the later refreshes found nothing new
    assert len(await _jobs(suite)) == 2


async def _retrain_job(suite: Suite, first: str) -> training_pb2.TrainingJob:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        others = [j for j in await _jobs(suite) if j.name != first]
        if others:
            [job] = others
            return job
        await asyncio.sleep(0.1)
    raise AssertionError("no training job was queued for the stale table")


async def _refreshed_again(suite: Suite) -> None:
    """Wait until the schedule has moved on twice more (two more refreshes were claimed)."""
    start = (await suite.schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name=SOURCE))).data_source
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        now = (await suite.schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name=SOURCE))).data_source
        if now.next_refresh_time.ToDatetime() - start.next_refresh_time.ToDatetime() >= timedelta(seconds=2):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the source was not refreshed again")


async def test_without_auto_retrain_drift_is_reported_but_nothing_is_queued(suite: Suite, receiver: Receiver,
                                                                           tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    await suite.subscribe(receiver.url, DRIFT)
    await suite.schema.CreateDataSource(_create(shop, 1, auto_retrain=False))
    with sqlite3.connect(shop) as db:
        db.execute("CREATE TABLE coupons (code TEXT PRIMARY KEY, percent_off INTEGER NOT NULL)")
    await receiver.wait_for(lambda: bool(receiver.of_type("schema.drift_detected")), "the drift webhook")
    assert receiver.of_type("schema.drift_detected")[0].payload["data"]["added_tables"] == ["coupons"]
    await _refreshed_again(suite)
    assert await _jobs(suite) == []


async def test_refresh_intervals_below_the_minimum_are_refused(suite: Suite, tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    request = _create(shop, 0, auto_retrain=False)
    request.data_source.refresh_interval.CopyFrom(duration_pb2.Duration(nanos=500_000_000))
    with pytest.raises(grpc.aio.AioRpcError) as too_short:
        await suite.schema.CreateDataSource(request)
    assert too_short.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(too_short.value.trailing_metadata()).metadata["field"] == "data_source.refresh_interval"

    plain = (await suite.schema.CreateDataSource(_create(shop, 0, auto_retrain=False))).data_source
    assert not plain.HasField("next_refresh_time") and plain.refresh_interval.seconds == 0
    mask = field_mask_pb2.FieldMask(paths=["refresh_interval", "auto_retrain"])
    for bad in (duration_pb2.Duration(seconds=-60), duration_pb2.Duration(seconds=10**12)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await suite.schema.UpdateDataSource(schema_service_pb2.UpdateDataSourceRequest(
                data_source=schema_pb2.DataSource(name=SOURCE, refresh_interval=bad), update_mask=mask))
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    updated = (await suite.schema.UpdateDataSource(schema_service_pb2.UpdateDataSourceRequest(
        data_source=schema_pb2.DataSource(name=SOURCE, refresh_interval=duration_pb2.Duration(seconds=3600),
                                          auto_retrain=True), update_mask=mask))).data_source
    assert updated.refresh_interval.seconds == 3600 and updated.auto_retrain
    assert updated.HasField("next_refresh_time")
    off = (await suite.schema.UpdateDataSource(schema_service_pb2.UpdateDataSourceRequest(
        data_source=schema_pb2.DataSource(name=SOURCE), update_mask=mask))).data_source
    assert off.refresh_interval.seconds == 0 and not off.auto_retrain and not off.HasField("next_refresh_time")
