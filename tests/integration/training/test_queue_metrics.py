"""The training queue on the Prometheus endpoint of a TrainingService process without workers (as the
API replicas run when the workers scale apart, down to zero): it exports the store's count of queued
jobs, which follows creations and cancellations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.support.scrape import Samples, free_port, scrape_until, value
from tests.support.server import in_process_suite

pytestmark = pytest.mark.slow
DEADLINE_S = 30.0
QUEUED_SCHEMA = ("chatdb_training_jobs_queued", (("type", "SCHEMA"),))


async def _until(port: int, condition: str, check: Callable[[Samples], bool]) -> Samples:
    return await scrape_until(port, condition, check, DEADLINE_S)


def _queued(samples: Samples) -> float:
    return value(samples, "chatdb_training_jobs_queued", type="SCHEMA")


async def test_a_process_without_workers_exports_the_queue(tmp_path: Path) -> None:
    port = free_port()
    async with in_process_suite(tmp_path / "data", ["schema", "training"], metrics_port=port,
                                training_workers=0) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        training = training_service_pb2_grpc.TrainingServiceStub(channel)
        source = (await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id="shop",
            data_source=schema_pb2.DataSource(dsn=f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}")))
        ).data_source.name
        await _until(port, "an empty queue", lambda s: QUEUED_SCHEMA in s and _queued(s) == 0)
        jobs = [(await training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(parent=source))
                 ).training_job for _ in range(2)]
        queued = await _until(port, "two queued jobs", lambda s: _queued(s) == 2)
        await training.CancelTrainingJob(training_service_pb2.CancelTrainingJobRequest(name=jobs[0].name))
        after_cancel = await _until(port, "one queued job", lambda s: _queued(s) == 1)

    assert value(queued, "chatdb_training_oldest_queued_seconds", type="SCHEMA") > 0
    assert value(queued, "chatdb_training_jobs_running", type="SCHEMA") == 0
    assert value(after_cancel, "chatdb_training_jobs_queued", type="FINE_TUNE") == 0
