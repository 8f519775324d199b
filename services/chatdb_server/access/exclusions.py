"""What EXCLUDE policies take out of what the server keeps about a source, whoever is exempt.

An excluded column is never sampled, stored as a sample, described, embedded or fine-tuned
on: exempt roles may still query it, but nothing the server derives from the schema for
everyone (stored samples, table descriptions, vector documents, adapters) may carry its name
or its values. Here are the set of excluded columns of a source (:class:`Exclusions`), where
it comes from (:class:`ExclusionSource`, the port the catalog reads it through), and the two
ways a table is cleaned: :func:`without_samples` keeps the column (the guard and exempt roles
need it) but drops its samples; :func:`without_columns` drops it altogether (documents,
descriptions, fine-tune schemas).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from chatdb_server.access.policies import ColumnAction, PolicyStore, SourcePolicies
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable, TableStructure


@dataclass(frozen=True)
class Exclusions:
    """The excluded columns of one source, as lower-case (table, column) pairs."""

    columns: frozenset[tuple[str, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.columns)

    def of(self, table: str) -> frozenset[str]:
        """The excluded columns of ``table`` (lower-case)."""
        lowered = table.lower()
        return frozenset(c for t, c in self.columns if t == lowered)

    def excludes(self, table: str, column: str) -> bool:
        """Whether ``table.column`` is excluded."""
        return (table.lower(), column.lower()) in self.columns

    def touches(self, table: str, columns: Iterable[str]) -> bool:
        """Whether any of ``columns`` of ``table`` is excluded."""
        return any(self.excludes(table, c) for c in columns)


NO_EXCLUSIONS = Exclusions()


def exclusions_of(policies: SourcePolicies) -> Exclusions:
    """Every column an EXCLUDE policy names, exempt roles notwithstanding."""
    return Exclusions(frozenset((p.table.lower(), p.column.lower()) for p in policies.columns
                                if p.action is ColumnAction.EXCLUDE))


class ExclusionSource(Protocol):
    """Where a source's exclusions are read (the policy store; tests may give fixed ones)."""

    async def exclusions(self, source: SourceRef) -> Exclusions:
        """The columns of ``source`` that EXCLUDE policies name."""
        ...


class PolicyExclusions:
    """:class:`ExclusionSource` over the policy store."""

    def __init__(self, policies: PolicyStore) -> None:
        self._policies = policies

    async def exclusions(self, source: SourceRef) -> Exclusions:
        """The columns of ``source`` that EXCLUDE policies name."""
        return exclusions_of(await self._policies.policies(source))


def without_samples(table: TableStructure, exclusions: Exclusions) -> TableStructure:
    """``table`` with the sample values of its excluded columns gone (sample cells become null)."""
    excluded = exclusions.of(table.name)
    if not excluded:
        return table
    hidden = [c.name.lower() in excluded for c in table.columns]
    rows = tuple(tuple(None if i < len(hidden) and hidden[i] else v for i, v in enumerate(row))
                 for row in table.sample_rows)
    values = {k: v for k, v in table.sample_values.items() if k.lower() not in excluded}
    return dataclasses.replace(table, sample_rows=rows, sample_values=values)


def without_columns(table: TableStructure, exclusions: Exclusions) -> TableStructure:
    """``table`` as if its excluded columns did not exist: no column, key, index, foreign key or sample of them."""
    excluded = exclusions.of(table.name)
    foreign_keys = tuple(fk for fk in table.foreign_keys
                         if not (exclusions.touches(table.name, fk.columns)
                                 or exclusions.touches(fk.referred_table, fk.referred_columns)))
    if not excluded:
        return table if foreign_keys == table.foreign_keys else dataclasses.replace(table, foreign_keys=foreign_keys)
    kept = [i for i, c in enumerate(table.columns) if c.name.lower() not in excluded]
    return dataclasses.replace(
        table,
        columns=tuple(table.columns[i] for i in kept),
        primary_key=tuple(c for c in table.primary_key if c.lower() not in excluded),
        foreign_keys=foreign_keys,
        indexes=tuple(ix for ix in table.indexes if not exclusions.touches(table.name, ix.columns)),
        sample_rows=tuple(tuple(row[i] for i in kept if i < len(row)) for row in table.sample_rows),
        sample_values={k: v for k, v in table.sample_values.items() if k.lower() not in excluded})


def stored_without_columns(table: StoredTable, exclusions: Exclusions) -> StoredTable:
    """A stored table whose structure is :func:`without_columns`."""
    structure = without_columns(table.structure, exclusions)
    return table if structure is table.structure else dataclasses.replace(table, structure=structure)


def joins_without(joins: Iterable[JoinEdge], exclusions: Exclusions) -> list[JoinEdge]:
    """The joins that go through no excluded column."""
    return [e for e in joins if not (exclusions.touches(e.from_table, e.from_columns)
                                     or exclusions.touches(e.to_table, e.to_columns))]
