"""A real server (every service, authentication on) whose webhooks may target the loopback receiver,
with short dispatcher, retry and scheduler timings, and the stubs the webhook tests use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from chatdb.schema.v1 import schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb.webhook.v1 import webhook_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from chatdb_server.server.runtime import RunningServer
from tests.integration.webhooks.receiver import DEADLINE_S, Receiver, running_receiver
from tests.support.server import in_process_suite

WEBHOOK_SETTINGS: dict[str, Any] = {
    "webhook_allowed_hosts": "127.0.0.1", "webhook_poll_s": 0.05, "webhook_backoff_s": 0.2,
    "webhook_max_attempts": 4, "webhook_timeout_s": 5.0, "min_refresh_interval_s": 1.0, "refresh_poll_s": 0.1,
}
"""Loopback receivers allowed; retries after 0.1-0.2 s, then 0.2-0.4 s, ...; refresh intervals from 1 s."""

PENDING = webhook_pb2.WEBHOOK_DELIVERY_STATE_PENDING


@dataclass
class Suite:
    """A running server and its stubs, acting for the tenant ``default`` unless told otherwise."""

    running: RunningServer
    channel: grpc.aio.Channel
    webhooks: webhook_service_pb2_grpc.WebhookServiceStub = field(init=False)
    schema: schema_service_pb2_grpc.SchemaServiceStub = field(init=False)
    training: training_service_pb2_grpc.TrainingServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.webhooks = webhook_service_pb2_grpc.WebhookServiceStub(self.channel)
        self.schema = schema_service_pb2_grpc.SchemaServiceStub(self.channel)
        self.training = training_service_pb2_grpc.TrainingServiceStub(self.channel)

    async def subscribe(self, url: str, *event_types: int, webhook_id: str = "") -> tuple[str, str]:
        """Create a webhook; its name and secret."""
        reply = await self.webhooks.CreateWebhook(webhook_service_pb2.CreateWebhookRequest(
            webhook_id=webhook_id, webhook=webhook_pb2.Webhook(url=url, event_types=list(event_types))))
        return reply.webhook.name, reply.secret

    async def deliveries(self, webhook: str) -> list[webhook_pb2.WebhookDelivery]:
        """Every delivery of ``webhook``, newest first."""
        reply = await self.webhooks.ListWebhookDeliveries(
            webhook_service_pb2.ListWebhookDeliveriesRequest(parent=webhook, page_size=1000))
        return list(reply.deliveries)

    async def settled(self, webhook: str, count: int) -> list[webhook_pb2.WebhookDelivery]:
        """The webhook's deliveries once ``count`` exist and none is pending any more."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            found = await self.deliveries(webhook)
            if len(found) >= count and all(d.state != PENDING for d in found):
                return found
            assert time.monotonic() < deadline, f"deliveries of {webhook} did not settle: {found}"
            await asyncio.sleep(0.05)

    async def finished_job(self, name: str) -> training_pb2.TrainingJob:
        """The training job once it has ended."""
        async for event in self.training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=name),
                                                          timeout=DEADLINE_S):
            if event.training_job.state in (training_pb2.TRAINING_JOB_STATE_SUCCEEDED,
                                            training_pb2.TRAINING_JOB_STATE_FAILED,
                                            training_pb2.TRAINING_JOB_STATE_CANCELLED):
                return event.training_job
        raise AssertionError(f"{name} did not finish")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[Suite]:
    """Every service in one process; training workers too."""
    async with in_process_suite(tmp_path / "data", **WEBHOOK_SETTINGS) as (running, channel):
        yield Suite(running, channel)


@pytest.fixture
async def idle_suite(tmp_path: Path) -> AsyncIterator[Suite]:
    """Every service in one process, but no training worker: queued jobs stay queued until cancelled."""
    async with in_process_suite(tmp_path / "data", training_workers=0, **WEBHOOK_SETTINGS) as (running, channel):
        yield Suite(running, channel)
