"""Rendering a guarded query again with another row cap (the shown and executable forms)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard, with_row_count


def test_the_outermost_limit_changes_and_the_query_does_not() -> None:
    verdict = SqlGuard().check("SELECT id FROM t WHERE id IN (SELECT id FROM t LIMIT 5)", Dialect.SQLITE,
                               {"t": {"id"}}, 100)
    tree = sqlglot.parse_one(verdict.executable_sql, read="sqlite")
    assert isinstance(tree, exp.Query)
    assert with_row_count(tree, Dialect.SQLITE, 100) == verdict.sql
    assert tree.sql(dialect="sqlite") == verdict.executable_sql  # untouched
    assert "LIMIT 5" in verdict.sql


def test_a_fetch_first_count_changes_too() -> None:
    tree = sqlglot.parse_one("SELECT id FROM t FETCH FIRST 101 ROWS ONLY", read="postgres")
    assert isinstance(tree, exp.Query)
    assert "FETCH FIRST 100 ROWS ONLY" in with_row_count(tree, Dialect.POSTGRESQL, 100)
