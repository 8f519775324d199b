"""A short description of each table, written at discovery without a model.

It reads like a sentence a colleague would write from the table's name, comment,
columns and keys, so it names the things a question is likely to mention: the entity, its
attributes, its links. Table search replies and the generator's schema context carry it; the
embedded table document leaves it out by default (``retrieval.documents.DocumentOptions.description``),
since it says again what the document lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chatdb_server.sql.structure import JoinEdge, TableStructure

MAX_COLUMNS_NAMED = 12
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanize(identifier: str) -> str:
    """``order_items`` → "order items", ``CustomerId`` → "customer id"."""
    return " ".join(_CAMEL.sub(" ", identifier.rsplit(".", 1)[-1]).replace("_", " ").split()).lower()


def _rows(estimate: int) -> str:
    if estimate < 0:
        return ""
    return f" ({estimate:,} row{'s' if estimate != 1 else ''})"


def describe_table(table: TableStructure, edges: Iterable[JoinEdge] = ()) -> str:
    """One or a few sentences about ``table``; ``edges`` adds what it links to and from."""
    kind = "View" if table.kind == "VIEW" else "Table"
    subject = f"{kind} {table.name}{_rows(table.row_estimate)}"
    summary = table.comment.rstrip(".") if table.comment else f"holds {humanize(table.name)}"
    sentences = [f"{subject}: {summary}." if table.comment else f"{subject} {summary}."]
    attributes = [c for c in table.columns if not c.primary_key]
    if attributes:
        named = ", ".join(humanize(c.name) for c in attributes[:MAX_COLUMNS_NAMED])
        more = f" and {len(attributes) - MAX_COLUMNS_NAMED} more" if len(attributes) > MAX_COLUMNS_NAMED else ""
        sentences.append(f"Each row records {named}{more}.")
    if table.primary_key:
        sentences.append(f"Identified by {', '.join(table.primary_key)}.")
    edges = list(edges)
    outgoing = sorted({e.to_table for e in edges if e.from_table == table.name and e.to_table != table.name})
    incoming = sorted({e.from_table for e in edges if e.to_table == table.name and e.from_table != table.name})
    if outgoing:
        sentences.append(f"Refers to {', '.join(outgoing)}.")
    if incoming:
        sentences.append(f"Referenced by {', '.join(incoming)}.")
    return " ".join(sentences)
