"""Which golden examples a fine-tune holds out, and how a held-out answer is judged."""

from __future__ import annotations

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.dataset import TrainingPair
from chatdb_server.training.finetune.held_out import HeldOutScore, same_sql, split_golden


def pairs(count: int) -> list[TrainingPair]:
    return [TrainingPair(f"question {i}", f"SELECT {i}") for i in range(count)]


def test_one_example_in_five_is_held_out_the_same_way_every_run() -> None:
    trained, held = split_golden(pairs(12))
    assert [p.question for p in held] == ["question 4", "question 9"]
    assert len(trained) == 10 and not set(trained) & set(held)
    assert split_golden(pairs(12)) == (trained, held)


def test_with_fewer_than_five_examples_all_are_trained_on() -> None:
    assert split_golden(pairs(4)) == (pairs(4), [])


@pytest.mark.parametrize(("predicted", "gold", "same"), [
    pytest.param("select count(*) from singer", "SELECT COUNT(*) FROM singer", True, id="case"),
    pytest.param("SELECT  name\nFROM singer  WHERE age>30", "SELECT name FROM singer WHERE age > 30", True,
                 id="spacing"),
    pytest.param("SELECT name FROM singer WHERE age > 31", "SELECT name FROM singer WHERE age > 30", False,
                 id="other_value"),
    pytest.param("SELECT name FROM", "SELECT name FROM singer", False, id="unparsable"),
    pytest.param("", "SELECT name FROM singer", False, id="empty"),
])
def test_a_held_out_answer_is_right_when_it_is_the_same_query(predicted: str, gold: str, same: bool) -> None:
    assert same_sql(predicted, gold, Dialect.SQLITE) is same


def test_nothing_held_out_has_no_accuracy() -> None:
    assert HeldOutScore(0, 0).accuracy is None
    assert HeldOutScore(1, 4).accuracy == 0.25
