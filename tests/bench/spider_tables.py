"""Spider dev databases as trained sources: discovered tables, declared joins, gold tables.

Shared by the retrieval benchmarks and the Spider-marked retrieval tests. Tables come from
SchemaService's discovery (the same structures training stores), joins from the declared
foreign keys, and the gold tables of a question from its gold SQL, parsed with sqlglot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp

from chatdb_server.schema.discovery import discover
from chatdb_server.schema.fingerprint import table_fingerprint
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable, TableStructure
from tests.support.spider import database_path


@dataclass(frozen=True)
class SpiderSource:
    """One Spider database as a data source whose every table is trained."""

    db_id: str
    ref: SourceRef
    tables: list[StoredTable]
    joins: list[JoinEdge]

    @property
    def table_names(self) -> list[str]:
        """Names of the source's tables, as discovered."""
        return [t.structure.name for t in self.tables]


def declared_joins(tables: list[TableStructure]) -> list[JoinEdge]:
    """One join edge per declared foreign key whose target table exists (matched case-insensitively)."""
    by_lower = {t.name.lower(): t.name for t in tables}
    edges = []
    for table in tables:
        for fk in table.foreign_keys:
            target = by_lower.get(fk.referred_table.lower())
            if target is not None:
                edges.append(JoinEdge(table.name, fk.columns, target, fk.referred_columns,
                                               inferred=False, confidence=1.0, reason="declared foreign key"))
    return edges


async def load_source(db_id: str, tenant: str = "spider", pk: int = 0) -> SpiderSource:
    """Discover ``db_id``'s SQLite file into a source whose tables count as trained."""
    dsn = parse_dsn(f"sqlite:///{database_path(db_id)}")
    discovery = await discover(dsn)
    structures = list(discovery.tables)
    tables = [StoredTable(t, "", table_fingerprint(t), table_fingerprint(t)) for t in structures]
    ref = SourceRef(pk=pk, tenant=tenant, source_id=db_id.lower().replace("_", "-"), dialect=dsn.dialect, dsn=dsn)
    return SpiderSource(db_id, ref, tables, declared_joins(structures))


async def load_sources(db_ids: list[str] | tuple[str, ...], tenant: str = "spider") -> dict[str, SpiderSource]:
    """:func:`load_source` for several databases, keyed by database id."""
    return {db_id: await load_source(db_id, tenant, pk) for pk, db_id in enumerate(db_ids, start=1)}


@cache
def _parse(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="sqlite")


def gold_tables(sql: str, table_names: list[str] | tuple[str, ...]) -> set[str]:
    """The source tables a gold query reads, named as in ``table_names`` (case-insensitive match)."""
    by_lower = {name.lower(): name for name in table_names}
    found = set()
    for table in _parse(sql).find_all(exp.Table):
        name = by_lower.get(table.name.lower())
        if name is not None:
            found.add(name)
    return found
