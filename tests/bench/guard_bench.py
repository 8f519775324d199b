"""SQL guard latency over the Spider dev gold queries (parse, checks, LIMIT, render).

Run: ``.venv/bin/python -m tests.bench.guard_bench [--rounds N]``. Prints p50/p99/max per dialect:
the gold SQL on SQLite, and its PostgreSQL and MySQL transpilations.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from functools import cache

import sqlglot
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard
from tests.support.spider import database_path, questions, spider_available, spider_dir


@cache
def known_columns(db_id: str) -> dict[str, set[str]]:
    with sqlite3.connect(database_path(db_id)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        return {t.lower(): {row[1].lower() for row in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def workload(dialect: Dialect) -> list[tuple[str, dict[str, set[str]]]]:
    """(SQL, known columns) for every gold query, in ``dialect``."""
    out = []
    guard = SqlGuard()
    for question in questions():
        sql = question.gold_sql
        if dialect is not Dialect.SQLITE:  # as SQLite means it: "x" that is no column is a string
            on_sqlite = guard.check(sql, Dialect.SQLITE, known_columns(question.db_id), 1000).sql
            tree = normalize_identifiers(sqlglot.parse_one(on_sqlite, read="sqlite"), dialect="sqlite")
            sql = tree.sql(dialect=dialect.value)
        out.append((sql, known_columns(question.db_id)))
    return out


def measure(dialect: Dialect, rounds: int) -> tuple[list[float], int]:
    guard = SqlGuard()
    cases = workload(dialect)
    timings, refused = [], 0
    for _ in range(rounds):
        for sql, known in cases:
            started = time.perf_counter()
            verdict = guard.check(sql, dialect, known, 1000)
            timings.append(time.perf_counter() - started)
            refused += not verdict.valid
    return timings, refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not spider_available():
        print(f"Spider dev set not found at {spider_dir()}; nothing to measure")
        return 0
    print(f"guard over {len(questions())} Spider dev gold queries x {args.rounds} rounds")
    print(f"{'dialect':<12}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'checks/s':>10}{'refused':>9}")
    for dialect in (Dialect.SQLITE, Dialect.POSTGRESQL, Dialect.MYSQL):
        timings, refused = measure(dialect, args.rounds)
        timings.sort()
        p50 = statistics.median(timings) * 1000
        p99 = timings[int(len(timings) * 0.99) - 1] * 1000
        rate = len(timings) / sum(timings)
        print(f"{dialect.name.lower():<12}{p50:>9.3f}{p99:>9.3f}{timings[-1] * 1000:>9.3f}{rate:>10.0f}{refused:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
