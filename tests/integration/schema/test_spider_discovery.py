"""Discovery and join inference on every Spider dev database (real-world SQLite schemas)."""

from __future__ import annotations

import dataclasses

import pytest

from chatdb_server.schema.discovery import discover
from chatdb_server.schema.fingerprint import table_fingerprint
from chatdb_server.schema.graph import declared_edges, inferred_edges
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import JoinEdge
from tests.support import spider

pytestmark = pytest.mark.spider


def _key(edge: JoinEdge) -> tuple[str, str, str, str]:
    return edge.from_table.lower(), edge.from_columns[0].lower(), edge.to_table.lower(), edge.to_columns[0].lower()


async def test_every_spider_database_is_discovered_and_joins_are_inferred() -> None:
    spider.require_spider()
    hits = false = missed = 0
    for db_id in spider.database_ids():
        dsn = parse_dsn(f"sqlite:///{spider.database_path(db_id)}")
        first, second = await discover(dsn), await discover(dsn)
        assert first.tables, db_id
        assert [table_fingerprint(t) for t in first.tables] == [table_fingerprint(t) for t in second.tables]
        for table in first.tables:
            assert table.columns, (db_id, table.name)
            if table.kind == "TABLE":
                assert table.row_estimate >= 0, (db_id, table.name)
                assert len(table.sample_rows) == min(3, table.row_estimate), (db_id, table.name)
            assert all(len(row) == len(table.columns) for row in table.sample_rows)
        truth = {_key(e) for e in declared_edges(first.tables) if len(e.from_columns) == 1}
        bare = [dataclasses.replace(t, foreign_keys=()) for t in first.tables]
        guessed = {_key(e) for e in inferred_edges(bare)}
        hits, false, missed = hits + len(truth & guessed), false + len(guessed - truth), missed + len(truth - guessed)
    assert hits + missed > 20, "too few declared keys to judge inference"
    precision, recall = hits / (hits + false), hits / (hits + missed)
    assert precision >= 0.9, precision
    assert recall >= 0.6, recall
