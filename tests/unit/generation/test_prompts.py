"""The shared text-to-SQL prompt, SQL extraction, and the SELECT grammar of constrained decoding."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import sqlglot
from sqlglot import exp

from chatdb_server.generation.interface import ConversationTurn, ExampleInfo, RepairHint
from chatdb_server.generation.prompts import build_messages, extract_sql, render_schema, training_messages
from chatdb_server.prediction.grammar import build_select_grammar, quote_identifier, quote_table
from chatdb_server.sql.dsn import Dialect
from tests.support.grammar_matching import GrammarMatcher
from tests.unit.prediction.prediction_fixtures import KNOWN_TABLES, SCHEMA, request


def test_schema_text_carries_types_keys_comments_samples_and_joins() -> None:
    text = render_schema(SCHEMA)
    assert "CREATE TABLE singer (" in text
    assert "singer_id INTEGER PRIMARY KEY" in text
    assert "country TEXT -- country of birth; e.g. 'France', 'Netherlands'" in text
    assert "-- singers who performed" in text
    assert "-- foreign key: concert.singer_id = singer.singer_id" in text


def test_messages_hold_instruction_examples_as_turns_and_question_last() -> None:
    messages = build_messages(request("Who is oldest?", dialect=Dialect.POSTGRESQL,
                                      examples=(ExampleInfo("How many concerts?", "SELECT COUNT(*) FROM concert;"),)))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "PostgreSQL" in messages[0]["content"]
    assert messages[2]["content"] == "SELECT COUNT(*) FROM concert;"
    assert messages[-1]["content"].endswith("Question: Who is oldest?")
    assert "CREATE TABLE concert" in messages[-1]["content"]


def test_training_messages_are_the_serving_prompt_plus_the_answer() -> None:
    messages = training_messages("How many singers?", " SELECT COUNT(*) FROM singer ", SCHEMA, Dialect.SQLITE)
    assert messages[:-1] == build_messages(request("How many singers?"))
    assert messages[-1] == {"role": "assistant", "content": "SELECT COUNT(*) FROM singer"}


@pytest.mark.parametrize(("output", "sql"), [
    ("SELECT name FROM singer;", "SELECT name FROM singer"),
    ("```sql\nSELECT name\nFROM singer;\n```\nThis lists names.", "SELECT name\nFROM singer"),
    ("SQL: SELECT 1", "SELECT 1"),
    ("Sure! Here it is: SELECT a FROM t WHERE b = 'x;y'; DROP TABLE t", "SELECT a FROM t WHERE b = 'x;y'"),
    ("WITH c AS (SELECT 1) SELECT * FROM c", "WITH c AS (SELECT 1) SELECT * FROM c"),
    ("", ""),
])
def test_extract_sql_takes_the_first_statement(output: str, sql: str) -> None:
    assert extract_sql(output) == sql


def test_identifiers_are_quoted_per_dialect_only_when_needed() -> None:
    assert quote_identifier("name", Dialect.MYSQL) == "name"
    assert quote_identifier("order", Dialect.MYSQL) == "`order`"
    assert quote_identifier("Song Name", Dialect.POSTGRESQL) == '"Song Name"'
    assert quote_table("sales.order", Dialect.SQLITE) == 'sales."order"'


@pytest.mark.parametrize("dialect", list(Dialect))
def test_every_sentence_of_the_grammar_parses_and_names_only_known_tables_and_columns(dialect: Dialect) -> None:
    grammar = build_select_grammar(SCHEMA, dialect)
    known_columns = {c.name for t in SCHEMA.tables for c in t.columns}
    rng = random.Random(7)
    for _ in range(500):
        sql = grammar.sample(rng)
        tree = sqlglot.parse_one(sql, read=dialect.value)
        assert isinstance(tree, exp.Query)
        assert {t.name for t in tree.find_all(exp.Table)} <= KNOWN_TABLES, sql
        assert {c.name for c in tree.find_all(exp.Column)} <= known_columns, sql


def test_grammar_offers_sample_values_as_escaped_string_literals() -> None:
    ebnf = build_select_grammar(SCHEMA, Dialect.SQLITE).to_ebnf()
    assert "\"'O''Brien'\"" in ebnf


def _accepts(ebnf: str, sql: str) -> bool:
    return GrammarMatcher(ebnf).accepts(sql)


def test_the_decoding_engine_accepts_the_grammar_and_rejects_unknown_names() -> None:
    ebnf = build_select_grammar(SCHEMA, Dialect.MYSQL).to_ebnf()
    assert _accepts(ebnf, "SELECT COUNT(*) FROM singer WHERE country = 'France'")
    assert _accepts(ebnf, "SELECT singer.name FROM concert JOIN singer ON concert.singer_id = singer.singer_id")
    assert _accepts(ebnf, "SELECT `order` FROM singer ORDER BY age DESC LIMIT 3")
    assert not _accepts(ebnf, "SELECT name FROM users")
    assert not _accepts(ebnf, "SELECT password FROM singer")
    assert not _accepts(ebnf, "SELECT name FROM singer; DROP TABLE singer")



def test_a_repair_round_shows_the_failed_sql_and_the_error() -> None:
    plain = request()
    repaired = replace(plain, repair=RepairHint("SELECT nme FROM singer", "no such column: nme"))
    messages = build_messages(repaired)
    assert messages[-2] == {"role": "assistant", "content": "SELECT nme FROM singer"}
    assert messages[-1]["role"] == "user" and "no such column: nme" in messages[-1]["content"]
    assert build_messages(plain)[-1]["content"].endswith(plain.question)


def test_a_follow_up_shows_the_conversation_as_earlier_turns() -> None:
    turns = (ConversationTurn("List the singers", "SELECT name FROM singer"),
             ConversationTurn("only those from France", "SELECT name FROM singer WHERE country = 'France'"))
    messages = build_messages(replace(request("how many are there?"), previous_turns=turns))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == "Question: List the singers"
    assert messages[4]["content"] == "SELECT name FROM singer WHERE country = 'France'"
    assert "Question: how many are there?" in messages[-1]["content"]
    assert "refine the previous SQL" in messages[-1]["content"]
    assert "previous" not in build_messages(request("how many are there?"))[-1]["content"]
