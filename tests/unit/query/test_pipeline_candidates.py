"""Self-consistency: agreement of executed results first, then confidence."""

from __future__ import annotations

import pytest

from chatdb.common.v1 import value_pb2
from chatdb_server.query.candidates import Ballot, choose, result_signature

ONE_COLUMN = [value_pb2.ResultColumn(name="n", type=value_pb2.VALUE_TYPE_INTEGER)]


def rows(*values: int) -> list[value_pb2.Row]:
    return [value_pb2.Row(values=[value_pb2.Value(int_value=v)]) for v in values]


def test_signature_ignores_row_order_and_column_names() -> None:
    renamed = [value_pb2.ResultColumn(name="count", type=value_pb2.VALUE_TYPE_INTEGER)]
    assert result_signature(ONE_COLUMN, rows(1, 2, 3)) == result_signature(renamed, rows(3, 1, 2))
    assert result_signature(ONE_COLUMN, rows(1, 2)) != result_signature(ONE_COLUMN, rows(1, 2, 2))
    assert result_signature(ONE_COLUMN, rows(1)) != result_signature(ONE_COLUMN * 2, rows(1))


def test_signature_tells_types_apart() -> None:
    as_int = [value_pb2.Row(values=[value_pb2.Value(int_value=1)])]
    as_text = [value_pb2.Row(values=[value_pb2.Value(string_value="1")])]
    assert result_signature(ONE_COLUMN, as_int) != result_signature(ONE_COLUMN, as_text)


def test_agreement_beats_confidence() -> None:
    a, b = result_signature(ONE_COLUMN, rows(1)), result_signature(ONE_COLUMN, rows(2))
    choice = choose([Ballot(a, 0.9, "lonely"), Ballot(b, 0.5, "first"), Ballot(b, 0.6, "second")])
    assert (choice.winner, choice.agreeing, choice.voters) == ("second", 2, 3)


def test_ties_go_to_the_most_confident() -> None:
    a, b = result_signature(ONE_COLUMN, rows(1)), result_signature(ONE_COLUMN, rows(2))
    assert choose([Ballot(a, 0.4, "x"), Ballot(b, 0.7, "y")]).winner == "y"
    assert choose([Ballot(a, 0.4, "only")]).winner == "only"


def test_nothing_to_choose_is_an_error() -> None:
    with pytest.raises(ValueError):
        choose([])
