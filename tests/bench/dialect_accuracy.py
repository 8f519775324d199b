"""Execution accuracy and database errors of the template generator per dialect on Spider dev.

    python -m tests.bench.dialect_accuracy [--dialects sqlite,postgresql,mysql] [--db DB_ID] [--limit N]
                                           [--errors N] [--json PATH] [--sample-values K] [--declared-types]

Each Spider database is asked on SQLite (its file) and on copies in PostgreSQL and MariaDB (one
database per copy, created and dropped here; tests/support/spider_copy.py). An ask goes the way
the server takes it with the template generator: one candidate in the source's dialect, the SQL
guard, the read-only executor, and when the database rejects the SQL one repair round with the
database's error. The gold SQL, after the guard and transpiled to the dialect, runs on the same
database (on SQLite where the stricter server refuses SQLite-only gold SQL). Results are compared
as sql-eval does (tests/bench/spider_compare.py).

Per dialect: execution accuracy (lenient / strict; also on the held-out half of the databases, as
template_accuracy splits them), the share of asks that end in a database error
(first try and after the repair round, with the most frequent messages), and the share with no SQL
(the generator found no reading, or the guard refused every candidate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from chatdb_server.errors import ChatDBError
from chatdb_server.generation.interface import GenerationRequest, RepairHint
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.errors import QueryFailed
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.guard import SqlGuard
from tests.bench.spider_compare import Result, Verdict, _norm, compare, is_ordered, run_sql
from tests.bench.spider_dialects import DIALECTS, GUARD_ROWS, DatabaseTarget, database_target, transpile_gold
from tests.bench.spider_schema import DEFAULT_SAMPLE_VALUES
from tests.bench.template_accuracy import splits
from tests.support.spider import SpiderQuestion, database_path, questions, spider_available

TIMEOUT_S = 20.0
_NAMES = {dialect: name for name, dialect in DIALECTS.items()}
_NUMBERS = re.compile(r"\b\d+\b|'[^']*'|\"[^\"]*\"|`[^`]*`")


@dataclass
class Ask:
    """One question on one dialect."""

    index: int
    db_id: str
    dialect: str
    question: str
    sql: str
    lenient: bool
    strict: bool
    outcome: str
    """``answered``, ``no sql`` or ``database error``."""
    first_error: str = ""
    """The database's message for the first SQL (empty when it ran)."""
    error: str = ""
    """The message the ask ended with (after the repair round)."""
    repaired: bool = False
    gold_on_sqlite: bool = False


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    elif isinstance(value, datetime | date | time):
        value = str(value)
    return _norm(value)


def _rows(rows: list[tuple[Any, ...]], width: int) -> Result:
    return Result([tuple(_value(v) for v in row) for row in rows], width)


class DialectBench:
    """Asks every question of one database on one dialect as the server would."""

    def __init__(self, generator: TemplateGenerator, guard: SqlGuard, executor: QueryExecutor) -> None:
        self.generator = generator
        self.guard = guard
        self.executor = executor

    async def _run(self, target: DatabaseTarget, sql: str) -> Result:
        verdict = self.guard.check(sql, target.dialect, target.known_columns, GUARD_ROWS)
        if not verdict.valid:
            raise _Refused("; ".join(v.message for v in verdict.violations))
        result = await self.executor.execute(target.source, verdict.executable_sql, max_rows=GUARD_ROWS,
                                             timeout_s=TIMEOUT_S)
        return _rows(result.rows, len(result.columns))

    async def _gold(self, target: DatabaseTarget, question: SpiderQuestion, db_path: Path) -> tuple[Result, bool]:
        if target.dialect is not Dialect.SQLITE:
            try:
                return await self._run(target, transpile_gold(self.guard, question.gold_sql, db_path,
                                                               target.dialect)), False
            except (QueryFailed, _Refused):
                pass  # SQLite-only gold SQL (bare columns beside GROUP BY, text compared with numbers)
        return run_sql(db_path, question.gold_sql), target.dialect is not Dialect.SQLITE

    def _candidates(self, request: GenerationRequest) -> list[str]:
        try:
            return [c.sql for c in self.generator.generate_sync(request).candidates]
        except ChatDBError:
            return []

    async def ask(self, target: DatabaseTarget, question: SpiderQuestion, db_path: Path) -> Ask:
        request = GenerationRequest(question.question, target.dialect, target.schema)
        ask = Ask(question.index, question.db_id, _NAMES[target.dialect], question.question, "", False, False,
                  "no sql")
        candidates = self._candidates(request)
        if not candidates:
            return ask
        ask.sql = candidates[0]
        try:
            predicted = await self._run(target, ask.sql)
        except _Refused:
            return ask
        except QueryFailed as failed:
            ask.first_error = ask.error = failed.database_message
            repaired = await self._repair(target, request, ask.sql, failed.database_message)
            if repaired is None:
                ask.outcome = "database error"
                return ask
            ask.sql, predicted = repaired
            ask.error, ask.repaired = "", True
        gold, ask.gold_on_sqlite = await self._gold(target, question, db_path)
        verdict: Verdict = compare(gold, predicted, is_ordered(question.gold_sql))
        ask.lenient, ask.strict, ask.outcome = verdict.lenient, verdict.strict, "answered"
        return ask

    async def _repair(self, target: DatabaseTarget, request: GenerationRequest, failed_sql: str,
                      error: str) -> tuple[str, Result] | None:
        """The server's one repair round: the next readings, with the database's error."""
        hint = RepairHint(failed_sql=failed_sql, error=error)
        for sql in self._candidates(GenerationRequest(request.question, request.dialect, request.schema,
                                                      candidate_count=2, repair=hint)):
            if sql == failed_sql:
                continue
            try:
                return sql, await self._run(target, sql)
            except (QueryFailed, _Refused):
                continue
        return None


class _Refused(Exception):
    """The guard refused the SQL."""


def error_kind(message: str) -> str:
    """A database message without its names and values, to group messages of one kind."""
    first = message.splitlines()[0] if message else ""
    first = re.sub(r"^\(\S+\) ", "", first)
    return _NUMBERS.sub("…", first)[:90]


async def evaluate(selected: list[SpiderQuestion], dialects: list[Dialect], sample_values: int,
                   declared_types: bool = False) -> list[Ask]:
    """Every selected question on every dialect (each database copied once per dialect)."""
    by_db: dict[str, list[SpiderQuestion]] = defaultdict(list)
    for q in selected:
        by_db[q.db_id].append(q)
    bench = DialectBench(TemplateGenerator(), SqlGuard(), QueryExecutor())
    asks: list[Ask] = []
    pk = 0
    try:
        for dialect in dialects:
            for db_id, items in sorted(by_db.items()):
                pk += 1
                db_path = database_path(db_id)
                with database_target(db_path, dialect, pk, sample_values, declared_types) as target:
                    for q in items:
                        asks.append(await bench.ask(target, q, db_path))
                    await bench.executor.dispose_source(pk)
    finally:
        await bench.executor.close()
    return asks


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   - "


def _heldout(rows: list[Ask]) -> dict[str, float | int]:
    """Lenient and strict accuracy on the databases the rules were never tuned on."""
    halves = splits()
    kept = [a for a in rows if halves.get(a.db_id) == "heldout"]
    n = len(kept)
    return {"n": n, "lenient": sum(a.lenient for a in kept) / n if n else 0.0,
            "strict": sum(a.strict for a in kept) / n if n else 0.0}


def summary(asks: list[Ask]) -> dict[str, dict[str, Any]]:
    """Figures per dialect."""
    out: dict[str, dict[str, Any]] = {}
    for dialect in dict.fromkeys(a.dialect for a in asks):
        rows = [a for a in asks if a.dialect == dialect]
        n = len(rows)
        out[dialect] = {
            "n": n, "lenient": sum(a.lenient for a in rows) / n, "strict": sum(a.strict for a in rows) / n,
            "database_error": sum(a.outcome == "database error" for a in rows) / n,
            "first_try_error": sum(bool(a.first_error) for a in rows) / n,
            "repaired": sum(a.repaired for a in rows) / n,
            "no_sql": sum(a.outcome == "no sql" for a in rows) / n,
            "heldout": _heldout(rows),
            "gold_on_sqlite": sum(a.gold_on_sqlite for a in rows),
            "errors": dict(Counter(error_kind(a.error) for a in rows if a.error).most_common(8)),
            "first_errors": dict(Counter(error_kind(a.first_error) for a in rows if a.first_error).most_common(8)),
        }
    return out


def print_summary(figures: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'dialect':<12}{'n':>6}{'lenient':>10}{'strict':>10}{'db error':>10}{'1st try':>10}"
          f"{'repaired':>10}{'no SQL':>10}")
    for dialect, f in figures.items():
        n = f["n"]
        cells = [round(f[k] * n) for k in ("lenient", "strict", "database_error", "first_try_error", "repaired",
                                            "no_sql")]
        held = f["heldout"]
        print(f"{dialect:<12}{n:>6}" + "".join(f"{_pct(c, n):>10}" for c in cells)
              + f"   held-out {held['n']}: {_pct(round(held['lenient'] * held['n']), held['n']).strip()}"
              f" / {_pct(round(held['strict'] * held['n']), held['n']).strip()}")
    for dialect, f in figures.items():
        if f["gold_on_sqlite"]:
            print(f"\n{dialect}: {f['gold_on_sqlite']} gold queries use SQLite-only SQL; compared with SQLite's rows")
        for label, key in (("errors after repair", "errors"), ("first-try errors", "first_errors")):
            if f[key]:
                print(f"\n{dialect} {label} (most frequent):")
                for message, count in f[key].items():
                    print(f"  {count:>4}  {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialects", default=",".join(DIALECTS), help="comma-separated: " + ", ".join(DIALECTS))
    parser.add_argument("--db", help="only this database")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (after --db)")
    parser.add_argument("--errors", type=int, default=0, help="print this many asks that ended in an error")
    parser.add_argument("--json", type=Path, help="write figures and every ask here")
    parser.add_argument("--sample-values", type=int, default=DEFAULT_SAMPLE_VALUES)
    parser.add_argument("--declared-types", action="store_true",
                        help="copy dates and fixed-point numbers with their declared types where the data fits")
    args = parser.parse_args(argv)
    if not spider_available():
        print("Spider dev set not found (set CHATDB_SPIDER_DIR); nothing to measure.")
        return 0
    try:
        dialects = [DIALECTS[d.strip()] for d in args.dialects.split(",") if d.strip()]
    except KeyError as unknown:
        parser.error(f"unknown dialect {unknown}; use {', '.join(DIALECTS)}")
    selected = [q for q in questions() if args.db is None or q.db_id == args.db]
    selected = selected[:args.limit] if args.limit else selected
    asks = asyncio.run(evaluate(selected, dialects, args.sample_values, args.declared_types))
    figures = summary(asks)
    print(f"Template generator on Spider dev per dialect: {len(selected)} questions")
    print_summary(figures)
    for a in [a for a in asks if a.error][:args.errors]:
        print(f"\n[{a.dialect} {a.db_id} #{a.index}] {a.question}\n  sql: {a.sql}\n  error: {a.error.splitlines()[0]}")
    if args.json:
        args.json.write_text(json.dumps({"summary": figures, "asks": [asdict(a) for a in asks]}, indent=1))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
