"""Reading follow-up questions: which changes of the previous answer a question asks for, and which
questions stand on their own."""

from __future__ import annotations

import pytest

from chatdb_server.generation.followup import Change, read_follow_up


@pytest.mark.parametrize(("question", "changes"), [
    pytest.param("only those in Berlin", {Change.FILTER}, id="filter-value"),
    pytest.param("and in Paris?", {Change.FILTER}, id="other-value"),
    pytest.param("sort them by price", {Change.ORDER}, id="sort"),
    pytest.param("cheapest first", {Change.ORDER}, id="cue-first"),
    pytest.param("just the top 3", {Change.ORDER, Change.LIMIT}, id="top-n"),
    pytest.param("how many are there?", {Change.COUNT}, id="count"),
    pytest.param("what is the total amount?", {Change.AGGREGATE}, id="total"),
    pytest.param("and last year?", {Change.PERIOD}, id="last-year"),
    pytest.param("what about 2023?", {Change.PERIOD}, id="named-year"),
    pytest.param("only those over 100", {Change.FILTER}, id="bound"),
    pytest.param("highest first", {Change.ORDER}, id="highest-first-is-no-aggregate"),
])
def test_follow_ups_name_their_changes(question: str, changes: set[Change]) -> None:
    follow = read_follow_up(question)
    assert follow is not None and follow.changes == changes


@pytest.mark.parametrize("question", [
    "How many orders were placed in 2024?",
    "Which customers live in Berlin?",
    "How many customers are there?",
    "What is the average price of products?",
    "List the names of products in the Books category",
])
def test_questions_that_stand_alone_are_no_follow_up(question: str) -> None:
    assert read_follow_up(question) is None


def test_what_each_change_needs_is_read() -> None:
    top = read_follow_up("just the top 3")
    cheapest = read_follow_up("cheapest first")
    total = read_follow_up("what is the average price?")
    back = read_follow_up("and the year before?")
    year = read_follow_up("what about 2022?")
    bound = read_follow_up("only those under 20")
    assert top is not None and (top.limit, top.descending) == (3, True)
    assert cheapest is not None and (cheapest.descending, cheapest.price_cue) == (False, True)
    assert total is not None and total.aggregate == "AVG"
    assert back is not None and back.year_shift == -1
    assert year is not None and year.year == 2022
    assert bound is not None and bound.comparison == ("<", 20.0)
