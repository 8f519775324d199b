"""The fingerprint of a table: a hash of its structure, blind to its data.

Two discoveries of an unchanged table give the same fingerprint, whatever the rows,
row estimates or samples, and whatever order the database lists keys and indexes
in; adding a column, changing a type, nullability, key or index changes it. Training
records the fingerprint it trained, so a changed table shows up as STALE.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chatdb_server.sql.structure import TableStructure


def canonical_structure(table: TableStructure) -> dict[str, Any]:
    """The parts of ``table`` that define its structure, in a stable order."""
    return {
        "name": table.name,
        "kind": table.kind,
        "columns": [[c.name, c.data_type.upper(), c.nullable] for c in table.columns],
        "primary_key": list(table.primary_key),
        "foreign_keys": sorted([list(fk.columns), fk.referred_table, list(fk.referred_columns), fk.on_delete,
                                fk.on_update] for fk in table.foreign_keys),
        "indexes": sorted([list(ix.columns), ix.unique] for ix in table.indexes),
    }


def table_fingerprint(table: TableStructure) -> str:
    """sha256 hex of the canonical structure."""
    payload = json.dumps(canonical_structure(table), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
