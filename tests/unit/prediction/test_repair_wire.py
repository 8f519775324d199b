"""A repair round and a conversation travel intact from QueryService's client to PredictionService's domain request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.generation.interface import MAX_PREVIOUS_TURNS, ConversationTurn, RepairHint
from chatdb_server.prediction.client import generate_sql_request
from chatdb_server.prediction.convert import request_from_proto
from chatdb_server.prediction.engine import validate_request
from tests.unit.prediction.prediction_fixtures import request


def test_repair_hint_round_trips_over_the_wire() -> None:
    repaired = replace(request(), repair=RepairHint("SELECT nme FROM singer", "no such column: nme"))
    assert request_from_proto(generate_sql_request(repaired)).repair == repaired.repair
    assert request_from_proto(generate_sql_request(request())).repair is None


def test_a_conversation_round_trips_over_the_wire() -> None:
    turns = (ConversationTurn("List the singers", "SELECT name FROM singer"),
             ConversationTurn("only those from France", "SELECT name FROM singer WHERE country = 'France'"))
    asked = replace(request(), previous_turns=turns)
    assert request_from_proto(generate_sql_request(asked)).previous_turns == turns
    assert request_from_proto(generate_sql_request(request())).previous_turns == ()


def test_the_engine_refuses_a_conversation_longer_than_it_follows() -> None:
    turns = tuple(ConversationTurn(f"q{i}", "SELECT 1") for i in range(MAX_PREVIOUS_TURNS + 1))
    with pytest.raises(InvalidArgument) as refused:
        validate_request(replace(request(), previous_turns=turns))
    assert refused.value.metadata["field"] == "previous_turns"
