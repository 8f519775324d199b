"""QueryService's enums match the contract and the stored text; cells normalise to the types the
wire and the cache know."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb_server.errors import InvalidArgument
from chatdb_server.query.convert import rating_from_proto, served_by_to_proto
from chatdb_server.query.domain import QueryState, Rating, ServedBy, StageKind, cell_from_json, plain_cell


@pytest.mark.parametrize(("enum", "proto", "prefix"), [
    (ServedBy, query_pb2.ServedBy, "SERVED_BY_"),
    (StageKind, query_service_pb2.AskStage, "ASK_STAGE_"),
    (QueryState, query_pb2.QueryState, "QUERY_STATE_"),
    (Rating, query_pb2.FeedbackRating, "FEEDBACK_RATING_"),
])
def test_each_enum_is_the_contracts_names_without_prefix(enum: type[Enum], proto: Any, prefix: str) -> None:
    names = {v.name.removeprefix(prefix) for v in proto.DESCRIPTOR.values if not v.name.endswith("_UNSPECIFIED")}
    assert {member.value for member in enum} == names
    assert all(member.value == member.name for member in enum)


def test_the_stored_text_is_unchanged() -> None:
    # The queries table holds these strings; no migration goes with the enums.
    assert [str(s) for s in ServedBy] == ["MODEL", "TEMPLATE", "CACHE", "CALLER_SQL", "EXAMPLE"]
    assert [str(s) for s in QueryState] == ["SUCCEEDED", "FAILED", "LOW_CONFIDENCE"]
    assert ServedBy("CALLER_SQL") is ServedBy.CALLER_SQL and QueryState("FAILED") is QueryState.FAILED
    assert f"{StageKind.EXECUTED}" == "EXECUTED"


def test_enums_map_to_the_wire_and_back() -> None:
    assert served_by_to_proto(ServedBy.CACHE) == query_pb2.SERVED_BY_CACHE
    assert rating_from_proto(query_pb2.FEEDBACK_RATING_CORRECT) is Rating.CORRECT
    assert rating_from_proto(query_pb2.FEEDBACK_RATING_UNSPECIFIED) is None
    with pytest.raises(InvalidArgument, match="rating: 99 is not a feedback rating"):
        rating_from_proto(99)


@pytest.mark.parametrize("value", [None, True, 3, 2**70, 1.5, Decimal("1.10"), "text", b"\x00", date(2024, 1, 2),
                                   datetime(2024, 1, 2, 3, 4), time(1, 2), timedelta(hours=-1), {"a": 1}, [1]])
def test_cell_types_pass_through(value: object) -> None:
    assert plain_cell(value) is value


def test_other_driver_values_become_what_travels() -> None:
    assert plain_cell(bytearray(b"ab")) == b"ab" and type(plain_cell(bytearray(b"ab"))) is bytes
    assert plain_cell(memoryview(b"ab")) == b"ab"
    ident = uuid.UUID(int=5)
    assert plain_cell(ident) == str(ident)
    assert plain_cell(ipaddress.ip_address("10.0.0.1")) == "10.0.0.1"


def test_unknown_cell_tags_are_refused() -> None:
    for bad in ({"x": 1}, {"dec": 1, "ts": 2}, [1], {"td": [1]}):
        with pytest.raises(ValueError):
            cell_from_json(bad)
