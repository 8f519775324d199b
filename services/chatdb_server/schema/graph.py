"""The join graph of a data source: declared foreign keys plus joins inferred from names.

Many databases declare few or none of their foreign keys. Where nothing is
declared, two naming habits give most joins away:

* a column named like the single-column primary key of exactly one other table
  (``writes.aid`` → ``author.aid``);
* ``<thing>_id`` / ``<thing>Id`` pointing at the table named ``<thing>`` or its plural
  (``orders.customer_id`` → ``customers.id``), and more generally a column named
  ``<thing><key>`` for the table ``<thing>`` whose key is ``<key>``
  (``city.CountryCode`` → ``country.Code``).

Either needs compatible column types. Confidence reflects the strength of the evidence
(declared keys are 1.0); a declared edge is never repeated as an inferred one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chatdb_server.sql.structure import ColumnStructure, JoinEdge, TableStructure
from chatdb_server.sql.types import DECIMAL, INTEGER

GENERIC_KEY_NAMES = frozenset({"id", "name", "title", "code", "key", "type", "value", "date"})
"""Primary-key names too common to say which table a same-named column points at."""

_NUMERIC = {INTEGER, DECIMAL}
_ID_SUFFIX = re.compile(r"^(?P<prefix>.+?)(_id|Id|ID|_ID|id)$")
_KEYISH_SUFFIXES = ("id", "_no", "_code", "_key", "num")


@dataclass(frozen=True)
class _Candidate:
    table: TableStructure
    column: str
    confidence: float
    reason: str


def join_graph(tables: Sequence[TableStructure]) -> list[JoinEdge]:
    """Declared edges (sorted), then inferred edges (sorted), between the given tables."""
    declared = declared_edges(tables)
    return declared + inferred_edges(tables, declared)


def declared_edges(tables: Sequence[TableStructure]) -> list[JoinEdge]:
    """One edge per declared foreign key whose referenced table is among ``tables``."""
    by_name = {t.name.lower(): t for t in tables}
    edges = []
    for table in tables:
        for fk in table.foreign_keys:
            target = by_name.get(fk.referred_table.lower())
            if target is None:
                continue
            to_columns = fk.referred_columns or target.primary_key
            reason = f"foreign key {fk.name}" if fk.name else (
                f"foreign key ({', '.join(fk.columns)}) references {target.name}({', '.join(to_columns)})")
            edges.append(JoinEdge(table.name, tuple(fk.columns), target.name, tuple(to_columns),
                                           inferred=False, confidence=1.0, reason=reason))
    return sorted(edges, key=_edge_order)


def inferred_edges(tables: Sequence[TableStructure],
                   declared: Iterable[JoinEdge] = ()) -> list[JoinEdge]:
    """Joins suggested by column names and types where no foreign key is declared."""
    declared = list(declared)
    covered = {(e.from_table.lower(), c.lower()) for e in declared for c in e.from_columns}
    reverse = {(e.to_table.lower(), e.to_columns[0].lower(), e.from_table.lower())
               for e in declared if len(e.to_columns) == 1}
    key_owners = _sole_key_owners(tables)
    compound_names = _compound_key_names(tables)
    by_base_name: dict[str, list[TableStructure]] = {}
    for table in tables:
        if table.kind == "TABLE":
            by_base_name.setdefault(_base_name(table).lower(), []).append(table)
    edges = []
    for table in tables:
        for column in table.columns:
            if (table.name.lower(), column.name.lower()) in covered:
                continue
            candidates = [*_same_name_as_key(table, column, key_owners),
                          *_named_after_table(table, column, by_base_name),
                          *_table_and_key_name(table, column, compound_names)]
            best = max((c for c in candidates if (c.table.name.lower(), c.column.lower(), table.name.lower())
                        not in reverse), key=lambda c: c.confidence, default=None)
            if best is not None:
                edges.append(JoinEdge(table.name, (column.name,), best.table.name, (best.column,),
                                               inferred=True, confidence=round(best.confidence, 2),
                                               reason=best.reason))
    return sorted(edges, key=_edge_order)


def _edge_order(edge: JoinEdge) -> tuple[str, tuple[str, ...], str]:
    return edge.from_table.lower(), edge.from_columns, edge.to_table.lower()


def _base_name(table: TableStructure) -> str:
    return table.name.split(".", 1)[1] if table.schema else table.name


def _sole_key_owners(tables: Sequence[TableStructure]) -> dict[str, list[TableStructure]]:
    owners: dict[str, list[TableStructure]] = {}
    for table in tables:
        if table.kind == "TABLE" and len(table.primary_key) == 1:
            owners.setdefault(table.primary_key[0].lower(), []).append(table)
    return owners


def _compatible(a: ColumnStructure, b: ColumnStructure) -> bool:
    """Whether values of the two columns can be equal: same wire type, both numeric, or an untyped side."""
    if not a.data_type or not b.data_type:
        return True
    return a.value_type == b.value_type or {a.value_type, b.value_type} <= _NUMERIC


def _type_bonus(a: ColumnStructure, b: ColumnStructure) -> float:
    return 0.05 if a.data_type and a.data_type.upper() == b.data_type.upper() else 0.0


def _prefer_same_schema(table: TableStructure, options: list[TableStructure],
                        allow_self: bool = False) -> TableStructure | None:
    """The only option, or the only one in ``table``'s schema; None when ambiguous."""
    others = [o for o in options if allow_self or o is not table]
    if len(others) == 1:
        return others[0]
    local = [o for o in others if o.schema == table.schema]
    return local[0] if len(local) == 1 else None


def _same_name_as_key(table: TableStructure, column: ColumnStructure,
                      key_owners: dict[str, list[TableStructure]]) -> list[_Candidate]:
    name = column.name.lower()
    if name in GENERIC_KEY_NAMES or table.primary_key == (column.name,):
        return []
    owner = _prefer_same_schema(table, key_owners.get(name, []))
    if owner is None:
        return []
    key = owner.column(owner.primary_key[0])
    if key is None or not _compatible(column, key):
        return []
    base = 0.9 if name.endswith(_KEYISH_SUFFIXES) else 0.8
    return [_Candidate(owner, key.name, min(base + _type_bonus(column, key), 0.95),
                       f"column {column.name} has the name of the primary key of {owner.name}")]


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


def _singular_forms(word: str) -> set[str]:
    forms = {word}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


def _compound_key_names(tables: Sequence[TableStructure]) -> dict[str, list[TableStructure]]:
    """``<table><key>`` spellings (squashed, lower-case) of tables whose single key is not plain "id"."""
    names: dict[str, list[TableStructure]] = {}
    for table in tables:
        if table.kind != "TABLE" or len(table.primary_key) != 1 or table.primary_key[0].lower() == "id":
            continue
        for form in _singular_forms(_squash(_base_name(table))):
            names.setdefault(form + _squash(table.primary_key[0]), []).append(table)
    return names


def _table_and_key_name(table: TableStructure, column: ColumnStructure,
                        compound_names: dict[str, list[TableStructure]]) -> list[_Candidate]:
    target = _prefer_same_schema(table, compound_names.get(_squash(column.name), []), allow_self=True)
    if target is None:
        return []
    key = target.column(target.primary_key[0])
    if key is None or key.name == column.name or not _compatible(column, key):
        return []
    return [_Candidate(target, key.name, min(0.8 + _type_bonus(column, key), 0.95),
                       f"column name {column.name} is {target.name} and its key {key.name}")]


def _noun_forms(word: str) -> list[str]:
    """``word`` with its likely singular and plural forms, most likely first."""
    forms = [word, word + "s", word + "es"]
    if word.endswith("y"):
        forms.append(word[:-1] + "ies")
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def _named_after_table(table: TableStructure, column: ColumnStructure,
                       by_base_name: dict[str, list[TableStructure]]) -> list[_Candidate]:
    match = _ID_SUFFIX.match(column.name)
    if match is None:
        return []
    prefix = match.group("prefix").rstrip("_").lower()
    words = [prefix, prefix.rsplit("_", 1)[-1]] if "_" in prefix else [prefix]
    for position, word in enumerate(words):
        if len(word) < 3:
            continue
        for form in _noun_forms(word):
            target = _prefer_same_schema(table, by_base_name.get(form, []), allow_self=True)
            if target is None:
                continue
            candidate = _target_key(table, column, target, partial=position > 0)
            if candidate is not None:
                return [candidate]
    return []


def _target_key(table: TableStructure, column: ColumnStructure, target: TableStructure,
                partial: bool) -> _Candidate | None:
    """The column of ``target`` that ``column`` points at, with a confidence."""
    if len(target.primary_key) == 1:
        key = target.column(target.primary_key[0])
        confidence = 0.85 if key is not None and key.name.lower() == "id" else 0.6
    else:
        key = target.column("id")
        confidence = 0.5
    if key is None or not _compatible(column, key) or (target is table and key.name == column.name):
        return None
    if partial:
        confidence -= 0.15
    return _Candidate(target, key.name, min(confidence + _type_bonus(column, key), 0.95),
                      f"column name {column.name} matches {target.name}.{key.name}")
