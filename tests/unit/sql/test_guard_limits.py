"""The guard's size and nesting limits: pathological SQL is refused before parsing (SQL_TOO_COMPLEX), what
still runs out of stack is refused the same way, and SQL within the limits is judged as before."""

from __future__ import annotations

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.guard_limits import SQL_TOO_COMPLEX, SqlLimits, shape, tokenize

PG, MY, LITE = Dialect.POSTGRESQL, Dialect.MYSQL, Dialect.SQLITE
KNOWN = {"customers": {"id", "name"}}


def or_chain(terms: int) -> str:
    return "SELECT id FROM customers WHERE " + " OR ".join(f"id = {i}" for i in range(terms))


def nested_in(levels: int) -> str:
    sql = "SELECT id FROM customers"
    for _ in range(levels):
        sql = f"SELECT id FROM customers WHERE id IN ({sql})"
    return sql


@pytest.mark.parametrize(("sql", "tokens", "depth"), [
    ("SELECT 1", 2, 0),
    ("SELECT (1 + (2))", 8, 2),
    ("SELECT CASE WHEN a THEN (b) END FROM t", 11, 2),
    ("SELECT a[1] FROM t", 7, 1),
    ("SELECT '((((((' FROM t", 4, 0),
    ("SELECT 1 /* ((((( */ FROM t", 4, 0),
])
def test_shape_counts_tokens_and_nesting_as_the_parser_reads_them(sql: str, tokens: int, depth: int) -> None:
    found = shape(tokenize(sql, PG))
    assert (found.tokens, found.depth) == (tokens, depth)


@pytest.mark.parametrize("dialect", [PG, MY, LITE])
@pytest.mark.parametrize(("sql", "limit"), [
    pytest.param(or_chain(4_000), "max_sql_tokens", id="16k-token-or-chain"),
    pytest.param("SELECT " + "(" * 1000 + "1" + ")" * 1000 + " FROM customers", "max_sql_depth", id="1000-parentheses"),
    pytest.param(nested_in(400), "max_sql_depth", id="400-nested-in-select"),
    pytest.param("SELECT " + "CASE WHEN id = 1 THEN " * 30 + "1" + " ELSE 0 END" * 30 + " FROM customers",
                 "max_sql_depth", id="30-nested-case"),
])
def test_pathological_sql_is_refused_before_parsing_naming_the_limit(dialect: Dialect, sql: str, limit: str) -> None:
    verdict = SqlGuard().check(sql, dialect, KNOWN, 100)
    assert not verdict.valid and verdict.sql == ""
    assert [v.reason for v in verdict.violations] == [SQL_TOO_COMPLEX]
    assert limit in verdict.violations[0].message


@pytest.mark.parametrize("sql", [
    pytest.param("SELECT id FROM customers WHERE " + "NOT " * 2000 + "id = 1", id="2000-nots"),
    pytest.param("SELECT " + "- " * 2000 + "1 FROM customers", id="2000-unary-minus"),
])
def test_sql_that_exhausts_the_stack_within_the_limits_is_too_complex_not_an_error(sql: str) -> None:
    verdict = SqlGuard(SqlLimits(max_tokens=100_000)).check(sql, PG, KNOWN, 100)
    assert [v.reason for v in verdict.violations] == [SQL_TOO_COMPLEX]
    assert "nests too deeply" in verdict.violations[0].message


def test_limits_are_the_given_ones() -> None:
    strict = SqlGuard(SqlLimits(max_tokens=20, max_depth=2))
    assert strict.check(or_chain(3), PG, KNOWN, 100).valid
    refused = strict.check(or_chain(10), PG, KNOWN, 100)
    assert "at most 20 are checked (max_sql_tokens)" in refused.violations[0].message
    deep = strict.check("SELECT ((id)) + (((1))) FROM customers", PG, KNOWN, 100)
    assert "3 deep; at most 2 levels" in deep.violations[0].message


@pytest.mark.parametrize("sql", [
    pytest.param(or_chain(2_400), id="or-chain-under-the-token-limit"),
    pytest.param(nested_in(10), id="ten-nested-in-select"),
    pytest.param("SELECT id FROM customers WHERE id IN (" + ", ".join(str(i) for i in range(4_000)) + ")",
                 id="4000-value-in-list"),
])
def test_large_sql_within_the_limits_is_judged_as_usual(sql: str) -> None:
    verdict = SqlGuard().check(sql, PG, KNOWN, 100)
    assert verdict.valid, verdict.violations
    assert verdict.sql.endswith("LIMIT 100")


def test_an_unreadable_token_is_still_a_parse_error() -> None:
    verdict = SqlGuard().check("SELECT 'unterminated FROM customers", PG, KNOWN, 100)
    assert [v.reason for v in verdict.violations] == ["PARSE_ERROR"]
