"""What Ask says instead of an answer it does not trust: a question its source's ``min_confidence`` would
refuse gets no rows, the closest tables (retrieval's, best first) and a rephrasing that names one of them.

The rephrasing is built from the closest table's own name and columns, so it is a question the template
generator can answer with confidence: "What is the average price of products?" or "How many orders are
there?".
"""

from __future__ import annotations

from collections.abc import Sequence

from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, ScoredTable

MEASURE_TYPES = frozenset({"INTEGER", "DOUBLE", "DECIMAL"})


def below_threshold(confidence: float, min_confidence: float) -> bool:
    """Whether an answer of ``confidence`` is refused by a source whose threshold is ``min_confidence``
    (0 refuses nothing)."""
    return min_confidence > 0 and confidence < min_confidence


def suggested_question(tables: Sequence[ScoredTable]) -> str:
    """A question about the closest searched table (join neighbours are only there to join); empty when
    retrieval found none."""
    closest = next((t for t in tables if t.reason != JOIN_NEIGHBOR), tables[0] if tables else None)
    if closest is None:
        return ""
    structure = closest.table.structure
    noun = _words(structure.name)
    measure = next((c for c in structure.columns if c.value_type in MEASURE_TYPES and not c.primary_key
                    and not c.name.lower().endswith("id")), None)
    if measure is not None:
        return f"What is the average {_words(measure.name)} of {noun}?"
    return f"How many {noun} are there?"


def _words(name: str) -> str:
    return name.rsplit(".", 1)[-1].replace("_", " ").strip().lower()
