"""Choosing among several generated candidates by self-consistency.

Candidates whose executed results agree (the same rows, in any order) vote together;
the largest group wins, ties go to the group holding the most confident candidate, and
the most confident candidate of the winning group is the answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chatdb_server.query.domain import cell_to_json
from chatdb_server.sql.values import ResultColumn

T = TypeVar("T")


def result_signature(columns: Sequence[ResultColumn], rows: Sequence[Sequence[Any]]) -> str:
    """Equal for results with the same number of columns and the same multiset of rows (column names and
    row order aside: two correct queries may alias or order differently); cells compare with their types."""
    digest = hashlib.sha256(str(len(columns)).encode())
    for encoded in sorted(_row_bytes(row) for row in rows):
        digest.update(len(encoded).to_bytes(4, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def _row_bytes(row: Sequence[Any]) -> bytes:
    cells = [cell_to_json(cell) for cell in row]
    return json.dumps(cells, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Ballot(Generic[T]):
    """One executed candidate: its result's signature, its confidence and whatever the caller keeps with it."""

    signature: str
    confidence: float
    item: T


@dataclass(frozen=True)
class Choice(Generic[T]):
    """The winner and how many candidates agreed with it."""

    winner: T
    agreeing: int
    voters: int


def choose(ballots: Sequence[Ballot[T]]) -> Choice[T]:
    """The self-consistent choice among ``ballots`` (at least one)."""
    if not ballots:
        raise ValueError("no candidates to choose from")
    groups: dict[str, list[Ballot[T]]] = {}
    for ballot in ballots:
        groups.setdefault(ballot.signature, []).append(ballot)
    best_group = max(groups.values(), key=lambda group: (len(group), max(b.confidence for b in group)))
    winner = max(best_group, key=lambda b: b.confidence)
    return Choice(winner.item, len(best_group), len(ballots))
