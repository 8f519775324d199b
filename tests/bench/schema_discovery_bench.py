"""Schema discovery speed per dialect, and how well join inference recovers declared keys.

1. Discovery (reflection, row estimates, samples) of the sample shop on SQLite and of
   the integration-test schema on PostgreSQL and MariaDB: median and max of repeated runs.
2. Discovery of every Spider dev database (SQLite): total and slowest.
3. Join inference on Spider with the declared foreign keys hidden: precision and recall
   of the inferred single-column joins against the declared ones.

    .venv/bin/python tests/bench/schema_discovery_bench.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from chatdb_server.samples.shop import build_shop_database
from chatdb_server.schema.discovery import Discovery, discover
from chatdb_server.schema.graph import declared_edges, inferred_edges
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import JoinEdge, TableStructure
from tests.integration.schema.conftest import execute_all
from tests.integration.schema.targets import mysql_statements, postgres_statements
from tests.support import spider
from tests.support.databases import mysql_database, postgres_database


async def _timed(runs: int, work: Callable[[], Awaitable[Discovery]]) -> tuple[list[float], Discovery]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        times.append((time.perf_counter() - started) * 1000)
    assert result is not None
    return times, result


def _report(label: str, times: list[float], found: Discovery) -> None:
    print(f"  {label:<34} {len(found.tables):>3} tables  median {statistics.median(times):7.1f} ms  "
          f"max {max(times):7.1f} ms")


async def dialects(runs: int) -> None:
    print(f"== discovery per dialect ({runs} runs each)")
    with tempfile.TemporaryDirectory() as tmp:
        shop = parse_dsn(f"sqlite:///{build_shop_database(Path(tmp) / 'shop.db')}")
        _report("SQLite: sample shop", *await _timed(runs, lambda: discover(shop)))
    for label, database, statements, schemas in (
        ("PostgreSQL: public + sales", postgres_database, postgres_statements(), ("public", "sales")),
        ("MariaDB", mysql_database, mysql_statements(), ()),
    ):
        try:
            with database() as dsn:
                execute_all(dsn, statements)
                parsed = parse_dsn(dsn)
                _report(label, *await _timed(runs, functools.partial(discover, parsed, schemas)))
        except BaseException as error:  # pytest.skip/fail of the database helpers: skip the line
            print(f"  {label:<34} skipped: {error}")


async def spider_databases() -> list[tuple[str, tuple[TableStructure, ...]]]:
    print("== discovery of the Spider dev databases (SQLite)")
    found, times = [], []
    for db_id in spider.database_ids():
        started = time.perf_counter()
        result = await discover(parse_dsn(f"sqlite:///{spider.database_path(db_id)}"))
        times.append(((time.perf_counter() - started) * 1000, db_id, len(result.tables)))
        found.append((db_id, result.tables))
    total = sum(t for t, _, _ in times)
    slowest = max(times)
    print(f"  {len(times)} databases, {sum(n for _, _, n in times)} tables: total {total:.0f} ms, "
          f"median {statistics.median(t for t, _, _ in times):.1f} ms, slowest {slowest[1]} {slowest[0]:.1f} ms")
    return found


def _key(edge: JoinEdge) -> tuple[str, str, str, str]:
    return edge.from_table.lower(), edge.from_columns[0].lower(), edge.to_table.lower(), edge.to_columns[0].lower()


def inference_quality(databases: list[tuple[str, tuple[TableStructure, ...]]]) -> None:
    print("== join inference with declared keys hidden (Spider dev, single-column keys)")
    hits = false = missed = 0
    for _, tables in databases:
        truth = {_key(e) for e in declared_edges(tables) if len(e.from_columns) == 1}
        bare = [dataclasses.replace(t, foreign_keys=()) for t in tables]
        guessed = {_key(e) for e in inferred_edges(bare)}
        hits, false, missed = hits + len(truth & guessed), false + len(guessed - truth), missed + len(truth - guessed)
    print(f"  declared {hits + missed}, inferred {hits + false}: precision {hits / max(hits + false, 1):.2f}, "
          f"recall {hits / max(hits + missed, 1):.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    await dialects(args.runs)
    if spider.spider_available():
        inference_quality(await spider_databases())
    else:
        print(f"== Spider dev set not found at {spider.spider_dir()}: skipped")


if __name__ == "__main__":
    asyncio.run(main())
