"""WebhookService over gRPC: request fields in, WebhookService calls, messages out."""

from __future__ import annotations

from typing import Any

from chatdb.webhook.v1 import webhook_service_pb2, webhook_service_pb2_grpc
from chatdb_server.errors import InvalidArgument
from chatdb_server.rpc import CallInfo, unary
from chatdb_server.webhooks import convert
from chatdb_server.webhooks.service import WebhookService


class WebhookServicer(webhook_service_pb2_grpc.WebhookServiceServicer):
    """Translates WebhookService requests to the facade, for the tenant the call acts for."""

    def __init__(self, service: WebhookService) -> None:
        self._service = service

    @unary
    async def CreateWebhook(self, request: webhook_service_pb2.CreateWebhookRequest, context: Any,
                            call: CallInfo) -> webhook_service_pb2.CreateWebhookResponse:
        if not request.HasField("webhook"):
            raise InvalidArgument("webhook", "is required")
        issued = await self._service.create(call.tenant, convert.spec_from_proto(request.webhook), request.webhook_id)
        return webhook_service_pb2.CreateWebhookResponse(webhook=convert.webhook_to_proto(issued.webhook),
                                                         secret=issued.secret)

    @unary
    async def ListWebhooks(self, request: webhook_service_pb2.ListWebhooksRequest, context: Any,
                           call: CallInfo) -> webhook_service_pb2.ListWebhooksResponse:
        webhooks, token = await self._service.list_webhooks(call.tenant, request.page_size, request.page_token)
        return webhook_service_pb2.ListWebhooksResponse(webhooks=[convert.webhook_to_proto(w) for w in webhooks],
                                                        next_page_token=token)

    @unary
    async def GetWebhook(self, request: webhook_service_pb2.GetWebhookRequest, context: Any,
                         call: CallInfo) -> webhook_service_pb2.GetWebhookResponse:
        webhook = await self._service.get(call.tenant, request.name)
        return webhook_service_pb2.GetWebhookResponse(webhook=convert.webhook_to_proto(webhook))

    @unary
    async def DeleteWebhook(self, request: webhook_service_pb2.DeleteWebhookRequest, context: Any,
                            call: CallInfo) -> webhook_service_pb2.DeleteWebhookResponse:
        await self._service.delete(call.tenant, request.name)
        return webhook_service_pb2.DeleteWebhookResponse()

    @unary
    async def ListWebhookDeliveries(self, request: webhook_service_pb2.ListWebhookDeliveriesRequest, context: Any,
                                    call: CallInfo) -> webhook_service_pb2.ListWebhookDeliveriesResponse:
        deliveries, token = await self._service.list_deliveries(call.tenant, request.parent, request.page_size,
                                                                request.page_token)
        return webhook_service_pb2.ListWebhookDeliveriesResponse(
            deliveries=[convert.delivery_to_proto(d) for d in deliveries], next_page_token=token)
