"""The SELECT grammar of constrained decoding: what it accepts beyond a single SELECT (aliases,
subqueries, set operations, grouping, ranges, lists), what it still refuses, and that it stays finite.
The engine vLLM decodes with (xgrammar) is the judge."""

from __future__ import annotations

from functools import cache

import pytest

from chatdb_server.prediction.grammar import MAX_NESTING, Ref, Repeat, build_select_grammar
from chatdb_server.sql.dsn import Dialect
from tests.support.grammar_matching import GrammarMatcher
from tests.unit.prediction.prediction_fixtures import SCHEMA


@cache
def matcher(dialect: Dialect) -> GrammarMatcher:
    return GrammarMatcher(build_select_grammar(SCHEMA, dialect).to_ebnf())


@pytest.mark.parametrize("sql", [
    pytest.param("SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id "
                 "WHERE T2.year = 2014", id="aliased_join"),
    pytest.param("SELECT name FROM singer WHERE age > (SELECT AVG(age) FROM singer)", id="scalar_subquery"),
    pytest.param("SELECT name FROM singer WHERE singer_id NOT IN (SELECT singer_id FROM concert)",
                 id="not_in_subquery"),
    pytest.param("SELECT name FROM singer WHERE singer_id IN (SELECT singer_id FROM concert WHERE year IN "
                 "(SELECT year FROM concert WHERE concert_id = 1))", id="two_levels_of_nesting"),
    pytest.param("SELECT country FROM singer WHERE age > 40 INTERSECT SELECT country FROM singer WHERE age < 30",
                 id="intersect"),
    pytest.param("SELECT name FROM singer EXCEPT SELECT T1.name FROM singer AS T1 JOIN concert AS T2 "
                 "ON T1.singer_id = T2.singer_id", id="except"),
    pytest.param("SELECT name FROM singer UNION SELECT concert_name FROM concert ORDER BY name LIMIT 3",
                 id="union_ordered_and_limited"),
    pytest.param("SELECT singer_id, COUNT(*) FROM concert GROUP BY singer_id HAVING COUNT(*) >= 2", id="having"),
    pytest.param("SELECT name FROM singer WHERE age BETWEEN 20 AND 30 AND country <> 'France'", id="between"),
    pytest.param("SELECT name FROM singer WHERE country IN ('France', 'Netherlands') OR age IS NULL", id="in_list"),
    pytest.param("SELECT name FROM singer WHERE NOT name LIKE '%Sharp%' AND (age > 1 OR age < -2.5)",
                 id="not_and_grouped_or"),
    pytest.param("SELECT MAX(age) - MIN(age), SUM(age) / COUNT(*) AS m FROM singer", id="arithmetic_and_alias"),
    pytest.param("SELECT COUNT(*) FROM (SELECT country FROM singer INTERSECT SELECT concert_name FROM concert)",
                 id="derived_table"),
    pytest.param("SELECT name FROM singer WHERE name = 'Jean-Luc (Paris): 5/5'", id="punctuation_in_strings"),
    pytest.param("SELECT name FROM singer WHERE name = 'D''Arcy'", id="doubled_quote"),
])
def test_general_select_constructs_are_accepted(sql: str) -> None:
    assert matcher(Dialect.SQLITE).accepts(sql)


@pytest.mark.parametrize("sql", [
    pytest.param("SELECT password FROM singer", id="unknown_column"),
    pytest.param("SELECT name FROM users", id="unknown_table"),
    pytest.param("SELECT name FROM singer WHERE age > (SELECT salary FROM concert)", id="unknown_column_nested"),
    pytest.param("SELECT T1.secret FROM singer AS T1", id="alias_cannot_reach_unknown_columns"),
    pytest.param("SELECT name FROM singer WHERE name = 'x'; DROP TABLE singer", id="second_statement"),
    pytest.param("SELECT name FROM singer WHERE name = 'a\\' OR 1=1 --'", id="backslash_in_string"),
    pytest.param("DELETE FROM singer", id="not_a_select"),
    pytest.param("SELECT name FROM singer WHERE age = (SELECT age FROM singer WHERE age IN (SELECT age FROM singer "
                 "WHERE age IN (SELECT age FROM singer)))", id="nested_too_deep"),
])
def test_what_is_not_a_select_over_the_schema_is_refused(sql: str) -> None:
    assert not matcher(Dialect.SQLITE).accepts(sql)


def test_nulls_ordering_is_offered_where_the_dialect_has_it() -> None:
    sql = "SELECT age FROM singer ORDER BY age DESC NULLS LAST"
    assert matcher(Dialect.POSTGRESQL).accepts(sql)
    assert not matcher(Dialect.MYSQL).accepts(sql)


def test_keywords_as_names_are_quoted_per_dialect() -> None:
    assert matcher(Dialect.MYSQL).accepts("SELECT `order` FROM singer AS s WHERE s.`order` > 1")
    assert not matcher(Dialect.MYSQL).accepts("SELECT order FROM singer")


def test_every_rule_is_defined_and_nesting_is_bounded() -> None:
    rules = build_select_grammar(SCHEMA, Dialect.SQLITE).rules

    def references(symbol: object) -> set[str]:
        if isinstance(symbol, Ref):
            return {symbol.rule}
        return references(symbol.symbol) if isinstance(symbol, Repeat) else set()

    used = {name for alternatives in rules.values() for alt in alternatives for s in alt for name in references(s)}
    assert used <= set(rules)
    assert f"query_{MAX_NESTING}" in rules and f"query_{MAX_NESTING + 1}" not in rules
    assert all(not references(s) & {f"query_{d}" for d in range(MAX_NESTING + 1)}
               for alt in rules[f"operand_{MAX_NESTING}"] for s in alt)
