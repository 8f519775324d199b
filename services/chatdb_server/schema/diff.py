"""What changed between two discoveries of a data source: tables added, removed and changed.

A table counts as changed when its fingerprint changed; the change strings say how,
in words a person reads in a RefreshSchema reply ("column added: email").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chatdb_server.schema.fingerprint import table_fingerprint
from chatdb_server.sql.structure import ColumnStructure, ForeignKeyStructure, IndexStructure, TableStructure


@dataclass(frozen=True)
class TableChange:
    """How one table changed."""

    table: str
    changes: tuple[str, ...]
    old_fingerprint: str
    new_fingerprint: str


@dataclass(frozen=True)
class SchemaDiff:
    """The difference between an old and a new discovery."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[TableChange, ...] = ()
    unchanged: tuple[str, ...] = field(default_factory=tuple)


def diff_schemas(old: Mapping[str, TableStructure], new: Mapping[str, TableStructure]) -> SchemaDiff:
    """Compare two discoveries keyed by table name."""
    changed = []
    unchanged = []
    for name in sorted(old.keys() & new.keys()):
        before, after = table_fingerprint(old[name]), table_fingerprint(new[name])
        if before == after:
            unchanged.append(name)
        else:
            changed.append(TableChange(name, tuple(table_changes(old[name], new[name])) or ("structure changed",),
                                       before, after))
    return SchemaDiff(added=tuple(sorted(new.keys() - old.keys())), removed=tuple(sorted(old.keys() - new.keys())),
                      changed=tuple(changed), unchanged=tuple(unchanged))


def table_changes(old: TableStructure, new: TableStructure) -> list[str]:
    """Human-readable differences between two versions of one table."""
    changes = []
    if old.kind != new.kind:
        changes.append(f"kind changed: {old.kind} → {new.kind}")
    changes += _column_changes(old.columns, new.columns)
    if old.primary_key != new.primary_key:
        changes.append(f"primary key changed: {_cols(old.primary_key)} → {_cols(new.primary_key)}")
    changes += _set_changes("foreign key", {_fk_text(fk): fk for fk in old.foreign_keys},
                            {_fk_text(fk): fk for fk in new.foreign_keys})
    changes += _set_changes("index", {_index_text(ix): ix for ix in old.indexes},
                            {_index_text(ix): ix for ix in new.indexes})
    return changes


def _column_changes(old: tuple[ColumnStructure, ...], new: tuple[ColumnStructure, ...]) -> list[str]:
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    changes = [f"column added: {name}" for name in after if name not in before]
    changes += [f"column removed: {name}" for name in before if name not in after]
    for name in (n for n in after if n in before):
        was, now = before[name], after[name]
        if was.data_type.upper() != now.data_type.upper():
            changes.append(f"column type changed: {name} {was.data_type or '(none)'} → {now.data_type or '(none)'}")
        if was.nullable != now.nullable:
            changes.append(f"column {'now nullable' if now.nullable else 'now NOT NULL'}: {name}")
    kept_before = [n for n in before if n in after]
    kept_after = [n for n in after if n in before]
    if kept_before != kept_after:
        changes.append("columns reordered")
    return changes


def _set_changes(what: str, old: Mapping[str, ForeignKeyStructure | IndexStructure],
                 new: Mapping[str, ForeignKeyStructure | IndexStructure]) -> list[str]:
    return ([f"{what} added: {text}" for text in new if text not in old]
            + [f"{what} removed: {text}" for text in old if text not in new])


def _cols(columns: tuple[str, ...]) -> str:
    return f"({', '.join(columns)})" if columns else "(none)"


def _fk_text(fk: ForeignKeyStructure) -> str:
    text = f"{_cols(fk.columns)} → {fk.referred_table}{_cols(fk.referred_columns)}"
    actions = [f"ON DELETE {fk.on_delete}" if fk.on_delete else "", f"ON UPDATE {fk.on_update}" if fk.on_update else ""]
    return " ".join([f"{fk.name}" if fk.name else "", text, *actions]).strip()


def _index_text(ix: IndexStructure) -> str:
    return f"{'unique ' if ix.unique else ''}{ix.name or 'unnamed'} {_cols(ix.columns)}"
