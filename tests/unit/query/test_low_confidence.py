"""The low-confidence reply: when a source's threshold refuses an answer, and the rephrasing it offers."""

from __future__ import annotations

from chatdb_server.query.answer_text import LOW_CONFIDENCE_TEXT
from chatdb_server.query.low_confidence import below_threshold, suggested_question
from chatdb_server.query.reading import unreliable
from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, SEARCH, ScoredTable
from chatdb_server.sql.structure import ColumnStructure, StoredTable, TableStructure


def scored(name: str, columns: list[tuple[str, str]], reason: str = SEARCH, *, key: str = "id") -> ScoredTable:
    structure = TableStructure(name, columns=tuple(ColumnStructure(n, t.lower(), t, primary_key=n == key)
                                                   for n, t in columns))
    return ScoredTable(StoredTable(structure, "", "fp", "fp"), 0.5, reason)


def test_zero_refuses_nothing_and_a_threshold_refuses_below_it() -> None:
    assert not below_threshold(0.0, 0.0)
    assert below_threshold(0.59, 0.6) and not below_threshold(0.6, 0.6) and not below_threshold(0.9, 0.6)


def test_the_rephrasing_names_the_closest_searched_table_and_a_measure() -> None:
    products = scored("products", [("id", "INTEGER"), ("category_id", "INTEGER"), ("unit_price", "DECIMAL")])
    neighbour = scored("categories", [("id", "INTEGER"), ("name", "STRING")], JOIN_NEIGHBOR)
    assert suggested_question([neighbour, products]) == "What is the average unit price of products?"
    assert suggested_question([scored("sales.order_lines", [("sku", "STRING")])]) == \
        "How many order lines are there?"
    assert suggested_question([]) == ""


def test_the_refusal_reads_as_such() -> None:
    reading = unreliable([scored("orders", [("id", "INTEGER")])])
    assert reading.low_confidence and reading.text == LOW_CONFIDENCE_TEXT
    assert reading.suggested_question == "How many orders are there?" and reading.chart.type == "TABLE"
