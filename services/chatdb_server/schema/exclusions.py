"""What the catalog stores of columns EXCLUDE policies name: no samples, no mention in descriptions.

Discovery never samples an excluded column (``schema.sampling``); descriptions are written as if
it did not exist (:func:`describe_visible`); and :func:`purge_rows` cleans stored tables written
before a policy existed. The stored structure keeps the column: exempt roles may query it.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatdb_server.access.exclusions import Exclusions, without_columns, without_samples
from chatdb_server.metadata.models import SchemaTableRow
from chatdb_server.schema.describe import describe_table
from chatdb_server.schema.graph import join_graph
from chatdb_server.sql.structure import TableStructure


def describe_visible(tables: Sequence[TableStructure], exclusions: Exclusions) -> dict[str, str]:
    """Each table's description, written as if its excluded columns (and joins through them) did not exist."""
    visible = [without_columns(t, exclusions) for t in tables]
    edges = join_graph(visible)
    return {t.name: describe_table(t, edges) for t in visible}


def purge_rows(rows: Sequence[SchemaTableRow], exclusions: Exclusions) -> list[str]:
    """Drop excluded columns' samples from the stored ``rows`` (all of one source) and describe them again
    without those columns, in place; the names of the tables that changed."""
    structures = [TableStructure.from_json(r.structure) for r in rows]
    descriptions = describe_visible(structures, exclusions)
    changed = []
    for row, structure in zip(rows, structures, strict=True):
        purged = without_samples(structure, exclusions)
        description = descriptions[structure.name]
        if purged != structure or description != row.description:
            row.structure, row.description = purged.to_json(), description
            changed.append(row.table_name)
    return changed
