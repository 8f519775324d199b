"""Self-consistency: agreement of executed results first, then confidence."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chatdb_server.query.candidates import Ballot, choose, result_signature
from chatdb_server.sql.values import ResultColumn

ONE_COLUMN = [ResultColumn("n", "INTEGER")]


def rows(*values: int) -> list[tuple[object, ...]]:
    return [(v,) for v in values]


def test_signature_ignores_row_order_and_column_names() -> None:
    renamed = [ResultColumn("count", "INTEGER")]
    assert result_signature(ONE_COLUMN, rows(1, 2, 3)) == result_signature(renamed, rows(3, 1, 2))
    assert result_signature(ONE_COLUMN, rows(1, 2)) != result_signature(ONE_COLUMN, rows(1, 2, 2))
    assert result_signature(ONE_COLUMN, rows(1)) != result_signature(ONE_COLUMN * 2, rows(1))


def test_signature_tells_types_apart() -> None:
    variants = [[(1,)], [("1",)], [(1.0,)], [(True,)], [(Decimal("1"),)], [({"n": 1},)], [(None,)]]
    signatures = {result_signature(ONE_COLUMN, v) for v in variants}
    assert len(signatures) == len(variants)
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result_signature(ONE_COLUMN, [(moment,)]) == result_signature(ONE_COLUMN, [(moment,)])
    assert result_signature(ONE_COLUMN, [(moment,)]) != result_signature(ONE_COLUMN, [(moment.isoformat(),)])


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
