"""Schema-constrained decoding: the share of Spider dev's gold SQL its grammar accepts, per dialect.

Run: ``.venv/bin/python -m tests.bench.grammar_coverage [--show N]``. For every dev question whose
database is there, the grammar is built from that database's schema (as training describes it; on
PostgreSQL and MySQL with names as a copy there spells them) and the gold SQL is written as a model
would write it for the dialect: read as SQLite means it (the guard's reading: "x" that is no column is
a string), names spelled as the schema spells them, rendered by sqlglot in the dialect. The engine
vLLM decodes with (xgrammar) decides whether the grammar accepts it. ``--show`` prints that many
refused statements per dialect.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from chatdb_server.prediction.grammar import build_select_grammar, identifier_needs_quotes
from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard
from tests.bench.spider_dialects import server_schema, sqlite_known_columns
from tests.bench.spider_schema import schema_context_for
from tests.support.grammar_matching import GrammarMatcher
from tests.support.spider import SpiderQuestion, database_path, questions, spider_available, spider_dir

DIALECTS = (Dialect.SQLITE, Dialect.POSTGRESQL, Dialect.MYSQL)
GOAL = 0.99
GUARD_ROWS = 1000


@cache
def schema_for(db_id: str, dialect: Dialect) -> SchemaContext:
    """The schema context a source of this database has on ``dialect``."""
    schema = schema_context_for(database_path(db_id))
    return schema if dialect is Dialect.SQLITE else server_schema(schema, {})


@cache
def matcher_for(db_id: str, dialect: Dialect) -> GrammarMatcher:
    return GrammarMatcher(build_select_grammar(schema_for(db_id, dialect), dialect).to_ebnf())


def as_written(question: SpiderQuestion, dialect: Dialect, guard: SqlGuard) -> str:
    """The gold SQL as a model would write it for a source of ``dialect``."""
    db_path: Path = database_path(question.db_id)
    verdict = guard.check(question.gold_sql, Dialect.SQLITE, sqlite_known_columns(db_path), GUARD_ROWS)
    tree = sqlglot.parse_one(verdict.sql if verdict.valid else question.gold_sql, read="sqlite")
    if sqlglot.parse_one(question.gold_sql, read="sqlite").args.get("limit") is None:
        tree.set("limit", None)  # the guard's own cap, not the gold's
    schema = schema_for(question.db_id, dialect)
    tables = {t.name.lower(): t.name for t in schema.tables}
    columns = {c.name.lower(): c.name for t in schema.tables for c in t.columns}
    for node in tree.find_all(exp.Table, exp.Column):
        spelled = tables if isinstance(node, exp.Table) else columns
        identifier = node.this
        if isinstance(identifier, exp.Identifier):
            name = spelled.get(identifier.name.lower(), identifier.name)
            identifier.set("this", name)
            identifier.set("quoted", identifier_needs_quotes(name, dialect))
    return tree.sql(dialect=dialect.value)


def measure(dialect: Dialect, guard: SqlGuard) -> tuple[int, list[str]]:
    """How many gold statements the grammar accepts, and those it refuses."""
    accepted, refused = 0, []
    for question in questions():
        sql = as_written(question, dialect, guard)
        if matcher_for(question.db_id, dialect).accepts(sql):
            accepted += 1
        else:
            refused.append(sql)
    return accepted, refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", type=int, default=0, help="print this many refused statements per dialect")
    args = parser.parse_args()
    if not spider_available():
        print(f"Spider dev set not found at {spider_dir()}; nothing to measure")
        return 0
    guard = SqlGuard()
    total = len(questions())
    print(f"grammar coverage of {total} Spider dev gold queries (goal {GOAL:.0%} per dialect)")
    print(f"{'dialect':<12}{'accepted':>10}{'share':>9}")
    for dialect in DIALECTS:
        accepted, refused = measure(dialect, guard)
        print(f"{dialect.name.lower():<12}{accepted:>10}{accepted / total:>9.1%}")
        constructs = Counter(_construct(sql, dialect) for sql in refused).most_common(8)
        if refused:
            print("  refused, by first unusual construct: " + ", ".join(f"{k} {v}" for k, v in constructs))
        for sql in refused[:args.show]:
            print(f"    {sql}")
    return 0


def _construct(sql: str, dialect: Dialect) -> str:
    tree = sqlglot.parse_one(sql, read=dialect.value)
    for kind in (exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.Having, exp.Between, exp.In, exp.Like):
        if tree.find(kind):
            return kind.__name__
    return "other"


if __name__ == "__main__":
    sys.exit(main())
