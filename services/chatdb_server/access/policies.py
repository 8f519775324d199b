"""Column and row policies of a data source: what they are, how they are checked, where they are kept.

A column policy excludes a column (it does not exist for the caller: never sampled, embedded,
prompted or returned, and SQL naming it is refused) or masks it (selectable, values come back
masked). A row policy is a predicate over one table's columns whose ``:name`` parameters bind
the caller's attributes; the guard adds it to every reference to the table. Both may exempt
roles. The policies that bind one caller are :class:`EffectivePolicies`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlglot
from sqlalchemy import delete, select
from sqlglot import exp
from sqlglot.errors import ParseError

from chatdb_server.access.permissions import Role, roles_argument
from chatdb_server.access.principal import Principal
from chatdb_server.errors import AlreadyExists, InvalidArgument, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.generations import bump_generation
from chatdb_server.metadata.models import ColumnPolicyRow, RowPolicyRow, as_utc, utcnow
from chatdb_server.sql.structure import SourceRef, TableStructure

MAX_PREDICATE_CHARS = 2_000


class ColumnAction(StrEnum):
    """What a column policy does."""

    EXCLUDE = "EXCLUDE"
    MASK = "MASK"


@dataclass(frozen=True)
class ColumnPolicy:
    """One column policy."""

    policy_id: str
    source_id: str
    table: str
    column: str
    action: ColumnAction
    exempt_roles: frozenset[Role] = frozenset()
    create_time: datetime | None = None

    @property
    def name(self) -> str:
        """Resource name, ``dataSources/{source}/columnPolicies/{id}``."""
        return f"dataSources/{self.source_id}/columnPolicies/{self.policy_id}"


@dataclass(frozen=True)
class RowPolicy:
    """One row policy."""

    policy_id: str
    source_id: str
    table: str
    predicate: str
    exempt_roles: frozenset[Role] = frozenset()
    create_time: datetime | None = None

    @property
    def name(self) -> str:
        """Resource name, ``dataSources/{source}/rowPolicies/{id}``."""
        return f"dataSources/{self.source_id}/rowPolicies/{self.policy_id}"

    @property
    def parameters(self) -> frozenset[str]:
        """The attribute names the predicate binds."""
        return frozenset(p.name for p in sqlglot.parse_one(self.predicate).find_all(exp.Placeholder))


@dataclass(frozen=True)
class EffectivePolicies:
    """The policies that bind one caller on one source; table and column names are lower-case."""

    excluded: frozenset[tuple[str, str]] = frozenset()
    masked: frozenset[tuple[str, str]] = frozenset()
    row_predicates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per table, the predicates every reference to it must satisfy."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """The caller's attributes, bound to the predicates' parameters."""

    @property
    def empty(self) -> bool:
        """Whether nothing applies (the common case: no rewriting, no masking)."""
        return not (self.excluded or self.masked or self.row_predicates)

    def excluded_columns(self, table: str) -> frozenset[str]:
        """The excluded columns of ``table``."""
        lowered = table.lower()
        return frozenset(c for t, c in self.excluded if t == lowered)

    def cache_key(self) -> str:
        """Equal for callers on whom the same policies act the same way (a cached result may be shared)."""
        if self.empty:
            return ""
        binds = sorted((t, p) for t, preds in self.row_predicates.items() for p in preds)
        used = sorted(self.attributes.items())
        return repr((sorted(self.excluded), sorted(self.masked), binds, used))


@dataclass(frozen=True)
class SourcePolicies:
    """Every policy of one source."""

    columns: tuple[ColumnPolicy, ...] = ()
    rows: tuple[RowPolicy, ...] = ()

    def for_principal(self, principal: Principal | None) -> EffectivePolicies:
        """What binds ``principal`` (None: work the server does for itself, which no policy binds)."""
        if principal is None:
            return EffectivePolicies()
        roles = principal.roles

        def applies(exempt: frozenset[Role]) -> bool:
            return not (exempt & roles)

        columns = [p for p in self.columns if applies(p.exempt_roles)]
        predicates: dict[str, list[str]] = {}
        for policy in self.rows:
            if applies(policy.exempt_roles):
                predicates.setdefault(policy.table.lower(), []).append(policy.predicate)
        def acted(action: ColumnAction) -> frozenset[tuple[str, str]]:
            return frozenset((p.table.lower(), p.column.lower()) for p in columns if p.action is action)

        return EffectivePolicies(
            excluded=acted(ColumnAction.EXCLUDE), masked=acted(ColumnAction.MASK),
            row_predicates={t: tuple(ps) for t, ps in predicates.items()},
            attributes=dict(principal.attributes) if predicates else {})


def _table(tables: Sequence[TableStructure], name: str, field_name: str) -> TableStructure:
    lowered = name.lower()
    found = next((t for t in tables if t.name.lower() == lowered), None)
    if found is None:
        raise InvalidArgument(field_name, f"the data source has no table {name!r}")
    return found


def check_predicate(predicate: str, table: TableStructure, field_name: str) -> None:
    """InvalidArgument unless ``predicate`` is a plain condition over ``table``'s own columns."""
    if not predicate.strip() or len(predicate) > MAX_PREDICATE_CHARS:
        raise InvalidArgument(field_name, f"must be a condition of 1 to {MAX_PREDICATE_CHARS} characters")
    try:
        tree = sqlglot.parse_one(predicate)
    except ParseError as exc:
        raise InvalidArgument(field_name, f"does not parse: {str(exc).splitlines()[0]}") from None
    if isinstance(tree, exp.Query) or tree.find(exp.Query, exp.Subquery, exp.Command) is not None:
        raise InvalidArgument(field_name, "must be a condition over the table's columns, without subqueries")
    for column in tree.find_all(exp.Column):
        if column.table or table.column(column.name) is None:
            raise InvalidArgument(field_name, f"names {column.sql()!r}, which is not a column of {table.name}")



def _column_policy(row: ColumnPolicyRow, source_id: str) -> ColumnPolicy:
    return ColumnPolicy(row.policy_id, source_id, row.table_name, row.column_name, ColumnAction(row.action),
                        frozenset(Role(r) for r in row.exempt_roles), as_utc(row.create_time))


def _row_policy(row: RowPolicyRow, source_id: str) -> RowPolicy:
    return RowPolicy(row.policy_id, source_id, row.table_name, row.predicate,
                     frozenset(Role(r) for r in row.exempt_roles), as_utc(row.create_time))


class PolicyStore:
    """Column and row policies in the metadata store (deleted with their source)."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    async def create_column_policy(self, source: SourceRef, tables: Sequence[TableStructure], table: str,
                                   column: str, action: ColumnAction, exempt_roles: Sequence[str] = ()) -> ColumnPolicy:
        """A new column policy; the table and column must exist, one policy per column."""
        structure = _table(tables, table, "column_policy.table")
        found = structure.column(column)
        if found is None:
            raise InvalidArgument("column_policy.column", f"{structure.name} has no column {column!r}")
        row = ColumnPolicyRow(policy_id=uuid.uuid4().hex[:16], tenant=source.tenant, source_pk=source.pk,
                              table_name=structure.name, column_name=found.name, action=action.value,
                              exempt_roles=sorted(roles_argument(list(exempt_roles), "column_policy.exempt_roles")),
                              create_time=utcnow())
        existing = [p for p in (await self.policies(source)).columns
                    if (p.table.lower(), p.column.lower()) == (structure.name.lower(), found.name.lower())]
        if existing:
            raise AlreadyExists(existing[0].name)
        async with self._store.session() as session:
            session.add(row)
            await bump_generation(session, source.pk)
        return _column_policy(row, source.source_id)

    async def create_row_policy(self, source: SourceRef, tables: Sequence[TableStructure], table: str,
                                predicate: str, exempt_roles: Sequence[str] = ()) -> RowPolicy:
        """A new row policy; its predicate must be a plain condition over the table's columns."""
        structure = _table(tables, table, "row_policy.table")
        check_predicate(predicate, structure, "row_policy.predicate")
        row = RowPolicyRow(policy_id=uuid.uuid4().hex[:16], tenant=source.tenant, source_pk=source.pk,
                           table_name=structure.name, predicate=predicate.strip(),
                           exempt_roles=sorted(roles_argument(list(exempt_roles), "row_policy.exempt_roles")),
                           create_time=utcnow())
        async with self._store.session() as session:
            session.add(row)
            await bump_generation(session, source.pk)
        return _row_policy(row, source.source_id)

    async def policies(self, source: SourceRef) -> SourcePolicies:
        """Every policy of ``source``, oldest first."""
        async with self._store.session() as session:
            columns = (await session.execute(select(ColumnPolicyRow).where(ColumnPolicyRow.source_pk == source.pk)
                                             .order_by(ColumnPolicyRow.pk))).scalars().all()
            rows = (await session.execute(select(RowPolicyRow).where(RowPolicyRow.source_pk == source.pk)
                                          .order_by(RowPolicyRow.pk))).scalars().all()
        return SourcePolicies(tuple(_column_policy(r, source.source_id) for r in columns),
                              tuple(_row_policy(r, source.source_id) for r in rows))

    async def delete_column_policy(self, source: SourceRef, policy_id: str) -> None:
        """Delete one column policy; NotFound when the source has no such policy."""
        await self._delete(ColumnPolicyRow, source, policy_id, "columnPolicies")

    async def delete_row_policy(self, source: SourceRef, policy_id: str) -> None:
        """Delete one row policy; NotFound when the source has no such policy."""
        await self._delete(RowPolicyRow, source, policy_id, "rowPolicies")

    async def _delete(self, model: type[ColumnPolicyRow] | type[RowPolicyRow], source: SourceRef, policy_id: str,
                      collection: str) -> None:
        async with self._store.session() as session:
            done = await session.execute(delete(model).where(model.source_pk == source.pk,
                                                             model.policy_id == policy_id))
            if not done.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"{source.name}/{collection}/{policy_id}", "policy")
            await bump_generation(session, source.pk)
