"""A repair round travels intact from QueryService's client to PredictionService's domain request."""

from __future__ import annotations

from dataclasses import replace

from chatdb_server.generation.interface import RepairHint
from chatdb_server.prediction.client import generate_sql_request
from chatdb_server.prediction.convert import request_from_proto
from tests.unit.prediction.prediction_fixtures import request


def test_repair_hint_round_trips_over_the_wire() -> None:
    repaired = replace(request(), repair=RepairHint("SELECT nme FROM singer", "no such column: nme"))
    assert request_from_proto(generate_sql_request(repaired)).repair == repaired.repair
    assert request_from_proto(generate_sql_request(request())).repair is None
