"""Connection ages on the server, and load balancing and keepalive on every channel to it."""

from __future__ import annotations

import json

import pytest

from chatdb_client.channel import RetryPolicy
from chatdb_client.channel import channel_options as sdk_channel_options
from chatdb_server.server.channels import CHANNEL_OPTIONS, channel_options
from chatdb_server.server.runtime import SERVER_OPTIONS, server_options
from chatdb_server.settings import Settings


def test_connections_age_by_default_and_calls_get_a_grace_longer_than_the_longest_query() -> None:
    settings = Settings.from_env({})
    options = dict(server_options(settings))
    assert options["grpc.max_connection_age_ms"] == 300_000
    assert options["grpc.max_connection_age_grace_ms"] == 150_000
    assert options["grpc.max_connection_age_grace_ms"] > settings.max_query_timeout_s * 1000
    assert dict(SERVER_OPTIONS).items() <= options.items()


def test_the_age_comes_from_the_settings_and_zero_turns_it_off() -> None:
    aged = dict(server_options(Settings.from_env({"CHATDB_MAX_CONNECTION_AGE_S": "2.5",
                                                   "CHATDB_MAX_CONNECTION_AGE_GRACE_S": "0.5"})))
    assert (aged["grpc.max_connection_age_ms"], aged["grpc.max_connection_age_grace_ms"]) == (2_500, 500)
    unaged = dict(server_options(Settings.from_env({"CHATDB_MAX_CONNECTION_AGE_S": "0"})))
    assert "grpc.max_connection_age_ms" not in unaged and "grpc.max_connection_age_grace_ms" not in unaged


def test_a_negative_grace_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_connection_age_grace_s"):
        server_options(Settings.from_env({"CHATDB_MAX_CONNECTION_AGE_GRACE_S": "-1"}))


@pytest.mark.parametrize("options", [CHANNEL_OPTIONS, sdk_channel_options(RetryPolicy())],
                         ids=["service channels", "python sdk"])
def test_channels_balance_round_robin_and_ping_no_faster_than_servers_accept(options: list[tuple[str, object]]) -> None:
    named = dict(options)
    assert json.loads(str(named["grpc.service_config"]))["loadBalancingConfig"] == [{"round_robin": {}}]
    assert named["grpc.keepalive_permit_without_calls"] == 1
    accepted = dict(SERVER_OPTIONS)["grpc.http2.min_ping_interval_without_data_ms"]
    assert isinstance(named["grpc.keepalive_time_ms"], int) and named["grpc.keepalive_time_ms"] >= accepted


def test_a_service_channels_own_options_override_the_shared_ones() -> None:
    merged = dict(channel_options([("grpc.max_receive_message_length", 1024), ("grpc.primary_user_agent", "x")]))
    assert merged["grpc.max_receive_message_length"] == 1024 and merged["grpc.primary_user_agent"] == "x"
    assert merged["grpc.service_config"] == dict(CHANNEL_OPTIONS)["grpc.service_config"]
