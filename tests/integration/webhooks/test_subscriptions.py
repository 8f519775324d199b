"""Webhook subscriptions over gRPC against the real server: create (the secret once), list (paged, never
a secret), get, delete; tenants never see each other's; targets on link-local and cloud-metadata
addresses are refused unless the operator allows them."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from chatdb.webhook.v1 import webhook_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from chatdb_server.metadata.models import WebhookRow
from tests.integration.webhooks.conftest import WEBHOOK_SETTINGS, Suite
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite

pytestmark = pytest.mark.slow

SUCCEEDED = webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED
DRIFT = webhook_pb2.WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED
BETA = (("x-chatdb-tenant", "beta"),)


async def test_create_list_get_delete_and_the_secret_shown_once(suite: Suite) -> None:
    created = await suite.webhooks.CreateWebhook(webhook_service_pb2.CreateWebhookRequest(
        webhook_id="builds", webhook=webhook_pb2.Webhook(url="http://127.0.0.1:9/hook", display_name="CI",
                                                         event_types=[SUCCEEDED, DRIFT, SUCCEEDED])))
    assert created.webhook.name == "webhooks/builds"
    assert list(created.webhook.event_types) == [SUCCEEDED, DRIFT]
    assert created.secret.startswith("whsec_") and len(created.secret) > 40
    async with suite.running.components.store.session() as session:
        [row] = (await session.execute(WebhookRow.__table__.select())).all()
    assert created.secret not in row.secret_sealed
    assert suite.running.components.box.open(row.secret_sealed) == created.secret

    chosen = await suite.webhooks.CreateWebhook(webhook_service_pb2.CreateWebhookRequest(
        webhook=webhook_pb2.Webhook(url="https://127.0.0.1/other")))
    assert chosen.webhook.name.startswith("webhooks/webhook-") and list(chosen.webhook.event_types) == []

    first = await suite.webhooks.ListWebhooks(webhook_service_pb2.ListWebhooksRequest(page_size=1))
    second = await suite.webhooks.ListWebhooks(webhook_service_pb2.ListWebhooksRequest(
        page_size=1, page_token=first.next_page_token))
    assert [w.name for w in (*first.webhooks, *second.webhooks)] == ["webhooks/builds", chosen.webhook.name]
    assert second.next_page_token == ""
    got = await suite.webhooks.GetWebhook(webhook_service_pb2.GetWebhookRequest(name="webhooks/builds"))
    assert got.webhook == created.webhook
    for reply in (first, second, got):  # no message but CreateWebhookResponse carries the secret
        assert created.secret.encode() not in reply.SerializeToString()
        assert chosen.secret.encode() not in reply.SerializeToString()

    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await suite.subscribe("http://127.0.0.1:9/hook", webhook_id="builds")
    assert taken.value.code() is grpc.StatusCode.ALREADY_EXISTS

    await suite.webhooks.DeleteWebhook(webhook_service_pb2.DeleteWebhookRequest(name="webhooks/builds"))
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await suite.webhooks.GetWebhook(webhook_service_pb2.GetWebhookRequest(name="webhooks/builds"))
    assert gone.value.code() is grpc.StatusCode.NOT_FOUND
    remaining = await suite.webhooks.ListWebhooks(webhook_service_pb2.ListWebhooksRequest())
    assert [w.name for w in remaining.webhooks] == [chosen.webhook.name]


async def test_another_tenant_finds_none_of_them(suite: Suite) -> None:
    name, _ = await suite.subscribe("http://127.0.0.1:9/hook", webhook_id="mine")
    stub = suite.webhooks
    calls = [stub.GetWebhook(webhook_service_pb2.GetWebhookRequest(name=name), metadata=BETA),
             stub.DeleteWebhook(webhook_service_pb2.DeleteWebhookRequest(name=name), metadata=BETA),
             stub.ListWebhookDeliveries(webhook_service_pb2.ListWebhookDeliveriesRequest(parent=name), metadata=BETA)]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    listed = await stub.ListWebhooks(webhook_service_pb2.ListWebhooksRequest(), metadata=BETA)
    assert list(listed.webhooks) == []
    assert (await stub.GetWebhook(webhook_service_pb2.GetWebhookRequest(name=name))).webhook.name == name


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://169.254.10.1:8080/hook", "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/hook", "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::ffff:169.254.169.254]/", "http://[::1]:9/hook", "ftp://127.0.0.1/hook", "http:///nohost",
    "http://user:pw@127.0.0.1/hook", "not a url",
], ids=["aws-metadata", "link-local", "ipv6-link-local", "aws-metadata-v6", "gcp-metadata-name", "mapped-v4",
        "ipv6-loopback", "ftp", "no-host", "credentials", "garbage"])
async def test_refused_targets_are_invalid_argument_on_the_url(suite: Suite, url: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await suite.subscribe(url)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(refused.value.trailing_metadata())
    assert info is not None and info.metadata["field"] == "webhook.url"
    listed = await suite.webhooks.ListWebhooks(webhook_service_pb2.ListWebhooksRequest())
    assert list(listed.webhooks) == []


async def test_bad_event_types_and_names_are_invalid_argument(suite: Suite) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unspecified:
        await suite.subscribe("http://127.0.0.1:9/hook", webhook_pb2.WEBHOOK_EVENT_TYPE_UNSPECIFIED)
    assert error_info(unspecified.value.trailing_metadata()).metadata["field"] == "webhook.event_types[0]"
    with pytest.raises(grpc.aio.AioRpcError) as bad_name:
        await suite.webhooks.GetWebhook(webhook_service_pb2.GetWebhookRequest(name="dataSources/x"))
    assert bad_name.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_the_operator_setting_allows_a_metadata_address(tmp_path: Path) -> None:
    settings = {**WEBHOOK_SETTINGS, "webhook_allowed_hosts": "169.254.169.254,metadata.google.internal"}
    async with in_process_suite(tmp_path / "data", **settings) as (_, channel):
        stub = webhook_service_pb2_grpc.WebhookServiceStub(channel)
        for url in ("http://169.254.169.254/hook", "http://metadata.google.internal/hook"):
            reply = await stub.CreateWebhook(webhook_service_pb2.CreateWebhookRequest(
                webhook=webhook_pb2.Webhook(url=url)))
            assert reply.webhook.url == url
        with pytest.raises(grpc.aio.AioRpcError) as still_refused:
            await stub.CreateWebhook(webhook_service_pb2.CreateWebhookRequest(
                webhook=webhook_pb2.Webhook(url="http://169.254.170.2/hook")))
        assert still_refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
