"""Every domain event type has its proto value and back; unknown values are bad input on their field."""

from __future__ import annotations

import pytest

from chatdb.webhook.v1 import webhook_pb2
from chatdb_server.errors import InvalidArgument
from chatdb_server.webhooks.convert import event_type_from_proto, event_type_to_proto, spec_from_proto
from chatdb_server.webhooks.events import EventType


def test_every_event_type_round_trips_and_the_proto_has_no_other() -> None:
    assert {event_type_from_proto(event_type_to_proto(t), "f") for t in EventType} == set(EventType)
    named = {v for v in webhook_pb2.WebhookEventType.values() if v != webhook_pb2.WEBHOOK_EVENT_TYPE_UNSPECIFIED}
    assert {event_type_to_proto(t) for t in EventType} == named


@pytest.mark.parametrize("value", [webhook_pb2.WEBHOOK_EVENT_TYPE_UNSPECIFIED, 999])
def test_unspecified_and_unknown_event_types_are_refused(value: int) -> None:
    with pytest.raises(InvalidArgument) as refused:
        spec_from_proto(webhook_pb2.Webhook(url="http://10.0.0.5/", event_types=[
            webhook_pb2.WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED, value]))
    assert refused.value.violations[0].field == "webhook.event_types[1]"
