"""Re-linking a golden example's literal values to a new question's: strings, numbers, dates, IN lists,
and refusal whenever the new value is not certain."""

from __future__ import annotations

import pytest

from chatdb_server.generation.literal_relinking import Relinked, relink
from chatdb_server.generation.question_values import tokenize, value_spans

CITY_SAMPLES = {"city": ["Paris", "Berlin", "New York"]}


def relinked(example_question: str, example_sql: str, question: str, dialect: str = "sqlite") -> Relinked | None:
    return relink(example_question, example_sql, question, dialect, CITY_SAMPLES)


@pytest.mark.parametrize(("example_question", "example_sql", "question", "sql"), [
    pytest.param("How many orders are from Berlin?", "SELECT COUNT(*) FROM orders WHERE city = 'Berlin'",
                 "How many orders are from Paris?", "SELECT COUNT(*) FROM orders WHERE city = 'Paris'",
                 id="string"),
    pytest.param("orders from Berlin", "SELECT * FROM orders WHERE city = 'Berlin'", "orders from New York",
                 "SELECT * FROM orders WHERE city = 'New York'", id="string_of_two_words"),
    pytest.param("orders from berlin", "SELECT * FROM orders WHERE city = 'Berlin'", "orders from paris",
                 "SELECT * FROM orders WHERE city = 'Paris'", id="lower_case_takes_the_stored_spelling"),
    pytest.param("Which orders are shipped to 'Berlin'?", "SELECT id FROM orders WHERE city = 'Berlin'",
                 "Show the orders that went to 'Lyon'", "SELECT id FROM orders WHERE city = 'Lyon'",
                 id="quoted_value_in_a_paraphrase"),
    pytest.param("customers named Ann", "SELECT * FROM customers WHERE name LIKE '%Ann%'", "customers named Bob",
                 "SELECT * FROM customers WHERE name LIKE '%Bob%'", id="like_pattern_keeps_wildcards"),
    pytest.param("customers from Germany", "SELECT * FROM customers WHERE country = 'GERMANY'",
                 "customers from France", "SELECT * FROM customers WHERE country = 'FRANCE'",
                 id="stored_upper_case_stays_upper_case"),
    pytest.param("Products cheaper than 20", "SELECT name FROM products WHERE price < 20",
                 "Products cheaper than 35.5", "SELECT name FROM products WHERE price < 35.5", id="number"),
    pytest.param("Products that cost more than 1,000", "SELECT name FROM products WHERE price > 1000",
                 "Products that cost more than 2,500", "SELECT name FROM products WHERE price > 2500",
                 id="number_with_thousands_separator"),
    pytest.param("the top 3 products by price", "SELECT name FROM products ORDER BY price DESC LIMIT 3",
                 "the top five products by price", "SELECT name FROM products ORDER BY price DESC LIMIT 5",
                 id="number_in_words"),
    pytest.param("products priced between 10 and 20", "SELECT * FROM products WHERE price BETWEEN 10 AND 20",
                 "products priced between 30 and 40", "SELECT * FROM products WHERE price BETWEEN 30 AND 40",
                 id="two_numbers_by_alignment"),
    pytest.param("orders placed since 2023-01-05", "SELECT * FROM orders WHERE order_date >= '2023-01-05'",
                 "orders placed since 2024-02-29", "SELECT * FROM orders WHERE order_date >= '2024-02-29'",
                 id="date"),
    pytest.param("orders of 2023", "SELECT COUNT(*) FROM orders WHERE STRFTIME('%Y', order_date) = '2023'",
                 "orders of 2024", "SELECT COUNT(*) FROM orders WHERE STRFTIME('%Y', order_date) = '2024'",
                 id="year_as_text_beside_a_format_literal"),
    pytest.param("orders from Berlin or Hamburg", "SELECT * FROM orders WHERE city IN ('Berlin', 'Hamburg')",
                 "orders from Paris or Lyon", "SELECT * FROM orders WHERE city IN ('Paris', 'Lyon')", id="in_list"),
    pytest.param("Berlin orders over 50", "SELECT * FROM orders WHERE city = 'Berlin' AND total > 50",
                 "Paris orders over 75", "SELECT * FROM orders WHERE city = 'Paris' AND total > 75",
                 id="string_and_number"),
])
def test_values_are_relinked(example_question: str, example_sql: str, question: str, sql: str) -> None:
    result = relinked(example_question, example_sql, question)
    assert result is not None
    assert result.sql == sql
    assert result.changes


def test_unchanged_values_keep_the_sql_as_written() -> None:
    sql = "select name from singer where age > 40 -- the example's own spelling"
    question = "List the names of singers whose age is above 40."
    result = relinked("What are the names of singers older than 40?", sql, question)
    assert result == Relinked(sql, restated=question)


def test_the_changes_name_old_and_new_values() -> None:
    result = relinked("orders from Berlin over 50", "SELECT * FROM orders WHERE city = 'Berlin' AND total > 50",
                      "orders from Paris over 60")
    assert result is not None
    assert result.changes == (("Berlin", "Paris"), ("50", "60"))
    assert result.restated == "orders from Berlin over 50"


@pytest.mark.parametrize(("example_question", "example_sql", "question"), [
    pytest.param("How many customers?", "SELECT COUNT(*) FROM customers", "How many customers are in Berlin?",
                 id="question_adds_a_named_value"),
    pytest.param("How many customers?", "SELECT COUNT(*) FROM customers", "How many customers are in paris?",
                 id="question_adds_a_known_sample_value"),
    pytest.param("How many customers are in Berlin?", "SELECT COUNT(*) FROM customers WHERE city = 'Berlin'",
                 "How many customers are there?", id="question_drops_the_example_value"),
    pytest.param("orders from Berlin or Hamburg", "SELECT * FROM orders WHERE city IN ('Berlin', 'Hamburg')",
                 "orders from Paris, Lyon or Nice", id="in_list_of_another_length"),
    pytest.param("products with price over 10 and stock under 5",
                 "SELECT * FROM products WHERE price > 10 AND stock < 5",
                 "products whose stock is under 7 and whose price is over 12", id="two_numbers_not_aligned"),
    pytest.param("orders in the 1990s", "SELECT * FROM orders WHERE year BETWEEN 1990 AND 1999",
                 "orders in the 1980s", id="value_inside_a_word"),
    pytest.param("orders from 1990 on", "SELECT * FROM orders WHERE year BETWEEN 1990 AND 1999",
                 "orders from 1980 on", id="changed_value_beside_an_unnamed_one_of_its_kind"),
    pytest.param("Berlin and Berlin suburbs", "SELECT * FROM orders WHERE city = 'Berlin'",
                 "Paris and suburbs", id="value_named_twice"),
    pytest.param("products cheaper than 20", "SELECT * FROM products WHERE price < 20",
                 "products cheaper than twenty dollars in Paris", id="a_new_value_beside_the_changed_one"),
    pytest.param("orders from Berlin", "SELECT * FROM orders WHERE city = 'Berlin'", "orders from 2020",
                 id="a_number_for_a_text_value"),
    pytest.param("products cheaper than 20", "SELECT * FROM products WHERE price < 20",
                 "products cheaper than cheap", id="a_word_for_a_number"),
    pytest.param("orders", "SELECT * FROM orders WHERE", "orders", id="sql_that_does_not_parse"),
])
def test_uncertain_values_refuse(example_question: str, example_sql: str, question: str) -> None:
    assert relinked(example_question, example_sql, question) is None


def test_capitalised_runs_split_at_punctuation_and_skip_the_first_word() -> None:
    text = "Which orders came from New York, Paris or 'los angeles' in 2023?"
    tokens = tokenize(text)
    spans = [" ".join(t.text for t in tokens[s.start:s.end]) for s in value_spans(text, tokens)]
    assert spans == ["New York", "Paris", "los angeles", "2023"]
