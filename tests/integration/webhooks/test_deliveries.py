"""Events delivered to a real HTTP receiver that checks every signature: a training job that succeeds,
fails or is cancelled; a receiver that fails twice before answering 200; a target that never answers."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.training.job_model import JobState, JobType
from chatdb_server.training.jobs import JobStore
from tests.integration.webhooks.conftest import WEBHOOK_SETTINGS, Suite
from tests.integration.webhooks.receiver import Receiver
from tests.support.server import in_process_suite

pytestmark = pytest.mark.slow

SUCCEEDED = webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED
FAILED = webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_FAILED
CANCELLED = webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_CANCELLED
TUNED = webhook_pb2.WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_SUCCEEDED
DELIVERED = webhook_pb2.WEBHOOK_DELIVERY_STATE_SUCCEEDED
GAVE_UP = webhook_pb2.WEBHOOK_DELIVERY_STATE_FAILED


async def _source(suite: Suite, tmp_path: Path) -> str:
    shop = build_shop_database(tmp_path / "shop.db")
    reply = await suite.schema.CreateDataSource(_create(shop))
    return str(reply.data_source.name)


def _create(path: Path) -> object:
    from chatdb.schema.v1 import schema_service_pb2

    return schema_service_pb2.CreateDataSourceRequest(data_source_id="shop", data_source={"dsn": f"sqlite:///{path}"})


async def test_a_succeeded_training_job_is_delivered_signed(suite: Suite, receiver: Receiver, tmp_path: Path) -> None:
    webhook, secret = await suite.subscribe(receiver.url, SUCCEEDED)
    source = await _source(suite, tmp_path)
    job = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source, tables=["customers"]))).training_job
    assert (await suite.finished_job(job.name)).state == 3  # SUCCEEDED

    [delivery] = await suite.settled(webhook, 1)
    [request] = receiver.requests
    assert request.signed_by(secret)
    assert not request.signed_by(secret + "x")
    assert request.headers["chatdb-event-id"] == request.payload["id"] == delivery.event_id
    assert request.headers["chatdb-event-type"] == "training_job.succeeded"
    assert request.headers["content-type"] == "application/json"
    payload = request.payload
    assert (payload["type"], payload["tenant"], payload["resource"]) == ("training_job.succeeded", "default", job.name)
    assert payload["data"]["state"] == "SUCCEEDED" and payload["data"]["data_source"] == source
    assert payload["data"]["tables"] == ["customers"] and payload["data"]["trained_table_count"] == 1
    assert (delivery.state, delivery.resource, delivery.event_type) == (DELIVERED, job.name, SUCCEEDED)
    assert [(a.number, a.status_code, a.error) for a in delivery.attempts] == [(1, 200, "")]
    assert not delivery.HasField("next_attempt_time")


async def test_failed_and_cancelled_jobs_are_delivered_to_those_who_asked(idle_suite: Suite, receiver: Receiver,
                                                                          tmp_path: Path) -> None:
    suite = idle_suite  # no worker: the test plays it, through the job store the worker uses
    failures, failures_secret = await suite.subscribe(receiver.url, FAILED)
    everything, everything_secret = await suite.subscribe(receiver.url)
    source = await _source(suite, tmp_path)
    failing = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source))).training_job
    jobs = JobStore(suite.running.components.store)
    claimed = await jobs.claim("test-worker", [JobType.SCHEMA])
    assert claimed is not None and claimed[1].name == failing.name
    await jobs.finish(claimed[0], JobState.FAILED, reason="SOURCE_UNREACHABLE", message="the database went away")
    cancelled = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source))).training_job
    await suite.training.CancelTrainingJob(training_service_pb2.CancelTrainingJobRequest(name=cancelled.name))

    [failed] = await suite.settled(failures, 1)
    both = await suite.settled(everything, 2)
    assert (failed.event_type, failed.resource, failed.state) == (FAILED, failing.name, DELIVERED)
    assert sorted((d.event_type, d.resource) for d in both) == [(FAILED, failing.name), (CANCELLED, cancelled.name)]
    assert len(receiver.requests) == 3
    [failed_event] = [r for r in receiver.of_type("training_job.failed") if r.signed_by(failures_secret)]
    assert failed_event.payload["data"]["error_reason"] == "SOURCE_UNREACHABLE"
    assert failed_event.payload["data"]["error_message"] == "the database went away"
    [cancel_event] = receiver.of_type("training_job.cancelled")
    assert cancel_event.signed_by(everything_secret) and not cancel_event.signed_by(failures_secret)
    assert cancel_event.payload["data"]["state"] == "CANCELLED"


async def test_a_finished_fine_tune_is_delivered_to_its_subscribers_only(receiver: Receiver, tmp_path: Path) -> None:
    # No worker: the test plays it, through the job store the worker uses. A base model path makes this
    # deployment accept FINE_TUNE jobs (none runs here).
    async with in_process_suite(tmp_path / "data", training_workers=0, model_path=str(tmp_path),
                                **WEBHOOK_SETTINGS) as (running, channel):
        suite = Suite(running, channel)
        tuned, tuned_secret = await suite.subscribe(receiver.url, TUNED)
        trained, _ = await suite.subscribe(receiver.url, SUCCEEDED)
        source = await _source(suite, tmp_path)
        job = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
            parent=source, type=training_pb2.TRAINING_JOB_TYPE_FINE_TUNE))).training_job
        jobs = JobStore(running.components.store)
        claimed = await jobs.claim("test-worker", [JobType.FINE_TUNE])
        assert claimed is not None and claimed[1].name == job.name
        await jobs.finish(claimed[0], JobState.SUCCEEDED, result={"adapter_version": "shop-v1"})

        [delivery] = await suite.settled(tuned, 1)
        assert (delivery.event_type, delivery.resource, delivery.state) == (TUNED, job.name, DELIVERED)
        assert await suite.deliveries(trained) == []  # a schema-training subscriber hears nothing of it
    [event] = receiver.of_type("fine_tune_job.succeeded")
    assert event.signed_by(tuned_secret)
    assert event.payload["data"]["type"] == "FINE_TUNE"
    assert event.payload["data"]["result"] == {"adapter_version": "shop-v1"}


async def test_a_receiver_failing_twice_gets_three_attempts_with_backoff(idle_suite: Suite, receiver: Receiver,
                                                                         tmp_path: Path) -> None:
    suite = idle_suite
    webhook, secret = await suite.subscribe(receiver.url, CANCELLED)
    source = await _source(suite, tmp_path)
    receiver.answer_next(500, 500)
    job = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source))).training_job
    await suite.training.CancelTrainingJob(training_service_pb2.CancelTrainingJobRequest(name=job.name))

    [delivery] = await suite.settled(webhook, 1)
    assert delivery.state == DELIVERED and delivery.last_status_code == 200
    assert [(a.number, a.status_code) for a in delivery.attempts] == [(1, 500), (2, 500), (3, 200)]
    assert [a.error for a in delivery.attempts] == ["the receiver answered HTTP 500"] * 2 + [""]
    times = [a.attempt_time.ToDatetime() for a in delivery.attempts]
    assert times == sorted(times)

    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert [r.headers["chatdb-delivery-attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert len({r.body for r in receiver.requests}) == 1  # every attempt sends the same event
    assert all(r.signed_by(secret) for r in receiver.requests)
    # Each retry waited at least the lower half of its backoff window (0.1 s, then 0.2 s): never sooner.
    base = WEBHOOK_SETTINGS["webhook_backoff_s"]
    for attempt, (before, after) in enumerate(pairwise(receiver.requests), start=1):
        assert after.arrived - before.arrived >= base * 2 ** (attempt - 1) / 2


async def test_a_target_that_never_answers_fails_after_the_last_attempt(idle_suite: Suite, receiver: Receiver,
                                                                        tmp_path: Path) -> None:
    suite = idle_suite
    webhook, _ = await suite.subscribe(receiver.url, CANCELLED)
    source = await _source(suite, tmp_path)
    attempts = WEBHOOK_SETTINGS["webhook_max_attempts"]
    receiver.answer_next(*[503] * attempts)
    job = (await suite.training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source))).training_job
    await suite.training.CancelTrainingJob(training_service_pb2.CancelTrainingJobRequest(name=job.name))

    [delivery] = await suite.settled(webhook, 1)
    assert delivery.state == GAVE_UP and delivery.last_status_code == 503
    assert [a.number for a in delivery.attempts] == list(range(1, attempts + 1))
    assert len(receiver.requests) == attempts
